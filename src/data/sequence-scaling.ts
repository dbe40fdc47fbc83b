/**
 * Per-feature standardization of `steps × features` sequences, shared by training rows
 * and predict instances so both encode alike.
 */
import { meanStd } from './stats.ts';

export interface SequenceScaling {
  steps: number;
  features: number;
  /** Per feature, over every step of the fitted rows. */
  means: number[];
  /** Per feature; 1 when the feature is constant. */
  stds: number[];
}

/**
 * Fits the scaling on `rows` of `values` (row-major, `steps × features` per row).
 * Only the training split's rows should be passed, so validation rows do not leak into the statistics.
 */
export function fitSequenceScaling(values: Float64Array, rows: readonly number[], steps: number, features: number): SequenceScaling {
  const width = steps * features;
  const means: number[] = [];
  const stds: number[] = [];
  for (let f = 0; f < features; f++) {
    const sample: number[] = [];
    for (const row of rows) {
      for (let t = 0; t < steps; t++) sample.push(values[row * width + t * features + f] as number);
    }
    const { mean, std } = meanStd(sample);
    means.push(mean);
    stds.push(std);
  }
  return { steps, features, means, stds };
}

/** Writes one standardized sequence, read from `source` at `from`, into `out` at `at`. */
export function standardizeSequence(scaling: SequenceScaling, source: ArrayLike<number>, from: number, out: Float32Array, at: number): void {
  const { features, means, stds } = scaling;
  const width = scaling.steps * features;
  for (let k = 0; k < width; k++) {
    const f = k % features;
    out[at + k] = ((source[from + k] as number) - (means[f] as number)) / (stds[f] as number);
  }
}
