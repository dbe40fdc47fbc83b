/**
 * Fitting tabular feature columns: deciding each column's type, learning its
 * statistics or categories from the training split only, and encoding every row.
 */
import { ValidationError } from '../errors.ts';
import type { ParsedCsv } from './csv.ts';
import type { FeatureColumn } from './preprocessing.ts';
import type { Split } from './split.ts';
import { meanStd } from './stats.ts';
import type { ColumnSummary } from './summary.ts';
import { createTabularEncoder, type Cell } from './tabular-encoder.ts';
import { MISSING_CATEGORY, compareText, isMissingText, parseNumber } from './values.ts';

/** More distinct values than this in a non-numeric column means an identifier or free text, not a category. */
export const MAX_CATEGORIES = 100;

export interface TabularFeatures {
  columns: FeatureColumn[];
  summaries: ColumnSummary[];
  /** `rows × dim`, in `split.order`. */
  features: Float32Array;
  dim: number;
}

/** Fits and encodes the columns at `featureIndices` of `csv`. */
export function fitTabular(csv: ParsedCsv, featureIndices: number[], split: Split): TabularFeatures {
  const isTrain = new Uint8Array(csv.rows.length);
  for (let i = 0; i < split.trainRows; i++) isTrain[split.order[i] as number] = 1;

  const columns: FeatureColumn[] = [];
  const summaries: ColumnSummary[] = [];
  for (const index of featureIndices) {
    const { column, missing } = fitColumn(csv, index, isTrain);
    columns.push(column);
    summaries.push(
      column.type === 'numeric'
        ? { name: column.name, type: 'numeric', missing }
        : { name: column.name, type: 'categorical', missing, categories: column.categories.length },
    );
  }

  const encoder = createTabularEncoder(columns);
  const features = new Float32Array(split.order.length * encoder.dim);
  const cells: Cell[] = new Array<Cell>(columns.length);
  split.order.forEach((row, position) => {
    const values = csv.rows[row] as string[];
    columns.forEach((column, c) => {
      const text = (values[featureIndices[c] as number] ?? '').trim();
      // In a numeric column every non-missing cell parses, and every missing spelling parses to NaN.
      cells[c] = column.type === 'numeric' ? parseNumber(text) : isMissingText(text) ? MISSING_CATEGORY : text;
    });
    encoder.encodeRow(cells, features, position * encoder.dim);
  });
  return { columns, summaries, features, dim: encoder.dim };
}

function fitColumn(csv: ParsedCsv, index: number, isTrain: Uint8Array): { column: FeatureColumn; missing: number } {
  const name = csv.header[index] ?? '';
  const rows = csv.rows.length;
  const numbers = new Float64Array(rows);
  let missing = 0;
  let firstText = -1;
  for (let r = 0; r < rows; r++) {
    const text = (csv.rows[r]?.[index] ?? '').trim();
    if (isMissingText(text)) {
      missing++;
      numbers[r] = Number.NaN;
      continue;
    }
    const value = parseNumber(text);
    if (Number.isNaN(value) && firstText < 0) firstText = r;
    numbers[r] = value;
  }
  if (firstText < 0) return { column: fitNumeric(name, numbers, isTrain), missing };
  return { column: fitCategorical(csv, index, isTrain, firstText), missing };
}

function fitNumeric(name: string, numbers: Float64Array, isTrain: Uint8Array): FeatureColumn {
  const train: number[] = [];
  numbers.forEach((v, r) => {
    if (isTrain[r] && !Number.isNaN(v)) train.push(v);
  });
  return { name, type: 'numeric', ...meanStd(train) };
}

function fitCategorical(csv: ParsedCsv, index: number, isTrain: Uint8Array, firstText: number): FeatureColumn {
  const name = csv.header[index] ?? '';
  const distinct = new Set<string>();
  const seen = new Set<string>();
  csv.rows.forEach((row, r) => {
    const text = (row[index] ?? '').trim();
    const category = isMissingText(text) ? MISSING_CATEGORY : text;
    if (category !== MISSING_CATEGORY) distinct.add(category);
    if (isTrain[r]) seen.add(category);
  });
  if (distinct.size > MAX_CATEGORIES) {
    const example = (csv.rows[firstText]?.[index] ?? '').trim();
    throw new ValidationError(
      name,
      [...distinct].slice(0, 3),
      `are 3 of ${distinct.size} distinct values; a categorical column may have at most ${MAX_CATEGORIES}, so this looks like an identifier or free-text column (it is not numeric because of ${JSON.stringify(example)} on line ${csv.lines[firstText]}); remove the column or fix that value`,
    );
  }
  return { name, type: 'categorical', categories: [...seen].sort(compareText) };
}
