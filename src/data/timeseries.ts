/**
 * Time series for forecasting: a CSV of one or more numeric value columns and an optional
 * timestamp column, one row per time step. The series is ordered by time, gaps are filled,
 * and it is standardized with statistics of its training period only (its first part); the
 * windows themselves are cut per study, since window and horizon are study settings
 * (see `forecast.ts`).
 */
import { ValidationError } from '../errors.ts';
import { parseCsv, type ParsedCsv } from './csv.ts';
import type { PrepareInput, PreparedDataset } from './prepare.ts';
import type { Preprocessing } from './preprocessing.ts';
import { meanStd, minMax } from './stats.ts';
import type { ColumnSummary, DatasetSummary, SeriesSummary } from './summary.ts';
import { isMissingText, parseNumber } from './values.ts';

/** Column names taken as the timestamp column when `timeColumn` is not given (compared case-insensitively). */
export const TIME_COLUMN_NAMES: readonly string[] = ['time', 'date', 'datetime', 'timestamp', 'ds', 'month', 'year', 'period'];

/** The shortest series accepted: enough for a few training windows and a validation period. */
export const MIN_SERIES_LENGTH = 8;

/** Reads, orders, fills and standardizes a time series; `input` has passed `prepareDataset`'s option checks. */
export function prepareTimeseries(input: PrepareInput, validationFraction: number): PreparedDataset {
  const csv = parseCsv(input.csv);
  const timeIndex = findTimeColumn(csv, input.timeColumn);
  const valueIndices = csv.header.map((_, i) => i).filter((i) => i !== timeIndex);
  if (valueIndices.length === 0) throw new ValidationError('file', csv.header.join(','), 'has no value columns besides the timestamp column');
  const valueColumns = valueIndices.map((i) => csv.header[i] as string);
  const target = resolveSeriesTarget(input.target, valueColumns);
  const length = csv.rows.length;
  if (length < MIN_SERIES_LENGTH) {
    throw new ValidationError('file', `${length} rows`, `is too short a series; at least ${MIN_SERIES_LENGTH} time steps are needed`);
  }

  const order = timeIndex < 0 ? csv.rows.map((_, r) => r) : timeOrder(csv, timeIndex);
  const sorted = order.some((row, i) => row !== i);
  const features = valueIndices.length;
  const raw = new Float64Array(length * features);
  const missing = valueIndices.map((c, f) => readColumn(csv, c, order, raw, f, features));

  const trainLength = Math.round(length * (1 - validationFraction));
  if (trainLength < 2 || length - trainLength < 1) {
    throw new ValidationError('validationFraction', validationFraction, `leaves ${trainLength} training and ${length - trainLength} validation steps of the ${length}-step series; each needs some`);
  }
  const stats = valueIndices.map((_, f) => meanStd(Array.from({ length: trainLength }, (_, t) => raw[t * features + f] as number)));
  const series = new Float32Array(length * features);
  for (let t = 0; t < length; t++) {
    stats.forEach(({ mean, std }, f) => {
      series[t * features + f] = ((raw[t * features + f] as number) - mean) / std;
    });
  }

  const targetIndex = valueColumns.indexOf(target);
  const targetStats = stats[targetIndex] as { mean: number; std: number };
  const preprocessing: Preprocessing = {
    kind: 'timeseries',
    task: 'forecasting',
    target,
    valueColumns,
    means: stats.map((s) => s.mean),
    stds: stats.map((s) => s.std),
    targetMean: targetStats.mean,
    targetStd: targetStats.std,
    seriesLength: length,
  };
  if (timeIndex >= 0) preprocessing.timeColumn = csv.header[timeIndex] as string;

  const targetValues = Array.from({ length }, (_, t) => raw[t * features + targetIndex] as number);
  const seriesSummary: SeriesSummary = {
    length,
    valueColumns,
    order: timeIndex < 0 ? 'file order' : sorted ? 'sorted by time' : 'time order as given',
    missing: {
      filled: missing.reduce((a, b) => a + b, 0),
      method: 'linear interpolation between the nearest known steps; steps before the first or after the last known value take that value',
    },
    target: { ...minMax(targetValues), ...meanStd(targetValues) },
  };
  if (timeIndex >= 0) {
    const cell = (r: number) => (csv.rows[order[r] as number]?.[timeIndex] ?? '').trim();
    seriesSummary.timeColumn = csv.header[timeIndex] as string;
    seriesSummary.start = cell(0);
    seriesSummary.end = cell(length - 1);
  }
  const columns: ColumnSummary[] = csv.header.map((name, i) => {
    if (i === timeIndex) return { name, type: 'time', missing: 0 };
    const f = valueIndices.indexOf(i);
    return { name, type: name === target ? 'target' : 'numeric', missing: missing[f] ?? 0 };
  });
  const summary: DatasetSummary = {
    rows: length,
    columns,
    target: { name: target, task: 'forecasting' },
    series: seriesSummary,
    featureDim: features,
    split: { method: 'time', seed: input.seed, validationFraction, train: trainLength, validation: length - trainLength },
  };
  return {
    task: 'forecasting',
    kind: 'timeseries',
    spec: null,
    encoded: { features: series, labels: new Float32Array(0), rows: length, trainRows: trainLength },
    summary,
    preprocessing,
  };
}

