/**
 * Custom tfjs layers: the Transformer's blocks, its tokenizer of table rows, and the padding
 * masks of token inputs.
 * Importing this module registers them with tfjs's serialization map, so a saved model that
 * uses them loads in any process that imported it (the training index does, through the
 * builders).
 */
import * as tf from '@tensorflow/tfjs';
import { FeatureTokenizer } from './feature-tokenizer.ts';
import { LayerNorm } from './layer-norm.ts';
import { MaskedMaxPooling, MaskedMeanPooling } from './masked-pooling.ts';
import { MultiHeadSelfAttention } from './multi-head-self-attention.ts';
import { PaddingMask } from './padding-mask.ts';
import { PositionalEmbedding } from './positional-embedding.ts';

export { FeatureTokenizer, type FeatureTokenizerArgs } from './feature-tokenizer.ts';
export { LayerNorm, type LayerNormArgs } from './layer-norm.ts';
export { MaskedMaxPooling, MaskedMeanPooling } from './masked-pooling.ts';
export { MultiHeadSelfAttention, type MultiHeadSelfAttentionArgs } from './multi-head-self-attention.ts';
export { PaddingMask } from './padding-mask.ts';
export { PositionalEmbedding, type PositionalEmbeddingArgs } from './positional-embedding.ts';

/**
 * Registers the layers with tfjs's serialization map. Importing this module already did;
 * calling it again is harmless (registration overwrites the same entries).
 */
export function registerCustomLayers(): void {
  for (const cls of [FeatureTokenizer, LayerNorm, MaskedMaxPooling, MaskedMeanPooling, MultiHeadSelfAttention, PaddingMask, PositionalEmbedding]) {
    tf.serialization.registerClass(cls);
  }
}
