/**
 * `deleteImage`: removes an image's row and its objects together. The row goes in a transaction
 * that also re-ranks the job's other images and notes the image's keys as pending objects; the
 * objects are then deleted unless another row shares them. A crash in between leaves the note,
 * which the workers' sweep settles.
 */
import { WITHOUT_EMBEDDING, type ImageRow } from "../db/prisma.ts";
import { rankImages } from "./job-attempts.ts";
import { checkId, NotFoundError, type JobPlatform } from "./job-platform.ts";
import { deletePendingObjects, notePendingObjects } from "./pending-objects.ts";

export async function deleteImage(platform: JobPlatform, imageId: string): Promise<ImageRow> {
  checkId(imageId, "image");
  const image = await platform.prisma.$transaction(async (tx) => {
    const found = await tx.image.findUnique({ where: { id: imageId }, omit: WITHOUT_EMBEDDING });
    if (!found) throw new NotFoundError(`No image has the id ${imageId}`);
    await tx.image.delete({ where: { id: imageId } });
    await notePendingObjects(tx, found.jobId, [found.storageKey, found.thumbnailKey]);
    await rankImages(tx, found.jobId);
    return found;
  });
  await deletePendingObjects(platform, image.jobId, [image.storageKey, image.thumbnailKey]);
  return image;
}
