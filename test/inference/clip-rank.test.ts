import { describe, expect, it } from "vitest";
import { rankByScore } from "../../src/inference/clip/rank-by-score.ts";

describe("rankByScore", () => {
  it("gives rank 1 to the highest score", () => {
    expect(rankByScore([12.5, 30.1, -4, 18])).toEqual([3, 1, 4, 2]);
  });

  it("breaks ties by sample index, lower first", () => {
    expect(rankByScore([5, 7, 5, 7, 5])).toEqual([3, 1, 4, 2, 5]);
  });

  it("handles one and no samples", () => {
    expect(rankByScore([0.3])).toEqual([1]);
    expect(rankByScore([])).toEqual([]);
  });

  it("refuses a score that is not a finite number, naming it", () => {
    expect(() => rankByScore([1, Number.NaN])).toThrow("score 1 must be a finite number, got NaN");
  });
});
