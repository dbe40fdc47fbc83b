/**
 * From an uploaded file to model-ready data: the task, the shuffled and split rows,
 * the encoded features and labels, a summary for the user and the fitted preprocessing.
 */
import type { DatasetKind, EncodedData, Task, TaskSpec } from '../domain.ts';
import { ValidationError } from '../errors.ts';
import { parseCsv, type ParsedCsv } from './csv.ts';
import { readPixels, resolveShape } from './image.ts';
import type { Preprocessing } from './preprocessing.ts';
import { encodeLabels } from './labels.ts';
import { prepareSequence } from './sequence.ts';
import { splitRows } from './split.ts';
import type { ColumnSummary, DatasetSummary } from './summary.ts';
import { fitTabular } from './tabular.ts';
import { resolveTarget } from './target.ts';
import { prepareText } from './text.ts';
import { prepareTimeseries } from './timeseries.ts';

/** The fraction of rows held out for validation when none is given. */
export const DEFAULT_VALIDATION_FRACTION = 0.2;

export interface PrepareInput {
  /** The file's text: CSV, or for text and sequence datasets CSV or JSON Lines (one object per line; detected by a leading `{`). */
  csv: string;
  kind: DatasetKind;
  /**
   * Name of the target column (time series: the column to forecast).
   * @defaultValue required, except for a time series with a single value column
   */
  target?: string;
  /**
   * @defaultValue inferred: classification for a non-numeric target or at most 20 distinct
   * integers, else regression; always classification for images and text (the only task they support),
   * always forecasting for time series
   */
  task?: Task;
  /** Image only: `[h, w, c]` (or `[h, w]` for grayscale). @defaultValue a square grayscale shape when the pixel count is a perfect square */
  shape?: number[];
  /** Seeds the shuffle and split. */
  seed: number;
  /**
   * Text only: the column (CSV) or field (JSON Lines) that holds the raw text.
   * @defaultValue the only column besides the target; required when there are several
   */
  textField?: string;
  /**
   * Sequence only, JSON Lines only: the field holding each row's sequence, either an array of numbers
   * (one feature per step) or an array of equal-length arrays of numbers (several features per step).
   * CSV sequence files need none: every column besides the target is one time step.
   * @defaultValue the only field besides the target; required when there are several
   */
  sequenceField?: string;
  /**
   * Time series only: the column holding timestamps (ISO dates or numbers); rows are sorted by it.
   * @defaultValue a column named time, date, timestamp, ds, month or year, if any; else file order
   */
  timeColumn?: string;
  /** Share of rows held out for validation, in (0, 1); a time series holds out its last part. @defaultValue 0.2 */
  validationFraction?: number;
}

/** Input of a labelled dataset (every kind but a time series): its target is named and its task is not forecasting. */
export type TargetedInput = Omit<PrepareInput, 'target' | 'task'> & { target: string; task?: 'classification' | 'regression' };

export interface PreparedDataset {
  task: Task;
  kind: DatasetKind;
  /** What a model of this data looks like; null for a time series, whose shape comes from the study's window and horizon (see `forecastSpec`). */
  spec: TaskSpec | null;
  encoded: EncodedData;
  summary: DatasetSummary;
  preprocessing: Preprocessing;
}

