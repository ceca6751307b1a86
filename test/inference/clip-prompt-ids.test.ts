import { describe, expect, it } from "vitest";
import { truncateKeepingEnd } from "../../src/inference/clip/prompt-ids.ts";

const START = 49406;
const END = 49407;

describe("truncateKeepingEnd", () => {
  it("leaves a prompt that fits unchanged", () => {
    expect(truncateKeepingEnd([START, 320, 1125, END], 77, END)).toEqual([START, 320, 1125, END]);
  });

  it("keeps the start, the first tokens and the end token of a long prompt", () => {
    const tokens = Array.from({ length: 100 }, (_, i) => 1000 + i);
    const ids = truncateKeepingEnd([START, ...tokens, END], 77, END);
    expect(ids).toEqual([START, ...tokens.slice(0, 75), END]);
  });

  it("refuses ids that do not end with the end-of-text token, naming both", () => {
    expect(() => truncateKeepingEnd([START, 320], 77, END)).toThrow("did not end the prompt with the end-of-text token 49407 (got 320)");
  });
});
