/**
 * Custom tfjs layers of the Transformer family. Importing this module registers them with
 * tfjs's serialization map, so a saved model that uses them loads in any process that
 * imported it (the training index does, through the builders).
 */
import * as tf from '@tensorflow/tfjs';
import { LayerNorm } from './layer-norm.ts';
import { MultiHeadSelfAttention } from './multi-head-self-attention.ts';
import { PositionalEmbedding } from './positional-embedding.ts';

export { LayerNorm, type LayerNormArgs } from './layer-norm.ts';
export { MultiHeadSelfAttention, type MultiHeadSelfAttentionArgs } from './multi-head-self-attention.ts';
export { PositionalEmbedding, type PositionalEmbeddingArgs } from './positional-embedding.ts';

/**
 * Registers the layers with tfjs's serialization map. Importing this module already did;
 * calling it again is harmless (registration overwrites the same entries).
 */
export function registerTransformerLayers(): void {
  for (const cls of [LayerNorm, MultiHeadSelfAttention, PositionalEmbedding]) tf.serialization.registerClass(cls);
}
