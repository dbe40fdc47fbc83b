import type { Role } from '../auth/roles.ts';
import type { Db } from './db.ts';

export const DEFAULT_PROJECT = 'default';

export interface ProjectRecord {
  id: string;
  name: string;
  /** Quota overrides; null means the deployment's default. */
  maxDatasetBytes: number | null;
  maxRunningStudies: number | null;
  maxTrialsInFlight: number | null;
  createdAt: Date;
}

export interface ApiKeyRecord {
  id: string;
  projectId: string;
  role: Role;
  name: string;
  secretHash: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

type ProjectRow = Awaited<ReturnType<Db['project']['findUniqueOrThrow']>>;

function toProject(row: ProjectRow): ProjectRecord {
  return { ...row, maxDatasetBytes: row.maxDatasetBytes === null ? null : Number(row.maxDatasetBytes) };
}

/** What a project holds now, for its quotas. */
export interface ProjectUsage {
  datasetBytes: number;
  runningStudies: number;
  /** Sum of the active studies' `budget.parallelism`: the trials they may run at once. */
  trialsInFlight: number;
}

export function projectStore(db: Db) {
  return {
    async get(id: string): Promise<ProjectRecord | null> {
      const row = await db.project.findUnique({ where: { id } });
      return row ? toProject(row) : null;
    },
    async byName(name: string): Promise<ProjectRecord | null> {
      const row = await db.project.findUnique({ where: { name } });
      return row ? toProject(row) : null;
    },
    /** The project of this name, made if it does not exist (its id is its name). */
    async ensure(name: string): Promise<ProjectRecord> {
      const row = await db.project.upsert({ where: { name }, create: { id: name, name }, update: {} });
      return toProject(row);
    },
    async list(): Promise<ProjectRecord[]> {
      return (await db.project.findMany({ orderBy: { name: 'asc' } })).map(toProject);
    },
    async setQuotas(id: string, q: { maxDatasetBytes?: number | null; maxRunningStudies?: number | null; maxTrialsInFlight?: number | null }): Promise<ProjectRecord> {
      const { maxDatasetBytes, ...rest } = q;
      const row = await db.project.update({
        where: { id },
        data: { ...rest, ...(maxDatasetBytes !== undefined ? { maxDatasetBytes: maxDatasetBytes === null ? null : BigInt(maxDatasetBytes) } : {}) },
      });
      return toProject(row);
    },
    async usage(id: string): Promise<ProjectUsage> {
      const [bytes, active] = await Promise.all([
        db.dataset.aggregate({ where: { projectId: id }, _sum: { bytes: true } }),
        db.study.findMany({ where: { projectId: id, state: { in: ['queued', 'running'] } }, select: { config: true } }),
      ]);
      let trialsInFlight = 0;
      for (const s of active) {
        // Read loosely: a config that does not parse still counts as one trial.
        const parallelism = (JSON.parse(s.config) as { budget?: { parallelism?: unknown } }).budget?.parallelism;
        trialsInFlight += typeof parallelism === 'number' ? parallelism : 1;
      }
      return { datasetBytes: Number(bytes._sum.bytes ?? 0), runningStudies: active.length, trialsInFlight };
    },
  };
}

export function keyStore(db: Db) {
  return {
    async create(k: { id: string; projectId: string; role: Role; name: string; secretHash: string }): Promise<ApiKeyRecord> {
      return (await db.apiKey.create({ data: k })) as ApiKeyRecord;
    },
    async get(id: string): Promise<ApiKeyRecord | null> {
      return (await db.apiKey.findUnique({ where: { id } })) as ApiKeyRecord | null;
    },
    /** Whether any key was ever made: from then on every request needs one, even if all are revoked. */
    async any(): Promise<boolean> {
      return (await db.apiKey.findFirst({ select: { id: true } })) !== null;
    },
    async list(projectId: string | undefined, page: { limit: number; after?: string } = { limit: 1000 }): Promise<ApiKeyRecord[]> {
      return (await db.apiKey.findMany({
        where: { ...(projectId !== undefined ? { projectId } : {}), ...(page.after !== undefined ? { id: { gt: page.after } } : {}) },
        orderBy: { id: 'asc' },
        take: page.limit,
      })) as ApiKeyRecord[];
    },
    /** Returns whether a live key of this project was revoked by this call. */
    async revoke(projectId: string | undefined, id: string): Promise<boolean> {
      const { count } = await db.apiKey.updateMany({ where: { id, ...(projectId !== undefined ? { projectId } : {}), revokedAt: null }, data: { revokedAt: new Date() } });
      return count === 1;
    },
    async touch(id: string): Promise<void> {
      await db.apiKey.updateMany({ where: { id }, data: { lastUsedAt: new Date() } });
    },
  };
}
