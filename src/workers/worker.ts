import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import { errorMessage, type Logger } from '../log.ts';
import { QUEUE_OF, SCORE_CHAMPION_JOB, type DeviceClass, type Queues } from '../queue/index.ts';
import { announceWorker, retireWorker, type WorkerInfo } from '../queue/workers.ts';
import type { Repository } from '../storage/index.ts';
import { DatasetCache } from './dataset-cache.ts';
import { GPU_BACKENDS, type BackendName } from '../model/index.ts';
import { createTrialProcessor, type ProcessorDeps } from './trial-processor.ts';
import { createScoreProcessor } from './score-champion.ts';

export interface TrialWorkerOptions {
  repo: Repository;
  queues: Queues;
  log: Logger;
  prefix: string;
  backend: BackendName;
  /** Trials trained at once by this process. @defaultValue 1 */
  concurrency?: number;
  /** Lock on a trial; a dead worker's trial is taken up again after about this long. @defaultValue 30000 */
  lockMs?: number;
  /** Most bytes of tensors one trial may hold. @defaultValue no limit */
  memoryLimitBytes?: number;
  /** Most weights of a trial's model (MAX_MODEL_PARAMS); a larger one fails before it is built. @defaultValue 100,000,000 */
  maxModelParams?: number;
  /**
   * Trains one trial. Benchmarks of the orchestration alone pass a stand-in (e.g. one that sleeps).
   * @defaultValue trainTrial (tfjs)
   */
  train?: ProcessorDeps['train'];
  /**
   * How long a database call of a running trial keeps retrying while the database is
   * unreachable, before the attempt fails; 0 retries nothing. @defaultValue 60000
   */
  dbRetryMs?: number;
  /**
   * Called once when a trial has left the compute backend unusable. The worker has already
   * stopped taking trials and asked its running ones to hand themselves back; the caller
   * recycles the process (`run` closes everything and exits with RECYCLE_EXIT_CODE, and the
   * supervisor starts a fresh process). @defaultValue the worker closes itself, with the grace period
   */
  onBackendBroken?: (reason: string) => void;
  /** Passed to the trial processor: see {@link ProcessorDeps.beforeEpochWrite}. @defaultValue nothing */
  beforeEpochWrite?: () => void;
}

/** How long a worker's registry entry outlives its last renewal. */
const REGISTRY_TTL_SECONDS = 15;

/**
 * A process's trial consumer: pulls trial jobs from the queue of its device
 * class (GPU backends read the GPU queue) and trains them, and keeps its entry
 * in the worker registry fresh while it runs.
 */
export interface TrialWorker {
  id: string;
  device: DeviceClass;
  /**
   * Stops taking trials. Running trials stop after their current epoch and are handed back
   * with their checkpoints; those still mid-epoch after `graceMs` are left to their lock,
   * and another worker continues them from their last checkpoint.
   * @param graceMs - @defaultValue 30000
   */
  close(graceMs?: number): Promise<void>;
}

export function startTrialWorker(o: TrialWorkerOptions): TrialWorker {
  const id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const device: DeviceClass = GPU_BACKENDS.includes(o.backend) ? 'gpu' : 'cpu';
  const log = o.log.child({ component: 'worker', worker: id });
  const lockDuration = o.lockMs ?? 30_000;
  const concurrency = o.concurrency ?? 1;
  let draining = false;
  let broken: string | null = null;
  // Set below; a backend can only break while a trial runs, after the worker exists.
  let closeWorker: (graceMs?: number) => Promise<void> = async () => undefined;
  const datasets = new DatasetCache(o.repo);
  const scoreChampion = createScoreProcessor({ repo: o.repo, queues: o.queues, datasets, log });
  const processor = createTrialProcessor({
    repo: o.repo,
    queues: o.queues,
    datasets,
    log,
    workerId: id,
    backend: o.backend,
    draining: () => draining,
    ...(o.memoryLimitBytes ? { memoryLimitBytes: o.memoryLimitBytes } : {}),
    ...(o.maxModelParams !== undefined ? { maxModelParams: o.maxModelParams } : {}),
    ...(o.train ? { train: o.train } : {}),
    ...(o.dbRetryMs !== undefined ? { dbRetryMs: o.dbRetryMs } : {}),
    ...(o.beforeEpochWrite ? { beforeEpochWrite: o.beforeEpochWrite } : {}),
    backendBroken: () => broken !== null,
    onBackendBroken: (reason) => {
      if (broken !== null) return;
      broken = reason;
      // Running trials stop after their epoch (or at their next failure) and are handed back.
      draining = true;
      log.error('compute backend broken; this worker takes no more trials and hands its running ones back', { reason });
      if (o.onBackendBroken) o.onBackendBroken(reason);
      else void closeWorker();
    },
  });
  // The trial queues also carry the coordinator's score-champion jobs (see src/workers/score-champion.ts).
  const worker = new Worker(QUEUE_OF[device], (job, token) => (job.name === SCORE_CHAMPION_JOB ? scoreChampion(job) : processor(job, token)), {
    connection: o.queues.connection,
    prefix: o.prefix,
    concurrency,
    lockDuration,
    // A stalled job (its worker died) is handed to another worker after one check interval.
    stalledInterval: lockDuration,
    maxStalledCount: 3,
  });
  worker.on('error', (err) => log.warn('queue connection error', { error: errorMessage(err) }));

  const info: WorkerInfo = { id, host: hostname(), pid: process.pid, backend: o.backend, device, concurrency, startedAt: new Date().toISOString() };
  const announce = () => announceWorker(o.queues.connection, o.prefix, info, REGISTRY_TTL_SECONDS).catch((err) => log.warn('could not renew the worker registry entry', { error: errorMessage(err) }));
  void announce();
  const heartbeat = setInterval(announce, (REGISTRY_TTL_SECONDS * 1000) / 3);
  log.info('worker ready', { backend: o.backend, device, queue: QUEUE_OF[device], concurrency });
  closeWorker = async (graceMs = 30_000) => {
    clearInterval(heartbeat);
    draining = true;
    let timer: NodeJS.Timeout | undefined;
    // pause, not close: a close that waits for jobs cannot be forced later (BullMQ returns
    // the pending close to a second call), so a trial hung mid-epoch would keep us forever.
    const graceful = worker.pause().then(() => true);
    const late = new Promise<false>((done) => {
      timer = setTimeout(() => done(false), graceMs);
    });
    if (await Promise.race([graceful, late])) {
      await worker.close();
    } else {
      log.warn('grace period over with a trial mid-epoch; it continues elsewhere from its last checkpoint', { graceMs });
      await worker.close(true);
    }
    clearTimeout(timer);
    await retireWorker(o.queues.connection, o.prefix, id).catch(() => undefined);
  };
  return { id, device, close: (graceMs) => closeWorker(graceMs) };
}
