import { randomUUID } from 'node:crypto';
import type { EpochMetrics } from '../domain.ts';
import { epochMetricsSchema, parseJson } from '../schemas.ts';
import { aliasRoutingSchema, routedVersions, type AliasRouting, type ResolvedRouting } from './alias-routing.ts';
import type { Db } from './db.ts';
import { ACTIVE_STUDY_STATES } from './studies.ts';

export interface ModelVersionRecord {
  id: string;
  projectId: string;
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

/**
 * promoteStudy found `champion` no longer where the promotion decision saw it (another study
 * promoted meanwhile): nothing was written, and the decision must be made again.
 */
export class ChampionMovedError extends Error {
  constructor(readonly modelName: string) {
    super(`the champion of model '${modelName}' moved while this study was being compared with it`);
    this.name = 'ChampionMovedError';
  }
}

/** A write that changed what an alias or a version number of a model names. */
export interface ModelChange {
  projectId: string;
  modelName: string;
  /** Set when the write deleted this alias. */
  deletedAlias?: string;
  /** Set when the write deleted this version. */
  deletedVersion?: number;
}

export function modelStore(db: Db) {
  /** Told after each write that can change what an alias or a version number names. */
  const listeners = new Set<(change: ModelChange) => void>();
  const changed = (change: ModelChange) => {
    for (const listener of listeners) listener(change);
  };
  return {
    /**
     * Calls `listener` after every write through this repository that can change what an alias
     * or a version number names (a promotion, an alias set or deleted, a version deleted); for
     * caches of those lookups, and for what is kept warm for a deleted alias or version. Writes
     * by other processes are not seen. Returns the unsubscribe.
     */
    onChange(listener: (change: ModelChange) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /**
     * Ends a study by registering its best trial as the next version of a
     * model and (unless `moveChampion` is false) pointing `champion` at it, in one
     * transaction with the study's move to completed: a study cancelled meanwhile
     * is not promoted, and a study registers at most one version each time it ends (only an
     * active study is ended; a continued study may end, and register, again).
     * Returns null when the study was no longer active.
     * @throws ChampionMovedError when `championWas` is given and `champion` points elsewhere now (nothing written).
     */
    async promoteStudy(v: {
      projectId: string; modelName: string; studyId: string; trialId: string; datasetId: string; family: string; metrics: EpochMetrics;
      /** The study's closing message, given the new version number. */
      message: (version: number) => string;
      /** Whether `champion` moves to the new version. @defaultValue true */
      moveChampion?: boolean;
      /** The version id `champion` pointed to when the decision was made (null: no champion). @defaultValue not checked */
      championWas?: string | null;
    }): Promise<ModelVersionRecord | null> {
      for (let attempt = 0; ; attempt++) {
        try {
          const row = await db.$transaction(async (tx) => {
            if (v.championWas !== undefined) {
              const now = await tx.modelAlias.findUnique({ where: { projectId_modelName_alias: { projectId: v.projectId, modelName: v.modelName, alias: CHAMPION } } });
              if ((now?.versionId ?? null) !== v.championWas) throw new ChampionMovedError(v.modelName);
            }
            const last = await tx.modelVersion.findFirst({ where: { projectId: v.projectId, modelName: v.modelName }, orderBy: { version: 'desc' } });
            const version = (last?.version ?? 0) + 1;
            const { count } = await tx.study.updateMany({
              where: { id: v.studyId, state: { in: ACTIVE_STUDY_STATES } },
              data: { state: 'completed', message: v.message(version), endedAt: new Date() },
            });
            if (count === 0) return null;
            const created = await tx.modelVersion.create({
              data: { id: randomUUID(), projectId: v.projectId, modelName: v.modelName, version, studyId: v.studyId, trialId: v.trialId, datasetId: v.datasetId, family: v.family, metrics: JSON.stringify(v.metrics) },
            });
            if (v.moveChampion !== false) {
              await tx.modelAlias.upsert({
                where: { projectId_modelName_alias: { projectId: v.projectId, modelName: v.modelName, alias: CHAMPION } },
                create: { projectId: v.projectId, modelName: v.modelName, alias: CHAMPION, versionId: created.id },
                update: { versionId: created.id },
              });
            }
            return tx.modelVersion.findUniqueOrThrow({ where: { id: created.id }, include: { aliases: true } });
          });
          if (row) changed({ projectId: v.projectId, modelName: v.modelName });
          return row ? toRecord(row) : null;
        } catch (err) {
          // Two studies promoting to one model at once race for the same version number: take the next one.
          if ((err as { code?: string }).code === 'P2002' && attempt < 5) continue;
          throw err;
        }
      }
    },
    /** A project's models by name, `limit` of them after the name `after`. */
    async list(projectId: string, page: { limit: number; after?: string } = { limit: 1000 }): Promise<ModelSummary[]> {
      const names = await db.modelVersion.findMany({
        where: { projectId, ...(page.after !== undefined ? { modelName: { gt: page.after } } : {}) },
        distinct: ['modelName'],
        select: { modelName: true },
        orderBy: { modelName: 'asc' },
        take: page.limit,
      });
      const versions = await db.modelVersion.findMany({
        where: { projectId, modelName: { in: names.map((n) => n.modelName) } },
        include: { aliases: true },
        orderBy: { version: 'asc' },
      });
      const byName = new Map<string, ModelSummary>();
      for (const v of versions) {
        const m = byName.get(v.modelName) ?? { name: v.modelName, versions: 0, latestVersion: 0, aliases: {}, updatedAt: v.createdAt };
        m.versions++;
        m.latestVersion = Math.max(m.latestVersion, v.version);
        if (v.createdAt > m.updatedAt) m.updatedAt = v.createdAt;
        for (const a of v.aliases) m.aliases[a.alias] = v.version;
        byName.set(v.modelName, m);
      }
      return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async versions(projectId: string, modelName: string): Promise<ModelVersionRecord[]> {
      const rows = await db.modelVersion.findMany({ where: { projectId, modelName }, include: { aliases: true }, orderBy: { version: 'asc' } });
      return rows.map(toRecord);
    },
    async version(projectId: string, modelName: string, version: number): Promise<ModelVersionRecord | null> {
      const row = await db.modelVersion.findUnique({ where: { projectId_modelName_version: { projectId, modelName, version } }, include: { aliases: true } });
      return row ? toRecord(row) : null;
    },
    /** The version a study registered, if it did. */
    async ofStudy(studyId: string): Promise<ModelVersionRecord | null> {
      // The latest: a continued study registers a version each time it completes with a new best.
      const row = await db.modelVersion.findFirst({ where: { studyId }, orderBy: { version: 'desc' }, include: { aliases: true } });
      return row ? toRecord(row) : null;
    },
    /**
     * The version an alias points to, with the time the alias last moved (or its routing changed)
     * and its routing, whose versions are looked up (one deleted since is left out); null routing
     * sends every request to the version.
     */
    async byAlias(projectId: string, modelName: string, alias: string): Promise<(ModelVersionRecord & { aliasMovedAt: Date; routing: ResolvedRouting | null }) | null> {
      const a = await db.modelAlias.findUnique({ where: { projectId_modelName_alias: { projectId, modelName, alias } }, include: { version: { include: { aliases: true } } } });
      if (!a) return null;
      const record = { ...toRecord(a.version), aliasMovedAt: a.updatedAt };
      if (a.routing === null) return { ...record, routing: null };
      const routing = parseJson(aliasRoutingSchema, a.routing, `routing of alias '${alias}' of model '${modelName}'`);
      const rows = await db.modelVersion.findMany({ where: { projectId, modelName, version: { in: routedVersions(routing) } }, select: { id: true, version: true } });
      const idOf = new Map(rows.map((r) => [r.version, r.id]));
      const canary = routing.canary.flatMap((c) => (idOf.has(c.version) ? [{ id: idOf.get(c.version)!, version: c.version, weight: c.weight }] : []));
      const shadowId = routing.shadow && idOf.get(routing.shadow.version);
      const shadow = routing.shadow && shadowId ? { id: shadowId, version: routing.shadow.version, share: routing.shadow.share } : null;
      return { ...record, routing: { canary, shadow } };
    },
    /** An alias as it was set: its version's number and its routing (null when it has none); null when the alias does not exist. */
    async aliasSettings(projectId: string, modelName: string, alias: string): Promise<{ version: number; routing: AliasRouting | null; updatedAt: Date } | null> {
      const a = await db.modelAlias.findUnique({ where: { projectId_modelName_alias: { projectId, modelName, alias } }, select: { routing: true, updatedAt: true, version: { select: { version: true } } } });
      if (!a) return null;
      const routing = a.routing === null ? null : parseJson(aliasRoutingSchema, a.routing, `routing of alias '${alias}' of model '${modelName}'`);
      return { version: a.version.version, routing, updatedAt: a.updatedAt };
    },
    /**
     * Points an alias at a version. `routing` replaces the alias's canaries and shadow (null
     * removes them); left out, they stay as they were (a promotion moves only the main version).
     */
    async setAlias(projectId: string, modelName: string, alias: string, versionId: string, routing?: AliasRouting | null): Promise<void> {
      const stored = routing === undefined ? {} : { routing: routing === null || (routing.canary.length === 0 && !routing.shadow) ? null : JSON.stringify(routing) };
      await db.modelAlias.upsert({
        where: { projectId_modelName_alias: { projectId, modelName, alias } },
        create: { projectId, modelName, alias, versionId, ...stored },
        update: { versionId, ...stored },
      });
      changed({ projectId, modelName });
    },
    /** Returns whether the alias existed. */
    async deleteAlias(projectId: string, modelName: string, alias: string): Promise<boolean> {
      const { count } = await db.modelAlias.deleteMany({ where: { projectId, modelName, alias } });
      if (count > 0) changed({ projectId, modelName, deletedAlias: alias });
      return count === 1;
    },
    /**
     * Deletes a version that no alias points to or routes to. Returns 'deleted', 'missing', or the
     * aliases that still point to it (or, `routed`, name it as a canary or shadow); the check and the delete are one transaction, so an alias set
     * meanwhile either blocks the delete or fails on the missing version.
     */
    async deleteVersion(projectId: string, modelName: string, version: number): Promise<'deleted' | 'missing' | { aliases: string[]; routed?: true }> {
      const result = await db.$transaction(async (tx) => {
        const row = await tx.modelVersion.findUnique({ where: { projectId_modelName_version: { projectId, modelName, version } }, include: { aliases: true } });
        if (!row) return 'missing';
        if (row.aliases.length > 0) return { aliases: row.aliases.map((a) => a.alias).sort() };
        // A canary or shadow is served through its alias as much as the alias's own version is.
        const routed = await tx.modelAlias.findMany({ where: { projectId, modelName, routing: { not: null } }, select: { alias: true, routing: true } });
        const routing = routed.filter((a) => routedVersions(parseJson(aliasRoutingSchema, a.routing!, `routing of alias '${a.alias}' of model '${modelName}'`)).includes(version));
        if (routing.length > 0) return { aliases: routing.map((a) => a.alias).sort(), routed: true as const };
        await tx.modelVersion.delete({ where: { id: row.id } });
        return 'deleted' as const;
      });
      if (result === 'deleted') changed({ projectId, modelName, deletedVersion: version });
      return result;
    },
  };
}
