import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import { errorMessage, type Logger } from '../log.ts';
import { STUDY_EVENTS_QUEUE, studyEventSchema, trialJobId, type DeviceClass, type Queues } from '../queue/index.ts';
import { listWorkers } from '../queue/workers.ts';
import { HEAVY_FAMILIES, type Family, type Params } from '../domain.ts';
import type { StudyDevice } from '../schemas.ts';
import { SearchSpaceExhaustedError } from '../errors.ts';
import { stuckOutcome } from '../faults/stuck.ts';
import { createSampler, fitsSpace, objectivesOf, ranksByFront, rngFor, searchSpaceSchema, valuesOf, violationOf, type FrozenTrial, type Sampler, type SearchSpace } from '../search/index.ts';
import { schedulerFor, type Scheduler } from '../search/schedulers/index.ts';
import { bestTrial } from './best-trial.ts';
import { decidePromotion } from './promotion.ts';
import { rungView } from './rung-view.ts';
import { ACTIVE_STUDY_STATES, ACTIVE_TRIAL_STATES, ChampionMovedError, timeLimitReached, UNFINISHED_TRIAL_STATES, type Repository, type StudyRecord, type TrialRecord, type TrialSummary } from '../storage/index.ts';

/** Whether a GPU worker is alive; see Coordinator.gpuAliveOnce. */
type GpuAlive = () => Promise<boolean>;

/**
 * The queue a trial goes to, by its study's `device` (see studyDeviceSchema). Only a heavy
 * trial of an 'auto' study asks whether a GPU worker is alive.
 */
async function deviceClassOf(device: StudyDevice, family: string, gpuAlive: GpuAlive): Promise<DeviceClass> {
  if (device !== 'auto') return device;
  return HEAVY_FAMILIES.includes(family as Family) && (await gpuAlive()) ? 'gpu' : 'cpu';
}

/** The trials a tick decides from: all of them, or (see `lean` in decide) only the unfinished ones. */
interface TrialsView {
  trials: TrialSummary[];
  /** How many trials the study has, finished or not. */
  total: number;
  failed: number;
}

const whole = (trials: TrialSummary[]): TrialsView => ({ trials, total: trials.length, failed: trials.filter((t) => t.state === 'failed').length });

/** A study's sampler and parsed space, made at most once per tick (throwing what making them throws). */
type Search = () => { sampler: Sampler; space: SearchSpace };

function searchOf(study: StudyRecord): Search {
  let made: ReturnType<Search> | undefined;
  return () => (made ??= { sampler: createSampler(study.config.search.algorithm, study.config.search.options), space: searchSpaceSchema.parse(study.config.search.space) });
}

/** Whether the study's sampler says it reads no history; a sampler that cannot be made fails the study when it is asked to suggest. */
function readsNoHistory(search: Search): boolean {
  try {
    return search().sampler.readsHistory === false;
  } catch {
    return false;
  }
}

