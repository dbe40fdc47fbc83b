-- CreateTable
CREATE TABLE "Project" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "maxDatasetBytes" BIGINT,
    "maxRunningStudies" INTEGER,
    "maxTrialsInFlight" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Project_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "secretHash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- What existed before projects, and what a keyless deployment makes, belongs to "default".
INSERT INTO "Project" ("id", "name") VALUES ('default', 'default');

-- AlterTable
ALTER TABLE "Dataset" ADD COLUMN "projectId" TEXT NOT NULL DEFAULT 'default',
ADD COLUMN "bytes" BIGINT NOT NULL DEFAULT 0;

UPDATE "Dataset" SET "bytes" = COALESCE((SELECT octet_length(d."features") + octet_length(d."labels") FROM "DatasetData" d WHERE d."datasetId" = "Dataset"."id"), 0);

-- AlterTable
ALTER TABLE "Study" ADD COLUMN "projectId" TEXT NOT NULL DEFAULT 'default';

-- AlterTable
ALTER TABLE "ModelVersion" ADD COLUMN "projectId" TEXT NOT NULL DEFAULT 'default';

-- AlterTable
ALTER TABLE "ModelAlias" DROP CONSTRAINT "ModelAlias_pkey",
ADD COLUMN "projectId" TEXT NOT NULL DEFAULT 'default',
ADD CONSTRAINT "ModelAlias_pkey" PRIMARY KEY ("projectId", "modelName", "alias");

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

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;
