import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import { errorMessage, type Logger } from '../log.ts';
import { STUDY_EVENTS_QUEUE, studyEventSchema, trialJobId, type DeviceClass, type Queues } from '../queue/index.ts';
import { listWorkers } from '../queue/workers.ts';
import { HEAVY_FAMILIES, type Family } from '../domain.ts';
import { rankByValue } from '../ranking.ts';
import { SearchSpaceExhaustedError } from '../errors.ts';
import { createSampler, rngFor, searchSpaceSchema, type FrozenTrial } from '../search/index.ts';
import { schedulerFor, type Scheduler } from '../search/schedulers/index.ts';
import { ACTIVE_STUDY_STATES, ACTIVE_TRIAL_STATES, UNFINISHED_TRIAL_STATES, type Repository, type StudyRecord, type TrialRecord } from '../storage/index.ts';

export interface CoordinatorOptions {
  repo: Repository;
  queues: Queues;
  log: Logger;
  /** Queue-key prefix shared with the queues. */
  prefix: string;
  /** How often every active study is re-checked. @defaultValue 5000 */
  intervalMs?: number;
}

/**
 * The only component that decides: which trials to create next, when a
 * study ends, which trial is promoted. It keeps no state of its own: every
 * decision is recomputed from the database, and every write it makes is
 * idempotent (trial numbers are unique per study, job ids are trial ids,
 * state changes are compare-and-set), so it can restart at any time and two
 * coordinators never double-enqueue.
 */
