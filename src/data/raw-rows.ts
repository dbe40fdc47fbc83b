/**
 * Encoded rows back to raw values: predict instances and true targets in the units the dataset
 * was uploaded in. Scoring a model trained on other data on a study's validation rows feeds them
 * through that model's own preprocessing (encodeInstances), as a client's predict request would.
 * What encoding lost stays lost: a missing number comes back as the training mean, a category
 * unseen in training as UNSEEN_CATEGORY, a word outside the vocabulary as `<oov>`.
 */
import { MISSING_CATEGORY } from './values.ts';
import { OOV_TOKEN, PAD_ID } from './text-encoder.ts';
import type { Preprocessing } from './preprocessing.ts';
import type { TrainingData } from './training-data.ts';

/** Stands for a category the rows' own training split never saw (it encoded as all zeros). */
export const UNSEEN_CATEGORY = '(unseen)';

/** A row's true target: a class label, or the target's values in its own units (one, or `horizon` for a forecast). */
export type RawTarget = string | number[];

/**
 * Rows `start` to `end` of `training` as predict instances for a model whose preprocessing is `model`
 * (it picks the pixel scale and, for a time series, the value columns; the rest is the rows' own).
 */
export function rawInstances(training: TrainingData, model: Preprocessing, start: number, end: number): unknown[] {
  const pre = training.preprocessing;
  const { features, rows } = training.data;
  const width = features.length / rows;
  const out: unknown[] = [];
  for (let r = start; r < end; r++) out.push(rawInstance(pre, model, training.spec.inputShape, features.subarray(r * width, (r + 1) * width)));
  return out;
}

function rawInstance(pre: Preprocessing, model: Preprocessing, inputShape: number[], x: Float32Array): unknown {
  switch (pre.kind) {
    case 'tabular': {
      const record: Record<string, unknown> = {};
      let at = 0;
      for (const column of pre.columns ?? []) {
        if (column.type === 'numeric') {
          record[column.name] = (x[at++] as number) * column.std + column.mean;
          continue;
        }
        const hot = column.categories.findIndex((_, k) => x[at + k] === 1);
        const category = hot < 0 ? UNSEEN_CATEGORY : (column.categories[hot] as string);
        // A missing cell asks the other model to impute it its own way.
        record[column.name] = category === MISSING_CATEGORY ? null : category;
        at += column.categories.length;
      }
      return record;
    }
    case 'image': {
      // Both models see pixels in 0..1; the other model's scale gives them in its raw range.
      const scale = model.pixels?.scale ?? 1;
      return Array.from(x, (v) => Math.min(Math.max(v * scale, 0), scale === 1 ? 1 : 255));
    }
    case 'text': {
      const vocabulary = pre.vocabulary ?? [];
      const words = Array.from(x).filter((id) => id !== PAD_ID).map((id) => vocabulary[id] ?? OOV_TOKEN);
      // A text of padding only still has to be a non-empty string.
      return words.length > 0 ? words.join(' ') : OOV_TOKEN;
    }
    case 'sequence': {
      const features = pre.features ?? 1;
      const steps = Array.from({ length: pre.steps ?? 0 }, (_, t) =>
        Array.from({ length: features }, (_, f) => (x[t * features + f] as number) * (pre.stds?.[f] ?? 1) + (pre.means?.[f] ?? 0)),
      );
      return features === 1 ? steps.map((s) => s[0]) : steps;
    }
    case 'timeseries': {
      // By column name, and only the other model's value columns: it refuses any other key.
      const columns = pre.valueColumns ?? [pre.target];
      const window = inputShape[0] ?? 0;
      const record: Record<string, number[]> = {};
      columns.forEach((column, f) => {
        if (!(model.valueColumns ?? [model.target]).includes(column)) return;
        record[column] = Array.from({ length: window }, (_, t) => (x[t * columns.length + f] as number) * (pre.stds?.[f] ?? 1) + (pre.means?.[f] ?? 0));
      });
      return record;
    }
  }
}

/** The true targets of rows `start` to `end`, in the dataset's own units. */
export function rawTargets(training: TrainingData, start: number, end: number): RawTarget[] {
  const pre = training.preprocessing;
  const { labels, rows } = training.data;
  const width = labels.length / rows;
  const out: RawTarget[] = [];
  for (let r = start; r < end; r++) {
    const y = labels.subarray(r * width, (r + 1) * width);
    out.push(pre.task === 'classification' ? (pre.classes?.[y[0] as number] ?? String(y[0])) : Array.from(y, (v) => v * (pre.targetStd ?? 1) + (pre.targetMean ?? 0)));
  }
  return out;
}
