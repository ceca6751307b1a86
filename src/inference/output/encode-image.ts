/**
 * Finished samples as files: a full-size PNG carrying its generation parameters, and a small WebP
 * thumbnail for galleries.
 */
import sharp from "sharp";
import type { RgbImage } from "../pipeline/decoded-image.ts";
import { formatParameters, type ImageParameters } from "./generation-parameters-text.ts";
import { addTextChunk } from "./png-text-chunks.ts";

/** Longest side of a thumbnail, in pixels. */
export const THUMBNAIL_SIZE = 256;

export async function encodePng(image: RgbImage, parametersText: string): Promise<Buffer> {
  const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).png().toBuffer();
  return addTextChunk(png, "parameters", parametersText);
}

export async function encodeThumbnail(image: RgbImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize({ width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE, fit: "inside", withoutEnlargement: true })
    .webp({ quality: 80 })
    .toBuffer();
}

/** A sample's two files: the PNG with its generation parameters, and the thumbnail, encoded at once. */
export async function encodeSampleFiles(image: RgbImage, parameters: ImageParameters): Promise<{ png: Buffer; thumbnail: Buffer }> {
  const [png, thumbnail] = await Promise.all([encodePng(image, formatParameters(parameters)), encodeThumbnail(image)]);
  return { png, thumbnail };
}
