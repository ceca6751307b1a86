import { describe, expect, it } from "vitest";
import { parsePythonJson } from "../../src/inference/models/python-json.ts";

describe("parsePythonJson", () => {
  it("reads the non-finite numbers Python's json module writes", () => {
    expect(parsePythonJson('{"lambda_min_clipped": -Infinity, "a": Infinity, "b": [NaN, 1.5]}')).toEqual({
      lambda_min_clipped: Number.NEGATIVE_INFINITY,
      a: Number.POSITIVE_INFINITY,
      b: [Number.NaN, 1.5],
    });
  });

  it("leaves the same words inside strings alone", () => {
    expect(parsePythonJson('{"note": "NaN and -Infinity \\" NaN", "x": 1}')).toEqual({ note: 'NaN and -Infinity " NaN', x: 1 });
  });

  it("still rejects malformed JSON", () => {
    expect(() => parsePythonJson('{"a": }')).toThrow(SyntaxError);
  });
});
