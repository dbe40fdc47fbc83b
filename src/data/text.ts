/**
 * Text classification datasets: a CSV or JSON Lines file of raw texts and labels becomes
 * padded token-id sequences, with a vocabulary fitted on the training split only.
 */
import { ValidationError } from '../errors.ts';
import { parseCsv, type ParsedCsv } from './csv.ts';
import { looksLikeJsonl, parseJsonl } from './jsonl.ts';
import type { TargetedInput, PreparedDataset } from './prepare.ts';
import type { Preprocessing } from './preprocessing.ts';
import { splitRows } from './split.ts';
import type { ColumnSummary, DatasetSummary, TextSummary } from './summary.ts';
import { resolveTarget, type ClassificationTarget } from './target.ts';
import { buildVocabulary, createTextEncoder } from './text-encoder.ts';
import { tokenize } from './tokenize.ts';

/** Shortest encoded sequence, so very short texts still give the models a few steps. */
export const MIN_SEQUENCE_LENGTH = 4;
/** Longest encoded sequence; longer texts keep their beginning. */
export const MAX_SEQUENCE_LENGTH = 256;
/** `sequenceLength` covers this share of training texts without truncation. */
export const SEQUENCE_LENGTH_PERCENTILE = 0.95;

/** The file read as rows of raw text and raw label. */
interface TextTable {
  format: 'csv' | 'jsonl';
  textField: string;
  target: string;
  texts: string[];
  /** The target as a one-column table, for `resolveTarget`. */
  targetTable: ParsedCsv;
}

/** Reads, splits, tokenizes and encodes a text dataset; `input` has passed `prepareDataset`'s option checks. */
export function prepareText(input: TargetedInput, validationFraction: number): PreparedDataset {
  const { seed } = input;
  const table = readTextTable(input);
  const rows = table.texts.length;
  // Text is classification only (checked with the options), so the target always resolves to classes.
  const target = resolveTarget(table.targetTable, 0, 'text', 'classification') as ClassificationTarget;
  const split = splitRows(target, rows, validationFraction, seed);
  const words = table.texts.map(tokenize);
  const trainingWords = split.order.slice(0, split.trainRows).map((row) => words[row] as string[]);

  const vocabulary = buildVocabulary(trainingWords);
  const counts = trainingWords.map((w) => w.length).sort((a, b) => a - b);
  const p95 = percentile(counts, SEQUENCE_LENGTH_PERCENTILE);
  const sequenceLength = Math.min(MAX_SEQUENCE_LENGTH, Math.max(MIN_SEQUENCE_LENGTH, p95));
  const encoder = createTextEncoder(vocabulary, sequenceLength);
  const features = new Float32Array(rows * sequenceLength);
  let truncatedTokens = 0;
  split.order.forEach((row, i) => {
    const cut = encoder.encode(words[row] as string[], features, i * sequenceLength);
    if (i < split.trainRows) truncatedTokens += cut;
  });
  const labels = Float32Array.from(split.order, (row) => target.labels[row] as number);

  const text: TextSummary = {
    field: table.textField,
    format: table.format,
    vocabularySize: vocabulary.length,
    distinctTrainingWords: new Set(trainingWords.flat()).size,
    sequenceLength,
    tokens: { min: counts[0] ?? 0, median: percentile(counts, 0.5), p95, max: counts[counts.length - 1] ?? 0 },
    truncatedTokens,
  };
  const columns: ColumnSummary[] = [
    { name: table.textField, type: 'text', missing: 0 },
    { name: table.target, type: 'target', missing: 0, categories: target.classes.length },
  ];
  const summary: DatasetSummary = {
    rows,
    columns,
    target: { name: table.target, task: 'classification' },
    classes: target.classes.map((label, i) => ({ label, count: target.counts[i] ?? 0 })),
    text,
    featureDim: sequenceLength,
    split: { method: split.method, seed, validationFraction, train: split.trainRows, validation: rows - split.trainRows },
  };
  const preprocessing: Preprocessing = {
    kind: 'text',
    task: 'classification',
    target: table.target,
    textField: table.textField,
    vocabulary,
    sequenceLength,
    classes: target.classes,
  };
  return {
    task: 'classification',
    kind: 'text',
    spec: { kind: 'text', task: 'classification', inputShape: [sequenceLength], outputs: target.classes.length, vocabSize: vocabulary.length },
    encoded: { features, labels, rows, trainRows: split.trainRows },
    summary,
    preprocessing,
  };
}

/** The nearest-rank percentile of ascending `sorted` (0 when empty). */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

function readTextTable(input: TargetedInput): TextTable {
  const targetName = input.target.trim();
  const jsonl = looksLikeJsonl(input.csv);
  const what = jsonl ? 'field' : 'column';
  let fields: string[];
  let cell: (row: number, field: string) => string;
  let lines: number[];
  if (jsonl) {
    const parsed = parseJsonl(input.csv);
    ({ fields, lines } = parsed);
    cell = (row, field) => {
      const record = parsed.records[row] as Record<string, unknown>;
      const value = Object.hasOwn(record, field) ? record[field] : undefined;
      if (value === undefined || value === null) return '';
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw new ValidationError('file', value, `on line ${lines[row]}: "${field}" must be a string, number or boolean`);
    };
  } else {
    const parsed = parseCsv(input.csv);
    ({ header: fields, lines } = parsed);
    cell = (row, field) => parsed.rows[row]?.[fields.indexOf(field)] ?? '';
  }

  if (!fields.includes(targetName)) {
    throw new ValidationError('target', input.target, `is not a ${what} of the file; ${what}s are: ${fields.join(', ')}`);
  }
  const others = fields.filter((field) => field !== targetName);
  let textField: string;
  if (input.textField !== undefined) {
    textField = input.textField.trim();
    if (!others.includes(textField)) {
      const rule = textField === targetName ? 'is the target; the text must be another' : `is not a ${what} of the file; ${what}s are: ${fields.join(', ')}`;
      throw new ValidationError('textField', input.textField, rule);
    }
  } else if (others.length === 1) {
    textField = others[0] as string;
  } else if (others.length === 0) {
    throw new ValidationError('file', fields.join(','), `has no text ${what} besides the target "${targetName}"`);
  } else {
    throw new ValidationError('textField', undefined, `is required when the file has several ${what}s besides the target; ${what}s are: ${fields.join(', ')}`);
  }

  const texts = lines.map((line, row) => {
    const text = cell(row, textField);
    if (text.trim() === '') {
      throw new ValidationError('file', text, `on line ${line} has no text in "${textField}"; every row needs text`);
    }
    return text;
  });
  const targetTable: ParsedCsv = { header: [targetName], rows: lines.map((_, row) => [cell(row, targetName)]), lines };
  return { format: jsonl ? 'jsonl' : 'csv', textField, target: targetName, texts, targetTable };
}
