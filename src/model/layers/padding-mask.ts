import * as tf from '@tensorflow/tfjs';
import { describeShape, onlyShape, onlyTensor, type LayerArgs } from './common.ts';

/**
 * Turns token ids `[batch, steps]` into a float mask `[batch, steps, 1]`: 1 where the id is
 * a token, 0 where it is padding (id 0). No weights.
 *
 * The trailing axis of 1 broadcasts against `[batch, steps, dim]` activations and lets
 * tfjs's own 1-D pooling layers shrink the mask alongside a CNN's activations. The mask is
 * an explicit input of the layers that need it (attention, masked pooling) rather than
 * tfjs's implicit `mask` argument, which only some built-in layers carry forward.
 */
export class PaddingMask extends tf.layers.Layer {
  static readonly className = 'PaddingMask';

  constructor(args: LayerArgs = {}) {
    super(args);
    this.trainable = false;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    // min(|id|, 1) rather than cast(notEqual(id, 0)): no bool tensor, which tfjs-webgpu's Transpose miscompiles (i32 into f32).
    return tf.tidy(() => tf.expandDims(tf.minimum(tf.abs(onlyTensor(inputs)), 1), -1));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = onlyShape(inputShape);
    if (shape.length !== 2) throw new Error(`PaddingMask: input shape is ${describeShape(shape)}, but must be [batch, steps] token ids`);
    return [...shape, 1];
  }
}

tf.serialization.registerClass(PaddingMask);
