-- CreateTable
CREATE TABLE "Project" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "maxDatasetBytes" BIGINT,
    "maxRunningStudies" INTEGER,
    "maxTrialsInFlight" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "projectId" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "secretHash" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" DATETIME,
    "revokedAt" DATETIME,
    CONSTRAINT "ApiKey_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- What existed before projects, and what a keyless deployment makes, belongs to "default".
INSERT INTO "Project" ("id", "name") VALUES ('default', 'default');

-- AlterTable
ALTER TABLE "Dataset" ADD COLUMN "projectId" TEXT NOT NULL DEFAULT 'default';
ALTER TABLE "Dataset" ADD COLUMN "bytes" BIGINT NOT NULL DEFAULT 0;
UPDATE "Dataset" SET "bytes" = COALESCE((SELECT length(d."features") + length(d."labels") FROM "DatasetData" d WHERE d."datasetId" = "Dataset"."id"), 0);

-- AlterTable
ALTER TABLE "Study" ADD COLUMN "projectId" TEXT NOT NULL DEFAULT 'default';

-- AlterTable
ALTER TABLE "ModelVersion" ADD COLUMN "projectId" TEXT NOT NULL DEFAULT 'default';

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_ModelAlias" (
    "projectId" TEXT NOT NULL DEFAULT 'default',
    "modelName" TEXT NOT NULL,
    "alias" TEXT NOT NULL,
    "versionId" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL,

    PRIMARY KEY ("projectId", "modelName", "alias"),
    CONSTRAINT "ModelAlias_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "ModelVersion" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "new_ModelAlias" ("modelName", "alias", "versionId", "updatedAt") SELECT "modelName", "alias", "versionId", "updatedAt" FROM "ModelAlias";
DROP TABLE "ModelAlias";
ALTER TABLE "new_ModelAlias" RENAME TO "ModelAlias";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- DropIndex
DROP INDEX "ModelVersion_modelName_version_key";

-- CreateIndex
CREATE UNIQUE INDEX "Project_name_key" ON "Project"("name");

-- CreateIndex
CREATE INDEX "ApiKey_projectId_idx" ON "ApiKey"("projectId");

-- CreateIndex
CREATE INDEX "Dataset_projectId_createdAt_idx" ON "Dataset"("projectId", "createdAt");

-- CreateIndex
CREATE INDEX "Study_projectId_createdAt_idx" ON "Study"("projectId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "ModelVersion_projectId_modelName_version_key" ON "ModelVersion"("projectId", "modelName", "version");
