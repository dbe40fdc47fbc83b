import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { EpochMetrics, Family } from '../domain.ts';
import { errorMessage, type Logger } from '../log.ts';
import { trialJobSchema, type Queues } from '../queue/index.ts';
import { improves } from '../metrics.ts';
import { ACTIVE_STUDY_STATES, createDbRetry, timeLimitReached, type Repository, type StudyRecord } from '../storage/index.ts';
import type { DatasetCache } from './dataset-cache.ts';
import { backendFaultOf, probeBackend, TrialFailure } from '../model/index.ts';
import { trainTrial, type TrainInput, type TrainResult } from './training/index.ts';
import { medianPrunes, schedulerFor } from '../search/schedulers/index.ts';
import { silenceWatch, stuckOutcome } from '../faults/stuck.ts';

export interface ProcessorDeps {
  repo: Repository;
  queues: Queues;
  datasets: DatasetCache;
  log: Logger;
  /** Identifies this worker in trial records. */
  workerId: string;
  /** Compute backend name, stored with each trial. */
  backend: string;
  /**
   * True once the worker is shutting down: a running trial stops after its current epoch and is
   * handed back with its checkpoint. @defaultValue never
   */
  draining?: () => boolean;
  /** Most bytes of tensors one trial may hold (TRIAL_MEMORY_MB). @defaultValue no limit */
  memoryLimitBytes?: number;
  /** Most weights of a trial's model (MAX_MODEL_PARAMS). @defaultValue 100,000,000 */
  maxModelParams?: number;
  /** Trains one trial. @defaultValue trainTrial (tfjs); benchmarks of the orchestration pass a stand-in */
  train?: (input: TrainInput) => Promise<TrainResult>;
  /**
   * How long a database call of a trial keeps retrying while the database is unreachable
   * (DB_RETRY_MS) before the attempt fails; 0 retries nothing. @defaultValue 60000
   */
  dbRetryMs?: number;
  /**
   * Told once a trial has left the compute backend unusable (a WebAssembly trap or abort, or an
   * allocation failure after which the probe fails): that trial fails, and the worker should
   * stop taking trials and have its process recycled. @defaultValue nobody is told
   */
  onBackendBroken?: (reason: string) => void;
  /**
   * True once the backend has been found broken: a new job is put back in the queue unclaimed,
   * and a running trial that fails is handed back rather than failed (it is not to blame).
   * @defaultValue never
   */
  backendBroken?: () => boolean;
  /**
   * Called before each epoch is written. A supervised worker process passes one that ends the
   * process at once when its supervisor has died, so that it writes nothing more, as when both
   * were killed together. @defaultValue nothing
   */
  beforeEpochWrite?: () => void;
}

/** Why a running trial should stop early, decided at an epoch that recorded nothing. */
async function stopReason(repo: Repository, trialId: string, timeUp: () => Promise<boolean>): Promise<'cancelled' | 'time' | null> {
  if (!(await repo.trials.running(trialId))) return 'cancelled';
  return (await timeUp()) ? 'time' : null;
}

/** Studies seen by one worker, at most this many, each read again after STUDY_CACHE_MS. */
const STUDY_CACHE_SIZE = 256;
const STUDY_CACHE_MS = 30_000;

/** Whether the median rule stops this trial at `epoch`, comparing it with the study's completed trials. */
async function medianStops(repo: Repository, study: StudyRecord, trialId: string, epoch: number, best: number): Promise<boolean> {
  const pruner = study.config.search.scheduling?.pruner;
  if (!pruner) return false;
  const { metric, direction } = study.config.objective;
  const [others, completed] = await Promise.all([
    repo.trials.metricsAtEpoch(study.id, epoch, ['completed'], trialId),
    repo.trials.count(study.id, ['completed']),
  ]);
  return medianPrunes(epoch, best, others.map((m) => m[metric] ?? Number.NaN), completed, direction, pruner);
}

/**
 * Trains one trial from its BullMQ job. Every write is idempotent, so a job
 * that is retried or taken over after a worker died records its result once.
 */
