/**
 * The CLIP score of an image for a prompt: 100 × the cosine similarity of their embeddings (what
 * CLIPModel's logits are before the learned temperature), so it reads the same for every model.
 */

/** 100 × cosine similarity, accumulated in float64. */
export function clipScore(text: ArrayLike<number>, image: ArrayLike<number>): number {
  if (text.length !== image.length) throw new Error(`embedding sizes differ: text ${text.length}, image ${image.length}`);
  let dot = 0;
  let textNorm = 0;
  let imageNorm = 0;
  for (let i = 0; i < text.length; i++) {
    dot += text[i]! * image[i]!;
    textNorm += text[i]! * text[i]!;
    imageNorm += image[i]! * image[i]!;
  }
  return (100 * dot) / Math.sqrt(textNorm * imageNorm);
}
