import type { EpochMetrics, ModelArtifact, Params, TrainCheckpoint, TrialState } from '../domain.ts';
import { epochMetricsSchema, parseJson } from '../schemas.ts';
import { z } from 'zod';
import type { Db } from './db.ts';
// Prisma.join builds a parameter list for either client (both generated from the same models).
import { Prisma } from './generated/sqlite/client.ts';
import { checkpointRow, completePg, recordEpochPg } from './pg-trial-writes.ts';
import { ACTIVE_STUDY_STATES } from './studies.ts';

type CheckpointRow = { epoch: number; state: string; weights: Uint8Array; optimizer: Uint8Array; best: Uint8Array };

function toCheckpoint(row: CheckpointRow): TrainCheckpoint {
  const state = parseJson(checkpointStateSchema, row.state, 'checkpoint state');
  return { epoch: row.epoch, ...state, weights: new Uint8Array(row.weights), optimizer: new Uint8Array(row.optimizer), best: new Uint8Array(row.best) };
}

export interface TrialRecord {
  id: string;
  studyId: string;
  number: number;
  family: string;
  params: Params;
  state: TrialState;
  value: number | null;
  metrics: EpochMetrics | null;
  epochs: number;
  bestEpoch: number | null;
  durationMs: number | null;
  backend: string | null;
  worker: string | null;
  error: string | null;
  attempts: number;
  /** Scheduled trials: the rung the trial trains toward, or is paused at (0 = first). */
  rung: number;
  /** Times the trial was found stuck and queued again (see StudyConfig budget.trialTimeoutSeconds). */
  retries: number;
  createdAt: Date;
  startedAt: Date | null;
  /** When the running attempt last reported: its start, or its latest epoch. */
  reportedAt: Date | null;
  endedAt: Date | null;
}

/** The part of a trial that a coordinator reads for every trial of a study on every tick. */
export type TrialSummary = Pick<TrialRecord, 'id' | 'studyId' | 'number' | 'family' | 'params' | 'state' | 'value' | 'rung' | 'retries' | 'error'>;

export interface EpochRecord {
  epoch: number;
  metrics: EpochMetrics;
  /** The attempt that recorded it (0 for epochs stored before attempts were recorded). */
  attempt: number;
  at: Date;
}

/** A TrialSummary as a raw query returns it. */
type SummaryRow = { id: string; studyId: string; number: number | bigint; family: string; params: string; state: string; value: number | null; rung: number | bigint; retries: number | bigint; error: string | null };

const paramsSchema = z.record(z.string(), z.union([z.number(), z.string(), z.boolean()]));

type Row = Awaited<ReturnType<Db['trial']['findUniqueOrThrow']>>;

function toRecord(row: Row): TrialRecord {
  return {
    ...row,
    state: row.state as TrialState,
    params: parseJson(paramsSchema, row.params, `params of trial ${row.id}`),
    metrics: row.metrics === null ? null : parseJson(epochMetricsSchema, row.metrics, `metrics of trial ${row.id}`),
  };
}

/** States that hold a worker slot (or wait for one): they count against a study's parallelism. */
export const ACTIVE_TRIAL_STATES: TrialState[] = ['queued', 'running'];
/** States that have not ended: a study with any of these is not done. */
export const UNFINISHED_TRIAL_STATES: TrialState[] = ['queued', 'running', 'paused'];

/** A trial's value at one rung of its scheduler. */
export interface RungRecord {
  trialId: string;
  rung: number;
  epoch: number;
  value: number;
  /**
   * The trial's best-epoch metrics at the rung, with param_count, predict_ms_per_row and
   * train_seconds: what multi-objective ASHA ranks a rung by. Null on rungs recorded before
   * they were kept.
   */
  metrics: EpochMetrics | null;
}

const checkpointStateSchema = z.object({
  bestEpoch: z.number().int(),
  bestMetrics: epochMetricsSchema,
  stopper: z.object({ best: z.number().nullable(), bestAt: z.number().int(), wait: z.number().int(), lastEpoch: z.number().int() }),
});

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

function toArtifactRow(artifact: ModelArtifact) {
  return { topology: JSON.stringify(artifact.topology), weightSpecs: JSON.stringify(artifact.weightSpecs), weights: artifact.weights as Uint8Array<ArrayBuffer> };
}

