-- CreateEnum
CREATE TYPE "JobStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELED');

-- CreateEnum
CREATE TYPE "Scheduler" AS ENUM ('PNDM', 'DDIM', 'EULER', 'EULER_ANCESTRAL', 'DPM_PP_2M', 'DPM_PP_2M_KARRAS', 'LCM');

-- CreateTable
CREATE TABLE "Prompt" (
    "id" UUID NOT NULL,
    "text" TEXT NOT NULL,
    "normalizedText" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Prompt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Job" (
    "id" UUID NOT NULL,
    "promptId" UUID NOT NULL,
    "negativePrompt" TEXT,
    "samples" INTEGER NOT NULL,
    "seed" BIGINT NOT NULL,
    "steps" INTEGER NOT NULL,
    "guidanceScale" DOUBLE PRECISION NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "scheduler" "Scheduler" NOT NULL,
    "modelName" TEXT NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'QUEUED',
    "progress" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "errorMessage" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "workerId" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Image" (
    "id" UUID NOT NULL,
    "jobId" UUID NOT NULL,
    "promptId" UUID NOT NULL,
    "sampleIndex" INTEGER NOT NULL,
    "seed" BIGINT NOT NULL,
    "clipScore" DOUBLE PRECISION NOT NULL,
    "rank" INTEGER NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "format" TEXT NOT NULL,
    "storageKey" TEXT NOT NULL,
    "thumbnailKey" TEXT NOT NULL,
    "byteSize" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "timingsMs" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Image_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Prompt_normalizedText_key" ON "Prompt"("normalizedText");

-- CreateExtension (added by hand: the trigram operator class below comes from pg_trgm, and Prisma's
-- schema only declares extensions under a preview feature)
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- CreateIndex
CREATE INDEX "Prompt_normalizedText_trgm_idx" ON "Prompt" USING GIN ("normalizedText" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "Job_status_createdAt_idx" ON "Job"("status", "createdAt");

-- CreateIndex
CREATE INDEX "Job_createdAt_idx" ON "Job"("createdAt");

-- CreateIndex
CREATE INDEX "Job_promptId_createdAt_idx" ON "Job"("promptId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Image_storageKey_key" ON "Image"("storageKey");

-- CreateIndex
CREATE UNIQUE INDEX "Image_thumbnailKey_key" ON "Image"("thumbnailKey");

-- CreateIndex
CREATE INDEX "Image_promptId_clipScore_id_idx" ON "Image"("promptId", "clipScore" DESC, "id");

-- CreateIndex
CREATE UNIQUE INDEX "Image_jobId_sampleIndex_key" ON "Image"("jobId", "sampleIndex");

-- AddForeignKey
ALTER TABLE "Job" ADD CONSTRAINT "Job_promptId_fkey" FOREIGN KEY ("promptId") REFERENCES "Prompt"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Image" ADD CONSTRAINT "Image_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Image" ADD CONSTRAINT "Image_promptId_fkey" FOREIGN KEY ("promptId") REFERENCES "Prompt"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddCheckConstraints (added by hand: Prisma's schema cannot express CHECK constraints, and its
-- migrations ignore them when comparing the database with the schema)
ALTER TABLE "Job"
    ADD CONSTRAINT "Job_samples_check" CHECK ("samples" >= 1),
    ADD CONSTRAINT "Job_steps_check" CHECK ("steps" >= 1),
    ADD CONSTRAINT "Job_width_check" CHECK ("width" > 0 AND "width" % 8 = 0),
    ADD CONSTRAINT "Job_height_check" CHECK ("height" > 0 AND "height" % 8 = 0),
    ADD CONSTRAINT "Job_guidanceScale_check" CHECK ("guidanceScale" >= 0),
    ADD CONSTRAINT "Job_seed_check" CHECK ("seed" BETWEEN 0 AND 9007199254740991),
    ADD CONSTRAINT "Job_progress_check" CHECK ("progress" BETWEEN 0 AND 1),
    ADD CONSTRAINT "Job_attempts_check" CHECK ("attempts" >= 0);

ALTER TABLE "Image"
    ADD CONSTRAINT "Image_sampleIndex_check" CHECK ("sampleIndex" >= 0),
    ADD CONSTRAINT "Image_rank_check" CHECK ("rank" >= 1),
    ADD CONSTRAINT "Image_byteSize_check" CHECK ("byteSize" >= 0);
