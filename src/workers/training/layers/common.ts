import * as tf from '@tensorflow/tfjs';

/** The base options every tfjs layer takes (name, trainable, ...). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** The single input tensor of a one-input layer. */
export function onlyTensor(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (!Array.isArray(inputs)) return inputs;
  if (inputs.length !== 1 || inputs[0] === undefined) throw new Error(`expected one input tensor, got ${inputs.length}`);
  return inputs[0];
}

/** The shape of the single input of a one-input layer. */
export function onlyShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  const first = inputShape[0];
  return (Array.isArray(first) ? first : inputShape) as tf.Shape;
}

/**
 * Glorot-uniform initializer, seeded from `seed + offset` when a seed is given, so that the
 * weights of one layer that share a shape still start different.
 */
export function glorot(seed: number | undefined, offset: number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform(seed === undefined ? {} : { seed: seed + offset });
}
