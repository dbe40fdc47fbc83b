/**
 * A stored dataset as a study trains on it: the model shape and the encoded rows. Labelled
 * datasets are stored as rows already; a time series is cut into windows with the study's
 * `window` and `horizon`.
 */
import { z } from 'zod';
import type { EncodedData, TaskSpec } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import { checkForecastSettings, cutWindows, forecastSpec } from './forecast.ts';
import { preprocessingSchema, type Preprocessing } from './preprocessing.ts';

/** A forecasting study's settings. */
export interface ForecastSettings {
  /** Steps of history each forecast reads. */
  window: number;
  /** Steps each forecast predicts. */
  horizon: number;
}

export interface TrainingData {
  spec: TaskSpec;
  data: EncodedData;
  preprocessing: Preprocessing;
  /** Standard deviation of a regression or forecast target, to report errors in the target's own units. */
  targetStd?: number;
}

const specSchema = z.object({
  kind: z.enum(['tabular', 'image', 'text', 'sequence', 'timeseries']),
  task: z.enum(['classification', 'regression', 'forecasting']),
  inputShape: z.array(z.number().int().positive()),
  outputs: z.number().int().positive(),
  vocabSize: z.number().int().positive().optional(),
});

/** What the api stores next to the preprocessing: the spec (null for a time series) and the training rows. */
const storedSchema = z.object({ spec: specSchema.nullable().optional(), trainRows: z.number().int().positive() });

/**
 * The spec a study of this dataset trains: the stored one, or for a time series the one
 * its window and horizon give.
 * @throws ValidationError on `window`/`horizon` when they are missing for a time series, given for anything else, or do not fit the series.
 */
export function studySpec(stored: unknown, forecast: Partial<ForecastSettings>): TaskSpec {
  const pre = preprocessingSchema.parse(stored);
  const { spec, trainRows } = storedSchema.parse(stored);
  if (pre.kind !== 'timeseries') {
    for (const field of ['window', 'horizon'] as const) {
      if (forecast[field] !== undefined) throw new ValidationError(field, forecast[field], `applies only to time-series datasets; this dataset is ${pre.kind}`);
    }
    if (!spec) throw new Error(`stored ${pre.kind} dataset has no spec`);
    return spec;
  }
  for (const [field, what] of [['window', 'steps of history each forecast reads'], ['horizon', 'steps each forecast predicts']] as const) {
    if (forecast[field] === undefined) throw new ValidationError(field, undefined, `is required for a time-series dataset: the ${what}`);
  }
  checkForecastSettings(pre.seriesLength ?? 0, trainRows, forecast.window, forecast.horizon);
  return forecastSpec(pre, forecast.window as number, forecast.horizon as number);
}

/** The rows a study trains on, from the stored record and its feature and label bytes. */
export function trainingData(
  record: { rows: number; preprocessing: unknown },
  blobs: { features: Float32Array; labels: Float32Array },
  forecast: Partial<ForecastSettings>,
): TrainingData {
  const preprocessing = preprocessingSchema.parse(record.preprocessing);
  const { trainRows } = storedSchema.parse(record.preprocessing);
  const spec = studySpec(record.preprocessing, forecast);
  const data =
    preprocessing.kind === 'timeseries'
      ? cutWindows({ values: blobs.features, length: record.rows, trainLength: trainRows }, preprocessing, spec.inputShape[0] as number, spec.outputs)
      : { features: blobs.features, labels: blobs.labels, rows: record.rows, trainRows };
  return { spec, data, preprocessing, targetStd: preprocessing.targetStd };
}
