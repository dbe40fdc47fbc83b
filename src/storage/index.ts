import { datasetStore } from './datasets.ts';
import { openDatabase, type Db } from './db.ts';
import { providerOf } from './url.ts';
import { modelStore } from './models.ts';
import { keyStore, projectStore } from './projects.ts';
import { studyStore } from './studies.ts';
import { trialStore } from './trials.ts';

export { migrate } from './migrate.ts';
export { providerOf } from './url.ts';
export type { Db } from './db.ts';
export type { DatasetRecord, NewDataset } from './datasets.ts';
export type { StudyRecord } from './studies.ts';
export type { TrialRecord, TrialSummary, EpochRecord, BestSoFar } from './trials.ts';
export type { ModelChange, ModelVersionRecord, ModelSummary } from './models.ts';
export { CHAMPION, ChampionMovedError } from './models.ts';
export { aliasRoutingSchema, aliasRoutingShape, checkRouting, MAX_CANARIES, routedVersions, type AliasRouting, type ResolvedRouting, type RoutedVersion } from './alias-routing.ts';
export { DEFAULT_PROJECT, type ApiKeyRecord, type ProjectRecord, type ProjectUsage } from './projects.ts';
export { ACTIVE_TRIAL_STATES, UNFINISHED_TRIAL_STATES, type RungRecord } from './trials.ts';
export { ACTIVE_STUDY_STATES, runningSeconds, timeLimitReached } from './studies.ts';
export { createDbRetry, isUnavailable, type DbRetry, type DbRetryOptions } from './retry.ts';

/** Every table, grouped by resource, over one Prisma client. */
export interface Repository {
  db: Db;
  datasets: ReturnType<typeof datasetStore>;
  studies: ReturnType<typeof studyStore>;
  trials: ReturnType<typeof trialStore>;
  models: ReturnType<typeof modelStore>;
  projects: ReturnType<typeof projectStore>;
  keys: ReturnType<typeof keyStore>;
  /** Answers when the database takes a query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createRepository(url: string): Repository {
  const db = openDatabase(url);
  return {
    db,
    datasets: datasetStore(db, providerOf(url)),
    studies: studyStore(db),
    trials: trialStore(db, providerOf(url)),
    models: modelStore(db),
    projects: projectStore(db),
    keys: keyStore(db),
    ping: async () => {
      await db.$queryRawUnsafe('SELECT 1');
    },
    close: () => db.$disconnect(),
  };
}
