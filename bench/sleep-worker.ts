/**
 * A worker process for the orchestration benchmarks (bench/sleep-trials.ts starts it with
 * `node --import tsx`): the real trial worker (BullMQ consumer, trial processor, every
 * database write) with tfjs training replaced by a sleep of BENCH_EPOCH_MS per epoch.
 * Reads the same environment as `maas worker` (DATABASE_URL, REDIS_URL, QUEUE_PREFIX,
 * WORKER_CONCURRENCY, TRIAL_LOCK_MS, LOG_LEVEL).
 */
import { loadConfig } from '../src/config.ts';
import { createLogger, errorMessage } from '../src/log.ts';
import { openQueues } from '../src/queue/index.ts';
import { createRepository } from '../src/storage/index.ts';
import { sleepTrain } from './sleep-train.ts';
import { startTrialWorker } from '../src/workers/worker.ts';

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
