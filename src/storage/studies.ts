import type { StudyState } from '../domain.ts';
import { parseJson, storedStudyConfigSchema, type StudyConfig } from '../schemas.ts';
import type { Db } from './db.ts';

export interface StudyRecord {
  id: string;
  name: string;
  datasetId: string;
  state: StudyState;
  config: StudyConfig;
  promoteTo: string;
  message: string | null;
  createdAt: Date;
  endedAt: Date | null;
}

type Row = Awaited<ReturnType<Db['study']['findUniqueOrThrow']>>;

function toRecord(row: Row): StudyRecord {
  return { ...row, state: row.state as StudyState, config: parseJson(storedStudyConfigSchema, row.config, `config of study ${row.id}`) };
}

export const ACTIVE_STUDY_STATES: StudyState[] = ['queued', 'running'];

export function studyStore(db: Db) {
  return {
    async create(s: { id: string; name: string; datasetId: string; config: StudyConfig }): Promise<StudyRecord> {
      const row = await db.study.create({
        data: { id: s.id, name: s.name, datasetId: s.datasetId, state: 'queued', config: JSON.stringify(s.config), promoteTo: s.config.promoteTo },
      });
      return toRecord(row);
    },
    async get(id: string): Promise<StudyRecord | null> {
      const row = await db.study.findUnique({ where: { id } });
      return row ? toRecord(row) : null;
    },
    async list(limit = 100): Promise<StudyRecord[]> {
      const rows = await db.study.findMany({ orderBy: { createdAt: 'desc' }, take: limit });
      return rows.map(toRecord);
    },
    async active(): Promise<StudyRecord[]> {
      const rows = await db.study.findMany({ where: { state: { in: ACTIVE_STUDY_STATES } } });
      return rows.map(toRecord);
    },
    /**
     * Moves a study between states only from the states given, so two
     * coordinators racing to end a study cannot both win. Returns whether this call did it.
     */
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
