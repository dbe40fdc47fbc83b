/**
 * Live events added by wrapping the repository: each trial and study write that changed
 * something (a guarded transition that returned true, or the ids it touched) appends the event
 * it describes, after the write has committed. The coordinator, the workers and the api call the
 * same methods as before and need not know that anyone watches.
 *
 * An append that fails or takes too long is logged and dropped: the database is the record, and
 * a study must never stop because Redis was briefly away. Appends are awaited (bounded by
 * `appendTimeoutMs`), so one process's events keep the order of its writes (only an append given
 * up as late may still land after later ones). A write appends all its events in one call (a
 * batch of new trials, a study's decision and end), so no write waits more than one bounded
 * append; and after an append is given up as late, events are dropped until Redis answers it, so
 * a slow Redis costs one wait, not one per write.
 */
import { errorMessage, type Logger } from '../log.ts';
import { CHAMPION, type Repository, type TrialRecord } from '../storage/index.ts';
import type { EventLog } from './event-log.ts';
import type { NewLiveEvent } from './schema.ts';

/** Options of {@link withEvents}. */
export interface EmitOptions {
  events: EventLog;
  log: Logger;
  /** Longest wait for one append; past it the event is dropped (logged) and the write returns. @defaultValue 2000 */
  appendTimeoutMs?: number;
  /**
   * After an append is given up as late, further events are dropped (logged) at once until Redis
   * answers that append, or for at most this long, when appending is tried again. @defaultValue 30000
   */
  slowCooldownMs?: number;
}

type Located = { studyId: string; number: number };
type EndedState = 'completed' | 'pruned' | 'failed' | 'cancelled';
const ENDED: readonly string[] = ['completed', 'pruned', 'failed', 'cancelled'];

/** A Map that forgets its oldest entries past `capacity`: what a long-lived worker remembers stays bounded. */
class Recent<V> extends Map<string, V> {
  constructor(private readonly capacity: number) {
    super();
  }
  override set(key: string, value: V): this {
    this.delete(key);
    super.set(key, value);
    if (this.size > this.capacity) this.delete(this.keys().next().value as string);
    return this;
  }
}

/**
 * Runs Redis work of the event log that never throws and never waits long: skipped while Redis is
 * away (ioredis would hold the command in its offline queue, and the write with it), or while an
 * earlier append given up as late is still unanswered; given up after `appendTimeoutMs`.
 * Failures are logged at most every 10 s, with how many there were.
 */
