import * as tf from '@tensorflow/tfjs';

/**
 * What a trained model costs, measured by the worker that trained it: the objectives a study may
 * trade against its validation metric (issue 15), and what the leaderboard shows beside it.
 */
export interface ModelCosts {
  /** Weights in the model, trainable or not. */
  param_count: number;
  /**
   * Milliseconds per row of a prediction over a batch of validation rows (up to COST_ROWS) on
   * this worker's backend: the median of COST_REPEATS timed calls after one warm-up call.
   */
  predict_ms_per_row: number;
}

/** Rows in the timed batch: a serving batch's size (SERVE_BATCH_MAX), so the figure is what batched serving pays. */
export const COST_ROWS = 64;
const COST_REPEATS = 5;

/** Measures `model`'s costs on the first rows of `x` (validation inputs). */
export async function measureCosts(model: tf.LayersModel, x: tf.Tensor): Promise<ModelCosts> {
  const rows = Math.min(COST_ROWS, x.shape[0] ?? 0);
  const param_count = model.countParams();
  if (rows === 0) return { param_count, predict_ms_per_row: 0 };
  const batch = tf.tidy(() => x.slice(0, rows));
  try {
    const once = async (): Promise<number> => {
      const started = performance.now();
      const y = model.predict(batch) as tf.Tensor;
      // Reading the output waits for the work on every backend (webgpu queues it).
      await y.data();
      y.dispose();
      return performance.now() - started;
    };
    await once();
    const times: number[] = [];
    for (let i = 0; i < COST_REPEATS; i++) times.push(await once());
    times.sort((a, b) => a - b);
    return { param_count, predict_ms_per_row: round(times[COST_REPEATS >> 1]! / rows) };
  } finally {
    batch.dispose();
  }
}

/** Four significant digits: the timing is not more precise than that. */
const round = (x: number): number => Number(x.toPrecision(4));
