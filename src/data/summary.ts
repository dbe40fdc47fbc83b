/**
 * What the service reports about an uploaded dataset: plain JSON, shown to the user
 * and stored with the dataset.
 */
import type { Task } from '../domain.ts';

/** One column of the file as it was understood. */
export interface ColumnSummary {
  name: string;
  type: 'numeric' | 'categorical' | 'pixel' | 'text' | 'sequence' | 'time' | 'target';
  /** Missing cells in the whole file; numeric ones were replaced by the training mean. */
  missing: number;
  /** Categorical only: one-hot width (categories seen in the training split). Target: number of classes. */
  categories?: number;
}

/** How the rows were divided into training and validation. */
export interface SplitSummary {
  /**
   * `stratified` for classification (each class split by the fraction), `random` for regression,
   * `time` for a time series (the last part of the series validates).
   */
  method: 'stratified' | 'random' | 'time';
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

/** How a time series was read. */
export interface SeriesSummary {
  /** Time steps (rows). */
  length: number;
  /** The numeric columns, in the order a multivariate predict instance lists them. */
  valueColumns: string[];
  /** The timestamp column, when there is one. */
  timeColumn?: string;
  /** First and last timestamps, as written in the file. */
  start?: string;
  end?: string;
  /** Whether rows were sorted by their timestamps, or kept in file order (no timestamp column). */
  order: 'time order as given' | 'sorted by time' | 'file order';
  /** Missing value cells, over every value column, and how they were filled. */
  missing: { filled: number; method: string };
  /** The forecast column over the whole series. */
  target: { min: number; max: number; mean: number; std: number };
}

/** How an image zip was read: one folder per class, every image decoded, converted and resized to the dataset's shape. */
export interface ImageZipSummary {
  format: 'zip';
  /** The one top-level folder that wrapped the class folders, if there was one. */
  root?: string;
  /** Images per class folder, keyed by label, in class-index order. */
  perClass: Record<string, number>;
  /** Images by format, as detected from their content (not their extension). */
  formats: { png: number; jpeg: number };
  /** Files skipped as clutter: anything under `__MACOSX/`, dotfiles and dot-folders, `Thumbs.db`, `desktop.ini`. */
  ignored: number;
  /** The images' sizes as uploaded, in pixels. */
  sizes: { minWidth: number; maxWidth: number; minHeight: number; maxHeight: number };
  /** Images whose size differed from `shape`: area-averaged where an axis shrank, bilinear where it grew. */
  resized: number;
  /**
   * Images whose colour differed from the shape's channels: colour turned into its luma
   * (0.299 R + 0.587 G + 0.114 B), or grayscale copied into R, G and B. An image counts as
   * grayscale when every pixel has red = green = blue.
   */
  converted: { toGrayscale: number; toRgb: number };
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
  /** Image zips only: what was found in the zip and how the images were converted. */
  images?: ImageZipSummary;
  /** Time series only. */
  series?: SeriesSummary;
  /** Width of one encoded row. */
  featureDim: number;
  split: SplitSummary;
}