function findTimeColumn(csv: ParsedCsv, requested: string | undefined): number {
  if (requested !== undefined) {
    const index = csv.header.indexOf(requested.trim());
    if (index < 0) throw new ValidationError('timeColumn', requested, `is not a column of the file; columns are: ${csv.header.join(', ')}`);
    return index;
  }
  return csv.header.findIndex((name) => TIME_COLUMN_NAMES.includes(name.toLowerCase()));
}

function resolveSeriesTarget(requested: string | undefined, valueColumns: string[]): string {
  if (requested === undefined) {
    if (valueColumns.length === 1) return valueColumns[0] as string;
    throw new ValidationError('target', requested, `is required when the series has several value columns; name the one to forecast: ${valueColumns.join(', ')}`);
  }
  const name = requested.trim();
  if (!valueColumns.includes(name)) {
    throw new ValidationError('target', requested, `is not a value column of the file; value columns are: ${valueColumns.join(', ')}`);
  }
  return name;
}

/** Row indices in time order. Timestamps are numbers (e.g. 1949.5) or dates that `Date.parse` reads (ISO 8601, "1949-01"). */
function timeOrder(csv: ParsedCsv, index: number): number[] {
  const name = csv.header[index] as string;
  const cells = csv.rows.map((row) => (row[index] ?? '').trim());
  const numeric = cells.every((cell) => !Number.isNaN(parseNumber(cell)));
  const keys = cells.map((cell, r) => {
    const key = numeric ? parseNumber(cell) : Date.parse(cell);
    if (Number.isNaN(key)) {
      const rule = isMissingText(cell) ? 'is a missing timestamp; every row needs one' : 'is not a number or a date (e.g. 2024-01-31 or 2024-01-31T12:00:00Z)';
      throw new ValidationError('file', cell, `on line ${csv.lines[r]} in column "${name}" ${rule}`);
    }
    return key;
  });
  const order = keys.map((_, r) => r).sort((a, b) => (keys[a] as number) - (keys[b] as number));
  for (let i = 1; i < order.length; i++) {
    const a = order[i - 1] as number;
    const b = order[i] as number;
    if (keys[a] === keys[b]) {
      throw new ValidationError('file', cells[b], `on lines ${csv.lines[a]} and ${csv.lines[b]} in column "${name}" is the same time twice; a series has one row per time step`);
    }
  }
  return order;
}

/** Reads value column `column` in `order` into `out` (stride `width`), filling gaps; returns how many cells were missing. */
function readColumn(csv: ParsedCsv, column: number, order: number[], out: Float64Array, offset: number, width: number): number {
  const name = csv.header[column] as string;
  const known: number[] = [];
  order.forEach((row, t) => {
    const cell = (csv.rows[row]?.[column] ?? '').trim();
    if (isMissingText(cell)) {
      out[t * width + offset] = Number.NaN;
      return;
    }
    const value = parseNumber(cell);
    if (Number.isNaN(value)) {
      throw new ValidationError('file', cell, `on line ${csv.lines[row]} in column "${name}" is not a number; value columns must be numeric (name a timestamp column with timeColumn)`);
    }
    out[t * width + offset] = value;
    known.push(t);
  });
  if (known.length === 0) throw new ValidationError('file', name, `has no values; column "${name}" is missing on every row`);
  const at = (t: number) => out[t * width + offset] as number;
  const set = (t: number, v: number) => {
    out[t * width + offset] = v;
  };
  // Gaps inside the series are interpolated; the ends repeat the nearest known value.
  for (let t = 0; t < (known[0] as number); t++) set(t, at(known[0] as number));
  for (let k = 1; k < known.length; k++) {
    const a = known[k - 1] as number;
    const b = known[k] as number;
    for (let t = a + 1; t < b; t++) set(t, at(a) + ((at(b) - at(a)) * (t - a)) / (b - a));
  }
  const last = known[known.length - 1] as number;
  for (let t = last + 1; t < order.length; t++) set(t, at(last));
  return order.length - known.length;
}
