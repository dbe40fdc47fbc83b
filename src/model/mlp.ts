import * as tf from '@tensorflow/tfjs';
import type { FamilyBuilder } from './family.ts';
import { MaskedMeanPooling, PaddingMask } from './layers/index.ts';
import { mlpParamsSchema, type MlpParams } from './params.ts';

/** Dense stack; image inputs are flattened first, token inputs embedded and averaged over the tokens (padding left out). */
export const mlpBuilder: FamilyBuilder<MlpParams> = {
  family: 'mlp',
  schema: mlpParamsSchema,
  body(input, p, spec, kernelInit) {
    let x = input;
    if (spec.vocabSize !== undefined) {
      // Token ids: a bag of embedded words (mean over the words, not the padding), as fastText
      // does; ids are not magnitudes.
      const embedded = apply(tf.layers.embedding({ inputDim: spec.vocabSize, outputDim: p.units, embeddingsInitializer: kernelInit() }), x);
      x = apply(new MaskedMeanPooling(), [embedded, apply(new PaddingMask(), input)]);
    } else if (spec.inputShape.length > 1) {
      x = apply(tf.layers.flatten(), x);
    }
    for (let i = 0; i < p.layers; i++) {
      if (p.batchNorm) {
        // Normalize the pre-activations; the bias is redundant with BatchNorm's beta.
        x = apply(tf.layers.dense({ units: p.units, useBias: false, kernelInitializer: kernelInit() }), x);
        x = apply(tf.layers.batchNormalization(), x);
        x = apply(tf.layers.activation({ activation: p.activation }), x);
      } else {
        x = apply(tf.layers.dense({ units: p.units, activation: p.activation, kernelInitializer: kernelInit() }), x);
      }
      if (p.dropout > 0) x = apply(tf.layers.dropout({ rate: p.dropout }), x);
    }
    return x;
  },
};

function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}
