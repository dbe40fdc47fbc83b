-- AlterTable
ALTER TABLE "Trial" ADD COLUMN "rung" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "TrialEpoch" ADD COLUMN "attempt" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "TrialCheckpoint" (
    "trialId" TEXT NOT NULL,
    "epoch" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "weights" BYTEA NOT NULL,
    "optimizer" BYTEA NOT NULL,
    "best" BYTEA NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TrialCheckpoint_pkey" PRIMARY KEY ("trialId")
);

-- CreateTable
CREATE TABLE "TrialRung" (
    "trialId" TEXT NOT NULL,
    "rung" INTEGER NOT NULL,
    "epoch" INTEGER NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "TrialRung_pkey" PRIMARY KEY ("trialId","rung")
);

-- AddForeignKey
ALTER TABLE "TrialCheckpoint" ADD CONSTRAINT "TrialCheckpoint_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TrialRung" ADD CONSTRAINT "TrialRung_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial"("id") ON DELETE CASCADE ON UPDATE CASCADE;
