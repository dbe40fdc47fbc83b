/**
 * A stand-in for tfjs training, for the orchestration benchmarks (bench/sleep-worker.ts) and
 * for tests of the orchestration: it sleeps per epoch and reports each epoch, with a
 * checkpoint, as `trainTrial` would, and continues from a checkpoint when resumed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { EpochMetrics, Params } from '../src/domain.ts';
import { improves } from '../src/metrics.ts';
import type { TrainCheckpoint, TrainInput, TrainResult } from '../src/workers/training/index.ts';

/** Stands in for weights, optimizer slots and a saved model: small, but real bytes to write. */
const FAKE_BYTES = new Uint8Array(64);

/**
 * Metrics as a deterministic function of the params, so a sampler has signal: accuracy peaks
 * at a learning rate of about 3e-3 and with more units, and rises with the epoch.
 */
function metricsOf(params: Params, epoch: number): EpochMetrics {
  const lr = typeof params.learningRate === 'number' ? params.learningRate : 1e-3;
  const units = typeof params.units === 'number' ? params.units : 64;
  const quality = Math.exp(-((Math.log10(lr) + 2.5) ** 2)) * (0.7 + 0.3 * Math.min(1, Math.log2(units) / 8));
  const accuracy = 0.5 + 0.45 * quality * (1 - 0.5 ** epoch);
  return { loss: 1.1 - accuracy, accuracy: accuracy + 0.02, val_loss: 1.15 - accuracy, val_accuracy: accuracy };
}

/** A `train` that sleeps `epochMs` per epoch and reports each epoch (with a checkpoint) as tfjs training would. */
export function sleepTrain(epochMs: number): (input: TrainInput) => Promise<TrainResult> {
  return async (input) => {
    const { metric, direction } = input.objective;
    const firstEpoch = (input.resume?.epoch ?? 0) + 1;
    const lastEpoch = input.stopAtEpoch ?? input.maxEpochs;
    let best = input.resume ? { epoch: input.resume.bestEpoch, metrics: input.resume.bestMetrics } : null;
    const history: EpochMetrics[] = [];
    let stoppedBy: TrainResult['stoppedBy'] = input.stopAtEpoch !== undefined ? 'milestone' : 'maxEpochs';
    for (let epoch = firstEpoch; epoch <= lastEpoch; epoch++) {
      await sleep(epochMs);
      const metrics = metricsOf(input.params, epoch);
      history.push(metrics);
      const value = metrics[metric] ?? Number.NaN;
      if (best === null || improves(value, best.metrics[metric] ?? null, direction)) best = { epoch, metrics };
      const at = best;
      const checkpoint = async (): Promise<TrainCheckpoint> => ({
        epoch,
        stopper: { best: at.metrics[metric] ?? null, bestAt: at.epoch, wait: epoch - at.epoch, lastEpoch: epoch },
        bestEpoch: at.epoch,
        bestMetrics: at.metrics,
        weights: FAKE_BYTES,
        optimizer: FAKE_BYTES,
        best: FAKE_BYTES,
      });
      if ((await input.onEpoch?.(epoch, { ...metrics }, checkpoint)) === 'stop') {
        stoppedBy = 'callback';
        break;
      }
    }
    if (best === null) throw new Error('the sleep trainer ran no epoch');
    return {
      epochs: firstEpoch + history.length - 1,
      bestEpoch: best.epoch,
      bestMetrics: best.metrics,
      history,
      firstEpoch,
      stoppedBy,
      artifact: { topology: { bench: 'sleep' }, weightSpecs: [], weights: FAKE_BYTES },
      // Nothing was built: no weights, and a prediction that costs nothing.
      costs: { param_count: 0, predict_ms_per_row: 0 },
    };
  };
}
