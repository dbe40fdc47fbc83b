import { randomUUID } from 'node:crypto';
import type { EpochMetrics } from '../domain.ts';
import { epochMetricsSchema, parseJson } from '../schemas.ts';
import type { Db } from './db.ts';
import { ACTIVE_STUDY_STATES } from './studies.ts';

export interface ModelVersionRecord {
  id: string;
  modelName: string;
  version: number;
  studyId: string;
  trialId: string;
  datasetId: string;
  family: string;
  metrics: EpochMetrics;
  createdAt: Date;
  aliases: string[];
}

export interface ModelSummary {
  name: string;
  versions: number;
  latestVersion: number;
  aliases: Record<string, number>;
  updatedAt: Date;
}

type Row = Awaited<ReturnType<Db['modelVersion']['findUniqueOrThrow']>> & { aliases: { alias: string }[] };

function toRecord(row: Row): ModelVersionRecord {
  return { ...row, metrics: parseJson(epochMetricsSchema, row.metrics, `metrics of model version ${row.id}`), aliases: row.aliases.map((a) => a.alias).sort() };
}

export const CHAMPION = 'champion';

export function modelStore(db: Db) {
  return {
    /**
     * Ends a study by registering its best trial as the next version of a
     * model and pointing `champion` at it, in one transaction with the study's
     * move to completed: a study cancelled meanwhile is not promoted, and a
     * study registers at most one version (unique studyId). Returns null when
     * the study was no longer active.
     */
    async promoteStudy(v: {
      modelName: string; studyId: string; trialId: string; datasetId: string; family: string; metrics: EpochMetrics;
      /** The study's closing message, given the new version number. */
      message: (version: number) => string;
    }): Promise<ModelVersionRecord | null> {
      for (let attempt = 0; ; attempt++) {
        try {
          const row = await db.$transaction(async (tx) => {
            const last = await tx.modelVersion.findFirst({ where: { modelName: v.modelName }, orderBy: { version: 'desc' } });
            const version = (last?.version ?? 0) + 1;
            const { count } = await tx.study.updateMany({
              where: { id: v.studyId, state: { in: ACTIVE_STUDY_STATES } },
              data: { state: 'completed', message: v.message(version), endedAt: new Date() },
            });
            if (count === 0) return null;
            const created = await tx.modelVersion.create({
              data: { id: randomUUID(), modelName: v.modelName, version, studyId: v.studyId, trialId: v.trialId, datasetId: v.datasetId, family: v.family, metrics: JSON.stringify(v.metrics) },
            });
            await tx.modelAlias.upsert({
              where: { modelName_alias: { modelName: v.modelName, alias: CHAMPION } },
              create: { modelName: v.modelName, alias: CHAMPION, versionId: created.id },
              update: { versionId: created.id },
            });
            return tx.modelVersion.findUniqueOrThrow({ where: { id: created.id }, include: { aliases: true } });
          });
          return row ? toRecord(row) : null;
        } catch (err) {
          // Two studies promoting to one model at once race for the same version number: take the next one.
          if ((err as { code?: string }).code === 'P2002' && attempt < 5) continue;
          throw err;
        }
      }
    },
    async list(): Promise<ModelSummary[]> {
      const versions = await db.modelVersion.findMany({ include: { aliases: true }, orderBy: { version: 'asc' } });
      const byName = new Map<string, ModelSummary>();
      for (const v of versions) {
        const m = byName.get(v.modelName) ?? { name: v.modelName, versions: 0, latestVersion: 0, aliases: {}, updatedAt: v.createdAt };
        m.versions++;
        m.latestVersion = Math.max(m.latestVersion, v.version);
        if (v.createdAt > m.updatedAt) m.updatedAt = v.createdAt;
        for (const a of v.aliases) m.aliases[a.alias] = v.version;
        byName.set(v.modelName, m);
      }
      return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
    },
    async versions(modelName: string): Promise<ModelVersionRecord[]> {
      const rows = await db.modelVersion.findMany({ where: { modelName }, include: { aliases: true }, orderBy: { version: 'asc' } });
      return rows.map(toRecord);
    },
    async version(modelName: string, version: number): Promise<ModelVersionRecord | null> {
      const row = await db.modelVersion.findUnique({ where: { modelName_version: { modelName, version } }, include: { aliases: true } });
      return row ? toRecord(row) : null;
    },
    /** The version an alias points to, with the time the alias last moved. */
    async byAlias(modelName: string, alias: string): Promise<(ModelVersionRecord & { aliasMovedAt: Date }) | null> {
      const a = await db.modelAlias.findUnique({ where: { modelName_alias: { modelName, alias } }, include: { version: { include: { aliases: true } } } });
      return a ? { ...toRecord(a.version), aliasMovedAt: a.updatedAt } : null;
    },
    async setAlias(modelName: string, alias: string, versionId: string): Promise<void> {
      await db.modelAlias.upsert({
        where: { modelName_alias: { modelName, alias } },
        create: { modelName, alias, versionId },
        update: { versionId },
      });
    },
  };
}
