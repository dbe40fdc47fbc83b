/**
 * Checks shared by every kind of predict instance: the fields an object may carry, and
 * numbers that must stay finite once encoded (the model runs in float32).
 */
import { ValidationError } from '../errors.ts';

/** Largest magnitude a float32 holds; a standardized value beyond it becomes Infinity in the model. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** Most names an error message lists (columns, missing fields) before "and N more". */
export const MAX_LISTED = 20;

/** `a, b, c` — at most {@link MAX_LISTED} names, then how many more there are. */
export function listNames(names: readonly string[]): string {
  const shown = names.slice(0, MAX_LISTED).join(', ');
  return names.length > MAX_LISTED ? `${shown} and ${names.length - MAX_LISTED} more` : shown;
}

/**
 * Refuses a key of `record` that is not in `allowed`, naming the first one and the keys that are.
 * `ignored` keys (the training target, sent back with a row) are accepted and not read.
 */
export function refuseUnknownKeys(record: object, allowed: ReadonlySet<string>, ignored: string | undefined, where: string, kind: 'column' | 'field' | 'value column'): void {
  for (const key in record) {
    if (!Object.hasOwn(record, key) || allowed.has(key) || key === ignored) continue;
    throw new ValidationError(`${where}.${key}`, (record as Record<string, unknown>)[key], `is not a ${kind} of this model; ${kind}s are ${listNames([...allowed])}`);
  }
}

/**
 * Refuses a raw value whose encoding (after standardization) float32 cannot hold: a huge but
 * finite input (1e308) would reach the model as Infinity.
 */
export function checkEncodable(encoded: number, raw: unknown, field: string): void {
  if (!(Math.abs(encoded) <= FLOAT32_MAX)) {
    throw new ValidationError(field, raw, `is too large: standardized with the training statistics it is ${encoded}, beyond the ±3.4e38 a model input can hold`);
  }
}
