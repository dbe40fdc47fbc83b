/**
 * A model's size counted by arithmetic, without building it: building a 2-billion-parameter
 * mlp blocked the event loop for 15 s and then broke the wasm backend ("memory access out of
 * bounds"). The formulas mirror the builders (mlp.ts, cnn.ts, rnn.ts, transformer.ts and the
 * head in builders.ts); a unit test pins them to tfjs's `countParams()`.
 */
import type { z } from 'zod';
import type { Family, Params, TaskSpec } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import type { ParamSpec, SearchSpace } from '../search/index.ts';
import { cnnInput } from './cnn.ts';
import {
  cnnParamsSchema,
  mlpParamsSchema,
  parseParams,
  rnnParamsSchema,
  transformerParamsSchema,
  type CnnParams,
  type MlpParams,
  type RnnParams,
  type TransformerParams,
} from './params.ts';

/**
 * The default of MAX_MODEL_PARAMS: 400 MB of float32 weights, about four times that while Adam
 * trains them (gradients and two moments). Set so that every default space of a 224×224×3
 * image dataset fits (its largest cnn has 51 million weights).
 */
export const DEFAULT_MAX_MODEL_PARAMS = 100_000_000;

const SCHEMAS: Record<Family, z.ZodType> = { mlp: mlpParamsSchema, cnn: cnnParamsSchema, rnn: rnnParamsSchema, transformer: transformerParamsSchema };

/**
 * The parameters that change a family's size. `all`: every value is tried, because the size
 * is not monotone in it (more cnn blocks shrink the flattened head) or it is not a number;
 * `max`: only the largest, since the size grows with it.
 */
const SIZE_PARAMS: Record<Family, Record<string, 'max' | 'all'>> = {
  mlp: { layers: 'max', units: 'max', batchNorm: 'all' },
  cnn: { blocks: 'all', filters: 'max', kernelSize: 'max', denseUnits: 'max', embeddingDim: 'max' },
  rnn: { cell: 'all', layers: 'max', units: 'max', bidirectional: 'all', embeddingDim: 'max' },
  transformer: { blocks: 'max', modelDim: 'max', ffDim: 'max' },
};

/** Weights of a Dense layer. */
const dense = (inputs: number, units: number, bias = true) => inputs * units + (bias ? units : 0);
const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** The number of weights (trainable or not) of the model `buildModel(family, params, spec)` makes. */
export function countModelParams(family: Family, params: Params, spec: TaskSpec): number {
  const schema = Object.hasOwn(SCHEMAS, family) ? SCHEMAS[family] : undefined;
  if (schema === undefined) throw new ValidationError('family', family, `must be one of ${Object.keys(SCHEMAS).join(', ')}`);
  const parsed = parseParams(schema, params);
  let hidden: { count: number; width: number };
  switch (family) {
    case 'mlp':
      hidden = mlpBody(parsed as MlpParams, spec);
      break;
    case 'cnn':
      hidden = cnnBody(parsed as CnnParams, spec);
      break;
    case 'rnn':
      hidden = rnnBody(parsed as RnnParams, spec);
      break;
    case 'transformer':
      hidden = transformerBody(parsed as TransformerParams, spec);
      break;
  }
  return hidden.count + dense(hidden.width, spec.outputs);
}

function mlpBody(p: MlpParams, spec: TaskSpec) {
  let count = 0;
  let width = product(spec.inputShape);
  if (spec.vocabSize !== undefined) {
    count += spec.vocabSize * p.units;
    width = p.units;
  }
  for (let i = 0; i < p.layers; i++) {
    // BatchNorm keeps gamma, beta and the moving mean and variance; the Dense before it has no bias.
    count += p.batchNorm ? dense(width, p.units, false) + 4 * p.units : dense(width, p.units);
    width = p.units;
  }
  return { count, width };
}

function cnnBody(p: CnnParams, spec: TaskSpec) {
  const input = cnnInput(spec);
  let count = 0;
  let channels = spec.inputShape[spec.inputShape.length - 1]!;
  if (input.tokens) {
    count += spec.vocabSize! * p.embeddingDim;
    channels = p.embeddingDim;
  }
  const window = p.kernelSize ** input.sides.length;
  let sides = input.sides;
  let filters = channels;
  for (let i = 0; i < p.blocks; i++) {
    filters = p.filters * 2 ** i;
    count += window * channels * filters + filters;
    channels = filters;
    sides = sides.map((s) => Math.floor(s / 2));
  }
  // Text: a max over the positions; otherwise everything flattened.
  const flat = input.tokens ? filters : product(sides) * filters;
  return { count: count + dense(flat, p.denseUnits), width: p.denseUnits };
}

const GATES = { lstm: 4, gru: 3, simple: 1 } as const;

