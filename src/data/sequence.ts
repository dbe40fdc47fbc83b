/**
 * Numeric sequence datasets: CSV rows whose non-target columns are the time steps of one
 * feature, or JSON Lines records holding `[T]` or `[T][F]` arrays of numbers. Every sequence
 * must be complete and of one length and width; features are standardized with the training split.
 */
import { ValidationError } from '../errors.ts';
import { parseCsv, type ParsedCsv } from './csv.ts';
import { looksLikeJsonl, parseJsonl } from './jsonl.ts';
import { encodeLabels } from './labels.ts';
import type { TargetedInput, PreparedDataset } from './prepare.ts';
import type { Preprocessing } from './preprocessing.ts';
import { fitSequenceScaling, standardizeSequence } from './sequence-scaling.ts';
import { splitRows } from './split.ts';
import { meanStd, minMax } from './stats.ts';
import type { ColumnSummary, DatasetSummary, SequenceSummary } from './summary.ts';
import { resolveTarget } from './target.ts';
import { isMissingText, parseNumber } from './values.ts';

/** The file read as raw sequences and raw labels. */
interface SequenceTable {
  format: 'csv' | 'jsonl';
  /** JSON Lines only. */
  sequenceField?: string;
  target: string;
  steps: number;
  features: number;
  /** Row-major raw values, `rows × steps × features`, in file order. */
  values: Float64Array;
  /** The target as a one-column table, for `resolveTarget`. */
  targetTable: ParsedCsv;
}

/** Reads, splits and standardizes a sequence dataset; `input` has passed `prepareDataset`'s option checks. */
export function prepareSequence(input: TargetedInput, validationFraction: number): PreparedDataset {
  const { seed } = input;
  const table = looksLikeJsonl(input.csv) ? readJsonl(input) : readCsv(input);
  const { steps, features } = table;
  const rows = table.targetTable.rows.length;
  const width = steps * features;
  const target = resolveTarget(table.targetTable, 0, 'sequence', input.task);
  const split = splitRows(target, rows, validationFraction, seed);
  const scaling = fitSequenceScaling(table.values, split.order.slice(0, split.trainRows), steps, features);
  const encodedFeatures = new Float32Array(rows * width);
  split.order.forEach((row, i) => standardizeSequence(scaling, table.values, row * width, encodedFeatures, i * width));
  const { labels, targetMean, targetStd } = encodeLabels(target, split);

  const sequence: SequenceSummary = { format: table.format, steps, features };
  if (table.sequenceField !== undefined) sequence.field = table.sequenceField;
  const targetColumn: ColumnSummary = { name: table.target, type: 'target', missing: 0 };
  const preprocessing: Preprocessing = { kind: 'sequence', task: target.task, target: table.target, steps, features, means: scaling.means, stds: scaling.stds };
  if (table.sequenceField !== undefined) preprocessing.sequenceField = table.sequenceField;
  if (target.task === 'classification') {
    targetColumn.categories = target.classes.length;
    preprocessing.classes = target.classes;
  } else {
    preprocessing.targetMean = targetMean;
    preprocessing.targetStd = targetStd;
    const all = Array.from(target.values);
    sequence.target = { ...minMax(all), ...meanStd(all) };
  }
  const columns: ColumnSummary[] = table.sequenceField === undefined ? [targetColumn] : [{ name: table.sequenceField, type: 'sequence', missing: 0 }, targetColumn];
  const summary: DatasetSummary = {
    rows,
    columns,
    target: { name: table.target, task: target.task },
    sequence,
    featureDim: width,
    split: { method: split.method, seed, validationFraction, train: split.trainRows, validation: rows - split.trainRows },
  };
  if (target.task === 'classification') {
    summary.classes = target.classes.map((label, i) => ({ label, count: target.counts[i] ?? 0 }));
  }
  return {
    task: target.task,
    kind: 'sequence',
    spec: { kind: 'sequence', task: target.task, inputShape: [steps, features], outputs: target.task === 'classification' ? target.classes.length : 1 },
    encoded: { features: encodedFeatures, labels, rows, trainRows: split.trainRows },
    summary,
    preprocessing,
  };
}

