import * as tf from '@tensorflow/tfjs';
import { ValidationError } from '../errors.ts';
import type { FamilyBuilder } from './family.ts';
import { rnnParamsSchema, type RnnParams } from './params.ts';

const CELLS = { lstm: tf.layers.lstm, gru: tf.layers.gru, simple: tf.layers.simpleRNN } as const;

/**
 * Stacked recurrent layers over a sequence: token embeddings for text
 * (`spec.vocabSize`), the raw steps for [steps, features] inputs, and image
 * rows as steps for [h, w, c]. Every layer but the last returns sequences.
 *
 * Token inputs are masked (the Embedding's `maskZero`): padding steps (id 0) leave the
 * state as it was, in both directions of a bidirectional layer.
 */
export const rnnBuilder: FamilyBuilder<RnnParams> = {
  family: 'rnn',
  schema: rnnParamsSchema,
  body(input, p, spec, kernelInit) {
    let x = input;
    if (spec.vocabSize !== undefined) {
      if (spec.inputShape.length !== 1) throw new ValidationError('spec.inputShape', spec.inputShape, 'must be [sequenceLength] for token inputs');
      // tfjs 4.22 carries this mask through the LSTM, GRU and SimpleRNN layers, Bidirectional
      // and Dropout, in predict and in fit, on cpu and wasm: measured here, a text padded to 8
      // or to 14 steps gives the same outputs, and the same weights after three SGD steps.
      x = apply(tf.layers.embedding({ inputDim: spec.vocabSize, outputDim: p.embeddingDim, maskZero: true, embeddingsInitializer: kernelInit() }), x);
    } else if (spec.inputShape.length === 3) {
      const [h, w, c] = spec.inputShape as [number, number, number];
      x = apply(tf.layers.reshape({ targetShape: [h, w * c] }), x);
    } else if (spec.inputShape.length !== 2) {
      throw new ValidationError('spec.inputShape', spec.inputShape, 'must be [steps, features], [height, width, channels] or token ids for an rnn');
    }
    for (let i = 0; i < p.layers; i++) {
      const returnSequences = i < p.layers - 1;
      const cell = CELLS[p.cell]({ units: p.units, returnSequences, kernelInitializer: kernelInit(), recurrentInitializer: kernelInit() }) as tf.RNN;
      x = apply(p.bidirectional ? tf.layers.bidirectional({ layer: cell, mergeMode: 'concat' }) : cell, x);
      if (p.dropout > 0) x = apply(tf.layers.dropout({ rate: p.dropout }), x);
    }
    return x;
  },
};

function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}
