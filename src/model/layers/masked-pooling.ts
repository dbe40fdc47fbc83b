import * as tf from '@tensorflow/tfjs';
import { checkMaskShape, describeShape, MASKED_OUT, shapeAndMask, tensorAndMask, type LayerArgs } from './common.ts';

/**
 * Pools `[batch, steps, dim]` over the steps that the mask marks as tokens: inputs are
 * `[x, mask]` with `mask` of shape `[batch, steps, 1]` (1 = token, 0 = padding; see
 * {@link PaddingMask}), output is `[batch, dim]`. A row that is all padding pools to zeros.
 */
abstract class MaskedPooling extends tf.layers.Layer {
  constructor(args: LayerArgs = {}) {
    super(args);
    this.trainable = false;
  }

  protected abstract pool(x: tf.Tensor, mask: tf.Tensor): tf.Tensor;

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    this.shapes(inputShape);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [x, mask] = tensorAndMask(this.getClassName(), inputs);
      if (mask === undefined) throw new Error(`${this.getClassName()}: expected [x, mask], got one tensor`);
      return this.pool(x, mask);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [x] = this.shapes(inputShape);
    return [x[0] ?? null, x[2] ?? null];
  }

  private shapes(inputShape: tf.Shape | tf.Shape[]): [tf.Shape, tf.Shape] {
    const name = this.getClassName();
    const [x, mask] = shapeAndMask(inputShape);
    if (mask === undefined) throw new Error(`${name}: expected inputs [x, mask], got one input of shape ${describeShape(x)}`);
    if (x.length !== 3) throw new Error(`${name}: input shape is ${describeShape(x)}, but must be [batch, steps, dim]`);
    checkMaskShape(name, x, mask);
    return [x, mask];
  }
}

/** Mean over the token steps only: `sum(x · mask) / max(sum(mask), 1)`. See {@link MaskedPooling}. */
export class MaskedMeanPooling extends MaskedPooling {
  static readonly className = 'MaskedMeanPooling';

  protected override pool(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    const total = tf.sum(tf.mul(x, mask), 1);
    // At least 1: an all-padding row then averages to 0 instead of 0 / 0 = NaN.
    const count = tf.maximum(tf.sum(mask, 1), 1);
    return tf.div(total, count);
  }
}

/**
 * Maximum over the token steps only (padding steps are pushed down by 1e9 first); an
 * all-padding row gives zeros. See {@link MaskedPooling}.
 */
export class MaskedMaxPooling extends MaskedPooling {
  static readonly className = 'MaskedMaxPooling';

  protected override pool(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    const max = tf.max(tf.add(x, tf.mul(tf.sub(1, mask), MASKED_OUT)), 1);
    // Without a token the max above is about -1e9; zero it (times 0, not where(): no -inf).
    const anyToken = tf.max(mask, 1);
    return tf.mul(max, anyToken);
  }
}

tf.serialization.registerClass(MaskedMeanPooling);
tf.serialization.registerClass(MaskedMaxPooling);
