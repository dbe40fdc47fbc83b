-- AlterTable
ALTER TABLE "ModelAlias" ADD COLUMN "routing" TEXT;
