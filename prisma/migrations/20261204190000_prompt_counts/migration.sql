-- AlterTable
ALTER TABLE "Prompt" ADD COLUMN     "imageCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "jobCount" INTEGER NOT NULL DEFAULT 0;

-- Backfill (added by hand): the counts of the rows already there.
UPDATE "Prompt" p SET
    "jobCount" = (SELECT count(*) FROM "Job" j WHERE j."promptId" = p.id),
    "imageCount" = (SELECT count(*) FROM "Image" i WHERE i."promptId" = p.id);

-- CreateTrigger (added by hand: Prisma's schema cannot express triggers). Every path that adds or
-- removes a Job or Image row (the worker, deleteImage, deleteJob's cascade, bulk SQL) keeps the
-- counts, in the same transaction as the row.
CREATE FUNCTION "Prompt_count_rows"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    counted text := CASE TG_TABLE_NAME WHEN 'Job' THEN 'jobCount' ELSE 'imageCount' END;
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('UPDATE "Prompt" SET %I = %I + 1 WHERE id = $1', counted, counted) USING NEW."promptId";
    ELSE
        EXECUTE format('UPDATE "Prompt" SET %I = %I - 1 WHERE id = $1', counted, counted) USING OLD."promptId";
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER "Job_count_in_Prompt" AFTER INSERT OR DELETE ON "Job" FOR EACH ROW EXECUTE FUNCTION "Prompt_count_rows"();
CREATE TRIGGER "Image_count_in_Prompt" AFTER INSERT OR DELETE ON "Image" FOR EACH ROW EXECUTE FUNCTION "Prompt_count_rows"();

ALTER TABLE "Prompt"
    ADD CONSTRAINT "Prompt_jobCount_check" CHECK ("jobCount" >= 0),
    ADD CONSTRAINT "Prompt_imageCount_check" CHECK ("imageCount" >= 0);
