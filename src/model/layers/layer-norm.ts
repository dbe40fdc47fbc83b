import * as tf from '@tensorflow/tfjs';
import { onlyShape, onlyTensor, type LayerArgs } from './common.ts';

/** Options of {@link LayerNorm}. */
export interface LayerNormArgs extends LayerArgs {
  /**
   * Added to the variance before its square root.
   * @defaultValue 1e-5
   */
  epsilon?: number;
}

/**
 * Layer normalization over the last axis: `(x - mean) / sqrt(variance + epsilon) * gamma + beta`,
 * with `gamma` (ones) and `beta` (zeros) of shape `[dim]`.
 *
 * Unlike tfjs's `LayerNormalization`, gamma and beta broadcast instead of being tiled to the
 * input's shape: the Tile gradient launches one kernel per repetition, tens of thousands per
 * Transformer step.
 */
export class LayerNorm extends tf.layers.Layer {
  static readonly className = 'LayerNorm';
  readonly epsilon: number;
  private gamma: tf.LayerVariable | undefined;
  private beta: tf.LayerVariable | undefined;

  constructor(args: LayerNormArgs = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-5;
    if (!(this.epsilon > 0)) throw new Error(`LayerNorm: epsilon is ${this.epsilon}, but must be > 0`);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = onlyShape(inputShape);
    const dim = shape[shape.length - 1];
    if (dim == null) throw new Error(`LayerNorm: the last axis of input shape [${shape.join(', ')}] must be known`);
    this.gamma = this.addWeight('gamma', [dim], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [dim], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = onlyTensor(inputs);
      const mean = tf.mean(x, -1, true);
      const centered = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centered), -1, true);
      const normalized = tf.mul(centered, tf.rsqrt(tf.add(variance, this.epsilon)));
      return tf.add(tf.mul(normalized, this.gamma!.read()), this.beta!.read());
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

tf.serialization.registerClass(LayerNorm);