export class Coordinator {
  private readonly repo: Repository;
  private readonly queues: Queues;
  private readonly log: Logger;
  private events?: Worker;
  private timer?: NodeJS.Timeout;
  /** Serializes ticks of one study within this process. */
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly options: CoordinatorOptions) {
    this.repo = options.repo;
    this.queues = options.queues;
    this.log = options.log.child({ component: 'coordinator' });
  }

  /** Starts listening for study events and sweeping active studies. */
  async start(): Promise<void> {
    this.events = new Worker(
      STUDY_EVENTS_QUEUE,
      async (job) => this.tick(studyEventSchema.parse(job.data).studyId),
      { connection: this.queues.connection, prefix: this.options.prefix, concurrency: 4 },
    );
    this.events.on('error', (err) => this.log.warn('study-events worker error', { error: errorMessage(err) }));
    const sweep = () => void this.sweep().catch((err) => this.log.warn('sweep failed', { error: errorMessage(err) }));
    this.timer = setInterval(sweep, this.options.intervalMs ?? 5000);
    sweep();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.events?.close();
    await Promise.allSettled(this.running.values());
  }

  /** Re-checks every active study: catches time limits and events lost while no coordinator ran. */
  async sweep(): Promise<void> {
    for (const study of await this.repo.studies.active()) {
      // One study's failure must not keep the others from being checked.
      await this.tick(study.id).catch((err) => this.log.warn('tick failed', { studyId: study.id, error: errorMessage(err) }));
    }
  }

  /** Brings one study up to date. Safe to call any number of times, from any process. */
  tick(studyId: string): Promise<void> {
    const previous = this.running.get(studyId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.decide(studyId)).finally(() => {
      if (this.running.get(studyId) === next) this.running.delete(studyId);
    });
    this.running.set(studyId, next);
    return next;
  }

  /** Cancels a study: queued trials are dropped, running ones stop at their next epoch. */
  async cancel(studyId: string): Promise<boolean> {
    const changed = await this.repo.studies.transition(studyId, ACTIVE_STUDY_STATES, 'cancelled', 'cancelled by request');
    for (const id of await this.repo.trials.cancelQueued(studyId)) await this.removeJob(id);
    await this.repo.trials.endPaused(studyId, 'cancelled', 'study was cancelled');
    return changed;
  }

  private async decide(studyId: string): Promise<void> {
    const study = await this.repo.studies.get(studyId);
    if (!study || !ACTIVE_STUDY_STATES.includes(study.state)) return;
    const { budget } = study.config;
    let trials = await this.repo.trials.list(studyId);
    const timeUp = budget.timeLimitSeconds !== undefined && Date.now() - study.createdAt.getTime() >= budget.timeLimitSeconds * 1000;

    const scheduler = schedulerFor(study.config.search.scheduling, study.config.seed);
    let exhausted = false;
    if (timeUp) {
      for (const id of await this.repo.trials.cancelQueued(studyId)) await this.removeJob(id);
      await this.repo.trials.endPaused(studyId, 'pruned', 'the time limit ended the study before this trial was promoted');
      trials = await this.repo.trials.list(studyId);
    } else {
      let active = trials.filter((t) => ACTIVE_TRIAL_STATES.includes(t.state)).length;
      // A promotion goes before a new trial: ASHA prefers spending a free worker on a proven configuration.
      if (scheduler) active += await this.promote(study, scheduler, trials, budget.parallelism - active);
      const slots = Math.min(budget.parallelism - active, budget.maxTrials - trials.length);
      // Each new trial joins the history, so the next suggestion of this tick sees it in flight.
      const history: FrozenTrial[] = trials.map((t) => ({ number: t.number, params: t.params, state: t.state, value: t.value }));
      for (let i = 0; i < slots && !exhausted; i++) {
        const outcome = await this.createTrial(study, history, trials.length + i);
        if (outcome === 'failed') return;
        exhausted = outcome === 'exhausted';
      }
      trials = await this.repo.trials.list(studyId);
    }
    if (await this.reconcileJobs(trials)) trials = await this.repo.trials.list(studyId);

    if (study.state === 'queued' && trials.length > 0) await this.repo.studies.transition(studyId, ['queued'], 'running');
    const allCreated = timeUp || exhausted || trials.length >= budget.maxTrials;
    if (allCreated && scheduler && !trials.some((t) => ACTIVE_TRIAL_STATES.includes(t.state)) && trials.some((t) => t.state === 'paused')) {
      // Nothing runs, nothing new will start, and no paused trial qualifies for its next rung: they stop here.
      if ((await this.promotable(study, scheduler, trials)).length === 0) {
        await this.repo.trials.endPaused(studyId, 'pruned', 'not among the best of its rung when the study ran out of trials');
        trials = await this.repo.trials.list(studyId);
      }
    }
    const unfinished = trials.some((t) => UNFINISHED_TRIAL_STATES.includes(t.state));
    if (!unfinished && allCreated) await this.finish(study, trials, timeUp, exhausted);
  }

  /** The paused trials the scheduler sends on now. */
  private async promotable(study: StudyRecord, scheduler: Scheduler, trials: readonly TrialRecord[]): Promise<TrialRecord[]> {
    if (!trials.some((t) => t.state === 'paused')) return [];
    const rungValues = new Map<string, Map<number, number>>();
    for (const r of await this.repo.trials.rungs(study.id)) {
      const values = rungValues.get(r.trialId) ?? new Map<number, number>();
      values.set(r.rung, r.value);
      rungValues.set(r.trialId, values);
    }
    const view = trials.map((t) => ({ number: t.number, state: t.state, rung: t.rung, rungValues: rungValues.get(t.id) ?? new Map<number, number>() }));
    const chosen = new Set(scheduler.promotions(view, study.config.objective.direction));
    return trials.filter((t) => chosen.has(t.number));
  }

  /** Promotes up to `slots` paused trials (lowest numbers first) and enqueues their next segment; returns how many. */
  private async promote(study: StudyRecord, scheduler: Scheduler, trials: readonly TrialRecord[], slots: number): Promise<number> {
    if (slots <= 0) return 0;
    let promoted = 0;
    for (const t of (await this.promotable(study, scheduler, trials)).slice(0, slots)) {
      // Compare-and-set: a second coordinator promoting the same trial changes nothing.
      if (!(await this.repo.trials.promote(t.id, t.rung + 1))) continue;
      await this.enqueue({ ...t, rung: t.rung + 1 });
      this.log.info('trial promoted', { studyId: study.id, trial: t.number, rung: t.rung + 1 });
      promoted += 1;
    }
    return promoted;
  }

  /**
   * Creates trial `number` and adds it to `history`. A sampler that has tried its whole space
   * (grid search) creates nothing: 'exhausted', and the study completes once its trials end.
   * A sampler that cannot suggest anything else fails the study instead of retrying forever.
   */
  private async createTrial(study: StudyRecord, history: FrozenTrial[], number: number): Promise<'created' | 'exhausted' | 'failed'> {
    const { config } = study;
    let params;
    try {
      const space = searchSpaceSchema.parse(config.search.space);
      params = createSampler(config.search.algorithm, config.search.options).sample(space, history, { direction: config.objective.direction, rng: rngFor(config.seed, number) });
    } catch (err) {
      if (err instanceof SearchSpaceExhaustedError) return 'exhausted';
      const message = `the sampler could not suggest trial ${number}: ${errorMessage(err)}`;
      if (await this.repo.studies.transition(study.id, ACTIVE_STUDY_STATES, 'failed', message)) this.log.warn('study failed', { studyId: study.id, message });
      return 'failed';
    }
    const trial = await this.repo.trials.create({ id: randomUUID(), studyId: study.id, number, family: String(params.family), params });
    if (trial) this.log.debug('trial created', { studyId: study.id, trial: number, params });
    history.push({ number, params, state: 'queued', value: null });
    return 'created';
  }

  /**
   * Makes Redis agree with the database for every unfinished trial:
   * - a trial without a job (a crash between insert and enqueue, a Redis that
   *   lost its data) gets one, on the queue of its device class;
   * - a trial whose job failed for good (its last attempt, or too many
   *   stalls) is marked failed with BullMQ's reason, so the study cannot wait
   *   for it forever;
   * - a heavy trial still waiting for a GPU worker when none is alive any
   *   more moves to the CPU queue.
   * Returns whether any trial changed state.
   */
  private async reconcileJobs(trials: readonly TrialRecord[]): Promise<boolean> {
    let changed = false;
    const gpuAlive = (await listWorkers(this.queues.connection, this.options.prefix)).some((w) => w.device === 'gpu');
    for (const t of trials) {
      if (!ACTIVE_TRIAL_STATES.includes(t.state)) continue;
      const jobId = trialJobId(t);
      const [cpu, gpu] = await Promise.all([this.queues.trials.cpu.getJobState(jobId), this.queues.trials.gpu.getJobState(jobId)]);
      const [state, device]: [string, DeviceClass] = gpu !== 'unknown' ? [gpu, 'gpu'] : [cpu, 'cpu'];
      if (state === 'unknown' || (device === 'gpu' && !gpuAlive && (state === 'waiting' || state === 'prioritized'))) {
        // Re-read first: a trial that finished since the list was taken has had its job removed.
        const fresh = await this.repo.trials.get(t.id);
        if (!fresh || !ACTIVE_TRIAL_STATES.includes(fresh.state)) continue;
        if (state !== 'unknown') await this.queues.trials.gpu.remove(jobId);
        await this.enqueue(fresh, gpuAlive);
      } else if (state === 'failed') {
        const job = await this.queues.trials[device].getJob(jobId);
        changed = (await this.repo.trials.end(t.id, 'failed', job?.failedReason || 'its job failed')) || changed;
      }
    }
    return changed;
  }

  /** Adds the job of a trial's current segment, on the queue of its device class (a no-op when it exists). */
  private async enqueue(t: TrialRecord, gpuAlive?: boolean): Promise<void> {
    const gpu = gpuAlive ?? (await listWorkers(this.queues.connection, this.options.prefix)).some((w) => w.device === 'gpu');
    const target: DeviceClass = HEAVY_FAMILIES.includes(t.family as Family) && gpu ? 'gpu' : 'cpu';
    await this.queues.trials[target].add('train', { trialId: t.id, studyId: t.studyId }, { jobId: trialJobId(t) });
    this.log.debug('trial enqueued', { trialId: t.id, rung: t.rung, device: target });
  }

  private async removeJob(trialId: string): Promise<void> {
    // A job a worker holds cannot be removed; that worker sees the cancellation at its next epoch.
    // Queued trials are only ever waiting for their current segment's job.
    const trial = await this.repo.trials.get(trialId);
    const jobId = trial ? trialJobId(trial) : trialId;
    for (const queue of Object.values(this.queues.trials)) await queue.remove(jobId).catch(() => 0);
  }

  /** Ends a study; its best trial (completed, or pruned with its best epoch kept) becomes the next version of its model. */
  private async finish(study: StudyRecord, trials: readonly TrialRecord[], timeUp: boolean, exhausted = false): Promise<void> {
    const best = rankByValue(trials.filter((t) => t.state === 'completed' || t.state === 'pruned'), study.config.objective.direction)[0];
    if (!best) {
      const reasons = [...new Set(trials.map((t) => t.error).filter(Boolean))].slice(0, 3).join('; ');
      const message = `no trial completed${reasons ? `: ${reasons}` : ''}`;
      if (await this.repo.studies.transition(study.id, ACTIVE_STUDY_STATES, 'failed', message)) this.log.warn('study failed', { studyId: study.id, message });
      return;
    }
    // The version, the alias and the study's end are one transaction, so a study cancelled meanwhile is never promoted.
    const version = await this.repo.models.promoteStudy({
      modelName: study.promoteTo,
      studyId: study.id,
      trialId: best.id,
      datasetId: study.datasetId,
      family: best.family,
      metrics: best.metrics ?? {},
      message: (v) => `${timeUp ? 'time limit reached; ' : exhausted ? 'every point of the search space tried; ' : ''}best trial #${best.number} (${study.config.objective.metric} ${best.value}) promoted to ${study.promoteTo} v${v} as champion`,
    });
    if (version) this.log.info('study completed', { studyId: study.id, model: version.modelName, version: version.version });
  }
}
