/**
 * Tabular predict instances: objects keyed by column name. Strict, so a typo cannot become a
 * confident answer about the training mean: every column is required, an unknown key is refused,
 * and `null` is the explicit way to ask for a missing value's imputation.
 */
import { ValidationError } from '../errors.ts';
import { checkEncodable, listNames, refuseUnknownKeys } from './encode-checks.ts';
import type { FeatureColumn, Preprocessing } from './preprocessing.ts';
import { createTabularEncoder, type Cell } from './tabular-encoder.ts';
import { MISSING_CATEGORY, isMissingText, parseNumber } from './values.ts';

/** Encodes tabular instances with the training rows' encoder (see createTabularEncoder), so both encode alike. */
export function encodeTabular(pre: Preprocessing, instances: unknown[]): Float32Array {
  const columns = pre.columns ?? [];
  const names = new Set(columns.map((c) => c.name));
  const encoder = createTabularEncoder(columns);
  const out = new Float32Array(instances.length * encoder.dim);
  const cells: Cell[] = new Array<Cell>(columns.length);
  instances.forEach((instance, i) => {
    if (typeof instance !== 'object' || instance === null || Array.isArray(instance)) {
      throw new ValidationError(`instances[${i}]`, instance, `must be an object keyed by column name (${listNames(columns.map((c) => c.name))})`);
    }
    const record = instance as Record<string, unknown>;
    checkKeys(record, columns, names, pre.target, i);
    columns.forEach((column, c) => {
      const field = `instances[${i}].${column.name}`;
      const raw = record[column.name];
      if (column.type === 'categorical') {
        cells[c] = readCategory(raw, field);
        return;
      }
      // NaN (missing) is imputed by the encoder with the training mean.
      const value = readNumber(raw, field);
      if (!Number.isNaN(value)) checkEncodable((value - column.mean) / column.std, raw, field);
      cells[c] = value;
    });
    encoder.encodeRow(cells, out, i * encoder.dim);
  });
  return out;
}

/**
 * Nothing but columns (a misspelled one is named with the list of columns), and every column
 * present as an own property (so "constructor" is not read off the prototype).
 */
function checkKeys(record: Record<string, unknown>, columns: readonly FeatureColumn[], names: ReadonlySet<string>, target: string, i: number): void {
  refuseUnknownKeys(record, names, target, `instances[${i}]`, 'column');
  const missing = columns.filter((c) => !Object.hasOwn(record, c.name)).map((c) => c.name);
  if (missing.length > 0) {
    const others = missing.length > 1 ? ` (also missing: ${listNames(missing.slice(1))})` : '';
    throw new ValidationError(`instances[${i}].${missing[0]}`, undefined, `is required; send null to ask for imputation${others}`);
  }
}

/** The number a cell holds; NaN when it asks for imputation. */
function readNumber(raw: unknown, field: string): number {
  if (raw === null) return Number.NaN;
  if (typeof raw === 'number') {
    if (Number.isFinite(raw)) return raw;
    throw new ValidationError(field, raw, 'must be a finite number');
  }
  if (typeof raw === 'string') {
    const text = raw.trim();
    // The missing-value spellings of a CSV cell ("", "NA", "?") mean what they meant in training.
    if (isMissingText(text)) return Number.NaN;
    const value = parseNumber(text);
    if (!Number.isNaN(value)) return value;
  }
  throw new ValidationError(field, raw, 'must be a finite number (or null to ask for imputation with the training mean)');
}

/**
 * A missing category reads as training read one: `(missing)`, which the model learned when the
 * training split had missing cells in this column, and which otherwise encodes as all zeros.
 */
function readCategory(raw: unknown, field: string): string {
  if (raw === null) return MISSING_CATEGORY;
  if (typeof raw === 'string') {
    const text = raw.trim();
    return isMissingText(text) ? MISSING_CATEGORY : text;
  }
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  throw new ValidationError(field, raw, 'must be a string or a number (or null to ask for imputation)');
}

