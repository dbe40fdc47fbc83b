import type { StudyState } from '../domain.ts';
import { parseJson, storedStudyConfigSchema, type StudyConfig } from '../schemas.ts';
import type { Db } from './db.ts';

export interface StudyRecord {
  id: string;
  projectId: string;
  name: string;
  datasetId: string;
  state: StudyState;
  config: StudyConfig;
  promoteTo: string;
  message: string | null;
  createdAt: Date;
  endedAt: Date | null;
  /** When the study was last continued after it completed; null if never. */
  resumedAt: Date | null;
  /** Seconds it ran before it was last continued. */
  ranSeconds: number;
}

/**
 * Seconds the study has been running, the time its time limit counts: from its creation, or
 * from its last continuation plus what it ran before; an ended study's clock stopped at its end.
 */
export function runningSeconds(study: Pick<StudyRecord, 'createdAt' | 'endedAt' | 'resumedAt' | 'ranSeconds'>, now = Date.now()): number {
  const since = (study.resumedAt ?? study.createdAt).getTime();
  const until = study.endedAt && study.endedAt.getTime() >= since ? study.endedAt.getTime() : now;
  return study.ranSeconds + Math.max(0, until - since) / 1000;
}

/** Whether the study's time limit has passed. */
export function timeLimitReached(study: StudyRecord, now = Date.now()): boolean {
  const limit = study.config.budget.timeLimitSeconds;
  return limit !== undefined && runningSeconds(study, now) >= limit;
}

type Row = Awaited<ReturnType<Db['study']['findUniqueOrThrow']>>;

function toRecord(row: Row): StudyRecord {
  return { ...row, state: row.state as StudyState, config: parseJson(storedStudyConfigSchema, row.config, `config of study ${row.id}`) };
}

export const ACTIVE_STUDY_STATES: StudyState[] = ['queued', 'running'];

export function studyStore(db: Db) {
  return {
    async create(s: { id: string; projectId: string; name: string; datasetId: string; config: StudyConfig }): Promise<StudyRecord> {
      const row = await db.study.create({
        data: { id: s.id, projectId: s.projectId, name: s.name, datasetId: s.datasetId, state: 'queued', config: JSON.stringify(s.config), promoteTo: s.config.promoteTo },
      });
      return toRecord(row);
    },
    async get(id: string): Promise<StudyRecord | null> {
      const row = await db.study.findUnique({ where: { id } });
      return row ? toRecord(row) : null;
    },
    /** A project's studies, newest first: `limit` of them after the cursor's (createdAt, id). */
    async list(projectId: string, page: { limit: number; before?: { createdAt: Date; id: string } } = { limit: 100 }): Promise<StudyRecord[]> {
      const b = page.before;
      const rows = await db.study.findMany({
        where: { projectId, ...(b ? { OR: [{ createdAt: { lt: b.createdAt } }, { createdAt: b.createdAt, id: { lt: b.id } }] } : {}) },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: page.limit,
      });
      return rows.map(toRecord);
    },
    /**
     * Deletes an ended study with its trials, unless a model version it registered still
     * exists (its weights live with the trial). Returns 'deleted', 'missing', 'active' or the version in the way.
     */
    async delete(id: string): Promise<'deleted' | 'missing' | 'active' | { modelName: string; version: number }> {
      return db.$transaction(async (tx) => {
        const study = await tx.study.findUnique({ where: { id }, select: { state: true } });
        if (!study) return 'missing';
        if (ACTIVE_STUDY_STATES.includes(study.state as StudyState)) return 'active';
        const version = await tx.modelVersion.findFirst({ where: { studyId: id }, orderBy: { version: 'desc' }, select: { modelName: true, version: true } });
        if (version) return version;
        await tx.study.delete({ where: { id } });
        return 'deleted';
      });
    },
    async active(): Promise<StudyRecord[]> {
      const rows = await db.study.findMany({ where: { state: { in: ACTIVE_STUDY_STATES } } });
      return rows.map(toRecord);
    },
    /**
     * Moves a study between states only from the states given, so two
     * coordinators racing to end a study cannot both win. Returns whether this call did it.
     */
    /**
     * Raises a study's budget (each field to the larger of its value and the one asked for): an
     * active study goes on with it; a completed one runs again, its clock kept. Only from the
     * states given, and only if the config is still the one read here, so two continues at once
     * cannot lower each other's raise, and a study that ended meanwhile is left alone.
     * Returns the new config and whether the study was reopened; null when nothing changed.
     */
    async continue(
      id: string,
      from: StudyState[],
      raise: { maxTrials?: number | undefined; timeLimitSeconds?: number | undefined },
      describe: (before: StudyConfig['budget'], after: StudyConfig['budget'], reopened: boolean) => string,
    ): Promise<{ config: StudyConfig; reopened: boolean; message: string } | null> {
      return db.$transaction(async (tx) => {
        const row = await tx.study.findUnique({ where: { id } });
        if (!row || !from.includes(row.state as StudyState)) return null;
        const { config } = toRecord(row);
        const before = config.budget;
        const limit = raise.timeLimitSeconds === undefined ? before.timeLimitSeconds : Math.max(before.timeLimitSeconds ?? 0, raise.timeLimitSeconds);
        const after = { ...before, maxTrials: Math.max(before.maxTrials, raise.maxTrials ?? 0), ...(limit !== undefined ? { timeLimitSeconds: limit } : {}) };
        const next = { ...config, budget: after };
        const reopened = row.state === 'completed';
        const message = describe(before, after, reopened);
        const { count } = await tx.study.updateMany({
          where: { id, state: row.state, config: row.config },
          data: {
            config: JSON.stringify(next),
            message,
            ...(reopened ? { state: 'running', endedAt: null, resumedAt: new Date(), ranSeconds: runningSeconds(row) } : {}),
          },
        });
        return count === 1 ? { config: next, reopened, message } : null;
      });
    },
    async transition(id: string, from: StudyState[], to: StudyState, message?: string): Promise<boolean> {
      const ended = to === 'completed' || to === 'failed' || to === 'cancelled';
      const { count } = await db.study.updateMany({
        where: { id, state: { in: from } },
        data: { state: to, ...(message !== undefined ? { message } : {}), ...(ended ? { endedAt: new Date() } : {}) },
      });
      return count === 1;
    },
  };
}
