import * as tf from '@tensorflow/tfjs';
import type { TaskSpec } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import type { FamilyBuilder } from './family.ts';
import { MaskedMaxPooling, PaddingMask } from './layers/index.ts';
import { cnnParamsSchema, type CnnParams } from './params.ts';

/** How a cnn reads a spec's inputs: 2-D over image pixels, 1-D over steps or token positions. */
export interface CnnInput {
  conv: '1d' | '2d';
  /** Token ids (text), embedded before the first convolution. */
  tokens: boolean;
  /** The sides each block halves: `[height, width]` or `[steps]`. */
  sides: number[];
  /** The inputs in words, for messages: "8×8 images", "sequences of 24 steps". */
  what: string;
}

/** Reads `spec` as a cnn input; throws a ValidationError on `spec.inputShape` when no cnn fits it. */
export function cnnInput(spec: TaskSpec): CnnInput {
  const shape = spec.inputShape;
  const [a, b] = shape;
  if (spec.vocabSize !== undefined) {
    if (shape.length !== 1 || a === undefined) throw new ValidationError('spec.inputShape', shape, 'must be [sequenceLength] for token inputs');
    return { conv: '1d', tokens: true, sides: [a], what: `sequences of ${a} tokens` };
  }
  if (shape.length === 3 && a !== undefined && b !== undefined) return { conv: '2d', tokens: false, sides: [a, b], what: `${a}×${b} images` };
  if (shape.length === 2 && a !== undefined) return { conv: '1d', tokens: false, sides: [a], what: `sequences of ${a} steps` };
  throw new ValidationError('spec.inputShape', shape, 'must be [height, width, channels], [steps, features] or token ids [sequenceLength] for a cnn');
}

/** The most blocks an input allows: each halves it ('valid' pooling), and one step or pixel must remain. */
export function maxCnnBlocks(input: CnnInput): number {
  return Math.floor(Math.log2(Math.min(...input.sides)));
}

/**
 * Conv/pool blocks with doubling filters, then a head and one hidden Dense layer: Conv2D
 * over images `[h, w, c]`, Conv1D over the steps of `[steps, features]` sequences, and over
 * the embedded positions of token ids (text, `spec.vocabSize`).
 *
 * Heads: Flatten for images and numeric sequences, whose windows have a fixed length and
 * where the position of a pattern matters (a forecast leans on the latest steps). Measured
 * here with two blocks on wasm, best of 20 epochs, mean of 3 seeds: forecasting 4 steps of a
 * noisy two-sine series from 32, val MAE 0.064 with Flatten against 0.082 with global max and
 * 0.104 with global average pooling; digits as 8 rows of 8, accuracy 0.89 with either.
 * For text, global max pooling over the positions, as in Kim (2014): which n-gram occurs
 * counts, not where, and the length of a text varies.
 *
 * Text is masked: padding positions are zeroed after the embedding and after every
 * convolution, exactly what a 'same' convolution pads a sequence's end with, and the max
 * skips them. So a text's prediction depends neither on how much padding follows it nor on
 * the padding id's embedding row (without the zeroing, a trained bias turns padding into
 * nonzero activations that the next block's windows read at the end of the text).
 */
export const cnnBuilder: FamilyBuilder<CnnParams> = {
  family: 'cnn',
  schema: cnnParamsSchema,
  body(input, p, spec, kernelInit) {
    const shape = cnnInput(spec);
    const maxBlocks = maxCnnBlocks(shape);
    if (p.blocks > maxBlocks) {
      throw new ValidationError('params.blocks', p.blocks, `must be at most ${maxBlocks} for ${shape.what} (each block halves them)`);
    }
    let x = input;
    let mask: tf.SymbolicTensor | undefined;
    if (spec.vocabSize !== undefined) {
      x = apply(tf.layers.embedding({ inputDim: spec.vocabSize, outputDim: p.embeddingDim, embeddingsInitializer: kernelInit() }), x);
      mask = apply(new PaddingMask(), input);
      x = apply(tf.layers.multiply(), [x, mask]);
    }
    const pool = { poolSize: 2, strides: 2 };
    for (let i = 0; i < p.blocks; i++) {
      const conv = { filters: p.filters * 2 ** i, kernelSize: p.kernelSize, padding: 'same', activation: 'relu', kernelInitializer: kernelInit() } as const;
      if (shape.conv === '2d') {
        x = apply(tf.layers.conv2d(conv), x);
        x = apply(p.pooling === 'max' ? tf.layers.maxPooling2d(pool) : tf.layers.averagePooling2d(pool), x);
      } else {
        x = apply(tf.layers.conv1d(conv), x);
        if (mask !== undefined) x = apply(tf.layers.multiply(), [x, mask]);
        x = apply(p.pooling === 'max' ? tf.layers.maxPooling1d(pool) : tf.layers.averagePooling1d(pool), x);
        // The mask shrinks with the activations: a pooled position holds a token if any position under it did.
        if (mask !== undefined) mask = apply(tf.layers.maxPooling1d(pool), mask);
      }
    }
    x = mask === undefined ? apply(tf.layers.flatten(), x) : apply(new MaskedMaxPooling(), [x, mask]);
    x = apply(tf.layers.dense({ units: p.denseUnits, activation: 'relu', kernelInitializer: kernelInit() }), x);
    if (p.dropout > 0) x = apply(tf.layers.dropout({ rate: p.dropout }), x);
    return x;
  },
};

function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}
