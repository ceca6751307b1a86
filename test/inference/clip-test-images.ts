/**
 * The test images of test/fixtures/clip-scores.json, rebuilt from the same integer formulas as
 * tools/reference/clip_reference.py (`image_from_formula`), so both sides start from equal bytes.
 */
import type { RgbImage } from "../../src/inference/pipeline/decoded-image.ts";

type ChannelFormula = (x: number, y: number, c: number) => number;

const FORMULAS: Readonly<Record<string, ChannelFormula>> = {
  gradient: (x, y, c) => [4 * x, 4 * y, 255 - 2 * (x + y)][c]!,
  checker: (x, y, c) => ((Math.floor(x / 8) + Math.floor(y / 8)) % 2 === 1 ? [230, 40, 90][c]! : [20, 200, 120][c]!),
  texture: (x, y, c) => (x * x * 7 + y * 13 + c * 101 + x * y * 3) % 256,
  stripes: (x, y, c) => [(x * 3 + y) % 256, (y * 5) % 256, ((x ^ y) * 4) % 256][c]!,
  sawtooth: (x, y, c) => (x * 7 + y * 3 + c * 85) % 256,
};

/** The named test image at the given size (the fixture lists name, width and height). */
export function testImage(name: string, width: number, height: number): RgbImage {
  const formula = FORMULAS[name];
  if (formula === undefined) throw new Error(`no test image formula named ${name}`);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = formula(x, y, c);
    }
  }
  return { width, height, data };
}
