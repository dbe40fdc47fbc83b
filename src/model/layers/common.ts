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

/** The inputs of a layer that takes `x` alone or `[x, mask]` (a {@link PaddingMask} output). */
export function tensorAndMask(layer: string, inputs: tf.Tensor | tf.Tensor[]): [tf.Tensor, tf.Tensor | undefined] {
  if (!Array.isArray(inputs)) return [inputs, undefined];
  const [x, mask] = inputs;
  if (x === undefined || inputs.length > 2) throw new Error(`${layer}: expected x or [x, mask], got ${inputs.length} tensors`);
  return [x, mask];
}

/** The shapes of `x` and, when given, of the mask; see {@link tensorAndMask}. */
export function shapeAndMask(inputShape: tf.Shape | tf.Shape[]): [tf.Shape, tf.Shape | undefined] {
  const first = inputShape[0];
  if (!Array.isArray(first)) return [inputShape as tf.Shape, undefined];
  return [first, inputShape[1] as tf.Shape | undefined];
}

/** A shape for messages, with unknown sides (the batch) written as null: "[null, 5, 1]". */
export function describeShape(shape: tf.Shape): string {
  return `[${shape.map(String).join(', ')}]`;
}

/**
 * Checks that a mask of shape `mask` fits a `[batch, steps, ...]` input `x`: it must be
 * `[batch, steps, 1]`, as {@link PaddingMask} makes it.
 */
export function checkMaskShape(layer: string, x: tf.Shape, mask: tf.Shape): void {
  if (mask.length !== 3 || mask[2] !== 1 || (mask[1] != null && x[1] != null && mask[1] !== x[1])) {
    throw new Error(`${layer}: mask shape is ${describeShape(mask)}, but must be [batch, ${x[1] ?? 'steps'}, 1] for input shape ${describeShape(x)}`);
  }
}

/**
 * Added to the logits (or values) of padding positions before a softmax (or max): large
 * enough that exp() underflows to exactly 0, small enough to stay finite in float32. When a
 * whole row is padding every entry gets the same shift, so a softmax stays uniform, not NaN.
 */
export const MASKED_OUT = -1e9;

/**
 * Glorot-uniform initializer, seeded from `seed + offset` when a seed is given, so that the
 * weights of one layer that share a shape still start different.
 */
export function glorot(seed: number | undefined, offset: number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform(seed === undefined ? {} : { seed: seed + offset });
}
