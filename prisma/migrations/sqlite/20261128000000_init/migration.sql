-- CreateTable
CREATE TABLE "Dataset" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "task" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "rows" INTEGER NOT NULL,
    "summary" TEXT NOT NULL,
    "preprocessing" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "DatasetData" (
    "datasetId" TEXT NOT NULL PRIMARY KEY,
    "features" BLOB NOT NULL,
    "labels" BLOB NOT NULL,
    CONSTRAINT "DatasetData_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Study" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "datasetId" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "config" TEXT NOT NULL,
    "promoteTo" TEXT NOT NULL,
    "message" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" DATETIME,
    CONSTRAINT "Study_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Trial" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "studyId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "family" TEXT NOT NULL,
    "params" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "value" REAL,
    "metrics" TEXT,
    "epochs" INTEGER NOT NULL DEFAULT 0,
    "bestEpoch" INTEGER,
    "durationMs" INTEGER,
    "backend" TEXT,
    "worker" TEXT,
    "error" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "endedAt" DATETIME,
    CONSTRAINT "Trial_studyId_fkey" FOREIGN KEY ("studyId") REFERENCES "Study" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "TrialEpoch" (
    "trialId" TEXT NOT NULL,
    "epoch" INTEGER NOT NULL,
    "metrics" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("trialId", "epoch"),
    CONSTRAINT "TrialEpoch_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "TrialArtifact" (
    "trialId" TEXT NOT NULL PRIMARY KEY,
    "topology" TEXT NOT NULL,
    "weightSpecs" TEXT NOT NULL,
    "weights" BLOB NOT NULL,
    CONSTRAINT "TrialArtifact_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ModelVersion" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "modelName" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "studyId" TEXT NOT NULL,
    "trialId" TEXT NOT NULL,
    "datasetId" TEXT NOT NULL,
    "family" TEXT NOT NULL,
    "metrics" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "ModelAlias" (
    "modelName" TEXT NOT NULL,
    "alias" TEXT NOT NULL,
    "versionId" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL,

    PRIMARY KEY ("modelName", "alias"),
    CONSTRAINT "ModelAlias_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "ModelVersion" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
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
