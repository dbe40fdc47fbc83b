-- AlterTable
ALTER TABLE "Trial" ADD COLUMN "rung" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "TrialEpoch" ADD COLUMN "attempt" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "TrialCheckpoint" (
    "trialId" TEXT NOT NULL PRIMARY KEY,
    "epoch" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "weights" BLOB NOT NULL,
    "optimizer" BLOB NOT NULL,
    "best" BLOB NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "TrialCheckpoint_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "TrialRung" (
    "trialId" TEXT NOT NULL,
    "rung" INTEGER NOT NULL,
    "epoch" INTEGER NOT NULL,
    "value" REAL NOT NULL,

    PRIMARY KEY ("trialId", "rung"),
    CONSTRAINT "TrialRung_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
