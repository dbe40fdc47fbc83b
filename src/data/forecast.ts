/**
 * Forecasting windows: a study's `window` (steps of history) and `horizon` (steps to predict)
 * turn a stored series into rows. Training rows forecast only inside the training period;
 * validation rows forecast the validation period and may read history from before it, so no
 * validation value is ever a training input or target.
 */
import type { EncodedData, TaskSpec } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import { checkEncodable, refuseUnknownKeys } from './encode-checks.ts';
import type { Preprocessing } from './preprocessing.ts';

/** Largest `window` a study may ask for. */
export const MAX_WINDOW = 1024;
/** Largest `horizon` a study may ask for. */
export const MAX_HORIZON = 512;

/** The stored series as the worker reads it. */
export interface Series {
  /** Standardized values, `length × valueColumns.length`, in time order. */
  values: Float32Array;
  length: number;
  /** Steps in the training period (the first ones). */
  trainLength: number;
}

/** The model shape for this series: `[window, valueColumns]` in, `horizon` values out. */
export function forecastSpec(pre: Preprocessing, window: number, horizon: number): TaskSpec {
  return { kind: 'timeseries', task: 'forecasting', inputShape: [window, pre.valueColumns?.length ?? 1], outputs: horizon };
}

/** Training and validation rows a window and horizon give. */
export function windowCounts(length: number, trainLength: number, window: number, horizon: number): { train: number; validation: number } {
  return { train: Math.max(0, trainLength - window - horizon + 1), validation: Math.max(0, length - trainLength - horizon + 1) };
}

/**
 * Checks a study's window and horizon against the series.
 * @throws ValidationError on `window` or `horizon` saying how many rows they leave.
 */
export function checkForecastSettings(length: number, trainLength: number, window: unknown, horizon: unknown): void {
  const validation = length - trainLength;
  if (!Number.isInteger(horizon) || (horizon as number) < 1 || (horizon as number) > MAX_HORIZON) {
    throw new ValidationError('horizon', horizon, `must be an integer between 1 and ${MAX_HORIZON} (steps to forecast)`);
  }
  if (!Number.isInteger(window) || (window as number) < 1 || (window as number) > MAX_WINDOW) {
    throw new ValidationError('window', window, `must be an integer between 1 and ${MAX_WINDOW} (steps of history each forecast reads)`);
  }
  const h = horizon as number;
  const w = window as number;
  if (h > validation) {
    throw new ValidationError('horizon', h, `is longer than the validation period (the last ${validation} of ${length} steps); use at most ${validation}, or upload with a larger validationFraction`);
  }
  const { train } = windowCounts(length, trainLength, w, h);
  const needed = 2;
  if (train < needed) {
    const most = trainLength - h - needed + 1;
    throw new ValidationError('window', w, `leaves ${train} training windows in the ${trainLength}-step training period with horizon ${h}; at least ${needed} are needed, so use a window of at most ${Math.max(1, most)}`);
  }
}

/**
 * Cuts every window: row `i` reads `window` steps of every value column and targets the next
 * `horizon` standardized values of the target column. Training rows come first.
 */
export function cutWindows(series: Series, pre: Preprocessing, window: number, horizon: number): EncodedData {
  const width = pre.valueColumns?.length ?? 1;
  const targetIndex = pre.valueColumns?.indexOf(pre.target) ?? 0;
  const counts = windowCounts(series.length, series.trainLength, window, horizon);
  const rows = counts.train + counts.validation;
  const features = new Float32Array(rows * window * width);
  const labels = new Float32Array(rows * horizon);
  // A row is named by its origin: the index of the first step it forecasts.
  const origins = [
    ...Array.from({ length: counts.train }, (_, i) => window + i),
    ...Array.from({ length: counts.validation }, (_, i) => series.trainLength + i),
  ];
  origins.forEach((origin, row) => {
    features.set(series.values.subarray((origin - window) * width, origin * width), row * window * width);
    for (let k = 0; k < horizon; k++) labels[row * horizon + k] = series.values[(origin + k) * width + targetIndex] as number;
  });
  return { features, labels, rows, trainRows: counts.train };
}

/**
 * Mean absolute error, in the target's units, of the naive forecast that repeats the last
 * observed value over the horizon, on the validation rows of `data` (as cut by {@link cutWindows}).
 */
export function lastValueMae(data: EncodedData, pre: Preprocessing, window: number, horizon: number): number {
  const width = pre.valueColumns?.length ?? 1;
  const targetIndex = pre.valueColumns?.indexOf(pre.target) ?? 0;
  let sum = 0;
  for (let row = data.trainRows; row < data.rows; row++) {
    const last = data.features[(row * window + window - 1) * width + targetIndex] as number;
    for (let k = 0; k < horizon; k++) sum += Math.abs((data.labels[row * horizon + k] as number) - last);
  }
  return (sum / ((data.rows - data.trainRows) * horizon)) * (pre.targetStd ?? 1);
}

/**
 * Encodes predict instances: each is the last `window` steps of the series, oldest first, as
 * raw numbers. One value column: `[v, …]`. Several: `[[a, b, …], …]` in `valueColumns` order,
 * or `{ a: [...], b: [...] }` keyed by column name.
 */
export function encodeWindows(pre: Preprocessing, instances: unknown[]): Float32Array {
  const columns = pre.valueColumns ?? [pre.target];
  const window = pre.window ?? 0;
  const width = columns.length;
  const means = pre.means ?? [];
  const stds = pre.stds ?? [];
  const out = new Float32Array(instances.length * window * width);
  const shape = width === 1 ? `an array of the last ${window} values of "${columns[0]}"` : `an array of the last ${window} steps, each [${columns.join(', ')}], or an object with ${window} values under each of ${columns.join(', ')}`;
  const put = (i: number, t: number, f: number, value: unknown, field: string) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValidationError(field, value, 'must be a finite number');
    const encoded = (value - (means[f] ?? 0)) / (stds[f] ?? 1);
    checkEncodable(encoded, value, field);
    out[(i * window + t) * width + f] = encoded;
  };
  instances.forEach((instance, i) => {
    const field = `instances[${i}]`;
    if (typeof instance === 'object' && instance !== null && !Array.isArray(instance)) {
      refuseUnknownKeys(instance, new Set(columns), undefined, field, 'value column');
      columns.forEach((column, f) => {
        const values = Object.hasOwn(instance, column) ? (instance as Record<string, unknown>)[column] : undefined;
        if (!Array.isArray(values) || values.length !== window) {
          throw new ValidationError(`${field}.${column}`, values, `must be an array of the last ${window} values (the study's window)`);
        }
        values.forEach((value, t) => put(i, t, f, value, `${field}.${column}[${t}]`));
      });
      return;
    }
    if (!Array.isArray(instance) || instance.length !== window) {
      const found = Array.isArray(instance) ? ` (it has ${instance.length})` : '';
      throw new ValidationError(field, instance, `must be ${shape}${found}`);
    }
    instance.forEach((step: unknown, t) => {
      if (width === 1 && !Array.isArray(step)) return put(i, t, 0, step, `${field}[${t}]`);
      if (!Array.isArray(step) || step.length !== width) {
        throw new ValidationError(`${field}[${t}]`, step, `must be an array of ${width} values: ${columns.join(', ')}`);
      }
      step.forEach((value: unknown, f) => put(i, t, f, value, `${field}[${t}][${f}]`));
    });
  });
  return out;
}
