-- CreateTable
CREATE TABLE "Dataset" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "task" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "rows" INTEGER NOT NULL,
    "summary" TEXT NOT NULL,
    "preprocessing" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Dataset_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DatasetData" (
    "datasetId" TEXT NOT NULL,
    "features" BYTEA NOT NULL,
    "labels" BYTEA NOT NULL,

    CONSTRAINT "DatasetData_pkey" PRIMARY KEY ("datasetId")
);

-- CreateTable
CREATE TABLE "Study" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "datasetId" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "config" TEXT NOT NULL,
    "promoteTo" TEXT NOT NULL,
    "message" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" TIMESTAMP(3),

    CONSTRAINT "Study_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Trial" (
    "id" TEXT NOT NULL,
    "studyId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "family" TEXT NOT NULL,
    "params" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "value" DOUBLE PRECISION,
    "metrics" TEXT,
    "epochs" INTEGER NOT NULL DEFAULT 0,
    "bestEpoch" INTEGER,
    "durationMs" INTEGER,
    "backend" TEXT,
    "worker" TEXT,
    "error" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "endedAt" TIMESTAMP(3),

    CONSTRAINT "Trial_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TrialEpoch" (
    "trialId" TEXT NOT NULL,
    "epoch" INTEGER NOT NULL,
    "metrics" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TrialEpoch_pkey" PRIMARY KEY ("trialId","epoch")
);

-- CreateTable
CREATE TABLE "TrialArtifact" (
    "trialId" TEXT NOT NULL,
    "topology" TEXT NOT NULL,
    "weightSpecs" TEXT NOT NULL,
    "weights" BYTEA NOT NULL,

    CONSTRAINT "TrialArtifact_pkey" PRIMARY KEY ("trialId")
);

-- CreateTable
CREATE TABLE "ModelVersion" (
    "id" TEXT NOT NULL,
    "modelName" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "studyId" TEXT NOT NULL,
    "trialId" TEXT NOT NULL,
    "datasetId" TEXT NOT NULL,
    "family" TEXT NOT NULL,
    "metrics" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ModelVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ModelAlias" (
    "modelName" TEXT NOT NULL,
    "alias" TEXT NOT NULL,
    "versionId" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ModelAlias_pkey" PRIMARY KEY ("modelName","alias")
);

-- CreateIndex
CREATE INDEX "Study_state_idx" ON "Study"("state");

-- CreateIndex
CREATE INDEX "Trial_studyId_state_idx" ON "Trial"("studyId", "state");

-- CreateIndex
CREATE UNIQUE INDEX "Trial_studyId_number_key" ON "Trial"("studyId", "number");

-- CreateIndex
CREATE UNIQUE INDEX "ModelVersion_studyId_key" ON "ModelVersion"("studyId");

-- CreateIndex
CREATE UNIQUE INDEX "ModelVersion_modelName_version_key" ON "ModelVersion"("modelName", "version");

-- AddForeignKey
ALTER TABLE "DatasetData" ADD CONSTRAINT "DatasetData_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Study" ADD CONSTRAINT "Study_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Trial" ADD CONSTRAINT "Trial_studyId_fkey" FOREIGN KEY ("studyId") REFERENCES "Study"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TrialEpoch" ADD CONSTRAINT "TrialEpoch_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TrialArtifact" ADD CONSTRAINT "TrialArtifact_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelAlias" ADD CONSTRAINT "ModelAlias_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "ModelVersion"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
