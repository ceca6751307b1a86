-- DropIndex
DROP INDEX "Image_storageKey_key";

-- DropIndex
DROP INDEX "Image_thumbnailKey_key";

-- AlterTable
ALTER TABLE "Image" ADD COLUMN     "clipEmbedding" REAL[],
ALTER COLUMN "rank" DROP NOT NULL;

-- AlterTable
-- (clipModelName gets a default only while the column is added, so rows from 0.1.0 keep a value.)
ALTER TABLE "Job" ADD COLUMN     "clipModelName" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "heartbeatAt" TIMESTAMPTZ(3),
ADD COLUMN     "notes" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- CreateTable
CREATE TABLE "PendingObject" (
    "jobId" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PendingObject_pkey" PRIMARY KEY ("jobId","key")
);

-- CreateIndex
CREATE INDEX "Image_storageKey_idx" ON "Image"("storageKey");

-- CreateIndex
CREATE INDEX "Image_thumbnailKey_idx" ON "Image"("thumbnailKey");

-- AddForeignKey
ALTER TABLE "PendingObject" ADD CONSTRAINT "PendingObject_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "Job" ALTER COLUMN "clipModelName" DROP DEFAULT;