/** Parses, checks, splits and encodes a dataset. @throws ValidationError naming the field, value and rule. */
export function prepareDataset(raw: PrepareInput): PreparedDataset {
  const { kind, seed } = raw;
  const validationFraction = raw.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  checkOptions(raw, validationFraction);
  if (kind === 'timeseries') return prepareTimeseries(raw, validationFraction);
  if (typeof raw.target !== 'string') throw new ValidationError('target', raw.target, 'must be the name of a column');
  // checkOptions has refused forecasting for every kind but a time series.
  const input: TargetedInput = { ...raw, target: raw.target, task: raw.task as TargetedInput['task'] };
  if (kind === 'text') return prepareText(input, validationFraction);
  if (kind === 'sequence') return prepareSequence(input, validationFraction);

  const csv = parseCsv(input.csv);
  const targetName = input.target.trim();
  const targetIndex = csv.header.indexOf(targetName);
  if (targetIndex < 0) {
    throw new ValidationError('target', input.target, `is not a column of the file; columns are: ${listColumns(csv.header)}`);
  }
  const featureIndices = csv.header.map((_, i) => i).filter((i) => i !== targetIndex);
  if (featureIndices.length === 0) {
    throw new ValidationError('file', csv.header.join(','), `has no feature columns besides the target "${targetName}"`);
  }
  const shape = kind === 'image' ? resolveShape(input.shape, featureIndices.length) : undefined;

  const target = resolveTarget(csv, targetIndex, kind, input.task);
  const split = splitRows(target, csv.rows.length, validationFraction, seed);
  const { labels, targetMean, targetStd } = encodeLabels(target, split);
  const targetSummary: ColumnSummary = { name: targetName, type: 'target', missing: 0 };
  if (target.task === 'classification') targetSummary.categories = target.classes.length;

  let features: Float32Array;
  let featureDim: number;
  let columns: ColumnSummary[];
  const preprocessing: Preprocessing = { kind, task: target.task, target: targetName };
  if (shape === undefined) {
    const tabular = fitTabular(csv, featureIndices, split);
    ({ features } = tabular);
    featureDim = tabular.dim;
    let next = 0;
    columns = csv.header.map((_, i) => (i === targetIndex ? targetSummary : (tabular.summaries[next++] as ColumnSummary)));
    preprocessing.columns = tabular.columns;
  } else {
    const image = readPixels(csv, featureIndices, split);
    ({ features } = image);
    featureDim = featureIndices.length;
    columns = [targetSummary];
    preprocessing.pixels = { count: featureDim, scale: image.scale };
    preprocessing.shape = shape;
  }
  if (target.task === 'classification') {
    preprocessing.classes = target.classes;
  } else {
    preprocessing.targetMean = targetMean;
    preprocessing.targetStd = targetStd;
  }

  const summary: DatasetSummary = {
    rows: csv.rows.length,
    columns,
    target: { name: targetName, task: target.task },
    featureDim,
    split: {
      method: split.method,
      seed,
      validationFraction,
      train: split.trainRows,
      validation: split.order.length - split.trainRows,
    },
  };
  if (shape !== undefined) {
    summary.pixelColumns = featureDim;
    summary.shape = shape;
  }
  if (target.task === 'classification') {
    summary.classes = target.classes.map((label, i) => ({ label, count: target.counts[i] ?? 0 }));
  }

  return {
    task: target.task,
    kind,
    spec: {
      kind,
      task: target.task,
      inputShape: shape ?? [featureDim],
      outputs: target.task === 'classification' ? target.classes.length : 1,
    },
    encoded: { features, labels, rows: split.order.length, trainRows: split.trainRows },
    summary,
    preprocessing,
  };
}


const KINDS = ['tabular', 'image', 'text', 'sequence', 'timeseries'];
const TASKS = ['classification', 'regression', 'forecasting'];

function checkOptions(input: PrepareInput, validationFraction: number): void {
  if (!KINDS.includes(input.kind)) throw new ValidationError('kind', input.kind, `must be one of ${KINDS.map((k) => `"${k}"`).join(', ')}`);
  if (input.task !== undefined && !TASKS.includes(input.task)) {
    throw new ValidationError('task', input.task, `must be one of ${TASKS.map((t) => `"${t}"`).join(', ')}`);
  }
  if (typeof input.csv !== 'string') throw new ValidationError('file', typeof input.csv, 'must be CSV text');
  if (input.target !== undefined && (typeof input.target !== 'string' || input.target.trim() === '')) throw new ValidationError('target', input.target, 'must be the name of a column');
  if (input.kind === 'timeseries' && input.task !== undefined && input.task !== 'forecasting') {
    throw new ValidationError('task', input.task, 'must be "forecasting" for a time series (or left out); for labelled sequences use kind "sequence"');
  }
  if (input.kind !== 'timeseries' && input.task === 'forecasting') {
    throw new ValidationError('task', input.task, `applies only to kind "timeseries"; a ${input.kind} dataset is classification or regression`);
  }
  if (input.timeColumn !== undefined && (input.kind !== 'timeseries' || typeof input.timeColumn !== 'string' || input.timeColumn.trim() === '')) {
    const rule = input.kind === 'timeseries' ? 'must be the name of a column' : 'applies only to time series datasets';
    throw new ValidationError('timeColumn', input.timeColumn, rule);
  }
  if (input.kind === 'image' && input.task === 'regression') {
    throw new ValidationError('task', input.task, 'is not supported for image datasets; images are classification only');
  }
  if (input.kind === 'text' && input.task === 'regression') {
    throw new ValidationError('task', input.task, 'is not supported for text datasets; text is classification only');
  }
  if (input.textField !== undefined && (input.kind !== 'text' || typeof input.textField !== 'string' || input.textField.trim() === '')) {
    const rule = input.kind === 'text' ? 'must be the name of a column' : 'applies only to text datasets';
    throw new ValidationError('textField', input.textField, rule);
  }
  if (input.sequenceField !== undefined && (input.kind !== 'sequence' || typeof input.sequenceField !== 'string' || input.sequenceField.trim() === '')) {
    const rule = input.kind === 'sequence' ? 'must be the name of a field' : 'applies only to sequence datasets';
    throw new ValidationError('sequenceField', input.sequenceField, rule);
  }
  if (!Number.isInteger(input.seed)) throw new ValidationError('seed', input.seed, 'must be an integer');
  if (!(typeof validationFraction === 'number' && validationFraction > 0 && validationFraction < 1)) {
    throw new ValidationError('validationFraction', validationFraction, 'must be greater than 0 and less than 1');
  }
}

/** Column names for an error message, shortened for image files with hundreds of columns. */
function listColumns(header: ParsedCsv['header']): string {
  const shown = 12;
  const names = header.slice(0, shown).join(', ');
  return header.length > shown ? `${names}, … (${header.length} in all)` : names;
}
