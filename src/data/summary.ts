/**
 * What the service reports about an uploaded dataset: plain JSON, shown to the user
 * and stored with the dataset.
 */
import type { Task } from '../domain.ts';

/** One column of the file as it was understood. */
export interface ColumnSummary {
  name: string;
  type: 'numeric' | 'categorical' | 'pixel' | 'text' | 'sequence' | 'target';
  /** Missing cells in the whole file; numeric ones were replaced by the training mean. */
  missing: number;
  /** Categorical only: one-hot width (categories seen in the training split). Target: number of classes. */
  categories?: number;
}

/** How the rows were divided into training and validation. */
export interface SplitSummary {
  /** `stratified` for classification (each class split by the fraction), `random` for regression. */
  method: 'stratified' | 'random';
  seed: number;
  validationFraction: number;
  train: number;
  validation: number;
}

/** How a text dataset was tokenized and encoded. */
export interface TextSummary {
  /** The column (CSV) or field (JSON Lines) holding the text. */
  field: string;
  format: 'csv' | 'jsonl';
  /** Token ids, including `<pad>` (0) and `<oov>` (1). */
  vocabularySize: number;
  /** Distinct words in the training split, before the vocabulary's limits. */
  distinctTrainingWords: number;
  /** Token ids per encoded text: the training split's 95th-percentile word count, clamped to 4..256. */
  sequenceLength: number;
  /** Words per text over the training split. */
  tokens: { min: number; median: number; p95: number; max: number };
  /** Training-split words cut off the end of texts longer than `sequenceLength`. */
  truncatedTokens: number;
}

/** How a sequence dataset was read and standardized. */
export interface SequenceSummary {
  format: 'csv' | 'jsonl';
  /** JSON Lines only: the field holding each sequence. */
  field?: string;
  /** Time steps per sequence (CSV: the columns besides the target). */
  steps: number;
  /** Values per time step. */
  features: number;
  /** Regression only: the target over the whole file. */
  target?: { min: number; max: number; mean: number; std: number };
}

export interface DatasetSummary {
  rows: number;
  /** Tabular: every column including the target. Image: only the target (see `pixelColumns`). */
  columns: ColumnSummary[];
  /** Image only: how many pixel columns, instead of listing each one. */
  pixelColumns?: number;
  target: { name: string; task: Task };
  /** Classification only: every class with its row count, in class-index order. */
  classes?: Array<{ label: string; count: number }>;
  /** Image only: `[h, w, c]`. */
  shape?: number[];
  /** Text only. */
  text?: TextSummary;
  /** Sequence only. */
  sequence?: SequenceSummary;
  /** Width of one encoded row. */
  featureDim: number;
  split: SplitSummary;
}
