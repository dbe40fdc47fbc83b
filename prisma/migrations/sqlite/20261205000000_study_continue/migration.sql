-- A study can be continued after it completed: its running time is kept across the gap, and it
-- may register a version each time it completes.
ALTER TABLE "Study" ADD COLUMN "resumedAt" DATETIME;
ALTER TABLE "Study" ADD COLUMN "ranSeconds" REAL NOT NULL DEFAULT 0;
DROP INDEX "ModelVersion_studyId_key";
CREATE INDEX "ModelVersion_studyId_idx" ON "ModelVersion"("studyId");