/** CSV: every column besides the target is one time step of a single feature. */
function readCsv(input: TargetedInput): SequenceTable {
  const csv = parseCsv(input.csv);
  const targetName = input.target.trim();
  const targetIndex = csv.header.indexOf(targetName);
  if (targetIndex < 0) {
    throw new ValidationError('target', input.target, `is not a column of the file; columns are: ${csv.header.join(', ')}`);
  }
  const stepIndices = csv.header.map((_, i) => i).filter((i) => i !== targetIndex);
  if (stepIndices.length === 0) {
    throw new ValidationError('file', csv.header.join(','), `has no step columns besides the target "${targetName}"`);
  }
  const steps = stepIndices.length;
  const values = new Float64Array(csv.rows.length * steps);
  csv.rows.forEach((row, r) => {
    stepIndices.forEach((c, t) => {
      const cell = (row[c] ?? '').trim();
      const where = `on line ${csv.lines[r]} in column "${csv.header[c]}"`;
      if (isMissingText(cell)) throw new ValidationError('file', cell, `${where} is a missing value; sequences must be complete`);
      const value = parseNumber(cell);
      if (Number.isNaN(value)) throw new ValidationError('file', cell, `${where} is not a number; every step of a sequence must be numeric`);
      values[r * steps + t] = value;
    });
  });
  const targetTable: ParsedCsv = { header: [targetName], rows: csv.rows.map((row) => [row[targetIndex] ?? '']), lines: csv.lines };
  return { format: 'csv', target: targetName, steps, features: 1, values, targetTable };
}

/** JSON Lines: one field per record holds `[T]` or `[T][F]` numbers, the same shape on every line. */
function readJsonl(input: TargetedInput): SequenceTable {
  const { fields, records, lines } = parseJsonl(input.csv);
  const targetName = input.target.trim();
  if (!fields.includes(targetName)) {
    throw new ValidationError('target', input.target, `is not a field of the file; fields are: ${fields.join(', ')}`);
  }
  const field = resolveSequenceField(input, fields, targetName);
  const read = (row: number, name: string): unknown => {
    const record = records[row] as Record<string, unknown>;
    return Object.hasOwn(record, name) ? record[name] : undefined;
  };

  // The first record fixes the shape every other record must have.
  const first = read(0, field);
  const nested = Array.isArray(first) && Array.isArray(first[0]);
  const steps = Array.isArray(first) ? first.length : 0;
  const features = nested ? (first as unknown[][])[0]?.length ?? 0 : 1;
  const shapeRule = nested ? `an array of ${steps} arrays of ${features} numbers` : `an array of ${steps} numbers`;
  const values = new Float64Array(records.length * steps * features);
  lines.forEach((line, r) => {
    const sequence = read(r, field);
    if (!Array.isArray(sequence) || sequence.length === 0) {
      throw new ValidationError('file', sequence, `on line ${line}: "${field}" must be a non-empty array of numbers, or of arrays of numbers`);
    }
    if (sequence.length !== steps) {
      throw new ValidationError(
        'file',
        sequence.length,
        `is the length of "${field}" on line ${line}; expected ${steps} (the length on line ${lines[0]}); sequences must all have the same length`,
      );
    }
    if (features === 0) throw new ValidationError('file', first, `on line ${line}: "${field}" has steps with no values`);
    sequence.forEach((step: unknown, t) => {
      const at = (r * steps + t) * features;
      if (!nested) {
        values[at] = stepValue(step, line, `"${field}"[${t}]`, shapeRule);
        return;
      }
      if (!Array.isArray(step) || step.length !== features) {
        const found = Array.isArray(step) ? `has ${step.length} values` : 'is not an array';
        throw new ValidationError('file', step, `on line ${line}: "${field}"[${t}] ${found}, but ${features} are expected (the width on line ${lines[0]}); "${field}" must be ${shapeRule}`);
      }
      step.forEach((value: unknown, f) => {
        values[at + f] = stepValue(value, line, `"${field}"[${t}][${f}]`, shapeRule);
      });
    });
  });

  const targetTable: ParsedCsv = {
    header: [targetName],
    rows: lines.map((line, r) => [targetCell(read(r, targetName), line, targetName)]),
    lines,
  };
  return { format: 'jsonl', sequenceField: field, target: targetName, steps, features, values, targetTable };
}

function resolveSequenceField(input: TargetedInput, fields: string[], targetName: string): string {
  const others = fields.filter((field) => field !== targetName);
  if (input.sequenceField !== undefined) {
    const field = input.sequenceField.trim();
    if (others.includes(field)) return field;
    const rule = field === targetName ? 'is the target; the sequence must be another field' : `is not a field of the file; fields are: ${fields.join(', ')}`;
    throw new ValidationError('sequenceField', input.sequenceField, rule);
  }
  if (others.length === 1) return others[0] as string;
  if (others.length === 0) throw new ValidationError('file', fields.join(','), `has no sequence field besides the target "${targetName}"`);
  throw new ValidationError('sequenceField', undefined, `is required when the file has several fields besides the target; fields are: ${fields.join(', ')}`);
}

function stepValue(value: unknown, line: number, where: string, shapeRule: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  const what = value === null || value === undefined ? 'is a missing value; sequences must be complete' : `is not a number; it must be ${shapeRule}`;
  throw new ValidationError('file', value, `on line ${line}: ${where} ${what}`);
}

function targetCell(value: unknown, line: number, name: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ValidationError('file', value, `on line ${line}: "${name}" must be a string, number or boolean`);
}
