/** The encoded label column, shared by every dataset kind. */
import { meanStd } from './stats.ts';
import type { Split } from './split.ts';
import type { ResolvedTarget } from './target.ts';

export interface EncodedLabels {
  labels: Float32Array;
  /** Regression only: the training split's target mean. */
  targetMean?: number;
  /** Regression only: the training split's target standard deviation (1 when constant). */
  targetStd?: number;
}

/** Labels in split order: class indices, or the target standardized with training-split statistics. */
export function encodeLabels(target: ResolvedTarget, split: Split): EncodedLabels {
  if (target.task === 'classification') {
    return { labels: Float32Array.from(split.order, (row) => target.labels[row] as number) };
  }
  const { mean, std } = meanStd(split.order.slice(0, split.trainRows).map((row) => target.values[row] as number));
  const labels = Float32Array.from(split.order, (row) => ((target.values[row] as number) - mean) / std);
  return { labels, targetMean: mean, targetStd: std };
}
