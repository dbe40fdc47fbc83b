/**
 * A worker process for the orchestration benchmarks (bench/sleep-trials.ts starts it with
 * `node --import tsx`): the real trial worker (BullMQ consumer, trial processor, every
 * database write) with tfjs training replaced by a sleep of BENCH_EPOCH_MS per epoch.
 * Reads the same environment as `maas worker` (DATABASE_URL, REDIS_URL, QUEUE_PREFIX,
 * WORKER_CONCURRENCY, TRIAL_LOCK_MS, LOG_LEVEL).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config.ts';
import type { EpochMetrics, Params } from '../src/domain.ts';
import { createLogger, errorMessage } from '../src/log.ts';
import { openQueues } from '../src/queue/index.ts';
import { improves } from '../src/ranking.ts';
import { createRepository } from '../src/storage/index.ts';
import type { TrainCheckpoint, TrainInput, TrainResult } from '../src/workers/training/index.ts';
import { startTrialWorker } from '../src/workers/worker.ts';

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
    };
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const epochMs = Number(process.env.BENCH_EPOCH_MS ?? 1000);
  const log = createLogger(config.LOG_LEVEL, { role: 'bench-worker' });
  const repo = createRepository(config.DATABASE_URL);
  const queues = openQueues(config.REDIS_URL, config.QUEUE_PREFIX);
  const worker = startTrialWorker({
    repo,
    queues,
    log,
    prefix: config.QUEUE_PREFIX,
    // Stored with each trial only; no tfjs backend is loaded.
    backend: 'cpu',
    concurrency: config.WORKER_CONCURRENCY,
    lockMs: config.TRIAL_LOCK_MS,
    train: sleepTrain(epochMs),
  });
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      void (async () => {
        await worker.close();
        await queues.close();
        await repo.close();
      })().then(() => process.exit(0), () => process.exit(1));
    });
  }
}

main().catch((err) => {
  console.error(`sleep-worker: ${errorMessage(err)}`);
  process.exit(1);
});
