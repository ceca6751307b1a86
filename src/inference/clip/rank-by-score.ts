/**
 * Ranks of scored samples: rank 1 is the highest score; equal scores rank by sample index, lower
 * first, so a ranking is stable and reproducible.
 */

/** `ranks[i]` is the rank (1-based) of sample i. Scores must be finite numbers. */
export function rankByScore(scores: readonly number[]): number[] {
  const bad = scores.findIndex((score) => !Number.isFinite(score));
  if (bad !== -1) throw new Error(`score ${bad} must be a finite number, got ${scores[bad]}`);
  const order = scores.map((_, index) => index).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const ranks = new Array<number>(scores.length);
  order.forEach((sample, position) => (ranks[sample] = position + 1));
  return ranks;
}