function guard(o: EmitOptions) {
  const timeoutMs = o.appendTimeoutMs ?? 2000;
  const cooldownMs = o.slowCooldownMs ?? 30_000;
  /** Until when appends are skipped: an append given up as late has not been answered yet. */
  let slowUntil = 0;
  let failed = 0;
  let warnedAt = 0;
  const fail = (studyId: string, what: string, why: string) => {
    failed += 1;
    if (Date.now() - warnedAt < 10_000) return;
    o.log.warn('study event log not updated', { studyId, what, why, failed });
    warnedAt = Date.now();
    failed = 0;
  };
  return async (studyId: string, what: string, work: () => Promise<unknown>): Promise<void> => {
    if (o.events.down()) return fail(studyId, what, 'redis is not connected');
    if (Date.now() < slowUntil) return fail(studyId, what, `redis has not yet answered an append given up after ${timeoutMs} ms`);
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    const pending = work();
    try {
      await Promise.race([pending, late]);
    } catch (err) {
      if (timedOut) {
        slowUntil = Date.now() + cooldownMs;
        const answered = () => {
          slowUntil = 0;
        };
        pending.then(answered, answered);
      }
      fail(studyId, what, errorMessage(err));
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The repository `repo` with events appended to `o.events` after each write that changed something. */
export function withEvents(repo: Repository, o: EmitOptions): Repository {
  const { trials, studies, models } = repo;
  const guarded = guard(o);
  const publish = (studyId: string, event: NewLiveEvent) => guarded(studyId, event.type, () => o.events.append(studyId, event));
  /** A write's events in one append: one bounded wait however many there are. */
  const publishAll = (studyId: string, events: readonly NewLiveEvent[]) =>
    events.length === 0 ? Promise.resolve() : guarded(studyId, events.map((e) => e.type).join(','), () => o.events.appendMany(studyId, events));
  // The hot path (an epoch) must not read the database: a worker learns each trial when it claims it.
  const located = new Recent<Located>(4096);
  const objectives = new Recent<string>(1024);
  const remember = (t: { id: string; studyId: string; number: number }) => located.set(t.id, { studyId: t.studyId, number: t.number });

  /** Runs the event work of a write that has committed; its failure is logged, never thrown into the write. */
  const after = async (what: string, work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (err) {
      o.log.warn('could not emit a study event', { after: what, error: errorMessage(err) });
    }
  };

  async function locate(trialId: string): Promise<Located | null> {
    const known = located.get(trialId);
    if (known) return known;
    const t = await trials.get(trialId);
    if (t) remember(t);
    return t;
  }

  async function objectiveOf(studyId: string): Promise<string | null> {
    const known = objectives.get(studyId);
    if (known !== undefined) return known;
    const s = await studies.get(studyId);
    if (s) objectives.set(studyId, s.config.objective.metric);
    return s?.config.objective.metric ?? null;
  }

  const endOf = (t: TrialRecord): NewLiveEvent[] =>
    ENDED.includes(t.state) ? [{ type: 'trial.ended', trialId: t.id, number: t.number, state: t.state as EndedState, value: t.value, reason: t.error }] : [];
  const trialEnded = (t: TrialRecord) => publishAll(t.studyId, endOf(t));
  /** The ends of one study's trials (`ids`), by number, in one append. */
  const trialsEnded = async (studyId: string, ids: string[]) => {
    const rows = (await trials.some(ids)).filter((t) => t.studyId === studyId).sort((a, b) => a.number - b.number);
    await publishAll(studyId, rows.flatMap(endOf));
  };

  /** New trials in one append per study (a coordinator's batch is one study's), the appends side by side. */
  const created = async (rows: readonly TrialRecord[]) => {
    const byStudy = new Map<string, NewLiveEvent[]>();
    for (const t of rows) {
      remember(t);
      const list = byStudy.get(t.studyId) ?? [];
      list.push({ type: 'trial.created', trialId: t.id, number: t.number, family: t.family, params: t.params });
      byStudy.set(t.studyId, list);
    }
    await Promise.all([...byStudy].map(([studyId, events]) => publishAll(studyId, events)));
  };

  /** Every final transition except promotion's: no version is registered. champion.decision comes first, study.ended last. */
  const studyEnded = async (studyId: string) => {
    const s = await studies.get(studyId);
    if (!s || (s.state !== 'completed' && s.state !== 'failed' && s.state !== 'cancelled')) return;
    await publishAll(studyId, [
      { type: 'champion.decision', model: s.promoteTo, version: null, moved: false, reason: `no version registered: ${s.message ?? s.state}` },
      { type: 'study.ended', state: s.state, message: s.message },
    ]);
  };

  return {
    ...repo,
    trials: {
      ...trials,
      async create(t) {
        const row = await trials.create(t);
        if (row) await after('create', () => created([row]));
        return row;
      },
      async createAll(ts) {
        const rows = await trials.createAll(ts);
        if (rows) await after('createAll', () => created(rows));
        return rows;
      },
      async start(id, worker, backend, retries) {
        const claimed = await trials.start(id, worker, backend, retries);
        if (claimed) {
          const t = claimed.trial;
          remember(t);
          await after('start', () => publish(t.studyId, { type: 'trial.started', trialId: t.id, number: t.number, attempt: t.attempts, worker: t.worker, backend: t.backend }));
        }
        return claimed;
      },
      async recordEpoch(id, attempt, epoch, metrics, best, checkpoint) {
        const wrote = await trials.recordEpoch(id, attempt, epoch, metrics, best, checkpoint);
        if (wrote) {
          await after('recordEpoch', async () => {
            const t = await locate(id);
            if (!t) return;
            const metric = await objectiveOf(t.studyId);
            const value = metric === null ? null : (metrics[metric] ?? null);
            await publish(t.studyId, { type: 'trial.epoch', trialId: id, number: t.number, epoch, metrics, value });
          });
        }
        return wrote;
      },
      async pause(id, attempt, r) {
        const wrote = await trials.pause(id, attempt, r);
        if (wrote) {
          await after('pause', async () => {
            const t = await locate(id);
            if (t) await publish(t.studyId, { type: 'trial.paused', trialId: id, number: t.number, rung: r.rung, epoch: r.epoch });
          });
        }
        return wrote;
      },
      async promote(id, rung) {
        const wrote = await trials.promote(id, rung);
        if (wrote) {
          await after('promote', async () => {
            const t = await locate(id);
            if (t) await publish(t.studyId, { type: 'trial.promoted', trialId: id, number: t.number, rung });
          });
        }
        return wrote;
      },
      async handBack(id, attempt, durationMs) {
        const wrote = await trials.handBack(id, attempt, durationMs);
        if (wrote) {
          await after('handBack', async () => {
            const t = await locate(id);
            const reason = 'its worker stopped (shutting down, or its compute backend broke); another attempt continues from its checkpoint';
            if (t) await publish(t.studyId, { type: 'trial.requeued', trialId: id, number: t.number, reason });
          });
        }
        return wrote;
      },
      async timeOut(id, attempt, before, outcome) {
        const wrote = await trials.timeOut(id, attempt, before, outcome);
        if (wrote) {
          await after('timeOut', async () => {
            const t = await trials.get(id);
            if (!t) return;
            if (!outcome.retry) return trialEnded(t);
            const reason = `attempt ${attempt} stopped reporting for budget.trialTimeoutSeconds; queued again as retry ${t.retries}, continuing from its checkpoint`;
            await publish(t.studyId, { type: 'trial.requeued', trialId: id, number: t.number, reason });
          });
        }
        return wrote;
      },
      async complete(id, attempt, r) {
        const wrote = await trials.complete(id, attempt, r);
        if (wrote) {
          await after('complete', async () => {
            const t = await locate(id);
            const state = r.pruned === undefined ? 'completed' : 'pruned';
            if (t) await publish(t.studyId, { type: 'trial.ended', trialId: id, number: t.number, state, value: r.value, reason: r.pruned ?? null });
          });
        }
        return wrote;
      },
      async end(id, state, error, opts) {
        const wrote = await trials.end(id, state, error, opts);
        if (wrote) {
          await after('end', async () => {
            const t = await trials.get(id);
            if (t) await trialEnded(t);
          });
        }
        return wrote;
      },
      async endPaused(studyId, state, reason) {
        const ids = await trials.endPaused(studyId, state, reason);
        if (ids.length > 0) {
          await after('endPaused', () => trialsEnded(studyId, ids));
        }
        return ids;
      },
      async cancelQueued(studyId) {
        const ids = await trials.cancelQueued(studyId);
        if (ids.length > 0) {
          await after('cancelQueued', () => trialsEnded(studyId, ids));
        }
        return ids;
      },
    },
    studies: {
      ...studies,
      async create(s) {
        const study = await studies.create(s);
        objectives.set(study.id, study.config.objective.metric);
        await after('create study', () => publish(study.id, { type: 'study.state', state: 'queued', message: null }));
        return study;
      },
      async get(id) {
        const study = await studies.get(id);
        if (study) objectives.set(id, study.config.objective.metric);
        return study;
      },
      async continue(id, from, raise, describe) {
        const done = await studies.continue(id, from, raise, describe);
        if (done) {
          const { maxTrials, timeLimitSeconds } = done.config.budget;
          await after('continue', () => publish(id, { type: 'study.continued', maxTrials, timeLimitSeconds: timeLimitSeconds ?? null, reopened: done.reopened, message: done.message }));
        }
        return done;
      },
      async transition(id, from, to, message) {
        const changed = await studies.transition(id, from, to, message);
        if (changed) {
          await after('transition', () =>
            to === 'queued' || to === 'running' ? publish(id, { type: 'study.state', state: to, message: message ?? null }) : studyEnded(id),
          );
        }
        return changed;
      },
      async delete(id) {
        const result = await studies.delete(id);
        // A stream left behind (Redis away) expires by itself.
        if (result === 'deleted') await guarded(id, 'delete', () => o.events.remove(id));
        return result;
      },
    },
    models: {
      ...models,
      async promoteStudy(v) {
        let message = '';
        const version = await models.promoteStudy({
          ...v,
          message: (n) => {
            message = v.message(n);
            return message;
          },
        });
        if (version) {
          await after('promoteStudy', () =>
            publishAll(v.studyId, [
              { type: 'champion.decision', model: version.modelName, version: version.version, moved: version.aliases.includes(CHAMPION), reason: message },
              { type: 'study.ended', state: 'completed', message },
            ]),
          );
        }
        return version;
      },
    },
  };
}
