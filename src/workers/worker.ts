import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import { errorMessage, type Logger } from '../log.ts';
import { TRIALS_QUEUE, type Queues } from '../queue/index.ts';
import type { Repository } from '../storage/index.ts';
import { DatasetCache } from './dataset-cache.ts';
import { createTrialProcessor } from './trial-processor.ts';

export interface TrialWorkerOptions {
  repo: Repository;
  queues: Queues;
  log: Logger;
  prefix: string;
  backend: string;
  /** Trials trained at once by this process. @defaultValue 1 */
  concurrency?: number;
  /** Lock on a trial; a dead worker's trial is taken up again after about this long. @defaultValue 30000 */
  lockMs?: number;
}

/** A process's trial consumer: pulls trial jobs and trains them. */
export function startTrialWorker(o: TrialWorkerOptions): { id: string; close(): Promise<void> } {
  const id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const log = o.log.child({ component: 'worker', worker: id });
  const lockDuration = o.lockMs ?? 30_000;
  const processor = createTrialProcessor({ repo: o.repo, queues: o.queues, datasets: new DatasetCache(o.repo), log, workerId: id, backend: o.backend });
  const worker = new Worker(TRIALS_QUEUE, processor, {
    connection: o.queues.connection,
    prefix: o.prefix,
    concurrency: o.concurrency ?? 1,
    lockDuration,
    // A stalled job (its worker died) is handed to another worker after one check interval.
    stalledInterval: lockDuration,
    maxStalledCount: 3,
  });
  worker.on('error', (err) => log.warn('queue connection error', { error: errorMessage(err) }));
  log.info('worker ready', { backend: o.backend, concurrency: o.concurrency ?? 1 });
  return { id, close: () => worker.close() };
}
