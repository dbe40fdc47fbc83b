/**
 * A few real rows of a stored dataset as predict instances: what the dashboard's try-predict
 * form starts from, and what a client can send to POST /v1/models/{name}/predict unchanged.
 * Rows are decoded back from the stored encoding (src/data/raw-rows.ts), so what encoding
 * lost stays lost (a missing number comes back as the training mean).
 */
import { z } from 'zod';
import { cutWindows, preprocessingSchema, rawInstances, rawTargets, studySpec, windowCounts, type RawTarget, type TrainingData } from '../../data/index.ts';
import { ConflictError, NotFoundError } from '../../errors.ts';
import type { DatasetRecord, Repository } from '../../storage/index.ts';

/** Most rows one sample returns. */
export const MAX_SAMPLE_ROWS = 20;
/** Most encoded values one sample reads, so a dataset of huge rows still costs a bounded read. */
export const MAX_SAMPLE_VALUES = 1_000_000;

export interface SampleQuery {
  /** Rows wanted. @defaultValue 1 */
  limit?: number;
  /** Time series only (required there): steps of history per instance, the model's `window`. */
  window?: number;
  /** Time series only: steps each target holds, the model's `horizon`. @defaultValue 1 */
  horizon?: number;
}

export interface Sample {
  /** `validation` unless the dataset holds no validation rows. */
  split: 'validation' | 'training';
  instances: unknown[];
  /** Each instance's true target: a class label, or values in the target's own units. */
  targets: RawTarget[];
}

const storedSchema = z.object({ trainRows: z.number().int().min(0) });

/**
 * Numbers cut to the 7 significant digits a stored float32 holds, so a value uploaded as 14.02
 * comes back as 14.02 rather than 14.020000015; strings and structure unchanged.
 */
function stored<T>(x: T): T {
  if (typeof x === 'number') return (Number.isInteger(x) ? x : Number(x.toPrecision(7))) as T;
  if (Array.isArray(x)) return x.map(stored) as T;
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, stored(v)])) as T;
  return x;
}

/** How many rows of `width` values fit the sample's bounds. */
function rowsThatFit(id: string, width: number, wanted: number): number {
  if (width > MAX_SAMPLE_VALUES) {
    throw new ConflictError(`a row of dataset '${id}' holds ${width} values, more than the ${MAX_SAMPLE_VALUES} a sample may return; predict with an instance of your own`);
  }
  return Math.min(wanted, Math.floor(MAX_SAMPLE_VALUES / width));
}

/**
 * The first rows of the validation split (rows no model of this dataset trained on), decoded.
 * Reads only those rows' bytes.
 * @throws ValidationError on `window`/`horizon` when a time series lacks a window, or another kind gets one.
 */
export async function sampleRows(repo: Repository, record: DatasetRecord, query: SampleQuery): Promise<Sample> {
  const limit = query.limit ?? 1;
  const pre = preprocessingSchema.parse(record.preprocessing);
  const { trainRows } = storedSchema.parse(record.preprocessing);
  const timeseries = pre.kind === 'timeseries';
  const spec = studySpec(record.preprocessing, { window: query.window, horizon: query.horizon ?? (timeseries ? 1 : undefined) });
  const read = async (features: { start: number; count: number }, labels: { start: number; count: number }) => {
    const blobs = await repo.datasets.slice(record.id, features, labels);
    // Deleted between reading its record and its data.
    if (!blobs) throw new NotFoundError('dataset', record.id);
    return blobs;
  };

  if (!timeseries) {
    const width = spec.inputShape.reduce((a, b) => a * b, 1);
    const split = trainRows < record.rows ? 'validation' : 'training';
    const start = split === 'validation' ? trainRows : 0;
    const count = rowsThatFit(record.id, width, Math.min(limit, record.rows - start));
    // One label per row: a class index, or a standardized value.
    const blobs = await read({ start: start * width, count: count * width }, { start, count });
    const training: TrainingData = { spec, preprocessing: pre, data: { features: blobs.features, labels: blobs.labels, rows: count, trainRows: 0 } };
    return { split, instances: stored(rawInstances(training, pre, 0, count)), targets: stored(rawTargets(training, 0, count)) };
  }

  const window = spec.inputShape[0] as number;
  const columns = spec.inputShape[1] as number;
  const horizon = spec.outputs;
  const count = rowsThatFit(record.id, (window + horizon) * columns, Math.min(limit, windowCounts(record.rows, trainRows, window, horizon).validation));
  // The first validation forecasts start at step trainRows and read the `window` steps before it
  // (studySpec checked that the training period is longer than that).
  const steps = window + count - 1 + horizon;
  const blobs = await read({ start: (trainRows - window) * columns, count: steps * columns }, { start: 0, count: 0 });
  const data = cutWindows({ values: blobs.features, length: steps, trainLength: window }, pre, window, horizon);
  const training: TrainingData = { spec, preprocessing: pre, data };
  return { split: 'validation', instances: stored(rawInstances(training, { ...pre, window, horizon }, 0, count)), targets: stored(rawTargets(training, 0, count)) };
}
