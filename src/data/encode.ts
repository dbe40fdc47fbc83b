/**
 * The predict endpoint's side of preprocessing: JSON instances in, model inputs out,
 * and model outputs back to labels or values. Training rows and instances share
 * `createTabularEncoder`, `createTextEncoder` and the pixel scale, so both encode alike.
 */
import { PayloadTooLargeError, ValidationError } from '../errors.ts';
import type { Preprocessing } from './preprocessing.ts';
import { checkEncodable, refuseUnknownKeys } from './encode-checks.ts';
import { encodeTabular } from './encode-tabular.ts';
import { standardizeSequence, type SequenceScaling } from './sequence-scaling.ts';
import { createTextEncoder } from './text-encoder.ts';
import { encodeWindows } from './forecast.ts';
import { tokenize } from './tokenize.ts';

/** Most instances one predict request may carry. */
export const MAX_INSTANCES = 10_000;

/** Longest text instance, in characters; a model reads only its first `sequenceLength` words anyway. */
export const MAX_TEXT_LENGTH = 100_000;

export interface ClassPrediction {
  /** The most probable class. */
  label: string;
  /** Every class's probability, keyed by label. */
  probabilities: Record<string, number>;
}

export interface ValuePrediction {
  /** The prediction in the target's original units. */
  value: number;
}

export interface ForecastPrediction {
  /** The next `horizon` values of the target, in its original units, nearest first. */
  forecast: number[];
}

export type Prediction = ClassPrediction | ValuePrediction | ForecastPrediction;

/**
 * Encodes predict instances into `instances.length × featureDim` features, strictly: nothing is
 * filled in or dropped unasked.
 * Text instances are raw strings (at most MAX_TEXT_LENGTH characters), or objects with the text under
 * the training file's text field. Tabular instances are objects keyed by column name: every column is
 * required, `null` asks for imputation (the training mean, or the `(missing)` category), any other key
 * but the training target is refused. Image instances are flat pixel arrays or nested `[h][w]` /
 * `[h][w][c]` arrays of values in the training range. Numbers must be finite, and stay finite in float32 once standardized.
 * Sequence instances are `[steps]` number arrays (one feature) or `[steps][features]` arrays, or objects
 * holding one under the training file's sequence field. Time-series instances are the last `window` steps
 * (see `encodeWindows`).
 * @throws ValidationError naming the instance and field, e.g. `instances[3].age`.
 */
export function encodeInstances(pre: Preprocessing, instances: unknown[]): Float32Array {
  if (!Array.isArray(instances)) throw new ValidationError('instances', instances, 'must be an array');
  if (instances.length === 0) throw new ValidationError('instances', instances, 'must contain at least one instance');
  if (instances.length > MAX_INSTANCES) {
    throw new PayloadTooLargeError('instances', instances.length, `is more instances than the ${MAX_INSTANCES} one request may carry`);
  }
  if (pre.kind === 'text') return encodeTexts(pre, instances);
  if (pre.kind === 'sequence') return encodeSequences(pre, instances);
  if (pre.kind === 'timeseries') return encodeWindows(pre, instances);
  return pre.kind === 'tabular' ? encodeTabular(pre, instances) : encodeImages(pre, instances);
}

function encodeTexts(pre: Preprocessing, instances: unknown[]): Float32Array {
  const encoder = createTextEncoder(pre.vocabulary ?? [], pre.sequenceLength ?? 0);
  const textField = pre.textField ?? 'text';
  const out = new Float32Array(instances.length * encoder.sequenceLength);
  instances.forEach((instance, i) => {
    let field = `instances[${i}]`;
    let text = instance;
    const object = typeof instance === 'object' && instance !== null && !Array.isArray(instance);
    if (object) {
      field = `${field}.${textField}`;
      text = Object.hasOwn(instance, textField) ? (instance as Record<string, unknown>)[textField] : undefined;
    }
    if (typeof text !== 'string') throw new ValidationError(field, text, 'must be a string (the raw text)');
    if (object) refuseUnknownKeys(instance, new Set([textField]), pre.target, `instances[${i}]`, 'field');
    if (text.length > MAX_TEXT_LENGTH) throw new ValidationError(field, text, `is ${text.length} characters long; at most ${MAX_TEXT_LENGTH} are accepted`);
    if (text.trim() === '') throw new ValidationError(field, text, 'must not be empty');
    encoder.encode(tokenize(text), out, i * encoder.sequenceLength);
  });
  return out;
}

function encodeSequences(pre: Preprocessing, instances: unknown[]): Float32Array {
  const scaling: SequenceScaling = { steps: pre.steps ?? 0, features: pre.features ?? 1, means: pre.means ?? [], stds: pre.stds ?? [] };
  const { steps, features } = scaling;
  const width = steps * features;
  const shapeRule = features === 1 ? `an array of ${steps} numbers` : `an array of ${steps} arrays of ${features} numbers`;
  const out = new Float32Array(instances.length * width);
  const raw = new Float64Array(width);
  instances.forEach((instance, i) => {
    let field = `instances[${i}]`;
    let sequence = instance;
    if (pre.sequenceField !== undefined && typeof instance === 'object' && instance !== null && !Array.isArray(instance)) {
      field = `${field}.${pre.sequenceField}`;
      sequence = Object.hasOwn(instance, pre.sequenceField) ? (instance as Record<string, unknown>)[pre.sequenceField] : undefined;
      refuseUnknownKeys(instance, new Set([pre.sequenceField]), pre.target, `instances[${i}]`, 'field');
    }
    if (!Array.isArray(sequence) || sequence.length !== steps) {
      const found = Array.isArray(sequence) ? ` (it has ${sequence.length} steps)` : '';
      throw new ValidationError(field, sequence, `must be ${shapeRule}, the trained sequence length${found}`);
    }
    sequence.forEach((step: unknown, t) => {
      // One-feature steps may be bare numbers or one-element arrays.
      if (features === 1 && !Array.isArray(step)) {
        raw[t] = readStep(scaling, 0, step, `${field}[${t}]`);
        return;
      }
      if (!Array.isArray(step) || step.length !== features) {
        throw new ValidationError(`${field}[${t}]`, step, `must be an array of ${features} numbers, the trained width of a step`);
      }
      step.forEach((value: unknown, f) => {
        raw[t * features + f] = readStep(scaling, f, value, `${field}[${t}][${f}]`);
      });
    });
    standardizeSequence(scaling, raw, 0, out, i * width);
  });
  return out;
}

