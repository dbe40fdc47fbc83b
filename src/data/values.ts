/**
 * How a single cell is read, shared by training (CSV cells) and prediction (JSON values),
 * so a value means the same thing at both ends.
 */

/** Spellings of "no value" that spreadsheets and pandas write; compared case-insensitively after trimming. */
export const MISSING_TOKENS: readonly string[] = ['', 'na', 'nan', 'null', '?'];

/** The category a missing categorical value is encoded as (parenthesised so it rarely collides with real data). */
export const MISSING_CATEGORY = '(missing)';

const missing = new Set(MISSING_TOKENS);

/** True when a trimmed cell is one of the missing-value spellings. */
export function isMissingText(trimmed: string): boolean {
  if (trimmed.length === 0) return true;
  if (trimmed.length > 4) return false;
  // Nearly every cell is a number: rule out digits and signs before lower-casing.
  const first = trimmed.charCodeAt(0);
  if ((first >= 48 && first <= 57) || first === 45 || first === 43 || first === 46) return false;
  return missing.has(trimmed.toLowerCase());
}

/** Parses a trimmed cell as a finite number; NaN when it is not one. */
export function parseNumber(trimmed: string): number {
  if (trimmed === '') return Number.NaN;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : Number.NaN;
}

/** Orders labels numerically when every one is a number, else by UTF-16 code units (locale-independent). */
export function sortLabels(labels: string[]): string[] {
  const numeric = labels.every((label) => !Number.isNaN(parseNumber(label)));
  return [...labels].sort(numeric ? (a, b) => Number(a) - Number(b) : compareText);
}

/** Locale-independent string order, so the same file encodes the same on every machine. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
