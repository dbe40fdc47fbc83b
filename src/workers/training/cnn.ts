import * as tf from '@tensorflow/tfjs';
import { ValidationError } from '../../errors.ts';
import type { FamilyBuilder } from './family.ts';
import { cnnParamsSchema, type CnnParams } from './params.ts';

/** Conv/pool blocks with doubling filters, then one hidden Dense layer. Needs `[h, w, c]` inputs. */
export const cnnBuilder: FamilyBuilder<CnnParams> = {
  family: 'cnn',
  schema: cnnParamsSchema,
  body(input, p, spec, kernelInit) {
    const [h, w, c] = spec.inputShape;
    if (spec.inputShape.length !== 3 || h === undefined || w === undefined || c === undefined) {
      throw new ValidationError('spec.inputShape', spec.inputShape, 'must be [height, width, channels] for a cnn');
    }
    // Each block halves the image ('valid' 2×2 pooling); at least 1×1 must remain.
    const maxBlocks = Math.floor(Math.log2(Math.min(h, w)));
    if (p.blocks > maxBlocks) {
      throw new ValidationError('params.blocks', p.blocks, `must be at most ${maxBlocks} for ${h}×${w} images (each block halves them)`);
    }
    let x = input;
    for (let i = 0; i < p.blocks; i++) {
      x = apply(
        tf.layers.conv2d({
          filters: p.filters * 2 ** i,
          kernelSize: p.kernelSize,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: kernelInit(),
        }),
        x,
      );
      const pool = { poolSize: 2, strides: 2 };
      x = apply(p.pooling === 'max' ? tf.layers.maxPooling2d(pool) : tf.layers.averagePooling2d(pool), x);
    }
    x = apply(tf.layers.flatten(), x);
    x = apply(tf.layers.dense({ units: p.denseUnits, activation: 'relu', kernelInitializer: kernelInit() }), x);
    if (p.dropout > 0) x = apply(tf.layers.dropout({ rate: p.dropout }), x);
    return x;
  },
};

function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}
