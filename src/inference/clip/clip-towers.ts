/**
 * The two halves of a CLIP model behind one interface, whatever the folder's layout: the split
 * towers (split-clip-towers.ts) or the combined CLIPModel export (combined-clip-towers.ts). The
 * scorer tokenizes and preprocesses; the towers only turn ids and pixel values into embeddings.
 */
import type { PixelValues } from "./clip-image-processor.ts";

/** Embeddings of one request; their direction is what a CLIP score compares. */
export interface ClipEmbeddings {
  /** The prompt's `text_embeds`, when ids were given. */
  readonly text: Float32Array | undefined;
  /** Each image's `image_embeds`, in the order of the batches and of the images in them. */
  readonly images: Float32Array[];
}

export interface ClipTowers {
  /**
   * Embeds a prompt's ids (when given; batch of one) and the images of every pixel batch. The
   * batches are read one at a time, so they can be made lazily. Embeddings are projected; the
   * split towers return them as computed, the combined export L2-normalized (its graph divides by
   * the norm), which leaves cosines and so scores unchanged.
   */
  embed(ids: readonly number[] | undefined, pixelBatches: Iterable<PixelValues>): Promise<ClipEmbeddings>;
  /** Disposes the sessions. */
  release(): Promise<void>;
}

/** The rows of a [batch, dim] float32 output, each as its own array. */
export function embeddingRows(data: Float32Array, dims: readonly number[], name: string): Float32Array[] {
  const [batch, width] = dims;
  if (dims.length !== 2 || batch === undefined || width === undefined) throw new Error(`${name} must be [batch, dim], got [${dims.join(", ")}]`);
  return Array.from({ length: batch }, (_, row) => data.slice(row * width, (row + 1) * width));
}
