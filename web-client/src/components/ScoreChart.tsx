import type { ImageCardFragment } from "../generated/graphql.ts";
import { formatScore } from "../format.ts";

/** Dots closer than this (in % of the track) go on separate lanes, so none hides another. */
const MIN_GAP = 9;

/**
 * The job's CLIP scores on one axis, a dot per image labelled with its rank: how far apart the
 * samples are matters more than the numbers (a spread of 0.3 says the ranking is a coin toss).
 */
export function ScoreChart({ images }: { images: ImageCardFragment[] }) {
  const scored = [...images].sort((a, b) => a.clipScore - b.clipScore);
  if (scored.length < 2) return null;
  const min = scored[0]!.clipScore;
  const max = scored.at(-1)!.clipScore;
  const span = max - min;
  const lanes: number[] = [];
  const dots = scored.map((image) => {
    // 6 %–94 %: the end dots stay inside the track.
    const x = span === 0 ? 50 : 6 + (88 * (image.clipScore - min)) / span;
    let lane = lanes.findIndex((lastX) => x - lastX >= MIN_GAP);
    if (lane === -1) lane = lanes.push(x) - 1;
    else lanes[lane] = x;
    return { image, x, lane };
  });
  const byRank = [...images].sort((a, b) => (a.rank ?? 99) - (b.rank ?? 99));
  const description = `CLIP scores: ${byRank.map((image) => `${image.rank ? `#${image.rank} ` : ""}${formatScore(image.clipScore)}`).join(", ")}; spread ${formatScore(span)} points.`;
  return (
    <figure className="score-chart">
      <figcaption>
        <span>CLIP scores</span>
        <span className="muted">spread {formatScore(span)}</span>
      </figcaption>
      <div className="score-track" role="img" aria-label={description} style={{ height: `${lanes.length * 26 + 10}px` }}>
        {dots.map(({ image, x, lane }) => (
          <span key={image.id} className={`score-dot${image.rank === 1 ? " score-dot-best" : ""}`} style={{ left: `${x}%`, top: `${lane * 26 + 5}px` }} title={`#${image.rank ?? "?"}: ${formatScore(image.clipScore)}`}>
            {image.rank ?? "·"}
          </span>
        ))}
      </div>
      <div className="score-axis" aria-hidden="true">
        <span>{formatScore(min)}</span>
        <span>{formatScore(max)}</span>
      </div>
    </figure>
  );
}
