/**
 * A worker's two frequent writes on PostgreSQL, each as one statement: writable CTEs make the
 * guarded trial update and the rows that go with it one round trip, and one statement is atomic
 * on its own. Prisma's interactive transaction for the same writes takes five round trips for an
 * epoch (BEGIN, three statements, COMMIT) and four for a result, and on a busy machine each round
 * trip costs a few milliseconds of a trial slot's time. SQLite has no writable CTEs and no network
 * between the process and the database, so it keeps the transactions (src/storage/trials.ts).
 *
 * Column lists follow prisma/models.prisma; the repository tests run these on PostgreSQL and the
 * transactions on SQLite against the same expectations.
 */
import type { EpochMetrics, TrainCheckpoint } from '../domain.ts';
import type { Db } from './db.ts';
import { ACTIVE_STUDY_STATES } from './studies.ts';

/** Constants of the code, never input: safe to write into the statement. */
const ACTIVE_STUDY = ACTIVE_STUDY_STATES.map((s) => `'${s}'`).join(', ');

async function changed(db: Db, sql: string, params: unknown[]): Promise<boolean> {
  const rows = await db.$queryRawUnsafe<{ n: number }[]>(sql, ...params);
  return (rows[0]?.n ?? 0) > 0;
}

const RECORD_EPOCH = `
WITH t AS (
  UPDATE "Trial" SET "epochs" = $3, "value" = $4, "bestEpoch" = $5, "metrics" = $6, "reportedAt" = $7
  WHERE "id" = $1 AND "state" = 'running' AND "attempts" = $2
    AND EXISTS (SELECT 1 FROM "Study" s WHERE s."id" = "Trial"."studyId" AND s."state" IN (${ACTIVE_STUDY}))
  RETURNING "id"
), e AS (
  INSERT INTO "TrialEpoch" ("trialId", "epoch", "metrics", "attempt", "createdAt")
  SELECT "id", $3, $8, $2, $7 FROM t
  ON CONFLICT ("trialId", "epoch") DO UPDATE SET "attempt" = EXCLUDED."attempt", "metrics" = EXCLUDED."metrics"
), c AS (
  INSERT INTO "TrialCheckpoint" ("trialId", "epoch", "state", "weights", "optimizer", "best", "updatedAt")
  SELECT "id", $9, $10, $11, $12, $13, $7 FROM t WHERE $9::int IS NOT NULL
  ON CONFLICT ("trialId") DO UPDATE SET "epoch" = EXCLUDED."epoch", "state" = EXCLUDED."state", "weights" = EXCLUDED."weights",
    "optimizer" = EXCLUDED."optimizer", "best" = EXCLUDED."best", "updatedAt" = EXCLUDED."updatedAt"
)
SELECT count(*)::int AS n FROM t`;

/** trials.recordEpoch on PostgreSQL: the same guard and rows, in one statement. */
export function recordEpochPg(
  db: Db,
  id: string,
  attempt: number,
  epoch: number,
  metrics: EpochMetrics,
  best: { value: number; epoch: number; metrics: EpochMetrics },
  checkpoint: ReturnType<typeof checkpointRow> | undefined,
): Promise<boolean> {
  return changed(db, RECORD_EPOCH, [
    id,
    attempt,
    epoch,
    best.value,
    best.epoch,
    JSON.stringify(best.metrics),
    new Date(),
    JSON.stringify(metrics),
    checkpoint?.epoch ?? null,
    checkpoint?.state ?? null,
    checkpoint?.weights ?? null,
    checkpoint?.optimizer ?? null,
    checkpoint?.best ?? null,
  ]);
}

const COMPLETE = `
WITH t AS (
  UPDATE "Trial" SET "state" = $3, "value" = $4, "metrics" = $5, "epochs" = $6, "bestEpoch" = $7, "durationMs" = $8, "endedAt" = $9, "error" = $10
  WHERE "id" = $1 AND "state" = 'running' AND "attempts" = $2
  RETURNING "id"
), a AS (
  INSERT INTO "TrialArtifact" ("trialId", "topology", "weightSpecs", "weights")
  SELECT "id", $11, $12, $13 FROM t
  ON CONFLICT ("trialId") DO UPDATE SET "topology" = EXCLUDED."topology", "weightSpecs" = EXCLUDED."weightSpecs", "weights" = EXCLUDED."weights"
)
SELECT count(*)::int AS n FROM t`;

/** trials.complete on PostgreSQL: the same guard and rows, in one statement. */
export function completePg(
  db: Db,
  id: string,
  attempt: number,
  r: { state: 'completed' | 'pruned'; value: number; metrics: EpochMetrics; epochs: number; bestEpoch: number; durationMs: number; error: string | null },
  artifact: { topology: string; weightSpecs: string; weights: Uint8Array },
): Promise<boolean> {
  return changed(db, COMPLETE, [
    id,
    attempt,
    r.state,
    r.value,
    JSON.stringify(r.metrics),
    r.epochs,
    r.bestEpoch,
    r.durationMs,
    new Date(),
    r.error,
    artifact.topology,
    artifact.weightSpecs,
    artifact.weights,
  ]);
}

/** The TrialCheckpoint columns of a checkpoint, as both paths store them. */
export function checkpointRow(cp: TrainCheckpoint) {
  return {
    epoch: cp.epoch,
    state: JSON.stringify({ bestEpoch: cp.bestEpoch, bestMetrics: cp.bestMetrics, stopper: cp.stopper }),
    weights: cp.weights as Uint8Array<ArrayBuffer>,
    optimizer: cp.optimizer as Uint8Array<ArrayBuffer>,
    best: cp.best as Uint8Array<ArrayBuffer>,
  };
}