async function saveCheckpoint(tx: Tx, trialId: string, cp: TrainCheckpoint): Promise<void> {
  const data = checkpointRow(cp);
  await tx.trialCheckpoint.upsert({ where: { trialId }, create: { trialId, ...data }, update: data });
}

/** Best-so-far summary a worker sends with each epoch. */
export interface BestSoFar {
  value: number;
  epoch: number;
  metrics: EpochMetrics;
}

/** @param provider - PostgreSQL makes a worker's epoch and result writes one statement each (see pg-trial-writes.ts). */
export function trialStore(db: Db, provider: 'sqlite' | 'postgresql') {
  return {
    /** Creates trial `number` of a study; null when it already exists (another coordinator made it). */
    async create(t: { id: string; studyId: string; number: number; family: string; params: Params }): Promise<TrialRecord | null> {
      try {
        const row = await db.trial.create({ data: { ...t, params: JSON.stringify(t.params), state: 'queued' } });
        return toRecord(row);
      } catch (err) {
        if ((err as { code?: string }).code === 'P2002') return null;
        throw err;
      }
    },
    /**
     * Creates several trials in one statement, all or none: null when any of their numbers
     * already exists (another coordinator made it). All or none, so a failure cannot leave a
     * gap below a created number, which the next count-based number would then collide with.
     */
    async createAll(ts: { id: string; studyId: string; number: number; family: string; params: Params }[]): Promise<TrialRecord[] | null> {
      if (ts.length === 0) return [];
      try {
        const rows = await db.trial.createManyAndReturn({ data: ts.map((t) => ({ ...t, params: JSON.stringify(t.params), state: 'queued' })) });
        return rows.map(toRecord).sort((a, b) => a.number - b.number);
      } catch (err) {
        if ((err as { code?: string }).code === 'P2002') return null;
        throw err;
      }
    },
    async get(id: string): Promise<TrialRecord | null> {
      const row = await db.trial.findUnique({ where: { id } });
      return row ? toRecord(row) : null;
    },
    /** Whether a trial is running in a study that is still active: one query, asked after every epoch. */
    async running(id: string): Promise<boolean> {
      const row = await db.trial.findFirst({ where: { id, state: 'running', study: { state: { in: ACTIVE_STUDY_STATES } } }, select: { id: true } });
      return row !== null;
    },
    /** How many trials of every project each of `workers` runs now, by worker id (workers running none are left out). */
    async runningByWorker(workers: string[]): Promise<Map<string, number>> {
      if (workers.length === 0) return new Map();
      const rows = await db.trial.groupBy({ by: ['worker'], where: { state: 'running', worker: { in: workers } }, _count: { _all: true } });
      return new Map(rows.flatMap((r) => (r.worker === null ? [] : [[r.worker, r._count._all] as const])));
    },
    async list(studyId: string): Promise<TrialRecord[]> {
      const rows = await db.trial.findMany({ where: { studyId }, orderBy: { number: 'asc' } });
      return rows.map(toRecord);
    },
    /** Up to `limit` trials numbered after `afterNumber`, in number order. */
    async page(studyId: string, limit: number, afterNumber?: number): Promise<TrialRecord[]> {
      const rows = await db.trial.findMany({ where: { studyId, ...(afterNumber !== undefined ? { number: { gt: afterNumber } } : {}) }, orderBy: { number: 'asc' }, take: limit });
      return rows.map(toRecord);
    },
    /** Each trial's number, state, value and epochs only: enough to count and rank a study of thousands of trials. */
    async values(studyId: string): Promise<{ id: string; number: number; state: TrialState; value: number | null; epochs: number }[]> {
      const rows = await db.trial.findMany({ where: { studyId }, orderBy: { number: 'asc' }, select: { id: true, number: true, state: true, value: true, epochs: true } });
      return rows.map((r) => ({ ...r, state: r.state as TrialState }));
    },
    /**
     * `values` with the metrics of the finished trials (completed or pruned; null for the others),
     * in one read: what the leaderboard of a study ranked by its Pareto front needs.
     */
    async valuesAndOutcomes(studyId: string): Promise<{ id: string; number: number; state: TrialState; value: number | null; epochs: number; metrics: EpochMetrics | null }[]> {
      const rows = await db.trial.findMany({ where: { studyId }, orderBy: { number: 'asc' }, select: { id: true, number: true, state: true, value: true, epochs: true, metrics: true } });
      return rows.map((r) => {
        const finished = r.state === 'completed' || r.state === 'pruned';
        return { ...r, state: r.state as TrialState, metrics: finished && r.metrics !== null ? parseJson(epochMetricsSchema, r.metrics, `metrics of trial ${r.id}`) : null };
      });
    },
    /**
     * The finished trials (completed or pruned) of a study with their metrics, by number: what a
     * study ranked by its Pareto front (several objectives, or constraints) compares.
     */
    async outcomes(studyId: string): Promise<{ id: string; number: number; state: TrialState; value: number | null; metrics: EpochMetrics | null }[]> {
      const rows = await db.trial.findMany({ where: { studyId, state: { in: ['completed', 'pruned'] } }, orderBy: { number: 'asc' }, select: { id: true, number: true, state: true, value: true, metrics: true } });
      return rows.map((r) => ({ ...r, state: r.state as TrialState, metrics: r.metrics === null ? null : parseJson(epochMetricsSchema, r.metrics, `metrics of trial ${r.id}`) }));
    },
    /**
     * The latest `limit` completed trials of a study (highest numbers first), with their params
     * and value only: what an importance analysis reads, bounded however long the study ran.
     */
    async completed(studyId: string, limit: number): Promise<{ number: number; params: Params; value: number | null }[]> {
      const rows = await db.trial.findMany({ where: { studyId, state: 'completed' }, orderBy: { number: 'desc' }, take: limit, select: { id: true, number: true, params: true, value: true } });
      return rows.map((r) => ({ number: r.number, params: parseJson(paramsSchema, r.params, `params of trial ${r.id}`), value: r.value }));
    },
    /** The trials with these ids, in no particular order. */
    async some(ids: string[]): Promise<TrialRecord[]> {
      return (await db.trial.findMany({ where: { id: { in: ids } } })).map(toRecord);
    },
    /**
     * Every trial of a study, by number, in summary: about half the columns of `list`, and only
     * the params parsed. A coordinator reads this on every tick, about once per ended trial.
     */
    async summaries(studyId: string): Promise<TrialSummary[]> {
      const rows = await db.trial.findMany({
        where: { studyId },
        orderBy: { number: 'asc' },
        select: { id: true, studyId: true, number: true, family: true, params: true, state: true, value: true, rung: true, retries: true, error: true },
      });
      return rows.map((row) => ({ ...row, state: row.state as TrialState, params: parseJson(paramsSchema, row.params, `params of trial ${row.id}`) }));
    },
    /**
     * The unfinished trials of a study in summary, and how many it has in all and how many
     * failed: one statement, so the list and the counts are one snapshot, and one round trip
     * where an event's tick waits for it (a Prisma query per part took two).
     */
    async unfinished(studyId: string): Promise<{ trials: TrialSummary[]; total: number; failed: number }> {
      const rows = await db.$queryRaw<(Partial<SummaryRow> & { total: unknown; failed: unknown })[]>`
        SELECT c."total", c."failed", t."id", t."studyId", t."number", t."family", t."params", t."state", t."value", t."rung", t."retries", t."error"
        FROM (SELECT COUNT(*) AS "total", SUM(CASE WHEN "state" = 'failed' THEN 1 ELSE 0 END) AS "failed" FROM "Trial" WHERE "studyId" = ${studyId}) c
        LEFT JOIN "Trial" t ON t."studyId" = ${studyId} AND t."state" IN (${Prisma.join(UNFINISHED_TRIAL_STATES)})
        ORDER BY t."number"`;
      // Counts come back as bigint on PostgreSQL, and SUM over no rows is NULL.
      const trials = rows.filter((r): r is SummaryRow & { total: unknown; failed: unknown } => r.id != null).map((r) => ({
        id: r.id,
        studyId: r.studyId,
        number: Number(r.number),
        family: r.family,
        params: parseJson(paramsSchema, r.params, `params of trial ${r.id}`),
        state: r.state as TrialState,
        value: r.value === null ? null : Number(r.value),
        rung: Number(r.rung),
        retries: Number(r.retries),
        error: r.error,
      }));
      return { trials, total: Number(rows[0]?.total ?? 0), failed: Number(rows[0]?.failed ?? 0) };
    },
    async curve(trialId: string): Promise<EpochRecord[]> {
      const rows = await db.trialEpoch.findMany({ where: { trialId }, orderBy: { epoch: 'asc' } });
      return rows.map((r) => ({ epoch: r.epoch, attempt: r.attempt, metrics: parseJson(epochMetricsSchema, r.metrics, `epoch ${r.epoch} of trial ${trialId}`), at: r.createdAt }));
    },
    /**
     * Claims a trial for an attempt. The attempt continues from the trial's checkpoint when it
     * has one (a promoted trial, or one whose worker died), else from scratch; epochs recorded
     * after that point are dropped in the same transaction, so the curve has no gaps and no
     * repeats. Returns null when the trial is no longer runnable (cancelled, finished, a newer
     * retry's, or its study has ended).
     */
    async start(id: string, worker: string, backend: string, retries?: number): Promise<{ trial: TrialRecord; checkpoint: TrainCheckpoint | null } | null> {
      const now = new Date();
      const claim = { state: 'running', worker, backend, startedAt: now, reportedAt: now, attempts: { increment: 1 }, epochs: 0, value: null, metrics: null, bestEpoch: null };
      // A job of an earlier retry (its worker hung, then came back) must not take the trial from
      // the current one; and a trial whose study has ended is not claimed.
      const current = { study: { state: { in: ACTIVE_STUDY_STATES } }, ...(retries === undefined ? {} : { retries }) };
      // A trial that no attempt has claimed yet has no checkpoint and no epochs (only a claimed
      // attempt writes them), so its first claim is one statement, not a transaction of four.
      const [fresh] = await db.trial.updateManyAndReturn({ where: { id, state: 'queued', attempts: 0, ...current }, data: claim });
      if (fresh) return { trial: toRecord(fresh), checkpoint: null };
      return db.$transaction(async (tx) => {
        // The claim is the transaction's first statement. SQLite starts transactions deferred, and one
        // that reads first cannot take the write lock once another process has written since
        // (SQLITE_BUSY_SNAPSHOT, without waiting); under load, trials failed all their attempts so.
        const { count } = await tx.trial.updateMany({ where: { id, state: { in: ACTIVE_TRIAL_STATES }, ...current }, data: claim });
        if (count === 0) return null;
        const row = await tx.trialCheckpoint.findUnique({ where: { trialId: id } });
        const checkpoint = row === null ? null : toCheckpoint(row);
        if (checkpoint !== null) {
          await tx.trial.update({
            where: { id },
            data: { epochs: checkpoint.epoch, value: checkpoint.stopper.best, metrics: JSON.stringify(checkpoint.bestMetrics), bestEpoch: checkpoint.bestEpoch },
          });
        }
        await tx.trialEpoch.deleteMany({ where: { trialId: id, epoch: { gt: checkpoint?.epoch ?? 0 } } });
        const trial = toRecord(await tx.trial.findUniqueOrThrow({ where: { id } }));
        return { trial, checkpoint };
      });
    },
    /** The trial's checkpoint, if it has one. */
    async checkpoint(trialId: string): Promise<TrainCheckpoint | null> {
      const row = await db.trialCheckpoint.findUnique({ where: { trialId } });
      return row === null ? null : toCheckpoint(row);
    },
    /**
     * Records one epoch of attempt `attempt` (an upsert: a repeated report
     * writes the same row) and the best so far. A stale attempt (one whose job
     * another worker has taken over), or one whose study has ended, writes nothing;
     * returns whether it wrote.
     */
    async recordEpoch(id: string, attempt: number, epoch: number, metrics: EpochMetrics, best: BestSoFar, checkpoint?: TrainCheckpoint): Promise<boolean> {
      if (provider === 'postgresql') return recordEpochPg(db, id, attempt, epoch, metrics, best, checkpoint && checkpointRow(checkpoint));
      const text = JSON.stringify(metrics);
      return db.$transaction(async (tx) => {
        const { count } = await tx.trial.updateMany({
          where: { id, state: 'running', attempts: attempt, study: { state: { in: ACTIVE_STUDY_STATES } } },
          data: { epochs: epoch, value: best.value, bestEpoch: best.epoch, metrics: JSON.stringify(best.metrics), reportedAt: new Date() },
        });
        if (count === 0) return false;
        await tx.trialEpoch.upsert({ where: { trialId_epoch: { trialId: id, epoch } }, create: { trialId: id, epoch, attempt, metrics: text }, update: { attempt, metrics: text } });
        // In the same transaction as the epoch, so a resumed attempt's curve and weights agree.
        if (checkpoint !== undefined) await saveCheckpoint(tx, id, checkpoint);
        return true;
      });
    },
    /**
     * Pauses attempt `attempt` at rung `rung` of its scheduler: records the rung's value and
     * metrics, and the best weights and metrics so far on the trial (a trial never promoted
     * keeps them, costs included, as a completed one does). Its checkpoint was written with its
     * last epoch. False when the attempt no longer owns the trial.
     */
    async pause(id: string, attempt: number, r: { rung: number; epoch: number; value: number; metrics: EpochMetrics; durationMs: number; artifact: ModelArtifact }): Promise<boolean> {
      return db.$transaction(async (tx) => {
        const { count } = await tx.trial.updateMany({
          where: { id, state: 'running', attempts: attempt },
          data: { state: 'paused', durationMs: r.durationMs, metrics: JSON.stringify(r.metrics) },
        });
        if (count === 0) return false;
        const rung = { epoch: r.epoch, value: r.value, metrics: JSON.stringify(r.metrics) };
        await tx.trialRung.upsert({ where: { trialId_rung: { trialId: id, rung: r.rung } }, create: { trialId: id, rung: r.rung, ...rung }, update: rung });
        const artifact = toArtifactRow(r.artifact);
        await tx.trialArtifact.upsert({ where: { trialId: id }, create: { trialId: id, ...artifact }, update: artifact });
        return true;
      });
    },
    /**
     * Gives a running trial back to the queue (its worker is shutting down): it stays at its
     * rung, and the next attempt continues from its checkpoint. False when the attempt no longer owns it.
     */
    async handBack(id: string, attempt: number, durationMs: number): Promise<boolean> {
      const { count } = await db.trial.updateMany({ where: { id, state: 'running', attempts: attempt }, data: { state: 'queued', durationMs } });
      return count === 1;
    },
    /** Running trials of a study whose attempt has not reported since `before`. */
    async silentSince(studyId: string, before: Date): Promise<TrialRecord[]> {
      const rows = await db.trial.findMany({ where: { studyId, state: 'running', reportedAt: { lt: before } } });
      return rows.map(toRecord);
    },
    /**
     * Ends attempt `attempt` of a stuck trial: queued again as retry `retries + 1` (the next
     * attempt continues from its checkpoint), or failed with `reason` when `retry` is false.
     * Only if that attempt still owns the trial and has still not reported since `before`, so a
     * report that lands meanwhile wins. Returns whether it changed the trial.
     */
    async timeOut(id: string, attempt: number, before: Date, outcome: { retry: true } | { retry: false; reason: string }): Promise<boolean> {
      const data = outcome.retry ? { state: 'queued', retries: { increment: 1 } } : { state: 'failed', error: outcome.reason, endedAt: new Date() };
      const { count } = await db.trial.updateMany({ where: { id, state: 'running', attempts: attempt, reportedAt: { lt: before } }, data });
      return count === 1;
    },
    /** Sends a paused trial on toward rung `rung`; false when another coordinator already did. */
    async promote(id: string, rung: number): Promise<boolean> {
      const { count } = await db.trial.updateMany({ where: { id, state: 'paused', rung: rung - 1 }, data: { state: 'queued', rung } });
      return count === 1;
    },
    /**
     * Ends every paused trial of a study: `pruned` when the study has no more use for them
     * (they keep their best model and may still be the champion), `cancelled` with the study.
     * Returns the ids of the trials this call ended.
     */
    async endPaused(studyId: string, state: 'pruned' | 'cancelled', reason: string): Promise<string[]> {
      const rows = await db.trial.updateManyAndReturn({ where: { studyId, state: 'paused' }, data: { state, error: reason, endedAt: new Date() }, select: { id: true } });
      return rows.map((r) => r.id);
    },
    /** Every rung recorded in a study, with its value and metrics. */
    async rungs(studyId: string): Promise<RungRecord[]> {
      const rows = await db.trialRung.findMany({ where: { trial: { studyId } }, select: { trialId: true, rung: true, epoch: true, value: true, metrics: true } });
      return rows.map((r) => ({ ...r, metrics: r.metrics === null ? null : parseJson(epochMetricsSchema, r.metrics, `metrics of rung ${r.rung} of trial ${r.trialId}`) }));
    },
    /**
     * The metrics at `epoch` of the study's trials in `states` (other than `exceptId`), for
     * pruners that compare a trial with others at the same epoch.
     */
    async metricsAtEpoch(studyId: string, epoch: number, states: TrialState[], exceptId?: string): Promise<EpochMetrics[]> {
      const rows = await db.trialEpoch.findMany({
        where: { epoch, trial: { studyId, state: { in: states }, ...(exceptId !== undefined ? { id: { not: exceptId } } : {}) } },
        select: { metrics: true, trialId: true },
      });
      return rows.map((r) => parseJson(epochMetricsSchema, r.metrics, `epoch ${epoch} of trial ${r.trialId}`));
    },
    /** How many trials of a study are in one of `states`. */
    async count(studyId: string, states: TrialState[]): Promise<number> {
      return db.trial.count({ where: { studyId, state: { in: states } } });
    },
    /**
     * Finishes attempt `attempt` with its best epoch and weights, as `completed` or, when a
     * pruner stopped it, `pruned` (with the reason); false when the trial has ended or belongs
     * to a newer attempt.
     */
    async complete(
      id: string,
      attempt: number,
      r: { value: number; metrics: EpochMetrics; epochs: number; bestEpoch: number; durationMs: number; artifact: ModelArtifact; pruned?: string },
    ): Promise<boolean> {
      const state = r.pruned === undefined ? 'completed' : 'pruned';
      const { value, metrics, epochs, bestEpoch, durationMs } = r;
      if (provider === 'postgresql') return completePg(db, id, attempt, { state, value, metrics, epochs, bestEpoch, durationMs, error: r.pruned ?? null }, toArtifactRow(r.artifact));
      return db.$transaction(async (tx) => {
        const { count } = await tx.trial.updateMany({
          where: { id, state: 'running', attempts: attempt },
          data: { state, value, metrics: JSON.stringify(metrics), epochs, bestEpoch, durationMs, endedAt: new Date(), error: r.pruned ?? null },
        });
        if (count === 0) return false;
        const artifact = toArtifactRow(r.artifact);
        await tx.trialArtifact.upsert({ where: { trialId: id }, create: { trialId: id, ...artifact }, update: artifact });
        return true;
      });
    },
    /**
     * Ends an unfinished trial as failed or cancelled; with `attempt`, only if
     * that attempt still owns it. False when nothing changed.
     */
    async end(id: string, state: 'failed' | 'cancelled', error: string | null, opts: { durationMs?: number; attempt?: number } = {}): Promise<boolean> {
      const { count } = await db.trial.updateMany({
        where: { id, state: { in: ACTIVE_TRIAL_STATES }, ...(opts.attempt !== undefined ? { attempts: opts.attempt } : {}) },
        data: { state, error, endedAt: new Date(), ...(opts.durationMs !== undefined ? { durationMs: opts.durationMs } : {}) },
      });
      return count === 1;
    },
    /** Cancels every queued trial of a study; returns the ids of those this call cancelled (one claimed meanwhile runs on). */
    async cancelQueued(studyId: string): Promise<string[]> {
      const rows = await db.trial.updateManyAndReturn({ where: { studyId, state: 'queued' }, data: { state: 'cancelled', endedAt: new Date() }, select: { id: true } });
      return rows.map((r) => r.id);
    },
    async artifact(trialId: string): Promise<ModelArtifact | null> {
      const row = await db.trialArtifact.findUnique({ where: { trialId } });
      if (!row) return null;
      return { topology: JSON.parse(row.topology), weightSpecs: JSON.parse(row.weightSpecs), weights: new Uint8Array(row.weights) };
    },
  };
}