function readStep(scaling: SequenceScaling, feature: number, value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValidationError(field, value, 'must be a finite number; sequences must be complete');
  checkEncodable((value - (scaling.means[feature] ?? 0)) / (scaling.stds[feature] ?? 1), value, field);
  return value;
}

function encodeImages(pre: Preprocessing, instances: unknown[]): Float32Array {
  const [h = 0, w = 0, c = 0] = pre.shape ?? [];
  const count = pre.pixels?.count ?? h * w * c;
  const scale = pre.pixels?.scale ?? 1;
  const max = scale === 1 ? 1 : 255;
  const rule = `must be a number between 0 and ${max}${scale === 1 ? ' (the training pixels were within 0..1)' : ''}`;
  const out = new Float32Array(instances.length * count);
  let at = 0;
  const put = (value: unknown, field: string): void => {
    if (typeof value !== 'number' || !(value >= 0 && value <= max)) throw new ValidationError(field, value, rule);
    out[at++] = value / scale;
  };
  const expect = (value: unknown, length: number, field: string, what: string): unknown[] => {
    if (!Array.isArray(value) || value.length !== length) throw new ValidationError(field, value, `must be an array of ${length} ${what}`);
    return value;
  };

  instances.forEach((instance, i) => {
    const field = `instances[${i}]`;
    if (Array.isArray(instance) && !Array.isArray(instance[0])) {
      expect(instance, count, field, `pixel values (or nested [${h}][${w}]${c > 1 ? `[${c}]` : ''} arrays)`);
      instance.forEach((value, k) => put(value, `${field}[${k}]`));
      return;
    }
    expect(instance, h, field, `rows of the ${h}×${w}×${c} image (or a flat array of ${count} pixel values)`).forEach((row, y) => {
      expect(row, w, `${field}[${y}]`, 'pixels').forEach((pixel, x) => {
        const where = `${field}[${y}][${x}]`;
        // Grayscale pixels may be bare numbers ([h][w]) or one-element arrays ([h][w][1]).
        if (c === 1 && !Array.isArray(pixel)) return put(pixel, where);
        expect(pixel, c, where, 'channel values').forEach((value, k) => put(value, `${where}[${k}]`));
      });
    });
  });
  return out;
}

/**
 * The model gave a non-finite output (NaN or ±Infinity) for some instances. Not a client error by
 * itself: the caller decides whether their input or the model is to blame (see src/serving).
 */
export class NonFiniteOutputError extends Error {
  constructor(
    /** Indexes of the instances whose output was not finite, at most the first 20. */
    readonly rows: number[],
  ) {
    super(`the model gave a non-finite output for instances ${rows.join(', ')}`);
    this.name = 'NonFiniteOutputError';
  }
}

/**
 * Turns `count` rows of model output into labelled probabilities, de-standardized values or forecasts.
 * @throws NonFiniteOutputError when an output is not finite: never a `null` in the answer.
 */
export function decodePredictions(pre: Preprocessing, output: Float32Array, count: number): Prediction[] {
  const classes = pre.task === 'classification' ? (pre.classes ?? []) : undefined;
  const width = classes?.length ?? (pre.task === 'forecasting' ? (pre.horizon ?? 1) : 1);
  if (output.length !== count * width) {
    throw new Error(`model output has ${output.length} values; expected ${count} × ${width}`);
  }
  const predictions: Prediction[] = [];
  const bad: number[] = [];
  const destandardize = (v: number) => v * (pre.targetStd ?? 1) + (pre.targetMean ?? 0);
  for (let i = 0; i < count; i++) {
    const row = output.subarray(i * width, (i + 1) * width);
    const values = classes === undefined ? Array.from(row, destandardize) : Array.from(row);
    if (!values.every(Number.isFinite)) {
      if (bad.length < 20) bad.push(i);
      continue;
    }
    if (pre.task === 'forecasting') {
      predictions.push({ forecast: values });
      continue;
    }
    if (classes === undefined) {
      predictions.push({ value: values[0] as number });
      continue;
    }
    let best = 0;
    values.forEach((p, k) => {
      if (p > (values[best] as number)) best = k;
    });
    // fromEntries defines own properties, so a class named "__proto__" stays an ordinary key.
    const probabilities = Object.fromEntries(classes.map((label, k) => [label, values[k] as number]));
    predictions.push({ label: classes[best] as string, probabilities });
  }
  if (bad.length > 0) throw new NonFiniteOutputError(bad);
  return predictions;
}
