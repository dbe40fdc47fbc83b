/** JSON Lines parsing: one JSON object per line, blank lines skipped. */
import { ValidationError } from '../errors.ts';

export interface ParsedJsonl {
  /** Every key seen, in first-seen order. */
  fields: string[];
  records: Array<Record<string, unknown>>;
  /** The 1-based line of each record, parallel to `records`, for error messages. */
  lines: number[];
}

/** True when the first non-blank character (after a BOM) is `{`, i.e. the file is JSON Lines rather than CSV. */
export function looksLikeJsonl(text: string): boolean {
  return /^\uFEFF?\s*\{/.test(text);
}

/** @throws ValidationError (field `file`) naming the first line that is not a JSON object. */
export function parseJsonl(text: string): ParsedJsonl {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const fields = new Set<string>();
  const records: Array<Record<string, unknown>> = [];
  const lines: number[] = [];
  body.split(/\r?\n/).forEach((source, i) => {
    if (source.trim() === '') return;
    const line = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (error) {
      throw new ValidationError('file', excerpt(source), `line ${line} is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ValidationError('file', excerpt(source), `line ${line} is not a JSON object; JSON Lines files need one object per line`);
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) fields.add(key);
    records.push(record);
    lines.push(line);
  });
  if (records.length === 0) throw new ValidationError('file', '', 'is empty; expected at least one JSON object per line');
  return { fields: [...fields], records, lines };
}

function excerpt(source: string): string {
  return source.length > 60 ? `${source.slice(0, 60)}…` : source;
}
