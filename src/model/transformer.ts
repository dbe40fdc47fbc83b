import * as tf from '@tensorflow/tfjs';
import { ValidationError } from '../errors.ts';
import type { FamilyBuilder, KernelInit } from './family.ts';
import { FeatureTokenizer, LayerNorm, MaskedMeanPooling, MultiHeadSelfAttention, PaddingMask, PositionalEmbedding } from './layers/index.ts';
import { transformerParamsSchema, type TransformerParams } from './params.ts';

/**
 * A Transformer encoder over a sequence: token embeddings for text (`spec.vocabSize`), a
 * Dense projection of the steps for [steps, features] inputs, and of the rows for
 * [h, w, c] images; then a learned positional embedding. A table row ([features]) becomes
 * one token per feature (FT-Transformer's tokenizer, whose per-feature bias stands in for
 * the positional embedding). Then `blocks` post-norm encoder blocks
 * (self-attention and feed-forward, each with a residual, dropout and LayerNorm), and mean
 * pooling over positions.
 *
 * Token inputs are masked: no position attends to padding (id 0) and the mean pools the
 * tokens only, so a text's prediction does not depend on how much padding follows it.
 * Numeric inputs have no padding and no mask.
 *
 * Importing this module registers the custom layers, so saved transformers load back.
 */
export const transformerBuilder: FamilyBuilder<TransformerParams> = {
  family: 'transformer',
  schema: transformerParamsSchema,
  body(input, p, spec, kernelInit) {
    if (p.modelDim % p.heads !== 0) {
      throw new ValidationError('params.heads', p.heads, `must divide params.modelDim (${p.modelDim}) evenly, but ${p.modelDim} / ${p.heads} is not an integer`);
    }
    const table = spec.vocabSize === undefined && spec.inputShape.length === 1;
    let x = table ? apply(new FeatureTokenizer({ dim: p.modelDim, seed: seedOf(kernelInit) }), input) : embed(input, p, spec.inputShape, spec.vocabSize, kernelInit);
    const mask = spec.vocabSize === undefined ? undefined : apply(new PaddingMask(), input);
    if (!table) x = apply(new PositionalEmbedding({ maxLength: x.shape[1]!, seed: seedOf(kernelInit) }), x);
    for (let i = 0; i < p.blocks; i++) {
      const attention = apply(new MultiHeadSelfAttention({ heads: p.heads, dim: p.modelDim, seed: seedOf(kernelInit) }), mask === undefined ? x : [x, mask]);
      x = residual(x, attention, p.dropout);
      const hidden = apply(tf.layers.dense({ units: p.ffDim, activation: 'relu', kernelInitializer: kernelInit() }), x);
      const feedForward = apply(tf.layers.dense({ units: p.modelDim, kernelInitializer: kernelInit() }), hidden);
      x = residual(x, feedForward, p.dropout);
    }
    return mask === undefined ? apply(tf.layers.globalAveragePooling1d(), x) : apply(new MaskedMeanPooling(), [x, mask]);
  },
};

/** Turns the input into `[batch, steps, modelDim]`. */
function embed(input: tf.SymbolicTensor, p: TransformerParams, shape: number[], vocabSize: number | undefined, kernelInit: KernelInit): tf.SymbolicTensor {
  if (vocabSize !== undefined) {
    if (shape.length !== 1) throw new ValidationError('spec.inputShape', shape, 'must be [sequenceLength] for token inputs');
    return apply(tf.layers.embedding({ inputDim: vocabSize, outputDim: p.modelDim, embeddingsInitializer: kernelInit() }), input);
  }
  let x = input;
  if (shape.length === 3) {
    // Image rows are the tokens.
    const [h, w, c] = shape as [number, number, number];
    x = apply(tf.layers.reshape({ targetShape: [h, w * c] }), x);
  } else if (shape.length !== 2) {
    throw new ValidationError('spec.inputShape', shape, 'must be [features], [steps, features], [height, width, channels] or token ids [sequenceLength] for a transformer');
  }
  return apply(tf.layers.dense({ units: p.modelDim, kernelInitializer: kernelInit() }), x);
}

/** `LayerNorm(x + Dropout(branch))`. */
function residual(x: tf.SymbolicTensor, branch: tf.SymbolicTensor, dropout: number): tf.SymbolicTensor {
  const y = dropout > 0 ? apply(tf.layers.dropout({ rate: dropout }), branch) : branch;
  return apply(new LayerNorm(), apply(tf.layers.add(), [x, y]));
}

// The custom layers take a seed rather than an initializer (their config must serialize);
// reading it from the next initializer keeps them on the builder's per-layer seed sequence.
function seedOf(kernelInit: KernelInit): number | undefined {
  const seed = kernelInit().getConfig()['seed'];
  return typeof seed === 'number' ? seed : undefined;
}

function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}