function rnnBody(p: RnnParams, spec: TaskSpec) {
  let count = 0;
  const shape = spec.inputShape;
  let width = shape.length === 3 ? shape[1]! * shape[2]! : shape[shape.length - 1]!;
  if (spec.vocabSize !== undefined) {
    count += spec.vocabSize * p.embeddingDim;
    width = p.embeddingDim;
  }
  const directions = p.bidirectional ? 2 : 1;
  for (let i = 0; i < p.layers; i++) {
    count += directions * GATES[p.cell] * (width * p.units + p.units * p.units + p.units);
    width = directions * p.units;
  }
  return { count, width };
}

function transformerBody(p: TransformerParams, spec: TaskSpec) {
  const shape = spec.inputShape;
  const d = p.modelDim;
  let count: number;
  if (spec.vocabSize !== undefined) {
    count = spec.vocabSize * d + shape[0]! * d; // embedding, positions
  } else if (shape.length === 1) {
    count = 2 * shape[0]! * d; // FeatureTokenizer: a weight and a bias per feature
  } else {
    const steps = shape[0]!;
    const features = shape.length === 3 ? shape[1]! * shape[2]! : shape[1]!;
    count = dense(features, d) + steps * d;
  }
  // Attention (four d×d projections with biases), feed-forward, two LayerNorms.
  const block = 4 * dense(d, d) + dense(d, p.ffDim) + dense(p.ffDim, d) + 2 * 2 * d;
  return { count: count + p.blocks * block, width: d };
}

/** "2,164,000,000 parameters (8.7 GB of float32 weights)". */
function sizeText(count: number): string {
  const bytes = count * 4;
  const size = bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
  return `${count.toLocaleString('en-US')} parameters (${size} of float32 weights)`;
}

/** The values of `spec` to try: all of them, or the largest; `first` for a parameter that does not change the size. */
function candidates(spec: ParamSpec, pick: 'max' | 'all' | 'first'): Array<string | number | boolean> {
  if (typeof spec !== 'object') return [spec];
  let values: Array<string | number | boolean>;
  if (spec.type === 'categorical') values = spec.choices;
  else if (spec.type === 'float') values = [spec.low, spec.high];
  else {
    const step = spec.step ?? 1;
    const top = spec.low + Math.floor((spec.high - spec.low) / step) * step;
    // Every value only for a short range (cnn blocks go up to 8); the ends otherwise.
    values = pick === 'all' && (top - spec.low) / step < 64 ? Array.from({ length: (top - spec.low) / step + 1 }, (_, i) => spec.low + i * step) : [spec.low, top];
  }
  if (pick === 'first') return values.slice(0, 1);
  if (pick === 'max' && values.every((v) => typeof v === 'number')) {
    let max = -Infinity;
    for (const v of values as number[]) if (v > max) max = v;
    return [max];
  }
  return values;
}

/** The parameters of the largest model `family`'s space can give for `spec`, and its count. */
export function largestModel(family: Family, specs: Record<string, ParamSpec>, spec: TaskSpec): { params: Params; count: number } {
  let options: Params[] = [{ family }];
  for (const [name, paramSpec] of Object.entries(specs)) {
    const values = candidates(paramSpec, Object.hasOwn(SIZE_PARAMS[family], name) ? SIZE_PARAMS[family][name]! : 'first');
    options = options.flatMap((o) => values.map((v) => ({ ...o, [name]: v })));
  }
  let best = { params: options[0]!, count: -1 };
  for (const params of options) {
    const count = countModelParams(family, params, spec);
    if (count > best.count) best = { params, count };
  }
  return best;
}

/** Only the parameters that set the size, for messages. */
function sizeParams(family: Family, params: Params): Record<string, unknown> {
  return Object.fromEntries(Object.keys(SIZE_PARAMS[family]).filter((k) => params[k] !== undefined).map((k) => [k, params[k]]));
}

/**
 * Refuses a space whose largest model has more than `maxParams` weights, with a
 * ValidationError on `search.space.<family>` that gives the count. Call it after
 * `checkSpaceBuildable`, which makes sure every value fits the builders.
 */
export function checkModelSize(space: SearchSpace, spec: TaskSpec, maxParams: number): void {
  for (const family of space.families) {
    const { params, count } = largestModel(family, space.params[family] ?? {}, spec);
    if (count > maxParams) {
      throw new ValidationError(
        `search.space.${family}`,
        sizeParams(family, params),
        `gives a largest model of ${sizeText(count)} for inputs of shape [${spec.inputShape.join(', ')}]; the limit is ${maxParams.toLocaleString('en-US')} (MAX_MODEL_PARAMS)`,
      );
    }
  }
}

/** The worker's check before it builds a trial's model: a ValidationError on `params` over `maxParams`. */
export function checkTrialModelSize(family: Family, params: Params, spec: TaskSpec, maxParams: number): void {
  const count = countModelParams(family, params, spec);
  if (count > maxParams) {
    throw new ValidationError('params', sizeParams(family, params), `give a model of ${sizeText(count)}; the limit is ${maxParams.toLocaleString('en-US')} (MAX_MODEL_PARAMS)`);
  }
}