/** How many of `trials` hold a worker slot or wait for one. */
const activeCount = (trials: readonly TrialSummary[]) => trials.filter((t) => ACTIVE_TRIAL_STATES.includes(t.state)).length;

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
  /** A study's tick that waits for the running one; later calls share it. */
  private readonly pending = new Map<string, { done: Promise<void>; reconcile: boolean }>();
  /**
   * Active studies whose event ticks are lean (see decide): a study's search never changes, so
   * such a tick reads the study and its unfinished trials at once instead of one after the other.
   */
  private readonly leanStudies = new Set<string>();
  /** Per study with search.warmStartFrom: the other study's trials as history (see warmHistory). */
  private readonly warmHistories = new Map<string, Promise<FrozenTrial[]>>();

  constructor(private readonly options: CoordinatorOptions) {
    this.repo = options.repo;
    this.queues = options.queues;
    this.log = options.log.child({ component: 'coordinator' });
  }

  /** Starts listening for study events and sweeping active studies. */
  async start(): Promise<void> {
    this.events = new Worker(
      STUDY_EVENTS_QUEUE,
      // An event usually means a trial ended: its study needs new trials, not a check of every job
      // (the sweep does that), unless the event says a trial was queued again and needs a job.
      async (job) => {
        const event = studyEventSchema.parse(job.data);
        await this.tick(event.studyId, { reconcile: event.reconcile ?? false });
      },
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
    const active = await this.repo.studies.active();
    // A study that ended in a tick, or by cancellation, gets no later tick to forget it.
    const ids = new Set(active.map((s) => s.id));
    for (const id of this.leanStudies) if (!ids.has(id)) this.leanStudies.delete(id);
    for (const id of this.warmHistories.keys()) if (!ids.has(id)) this.warmHistories.delete(id);
    for (const study of active) {
      // One study's failure must not keep the others from being checked.
      await this.tick(study.id).catch((err) => this.log.warn('tick failed', { studyId: study.id, error: errorMessage(err) }));
    }
  }

  /**
   * Brings one study up to date. Safe to call any number of times, from any process.
   * Calls that arrive while a tick of the study waits to start share that tick: it starts
   * after they were made, so it sees what they were called for. Without this, every ended
   * trial queued one more full tick behind the others.
   * @param options.reconcile - also check every unfinished trial's job in Redis (see
   *   reconcileJobs); costs two Redis calls per trial. @defaultValue true
   */
  tick(studyId: string, options: { reconcile?: boolean } = {}): Promise<void> {
    const reconcile = options.reconcile ?? true;
    const waiting = this.pending.get(studyId);
    if (waiting) {
      waiting.reconcile ||= reconcile;
      return waiting.done;
    }
    const entry = { done: Promise.resolve(), reconcile };
    const previous = this.running.get(studyId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => {
      if (this.pending.get(studyId) === entry) this.pending.delete(studyId);
      return this.decide(studyId, entry.reconcile);
    }).finally(() => {
      if (this.running.get(studyId) === next) this.running.delete(studyId);
    });
    entry.done = next;
    this.running.set(studyId, next);
    this.pending.set(studyId, entry);
    return next;
  }

  /** Cancels a study: queued trials are dropped, running ones stop at their next epoch. */
  async cancel(studyId: string): Promise<boolean> {
    const changed = await this.repo.studies.transition(studyId, ACTIVE_STUDY_STATES, 'cancelled', 'cancelled by request');
    for (const id of await this.repo.trials.cancelQueued(studyId)) await this.removeJob(id);
    await this.repo.trials.endPaused(studyId, 'cancelled', 'study was cancelled');
    return changed;
  }

  private async decide(studyId: string, reconcile: boolean): Promise<void> {
    const early = !reconcile && this.leanStudies.has(studyId) ? this.repo.trials.unfinished(studyId) : undefined;
    early?.catch(() => undefined);
    const study = await this.repo.studies.get(studyId);
    if (!study || !ACTIVE_STUDY_STATES.includes(study.state)) {
      this.leanStudies.delete(studyId);
      this.warmHistories.delete(studyId);
      return;
    }
    const { budget } = study.config;
    const scheduler = schedulerFor(study.config.search.scheduling, study.config.seed);
    // An event's tick of a study whose sampler reads no history (random search) and that has no
    // scheduler needs only the unfinished trials and two counts: on a study of many trials, reading
    // every trial was most of the time the coordinator took to start the next one.
    const search = searchOf(study);
    const leanStudy = !scheduler && readsNoHistory(search);
    if (leanStudy) this.leanStudies.add(studyId);
    const lean = !reconcile && leanStudy;
    const load = async (): Promise<TrialsView> => (lean ? this.repo.trials.unfinished(studyId) : whole(await this.repo.trials.summaries(studyId)));
    let view = await (early ?? load());
    const timeUp = timeLimitReached(study);

    const gpuAlive = this.gpuAliveOnce();
    if (reconcile && (await this.timeOutStuck(study, gpuAlive))) view = await load();
    if (await this.stopOnFailures(study, view.failed)) return;
    let exhausted = false;
    if (timeUp) {
      for (const id of await this.repo.trials.cancelQueued(studyId)) await this.removeJob(id);
      await this.repo.trials.endPaused(studyId, 'pruned', 'the time limit ended the study before this trial was promoted');
      view = await load();
    } else {
      // A promotion goes before a new trial: ASHA prefers spending a free worker on a proven configuration.
      const promoted = scheduler ? await this.promote(study, scheduler, view.trials, budget.parallelism - activeCount(view.trials), gpuAlive) : 0;
      const slots = Math.min(budget.parallelism - activeCount(view.trials) - promoted, budget.maxTrials - view.total);
      // Each new trial joins the history, so the next suggestion of this tick sees it in flight.
      const learn = slots > 0 && !lean;
      const own = learn ? await this.frozen(study, study.id, view.trials) : view.trials.map((t): FrozenTrial => ({ number: t.number, params: t.params, state: t.state, value: t.value }));
      const history = learn ? [...(await this.warmHistory(study, search)), ...own] : own;
      const suggested: { number: number; params: Params }[] = [];
      for (let i = 0; i < slots && !exhausted; i++) {
        const outcome = await this.suggest(study, search, history, view.total + i);
        if (outcome === 'failed') return;
        if (outcome === 'exhausted') exhausted = true;
        else suggested.push(outcome);
      }
      // One insert and parallel enqueues: one after another, the last of a wave of trials that ended
      // together waited for every insert and enqueue before it.
      const created = await this.createTrials(study, suggested, gpuAlive);
      // Listed again only when another coordinator changed the list: a list costs O(trials), and a
      // busy study ticks many times a second. States read at the start may be stale; a trial that
      // ends sends an event, whose tick starts after this one, and the sweep catches the rest.
      if (promoted > 0 || created === null) view = await load();
      else view = { ...view, trials: [...view.trials, ...created], total: view.total + created.length };
    }
    if (reconcile && (await this.reconcileJobs(study, view.trials, gpuAlive))) view = await load();

    if (study.state === 'queued' && view.total > 0) await this.repo.studies.transition(studyId, ['queued'], 'running');
    const allCreated = timeUp || exhausted || view.total >= budget.maxTrials;
    if (allCreated && scheduler && !view.trials.some((t) => ACTIVE_TRIAL_STATES.includes(t.state)) && view.trials.some((t) => t.state === 'paused')) {
      // Nothing runs, nothing new will start, and no paused trial qualifies for its next rung: they stop here.
      if ((await this.promotable(study, scheduler, view.trials)).length === 0) {
        await this.repo.trials.endPaused(studyId, 'pruned', 'not among the best of its rung when the study ran out of trials');
        view = await load();
      }
    }
    if (!allCreated || view.trials.some((t) => UNFINISHED_TRIAL_STATES.includes(t.state))) return;
    // The study ends only on a whole list that agrees (and finish ranks every trial).
    const all = lean ? await this.repo.trials.summaries(studyId) : view.trials;
    if (!all.some((t) => UNFINISHED_TRIAL_STATES.includes(t.state))) await this.finish(study, all, timeUp, exhausted);
  }

  /**
   * The finished trials of the study named by search.warmStartFrom that fit this study's space,
   * oldest first and numbered below 0, read once per study: the sampler learns from them as from
   * its own. None when there is no such study (deleted since) or the space cannot be read.
   */
  private warmHistory(study: StudyRecord, search: Search): Promise<FrozenTrial[]> {
    const from = study.config.search.warmStartFrom;
    if (from === undefined) return Promise.resolve([]);
    let history = this.warmHistories.get(study.id);
    if (!history) {
      history = (async () => {
        const { space } = search();
        const fit = (await this.repo.trials.summaries(from)).filter((t) => (t.state === 'completed' || t.state === 'pruned') && t.value !== null && fitsSpace(space, t.params));
        return (await this.frozen(study, from, fit)).map((t, i): FrozenTrial => ({ ...t, number: i - fit.length }));
      })().catch((err) => {
        this.warmHistories.delete(study.id);
        this.log.warn('could not read the trials to warm-start from; suggesting without them this time', { studyId: study.id, from, error: errorMessage(err) });
        return [];
      });
      this.warmHistories.set(study.id, history);
    }
    return history;
  }

  /**
   * `trials` (of study `from`: this one, or the one it warm-starts from) as a sampler sees them.
   * A study with several objectives or constraints also gives its finished trials' objective
   * vectors and constraint violations, read from their metrics with this study's objectives.
   */
  private async frozen(study: StudyRecord, from: string, trials: readonly TrialSummary[]): Promise<FrozenTrial[]> {
    const plain = trials.map((t): FrozenTrial => ({ number: t.number, params: t.params, state: t.state, value: t.value }));
    if (!ranksByFront(study.config) || !trials.some((t) => t.state === 'completed' || t.state === 'pruned')) return plain;
    const metrics = new Map((await this.repo.trials.outcomes(from)).map((o) => [o.id, o.metrics]));
    const objectives = objectivesOf(study.config);
    return trials.map((t, i) => {
      const m = metrics.get(t.id);
      if (m === undefined) return plain[i]!;
      const values = valuesOf(m, objectives);
      return { ...plain[i]!, ...(values ? { values } : {}), violation: violationOf(m, study.config.constraints) };
    });
  }

  /**
   * Ends the attempts of running trials that have not reported for the study's
   * trialTimeoutSeconds (a worker that hangs, or keeps its lock alive while its training never
   * returns): each is queued again as a new job that continues from its checkpoint, up to
   * maxRetries times, and then fails with the reason. Returns whether any trial changed.
   */
  private async timeOutStuck(study: StudyRecord, gpuAlive: GpuAlive): Promise<boolean> {
    const { budget } = study.config;
    const before = new Date(Date.now() - budget.trialTimeoutSeconds * 1000);
    let changed = false;
    for (const t of await this.repo.trials.silentSince(study.id, before)) {
      const outcome = stuckOutcome(budget, t.retries);
      if (!(await this.repo.trials.timeOut(t.id, t.attempts, before, outcome))) continue;
      const context = { studyId: study.id, trial: t.number, attempt: t.attempts, worker: t.worker, timeoutSeconds: budget.trialTimeoutSeconds };
      if (outcome.retry) {
        // A new job id: the old job may stay held by the hung worker, whose writes no longer count.
        await this.enqueue(study, { ...t, retries: t.retries + 1 }, gpuAlive);
        this.log.warn('trial stuck; queued again', { ...context, retry: t.retries + 1 });
      } else {
        this.log.warn('trial stuck; failed', { ...context, reason: outcome.reason });
      }
      changed = true;
    }
    return changed;
  }

  /**
   * Fails the study once more than budget.maxFailedTrials of its trials have failed: queued
   * and paused trials end, running ones stop at their next epoch, nothing is promoted.
   * Returns whether the study has ended so.
   */
  private async stopOnFailures(study: StudyRecord, failedCount: number): Promise<boolean> {
    const max = study.config.budget.maxFailedTrials;
    if (max === undefined || failedCount <= max) return false;
    const failed = (await this.repo.trials.summaries(study.id)).filter((t) => t.state === 'failed');
    const reasons = [...new Set(failed.map((t) => t.error).filter(Boolean))].slice(0, 3).join('; ');
    const message = `${failed.length} trials failed, more than budget.maxFailedTrials (${max})${reasons ? `: ${reasons}` : ''}`;
    if (await this.repo.studies.transition(study.id, ACTIVE_STUDY_STATES, 'failed', message)) {
      for (const id of await this.repo.trials.cancelQueued(study.id)) await this.removeJob(id);
      await this.repo.trials.endPaused(study.id, 'cancelled', 'the study failed: too many failed trials');
      this.log.warn('study failed', { studyId: study.id, message });
    }
    return true;
  }

  /** The paused trials the scheduler sends on now. */
  private async promotable(study: StudyRecord, scheduler: Scheduler, trials: readonly TrialSummary[]): Promise<TrialSummary[]> {
    if (!trials.some((t) => t.state === 'paused')) return [];
    const view = rungView(trials, await this.repo.trials.rungs(study.id), study.config);
    const directions = objectivesOf(study.config).map((o) => o.direction);
    const byNumber = new Map(trials.map((t) => [t.number, t]));
    return scheduler.promotions(view, study.config.objective.direction, directions).flatMap((n) => byNumber.get(n) ?? []);
  }

  /** Promotes up to `slots` paused trials, in the scheduler's order, and enqueues their next segment; returns how many. */
  private async promote(study: StudyRecord, scheduler: Scheduler, trials: readonly TrialSummary[], slots: number, gpuAlive: GpuAlive): Promise<number> {
    if (slots <= 0) return 0;
    let promoted = 0;
    for (const t of (await this.promotable(study, scheduler, trials)).slice(0, slots)) {
      // Compare-and-set: a second coordinator promoting the same trial changes nothing.
      if (!(await this.repo.trials.promote(t.id, t.rung + 1))) continue;
      await this.enqueue(study, { ...t, rung: t.rung + 1 }, gpuAlive);
      this.log.info('trial promoted', { studyId: study.id, trial: t.number, rung: t.rung + 1 });
      promoted += 1;
    }
    return promoted;
  }

  /**
   * The parameters of trial `number`, also added to `history` (in flight) so the next
   * suggestion of the tick sees them. A sampler that has tried its whole space (grid search)
   * suggests nothing: 'exhausted', and the study completes once its trials end. A sampler that
   * cannot suggest anything else fails the study instead of retrying forever.
   */
  private async suggest(study: StudyRecord, search: Search, history: FrozenTrial[], number: number): Promise<{ number: number; params: Params } | 'exhausted' | 'failed'> {
    const { config } = study;
    try {
      const { sampler, space } = search();
      const objectives = objectivesOf(config);
      const directions = objectives.length > 1 ? { directions: objectives.map((o) => o.direction) } : {};
      const params = sampler.sample(space, history, { direction: config.objective.direction, rng: rngFor(config.seed, number), ...directions });
      history.push({ number, params, state: 'queued', value: null });
      return { number, params };
    } catch (err) {
      if (err instanceof SearchSpaceExhaustedError) return 'exhausted';
      const message = `the sampler could not suggest trial ${number}: ${errorMessage(err)}`;
      if (await this.repo.studies.transition(study.id, ACTIVE_STUDY_STATES, 'failed', message)) this.log.warn('study failed', { studyId: study.id, message });
      return 'failed';
    }
  }

  /**
   * Creates the suggested trials, all or none, and enqueues them; null when another
   * coordinator created one of those numbers first (it enqueues its own).
   */
  private async createTrials(study: StudyRecord, suggested: readonly { number: number; params: Params }[], gpuAlive: GpuAlive): Promise<TrialRecord[] | null> {
    const trials = await this.repo.trials.createAll(suggested.map(({ number, params }) => ({ id: randomUUID(), studyId: study.id, number, family: String(params.family), params })));
    if (!trials) return null;
    for (const t of trials) this.log.debug('trial created', { studyId: study.id, trial: t.number, params: t.params });
    // At once, not in this tick's reconciliation, so a worker can start them while the tick goes on.
    // A trial left without a job (its enqueue failed) gets one when a later sweep reconciles.
    await Promise.all(trials.map((t) => this.enqueue(study, t, gpuAlive)));
    return trials;
  }

  /**
   * Makes Redis agree with the database for every unfinished trial:
   * - a trial without a job (a crash between insert and enqueue, a Redis that
   *   lost its data) gets one, on the queue of its device class;
   * - a trial whose job failed for good (its last attempt, or too many
   *   stalls) is marked failed with BullMQ's reason, so the study cannot wait
   *   for it forever;
   * - a trial still waiting on the GPU queue that its study would now send
   *   to the CPU queue (a heavy trial of an 'auto' study, when no GPU worker
   *   is alive any more) moves there. A 'gpu' study's trials stay and wait.
   * Returns whether any trial changed state.
   */
  private async reconcileJobs(study: StudyRecord, trials: readonly TrialSummary[], gpuAlive: GpuAlive): Promise<boolean> {
    let changed = false;
    const active = trials.filter((t) => ACTIVE_TRIAL_STATES.includes(t.state));
    // All lookups at once: one at a time, a study at full parallelism waited for 2 × parallelism round trips per tick.
    const states = await Promise.all(active.map((t) => Promise.all([this.queues.trials.cpu.getJobState(trialJobId(t)), this.queues.trials.gpu.getJobState(trialJobId(t))])));
    for (const [i, t] of active.entries()) {
      const jobId = trialJobId(t);
      const [cpu, gpu] = states[i]!;
      const [state, device]: [string, DeviceClass] = gpu !== 'unknown' ? [gpu, 'gpu'] : [cpu, 'cpu'];
      if (state === 'unknown' || (device === 'gpu' && (state === 'waiting' || state === 'prioritized') && (await deviceClassOf(study.config.device, t.family, gpuAlive)) === 'cpu')) {
        // Re-read first: a trial that finished since the list was taken has had its job removed.
        const fresh = await this.repo.trials.get(t.id);
        if (!fresh || !ACTIVE_TRIAL_STATES.includes(fresh.state)) continue;
        if (state !== 'unknown') await this.queues.trials.gpu.remove(jobId);
        await this.enqueue(study, fresh, gpuAlive);
      } else if (state === 'failed') {
        const job = await this.queues.trials[device].getJob(jobId);
        changed = (await this.repo.trials.end(t.id, 'failed', job?.failedReason || 'its job failed')) || changed;
      }
    }
    return changed;
  }

  /**
   * Whether any GPU worker is alive, asked at most once per tick and only when a heavy trial
   * needs routing: the registry is read with SCAN, which walks the whole Redis keyspace.
   */
  private gpuAliveOnce(): GpuAlive {
    let answer: Promise<boolean> | undefined;
    return () => (answer ??= listWorkers(this.queues.connection, this.options.prefix).then((ws) => ws.some((w) => w.device === 'gpu')));
  }

  /** Adds the job of a trial's current segment, on the queue of its device class (a no-op when it exists). */
  private async enqueue(study: StudyRecord, t: TrialSummary, gpuAlive: GpuAlive): Promise<void> {
    const target = await deviceClassOf(study.config.device, t.family, gpuAlive);
    // A try that throws for a reason outside the trial (the database or Redis away too long) is one of the study's retries.
    const attempts = study.config.budget.maxRetries + 1;
    await this.queues.trials[target].add('train', { trialId: t.id, studyId: t.studyId, retries: t.retries }, { jobId: trialJobId(t), attempts });
    this.log.debug('trial enqueued', { trialId: t.id, rung: t.rung, device: target });
  }

  private async removeJob(trialId: string): Promise<void> {
    // A job a worker holds cannot be removed; that worker sees the cancellation at its next epoch.
    // Queued trials are only ever waiting for their current segment's job.
    const trial = await this.repo.trials.get(trialId);
    const jobId = trial ? trialJobId(trial) : trialId;
    for (const queue of Object.values(this.queues.trials)) await queue.remove(jobId).catch(() => 0);
  }

  /**
   * Ends a study; its best trial (completed, or pruned with its best epoch kept) becomes the next
   * version of its model, and its champion when the study's promotion says so.
   */
  private async finish(study: StudyRecord, trials: readonly TrialSummary[], timeUp: boolean, exhausted = false): Promise<void> {
    // A continue may have raised the budget since this tick read the study: then it goes on.
    const now = await this.repo.studies.get(study.id);
    if (!now || !ACTIVE_STUDY_STATES.includes(now.state)) return;
    if (!timeUp && !exhausted && trials.length < now.config.budget.maxTrials) return void this.tick(study.id);
    if (timeUp && !timeLimitReached(now)) return void this.tick(study.id);
    const pick = await bestTrial(this.repo, study, trials);
    if (pick.kind === 'infeasible') {
      if (await this.repo.studies.transition(study.id, ACTIVE_STUDY_STATES, 'failed', pick.message)) this.log.warn('study failed', { studyId: study.id, message: pick.message });
      return;
    }
    const best = pick.kind === 'best' ? pick.trial : undefined;
    const bestIs = pick.kind === 'best' ? pick.describe : '';
    if (!best && exhausted && trials.length === 0) {
      const message = `every point of the search space was already tried${study.config.search.warmStartFrom ? ` by study ${study.config.search.warmStartFrom} (search.warmStartFrom)` : ''}; nothing was left to train`;
      if (await this.repo.studies.transition(study.id, ACTIVE_STUDY_STATES, 'failed', message)) this.log.warn('study failed', { studyId: study.id, message });
      return;
    }
    if (!best) {
      const reasons = [...new Set(trials.map((t) => t.error).filter(Boolean))].slice(0, 3).join('; ');
      const message = `no trial completed${reasons ? `: ${reasons}` : ''}`;
      if (await this.repo.studies.transition(study.id, ACTIVE_STUDY_STATES, 'failed', message)) this.log.warn('study failed', { studyId: study.id, message });
      return;
    }
    // A continued study whose best trial is the one it registered last time ends without a new version.
    const registered = await this.repo.models.ofStudy(study.id);
    if (registered?.trialId === best.id) {
      const message = `${timeUp ? 'time limit reached; ' : exhausted ? 'every point of the search space tried; ' : ''}best trial #${best.number} (${bestIs}) is still the one registered as ${registered.modelName} v${registered.version}`;
      if (await this.repo.studies.transition(study.id, ACTIVE_STUDY_STATES, 'completed', message)) this.log.info('study completed', { studyId: study.id, model: registered.modelName, version: registered.version, champion: false });
      return;
    }
    // Ticks read trials in summary; the best trial's metrics are read once, here.
    const metrics = (await this.repo.trials.get(best.id))?.metrics ?? {};
    const gpuAlive = this.gpuAliveOnce();
    const deviceOf = (family: string) => deviceClassOf(study.config.device, family, gpuAlive);
    // Whether the alias moves (see promotion.ts); a champion trained on other data is scored by a worker first.
    const decision = await decidePromotion({ repo: this.repo, queues: this.queues, deviceOf }, study, metrics);
    if (decision === 'waiting') return;
    let version;
    try {
      // The version, the alias and the study's end are one transaction, so a study cancelled meanwhile is never promoted.
      version = await this.repo.models.promoteStudy({
        projectId: study.projectId,
        modelName: study.promoteTo,
        studyId: study.id,
        trialId: best.id,
        datasetId: study.datasetId,
        family: best.family,
        metrics,
        moveChampion: decision.move,
        ...(decision.championWas !== undefined ? { championWas: decision.championWas } : {}),
        message: (v) => `${timeUp ? 'time limit reached; ' : exhausted ? 'every point of the search space tried; ' : ''}best trial #${best.number} (${bestIs}) ${decision.says(v)}`,
      });
    } catch (err) {
      if (!(err instanceof ChampionMovedError)) throw err;
      // Another study promoted meanwhile: decide again against the new champion.
      this.log.info('champion moved during the promotion decision; deciding again', { studyId: study.id });
      await this.queues.studyEvents.add('champion-moved', { studyId: study.id, reason: 'champion moved' });
      return;
    }
    if (version) this.log.info('study completed', { studyId: study.id, model: version.modelName, version: version.version, champion: decision.move });
  }
}
