import type { EpochMetrics, ModelArtifact, Params, TrialState } from '../domain.ts';
import { epochMetricsSchema, parseJson } from '../schemas.ts';
import { z } from 'zod';
import type { Db } from './db.ts';

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
  createdAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
}

export interface EpochRecord {
  epoch: number;
  metrics: EpochMetrics;
  at: Date;
}

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

export const ACTIVE_TRIAL_STATES: TrialState[] = ['queued', 'running'];

/** Best-so-far summary a worker sends with each epoch. */
export interface BestSoFar {
  value: number;
  epoch: number;
  metrics: EpochMetrics;
}

export function trialStore(db: Db) {
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
    async get(id: string): Promise<TrialRecord | null> {
      const row = await db.trial.findUnique({ where: { id } });
      return row ? toRecord(row) : null;
    },
    async list(studyId: string): Promise<TrialRecord[]> {
      const rows = await db.trial.findMany({ where: { studyId }, orderBy: { number: 'asc' } });
      return rows.map(toRecord);
    },
    async curve(trialId: string): Promise<EpochRecord[]> {
      const rows = await db.trialEpoch.findMany({ where: { trialId }, orderBy: { epoch: 'asc' } });
      return rows.map((r) => ({ epoch: r.epoch, metrics: parseJson(epochMetricsSchema, r.metrics, `epoch ${r.epoch} of trial ${trialId}`), at: r.createdAt }));
    },
    /**
     * Claims a trial for an attempt. A new attempt trains from scratch, so the
     * previous attempt's curve is dropped in the same transaction. Returns null
     * when the trial is no longer runnable (cancelled or already finished).
     */
    async start(id: string, worker: string, backend: string): Promise<TrialRecord | null> {
      return db.$transaction(async (tx) => {
        const { count } = await tx.trial.updateMany({
          where: { id, state: { in: ACTIVE_TRIAL_STATES } },
          data: { state: 'running', worker, backend, startedAt: new Date(), attempts: { increment: 1 }, epochs: 0, value: null, metrics: null, bestEpoch: null },
        });
        if (count === 0) return null;
        await tx.trialEpoch.deleteMany({ where: { trialId: id } });
        return toRecord(await tx.trial.findUniqueOrThrow({ where: { id } }));
      });
    },
    /**
     * Records one epoch of attempt `attempt` (an upsert: a repeated report
     * writes the same row) and the best so far. A stale attempt (one whose job
     * another worker has taken over) writes nothing; returns whether it wrote.
     */
    async recordEpoch(id: string, attempt: number, epoch: number, metrics: EpochMetrics, best: BestSoFar): Promise<boolean> {
      const text = JSON.stringify(metrics);
      return db.$transaction(async (tx) => {
        const { count } = await tx.trial.updateMany({
          where: { id, state: 'running', attempts: attempt },
          data: { epochs: epoch, value: best.value, bestEpoch: best.epoch, metrics: JSON.stringify(best.metrics) },
        });
        if (count === 0) return false;
        await tx.trialEpoch.upsert({ where: { trialId_epoch: { trialId: id, epoch } }, create: { trialId: id, epoch, metrics: text }, update: { metrics: text } });
        return true;
      });
    },
    /** Finishes attempt `attempt` with its best epoch and weights; false when the trial has ended or belongs to a newer attempt. */
    async complete(
      id: string,
      attempt: number,
      r: { value: number; metrics: EpochMetrics; epochs: number; bestEpoch: number; durationMs: number; artifact: ModelArtifact },
    ): Promise<boolean> {
      return db.$transaction(async (tx) => {
        const { count } = await tx.trial.updateMany({
          where: { id, state: 'running', attempts: attempt },
          data: { state: 'completed', value: r.value, metrics: JSON.stringify(r.metrics), epochs: r.epochs, bestEpoch: r.bestEpoch, durationMs: r.durationMs, endedAt: new Date(), error: null },
        });
        if (count === 0) return false;
        const artifact = { topology: JSON.stringify(r.artifact.topology), weightSpecs: JSON.stringify(r.artifact.weightSpecs), weights: r.artifact.weights as Uint8Array<ArrayBuffer> };
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
    /** Cancels every queued trial of a study; returns their ids. */
    async cancelQueued(studyId: string): Promise<string[]> {
      const queued = await db.trial.findMany({ where: { studyId, state: 'queued' }, select: { id: true } });
      if (queued.length === 0) return [];
      await db.trial.updateMany({ where: { studyId, state: 'queued' }, data: { state: 'cancelled', endedAt: new Date() } });
      return queued.map((t) => t.id);
    },
    async artifact(trialId: string): Promise<ModelArtifact | null> {
      const row = await db.trialArtifact.findUnique({ where: { trialId } });
      if (!row) return null;
      return { topology: JSON.parse(row.topology), weightSpecs: JSON.parse(row.weightSpecs), weights: new Uint8Array(row.weights) };
    },
  };
}