export function createTrialProcessor(deps: ProcessorDeps) {
  const { repo, queues, log } = deps;
  // A database that is briefly away (restart, failover, a dropped connection) must not cost the
  // attempt, so its calls are retried. A call may have committed before its connection dropped,
  // and repeating it is still safe (see storage/trials.ts): reads change nothing; recordEpoch
  // upserts the same epoch and checkpoint, only while this attempt owns the trial; complete,
  // pause, handBack and end change only a trial this attempt still runs, so a repeat of one that
  // committed returns false (taken here as superseded, while the row is right); and start re-claims
  // an active trial, so a repeated claim still holds it, one attempt higher, from the same checkpoint.
  const db = createDbRetry({ log, ...(deps.dbRetryMs !== undefined ? { totalMs: deps.dbRetryMs } : {}) });
  // Only the config and clock of a cached study are read (the time limit is checked afresh before
  // it stops a trial): whether it is still active is checked by the claim and by every epoch's
  // write, which skip a study that has ended.
  const studies = new Map<string, { study: StudyRecord; at: number }>();
  const readStudy = async (studyId: string): Promise<StudyRecord | null> => {
    const cached = studies.get(studyId);
    // Read again after a while: a continued study may have a new time limit.
    if (cached && Date.now() - cached.at < STUDY_CACHE_MS) return cached.study;
    const study = await db('read the study', () => repo.studies.get(studyId));
    if (study) {
      studies.delete(studyId);
      if (studies.size >= STUDY_CACHE_SIZE) studies.delete(studies.keys().next().value as string);
      studies.set(studyId, { study, at: Date.now() });
    }
    return study;
  };
  /**
   * Whether the study's time limit has passed, by its cached copy (read again every
   * STUDY_CACHE_MS, so a limit a continue adds applies within that); a copy that says so is read
   * again before it is believed, since a continue may have raised the limit.
   */
  const timeUp = async (study: StudyRecord): Promise<boolean> => {
    const known = (await readStudy(study.id).catch(() => null)) ?? study;
    if (!timeLimitReached(known)) return false;
    const fresh = await repo.studies.get(study.id);
    if (fresh) studies.set(study.id, { study: fresh, at: Date.now() });
    return fresh === null || timeLimitReached(fresh);
  };

  return async function processTrial(job: Job, token?: string): Promise<string> {
    if (deps.backendBroken?.()) {
      // This process is about to be recycled: leave the trial unclaimed for a healthy worker.
      await job.moveToDelayed(Date.now() + 1000, token);
      throw new DelayedError();
    }
    const { trialId, studyId, retries } = trialJobSchema.parse(job.data);
    const study = await readStudy(studyId);
    const claimed = study ? await db('claim the trial', () => repo.trials.start(trialId, deps.workerId, deps.backend, retries)) : null;
    if (!study || !claimed) {
      // Not runnable: ended, taken by a newer retry, or its study has ended (then it ends too).
      const fresh = await db('read the study', () => repo.studies.get(studyId));
      if (!fresh || !ACTIVE_STUDY_STATES.includes(fresh.state)) {
        studies.delete(studyId);
        await db('end the trial', () => repo.trials.end(trialId, 'cancelled', 'study ended before the trial started'));
      }
      return 'skipped';
    }
    const { trial, checkpoint } = claimed;
    const tlog = log.child({ studyId, trial: trial.number, attempt: trial.attempts });
    const started = Date.now();
    const { objective, budget, earlyStopping, seed } = study.config;
    const scheduling = study.config.search.scheduling;
    const scheduler = schedulerFor(scheduling, seed);
    const milestones = scheduler?.milestones(trial.number);
    // With a scheduler the trial pauses at its rung's milestone, and ends at the last one.
    const maxEpochs = scheduling?.resources?.maxResource ?? budget.maxEpochs;
    const stopAtEpoch = milestones !== undefined && trial.rung < milestones.length - 1 ? milestones[trial.rung] : undefined;
    tlog.info(checkpoint ? 'trial resumed' : 'trial started', { family: trial.family, params: trial.params, fromEpoch: (checkpoint?.epoch ?? 0) + 1, ...(stopAtEpoch ? { pauseAt: stopAtEpoch } : {}) });
    let best: { value: number; epoch: number; metrics: EpochMetrics } | null =
      checkpoint && checkpoint.stopper.best !== null ? { value: checkpoint.stopper.best, epoch: checkpoint.bestEpoch, metrics: checkpoint.bestMetrics } : null;
    let stoppedFor: 'cancelled' | 'time' | 'superseded' | 'pruned' | 'handoff' | null = null;
    let silenced = false;
    const attempt = trial.attempts;
    // A trial whose training stops reporting (hung in a kernel, a promise that never settles) is
    // given up after trialTimeoutSeconds, so it does not hold this worker's slot forever.
    // It counts from the claim, as the coordinator's sweep does (Trial.reportedAt).
    let watch = silenceWatch(budget.trialTimeoutSeconds * 1000);
    try {
      const forecast = { window: study.config.window, horizon: study.config.horizon };
      const { spec, data, targetStd } = await db('read the dataset', () => deps.datasets.get(study.datasetId, forecast));
      const training = (deps.train ?? trainTrial)({
        family: trial.family as Family,
        params: trial.params,
        spec,
        data,
        targetStd,
        maxEpochs,
        earlyStopping,
        objective: { metric: objective.metric, direction: objective.direction },
        seed: seed + trial.number,
        ...(checkpoint ? { resume: checkpoint } : {}),
        ...(stopAtEpoch !== undefined ? { stopAtEpoch } : {}),
        ...(deps.memoryLimitBytes ? { memoryLimitBytes: deps.memoryLimitBytes } : {}),
        ...(deps.maxModelParams !== undefined ? { maxModelParams: deps.maxModelParams } : {}),
        onEpoch: async (epoch, metrics, capture) => {
          if (silenced) return 'stop';
          const value = metrics[objective.metric];
          if (value !== undefined && (best === null || improves(value, best.value, objective.direction))) best = { value, epoch, metrics };
          // Every epoch is checkpointed with its record, so a takeover or a promotion continues from here.
          // A write that still fails ends the attempt (BullMQ retries it): an epoch must not go unrecorded.
          const sofar = best;
          deps.beforeEpochWrite?.();
          if (sofar) {
            const saved = await capture();
            if (!(await db('record an epoch', () => repo.trials.recordEpoch(trialId, attempt, epoch, metrics, sofar, saved)))) {
              // Not recorded: another attempt owns the trial, or its study has ended (cancelled or failed).
              const now = await db('read the trial', () => repo.trials.get(trialId));
              stoppedFor = now?.state === 'running' && now.attempts === attempt ? 'cancelled' : 'superseded';
              return 'stop';
            }
            watch.touch();
          }
          if (sofar && scheduling?.pruner && (await db('read the pruner history', () => medianStops(repo, study, trialId, epoch, sofar.value)))) {
            stoppedFor = 'pruned';
            return 'stop';
          }
          if (deps.draining?.() && epoch < maxEpochs && epoch !== stopAtEpoch) {
            stoppedFor = 'handoff';
            return 'stop';
          }
          // Progress is informational and the stop check can wait an epoch: a blip in either must not cost the attempt.
          await job.updateProgress({ epoch, metrics }).catch((e) => tlog.warn('could not report progress', { error: errorMessage(e) }));
          // A recorded epoch is the check that the study goes on (its write skips an ended study).
          stoppedFor = sofar
            ? (await timeUp(study).catch(() => false)) ? 'time' : null
            : await stopReason(repo, trialId, () => timeUp(study)).catch((e) => {
                tlog.warn('could not check for cancellation; continuing', { error: errorMessage(e) });
                return null;
              });
          return stoppedFor ? 'stop' : 'continue';
        },
      });
      let result = await Promise.race([training, watch.silent]);
      while (result === 'silent') {
        const before = new Date(Date.now() - budget.trialTimeoutSeconds * 1000);
        const outcome = stuckOutcome(budget, trial.retries);
        // The coordinator's sweep makes the same decision with the same compare-and-set (and also
        // enqueues the retry; here the event below asks for that): whichever comes first wins.
        const changed = await db('time out the trial', () => repo.trials.timeOut(trialId, attempt, before, outcome));
        const now = changed ? null : await db('read the trial', () => repo.trials.get(trialId));
        if (now?.state === 'running' && now.attempts === attempt) {
          // A report landed as the timer fired: the trial goes on.
          watch.stop();
          watch = silenceWatch(budget.trialTimeoutSeconds * 1000);
          result = await Promise.race([training, watch.silent]);
          continue;
        }
        silenced = true;
        // The training may still settle some day; nothing waits for it any more.
        training.catch(() => undefined);
        tlog.warn('trial silent for trialTimeoutSeconds; giving up this attempt', { timeoutSeconds: budget.trialTimeoutSeconds, ...(changed ? outcome : { takenBy: 'the coordinator or another attempt' }) });
        return 'timed-out';
      }
      // A resumed trial's time adds to what its earlier segments took.
      const durationMs = Date.now() - started + (checkpoint ? (trial.durationMs ?? 0) : 0);
      if (stoppedFor === 'superseded') {
        tlog.warn('another worker has taken this trial over; dropping this attempt');
        return 'superseded';
      }
      if (stoppedFor === 'handoff') {
        if (!(await db('hand the trial back', () => repo.trials.handBack(trialId, attempt, durationMs)))) return 'superseded';
        tlog.info('trial handed back; another worker continues it from its checkpoint', { epoch: result.epochs });
        return 'handed-back';
      }
      if (stoppedFor === 'cancelled') {
        await db('end the trial', () => repo.trials.end(trialId, 'cancelled', 'the study ended (cancelled, or failed) before this trial did', { durationMs, attempt }));
        tlog.info('trial cancelled', { epochs: result.epochs });
        return 'cancelled';
      }
      const value = result.bestMetrics[objective.metric];
      if (value === undefined) throw new TrialFailure(`training reported no ${objective.metric}`);
      // The model's costs beside its validation metrics: what a study may trade them against, at a rung as at the end.
      const metrics = { ...result.bestMetrics, ...result.costs, train_seconds: Math.round(durationMs) / 1000 };
      if (result.stoppedBy === 'milestone') {
        const paused = { rung: trial.rung, epoch: result.epochs, value, metrics, durationMs, artifact: result.artifact };
        if (!(await db('pause the trial', () => repo.trials.pause(trialId, attempt, paused)))) return 'superseded';
        tlog.info('trial paused at its rung', { rung: trial.rung, epoch: result.epochs, value });
        return 'paused';
      }
      const pruned = stoppedFor === 'pruned' ? `pruned by the median rule at epoch ${result.epochs}` : undefined;
      const outcome = { value, metrics, epochs: result.epochs, bestEpoch: result.bestEpoch, durationMs, artifact: result.artifact, ...(pruned ? { pruned } : {}) };
      if (!(await db('complete the trial', () => repo.trials.complete(trialId, attempt, outcome)))) {
        tlog.warn('trial already ended or taken over (or this write was repeated after it committed); not recorded again');
        return 'superseded';
      }
      if (pruned) tlog.info('trial pruned', { value, epochs: result.epochs });
      else tlog.info('trial completed', { value, epochs: result.epochs, bestEpoch: result.bestEpoch, durationMs, stoppedBy: stoppedFor === 'time' ? 'timeLimit' : result.stoppedBy });
      return 'completed';
    } catch (err) {
      const durationMs = Date.now() - started;
      // A backend broken by another trial fails every trial running beside it: those go back to the queue.
      if (deps.backendBroken?.()) {
        const total = durationMs + (checkpoint ? (trial.durationMs ?? 0) : 0);
        if (!(await db('hand the trial back', () => repo.trials.handBack(trialId, attempt, total)))) return 'superseded';
        stoppedFor = 'handoff';
        tlog.warn('trial attempt ended by the broken compute backend; handed back for another worker', { error: errorMessage(err) });
        return 'handed-back';
      }
      const fault = backendFaultOf(err);
      const health = fault ? await probeBackend() : null;
      if (fault && health && (fault.fatal || !health.ok)) {
        const reason = health.ok ? fault.reason : `${fault.reason}; then ${health.reason}`;
        const message = `out of memory, or a fault of the compute backend (${deps.backend}): ${reason}. The backend was left unusable, so the worker process is recycled; the trial is not retried (a smaller model or batch size may fit)`;
        tlog.error('trial broke the compute backend', { error: reason });
        deps.onBackendBroken?.(reason);
        await db('end the trial', () => repo.trials.end(trialId, 'failed', message, { durationMs, attempt }));
        throw new UnrecoverableError(message);
      }
      const message = errorMessage(err);
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (err instanceof TrialFailure || lastAttempt) {
        // Deterministic failures (NaN loss, a model that cannot be built) fail once, without retries.
        await db('end the trial', () => repo.trials.end(trialId, 'failed', message, { durationMs, attempt }));
        tlog.warn('trial failed', { error: message });
        throw err instanceof TrialFailure ? new UnrecoverableError(message) : err;
      }
      tlog.warn('trial attempt failed; it will be retried', { error: message });
      throw err;
    } finally {
      watch.stop();
      // A trial handed back or given up is queued again and needs a new job: that event's tick
      // reconciles. A handed-back trial's job has this job's id, so that event waits until this one is gone.
      const requeued = stoppedFor === 'handoff' || silenced;
      const event = { studyId, reason: `trial ${trial.number}`, ...(requeued ? { reconcile: true } : {}) };
      await queues.studyEvents.add('trial-ended', event, { delay: stoppedFor === 'handoff' ? 1000 : 0 }).catch((e) => tlog.warn('could not notify the coordinator', { error: errorMessage(e) }));
    }
  };
}
