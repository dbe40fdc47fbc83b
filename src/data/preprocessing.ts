/**
 * Everything prediction needs to encode new instances exactly as the training rows were,
 * stored as JSON next to each model and validated with `preprocessingSchema` when read back.
 */
import { z } from 'zod';
import type { DatasetKind, Task } from '../domain.ts';
import { OOV_TOKEN, PAD_TOKEN } from './text-encoder.ts';

/** A numeric feature, standardized with the training split's statistics. */
export interface NumericColumn {
  name: string;
  type: 'numeric';
  /** Training-split mean; also the value a missing cell is replaced by (so it encodes as 0). */
  mean: number;
  /** Training-split population standard deviation; 1 when the column is constant. */
  std: number;
}

/** A categorical feature, one-hot encoded; unseen values encode as all zeros. */
export interface CategoricalColumn {
  name: string;
  type: 'categorical';
  /** Categories seen in the training split, in one-hot order; may include `(missing)`. */
  categories: string[];
}

export type FeatureColumn = NumericColumn | CategoricalColumn;

/** How raw pixels become model inputs. */
export interface PixelScaling {
  /** Pixel values per image, `h * w * c`. */
  count: number;
  /** Raw pixels are divided by this: 255 when the training pixels were 0..255, 1 when already 0..1. */
  scale: number;
}

/** The fitted preprocessing of one dataset. */
export interface Preprocessing {
  kind: DatasetKind;
  task: Task;
  /** Name of the target column. */
  target: string;
  /** Tabular only: every feature column, in encoding order. */
  columns?: FeatureColumn[];
  /** Image only. */
  pixels?: PixelScaling;
  /** Image only: `[h, w, c]`. */
  shape?: number[];
  /** Text only: the column (CSV) or field (JSON Lines) holding the raw text. */
  textField?: string;
  /** Text only: index = token id; `[0]` is `<pad>`, `[1]` is `<oov>`, then the training split's words. */
  vocabulary?: string[];
  /** Text only: every text becomes this many token ids, truncated at the end or padded with 0. */
  sequenceLength?: number;
  /** Sequence only, JSON Lines only: the field holding each sequence; predict instances may be objects with it. */
  sequenceField?: string;
  /** Sequence only: time steps per sequence; every instance must have exactly this many. */
  steps?: number;
  /** Sequence only: values per time step. */
  features?: number;
  /** Sequence: each feature's training-split mean, over all steps; `features` entries. Time series: each value column's training-period mean. */
  means?: number[];
  /** Sequence: each feature's training-split standard deviation (1 when constant); `features` entries. Time series: per value column. */
  stds?: number[];
  /** Time series only: the numeric columns, in the order each step of the input window lists them. */
  valueColumns?: string[];
  /** Time series only: the timestamp column the rows were ordered by, if any. */
  timeColumn?: string;
  /** Time series only: time steps in the uploaded series. */
  seriesLength?: number;
  /** Time series, as served: steps of history a forecast reads (the study's `window`). */
  window?: number;
  /** Time series, as served: steps a forecast predicts (the study's `horizon`). */
  horizon?: number;
  /** Classification only: labels in class-index order. */
  classes?: string[];
  /** Regression and forecasting: the training split's target mean, to undo standardization. */
  targetMean?: number;
  /** Regression and forecasting: the training split's target standard deviation (1 when constant). */
  targetStd?: number;
}

const featureColumnSchema = z.discriminatedUnion('type', [
  z.object({ name: z.string(), type: z.literal('numeric'), mean: z.number(), std: z.number().positive() }),
  z.object({ name: z.string(), type: z.literal('categorical'), categories: z.array(z.string()) }),
]);

/** Validates a stored `Preprocessing`, including the fields each kind and task require. */
export const preprocessingSchema: z.ZodType<Preprocessing> = z
  .object({
    kind: z.enum(['tabular', 'image', 'text', 'sequence', 'timeseries']),
    task: z.enum(['classification', 'regression', 'forecasting']),
    target: z.string(),
    columns: z.array(featureColumnSchema).min(1).optional(),
    pixels: z.object({ count: z.number().int().positive(), scale: z.number().positive() }).optional(),
    shape: z.array(z.number().int().positive()).length(3).optional(),
    textField: z.string().min(1).optional(),
    vocabulary: z.array(z.string()).min(2).optional(),
    sequenceLength: z.number().int().positive().optional(),
    sequenceField: z.string().min(1).optional(),
    steps: z.number().int().positive().optional(),
    features: z.number().int().positive().optional(),
    means: z.array(z.number()).min(1).optional(),
    stds: z.array(z.number().positive()).min(1).optional(),
    valueColumns: z.array(z.string()).min(1).optional(),
    timeColumn: z.string().optional(),
    seriesLength: z.number().int().positive().optional(),
    window: z.number().int().positive().optional(),
    horizon: z.number().int().positive().optional(),
    classes: z.array(z.string()).min(2).optional(),
    targetMean: z.number().optional(),
    targetStd: z.number().positive().optional(),
  })
  .superRefine((pre, ctx) => {
    const need = (ok: boolean, path: string, message: string): void => {
      if (!ok) ctx.addIssue({ code: 'custom', path: [path], message });
    };
    if (pre.kind === 'tabular') need(pre.columns !== undefined, 'columns', 'is required for tabular data');
    if (pre.kind === 'image') {
      need(pre.pixels !== undefined, 'pixels', 'is required for image data');
      need(pre.shape !== undefined, 'shape', 'is required for image data');
      const [h = 0, w = 0, c = 0] = pre.shape ?? [];
      need(pre.pixels === undefined || pre.shape === undefined || h * w * c === pre.pixels.count, 'shape', 'must multiply to pixels.count');
    }
    if (pre.kind === 'text') {
      need(pre.task === 'classification', 'task', 'must be classification for text data');
      need(pre.textField !== undefined, 'textField', 'is required for text data');
      need(pre.sequenceLength !== undefined, 'sequenceLength', 'is required for text data');
      need(pre.vocabulary !== undefined, 'vocabulary', 'is required for text data');
      need(pre.vocabulary === undefined || (pre.vocabulary[0] === PAD_TOKEN && pre.vocabulary[1] === OOV_TOKEN), 'vocabulary', `must start with "${PAD_TOKEN}", "${OOV_TOKEN}"`);
    }
    if (pre.kind === 'sequence') {
      need(pre.steps !== undefined, 'steps', 'is required for sequence data');
      need(pre.features !== undefined, 'features', 'is required for sequence data');
      need(pre.means !== undefined && pre.means.length === pre.features, 'means', 'must have one entry per feature');
      need(pre.stds !== undefined && pre.stds.length === pre.features, 'stds', 'must have one entry per feature');
    }
    if (pre.kind === 'timeseries') {
      need(pre.task === 'forecasting', 'task', 'must be forecasting for a time series');
      need(pre.valueColumns !== undefined && pre.valueColumns.includes(pre.target), 'valueColumns', 'must list the value columns, the target among them');
      need(pre.means !== undefined && pre.means.length === pre.valueColumns?.length, 'means', 'must have one entry per value column');
      need(pre.stds !== undefined && pre.stds.length === pre.valueColumns?.length, 'stds', 'must have one entry per value column');
    }
    if (pre.task === 'classification') need(pre.classes !== undefined, 'classes', 'is required for classification');
    if (pre.task !== 'classification') {
      need(pre.targetMean !== undefined, 'targetMean', `is required for ${pre.task}`);
      need(pre.targetStd !== undefined, 'targetStd', `is required for ${pre.task}`);
    }
  });
