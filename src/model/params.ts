import { z } from 'zod';
import { ValidationError } from '../errors.ts';
import type { Family, Params } from '../domain.ts';

// Each rule is stated once and reused as the message of every issue on that field, so a
// bad value reads "params.units: 0 must be an integer between 1 and 8192".
function int(min: number, max: number) {
  const error = `must be an integer between ${min} and ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.map((v) => `'${v}'`).join(', ')}` });
}

const dropout = z
  .number({ error: 'must be a number >= 0 and < 1' })
  .min(0, { error: 'must be a number >= 0 and < 1' })
  .lt(1, { error: 'must be a number >= 0 and < 1' });

/** Parameters every family reads: how to optimize. */
export const commonParamsSchema = z.object({
  learningRate: z
    .number({ error: 'must be a finite number > 0' })
    .positive({ error: 'must be a finite number > 0' })
    .finite({ error: 'must be a finite number > 0' }),
  batchSize: int(1, 65_536),
  optimizer: oneOf(['adam', 'rmsprop', 'sgd'] as const),
  /**
   * Classification only: `'balanced'` weights each training row's loss by
   * n_train / (K · count of its class), so every class weighs the same in total; `'none'`
   * weighs rows equally. Regression and forecasting ignore it. Validation metrics are never
   * weighted. @defaultValue 'none' (also for params stored before the option existed)
   */
  classWeight: oneOf(['none', 'balanced'] as const).default('none'),
});

/** A multilayer perceptron: `layers` × Dense(`units`, `activation`) [+ BatchNorm] [+ Dropout]. */
export const mlpParamsSchema = commonParamsSchema.extend({
  layers: int(1, 32),
  units: int(1, 8192),
  activation: oneOf(['relu', 'tanh', 'elu'] as const),
  dropout,
  batchNorm: z.boolean({ error: 'must be true or false' }),
});

/**
 * A small CNN: `blocks` × [convolution with `filters`·2^i filters of width `kernelSize`
 * ('same', relu) + `pooling` of size 2, stride 2], then a head, Dense(`denseUnits`, relu)
 * and Dropout(`dropout`). Each block halves the input, so `blocks` is at most
 * log2 of its smallest side.
 *
 * - images `[h, w, c]`: Conv2D blocks, Flatten head;
 * - sequences `[steps, features]` (sequence, time series): Conv1D over the steps, Flatten head;
 * - token ids `[sequenceLength]` (text): Embedding of width `embeddingDim`, Conv1D over the
 *   positions, global max pooling over the non-padding positions as head (Kim, 2014).
 */
export const cnnParamsSchema = commonParamsSchema.extend({
  blocks: int(1, 8),
  filters: int(1, 1024),
  kernelSize: z.union([z.literal(3), z.literal(5)], { error: 'must be 3 or 5' }),
  pooling: oneOf(['max', 'avg'] as const),
  dropout,
  denseUnits: int(1, 8192),
  /** Width of the token embedding; used for text only. @defaultValue 64 */
  embeddingDim: int(1, 1024).default(64),
});

/**
 * A recurrent network: `layers` stacked `cell` layers of `units` (bidirectional
 * or not); over token embeddings of width `embeddingDim` for text, over the
 * raw steps for sequences (image rows are steps).
 */
export const rnnParamsSchema = commonParamsSchema.extend({
  cell: oneOf(['lstm', 'gru', 'simple'] as const),
  layers: int(1, 4),
  units: int(1, 1024),
  bidirectional: z.boolean({ error: 'must be true or false' }),
  dropout,
  /** Width of the token embedding; used for text only. @defaultValue 64 */
  embeddingDim: int(1, 1024).default(64),
});

/**
 * A Transformer encoder: token (or step) embedding of width `modelDim` plus a
 * learned positional embedding, `blocks` × [multi-head self-attention with
 * `heads` heads + feed-forward of width `ffDim`, each with a residual and
 * layer normalization], mean pooling over positions.
 */
export const transformerParamsSchema = commonParamsSchema.extend({
  blocks: int(1, 12),
  heads: int(1, 16),
  modelDim: int(4, 1024),
  ffDim: int(4, 4096),
  dropout,
});

export type CommonParams = z.infer<typeof commonParamsSchema>;
export type RnnParams = z.infer<typeof rnnParamsSchema>;
export type TransformerParams = z.infer<typeof transformerParamsSchema>;
export type MlpParams = z.infer<typeof mlpParamsSchema>;
export type CnnParams = z.infer<typeof cnnParamsSchema>;

/** Validates `params` against `schema`; the first problem becomes a {@link ValidationError} on `params.<key>`. */
export function parseParams<T>(schema: z.ZodType<T>, params: Params): T {
  const result = schema.safeParse(params);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const value = path === '' ? params : (params as Record<string, unknown>)[path];
  throw new ValidationError(path === '' ? 'params' : `params.${path}`, value, issue?.message ?? 'is invalid');
}

/** Reads the parameters that every family shares (used by the training loop). */
export function parseCommonParams(params: Params): CommonParams {
  return parseParams(commonParamsSchema, params);
}

/** Checks that `params.family`, when present, names the family being built. */
export function checkFamily(family: Family, params: Params): void {
  if (params['family'] !== undefined && params['family'] !== family) {
    throw new ValidationError('params.family', params['family'], `must be '${family}' to build a ${family} model`);
  }
}
