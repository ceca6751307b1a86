import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseParameters } from "../../src/inference/output/generation-parameters-text.ts";
import { readTextChunks } from "../../src/inference/output/png-text-chunks.ts";
import { runCli } from "../support/cli-process.ts";
import { makeTempDir } from "../support/temp-dir.ts";

interface GenerateReport {
  seed: number;
  scheduler: string;
  images: { rank: number; sampleIndex: number; seed: number; clipScore: number; file: string }[];
}

let dataDir: string;
let env: NodeJS.ProcessEnv;

async function generateJson(args: string[]): Promise<GenerateReport> {
  const { code, output } = await runCli(["generate", ...args, "--json"], env);
  expect(code, output).toBe(0);
  return JSON.parse(output.slice(output.indexOf("{\n"))) as GenerateReport;
}

beforeAll(async () => {
  dataDir = await makeTempDir("atelier-generate");
  env = { ATELIER_DATA_DIR: dataDir };
});

describe("atelier generate", () => {
  it("gives byte-identical PNGs for the same seed, other images for another, each with its parameters", async () => {
    const args = ["a lighthouse at dusk", "--samples", "2", "--steps", "6", "--scheduler", "EULER_ANCESTRAL"];
    const first = await generateJson([...args, "--seed", "7", "--out", path.join(dataDir, "a")]);
    const again = await generateJson([...args, "--seed", "7", "--out", path.join(dataDir, "b")]);
    const other = await generateJson([...args, "--seed", "8", "--out", path.join(dataDir, "c")]);

    expect(first.images.map((image) => image.rank)).toEqual([1, 2]);
    expect(first.images.map((image) => image.seed).sort()).toEqual([7, 8]);
    const bytes = (report: GenerateReport, seed: number) => readFileSync(report.images.find((image) => image.seed === seed)!.file);
    expect(bytes(first, 7).equals(bytes(again, 7))).toBe(true);
    expect(bytes(first, 8).equals(bytes(other, 8))).toBe(true); // seed 8 is sample 0 of the second job
    expect(bytes(first, 7).equals(bytes(other, 9))).toBe(false);

    const parameters = parseParameters(readTextChunks(bytes(first, 8)).get("parameters")!);
    expect(parameters.prompt).toBe("a lighthouse at dusk");
    expect(Object.fromEntries(parameters.values)).toMatchObject({ Steps: "6", Sampler: "Euler a", Seed: "8", Size: "64x64", Model: "demo-sd-tiny" });
  });

  it("ranks by CLIP score, best first", async () => {
    const report = await generateJson(["red fox", "--samples", "3", "--steps", "3", "--seed", "100", "--out", path.join(dataDir, "rank")]);
    const scores = report.images.map((image) => image.clipScore);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(report.images.map((image) => image.rank)).toEqual([1, 2, 3]);
  });

  it("labels demo models on stderr", async () => {
    const { output } = await runCli(["generate", "x", "--samples", "1", "--steps", "1", "--out", path.join(dataDir, "label")], env);
    expect(output).toContain("demo-sd-tiny is a generated demo model with random weights");
    expect(output).toMatch(/rank\s+sample\s+seed\s+CLIP score\s+file/);
  });

  it.each([
    [["--samples", "0"], "option '--samples <n>' argument '0' is invalid. must be a whole number between 1 and 64"],
    [["--guidance", "abc"], "option '--guidance <scale>' argument 'abc' is invalid. must be a number between 0 and 100"],
    [["--scheduler", "HEUN"], "argument 'HEUN' is invalid. Allowed choices are PNDM, DDIM, EULER, EULER_ANCESTRAL, DPM_PP_2M, DPM_PP_2M_KARRAS, LCM"],
    [["--width", "72"], "--width must be a multiple of 16 between 16 and 2048 for this model, got 72"],
  ])("rejects %j naming the flag and what is allowed", async (flags, message) => {
    const { code, output } = await runCli(["generate", "a cat", "--steps", "1", ...flags, "--out", path.join(dataDir, "bad")], env);
    expect(code).not.toBe(0);
    expect(output).toContain(message);
  });
});

describe("atelier models", () => {
  it("labels demo models as random weights, in the table and in JSON", async () => {
    const table = await runCli(["models"], env);
    expect(table.code, table.output).toBe(0);
    expect(table.output).toMatch(/demo-sd-tiny\s+demo\s+yes\s+ATELIER_SD_MODEL · DEMO: random weights, images are noise/);
    const listing = JSON.parse((await runCli(["models", "--json"], env)).output) as { name: string; demo: boolean; present: boolean }[];
    expect(listing.find((model) => model.name === "demo-clip-tiny")).toMatchObject({ demo: true, present: true });
  });

  it("makes the demo models in another exporter's layout under a name of their own", async () => {
    const out = path.join(dataDir, "made");
    const made = await runCli(["models", "make-demo", "--out", out, "--exporter", "optimum-1.24", "--dtype", "float16"], env);
    expect(made.code, made.output).toBe(0);
    const marker = JSON.parse(readFileSync(path.join(out, "demo-sd-tiny-optimum-1.24-float16", "demo-model.json"), "utf8")) as Record<string, unknown>;
    expect(marker).toMatchObject({ demo: true, exporter: "optimum-1.24", dtype: "float16" });
    const listed = await runCli(["generate", "x", "--steps", "2", "--samples", "1", "--model", path.join(out, "demo-sd-tiny-optimum-1.24-float16"), "--out", path.join(dataDir, "fp16")], env);
    expect(listed.code, listed.output).toBe(0);
    expect(listed.output).toContain("demo-sd-tiny-optimum-1.24-float16 is a generated demo model with random weights");
  });
});

describe("atelier inspect", () => {
  it("prints the token ids the text encoder gets", async () => {
    const modelDir = path.join(dataDir, "models", "demo-sd-tiny");
    const { code, output } = await runCli(["inspect", "tokenize", "--model", modelDir, "a photo of a cat"], env);
    expect(code, output).toBe(0);
    const ids = JSON.parse(output.trim()) as number[];
    expect(ids).toHaveLength(77);
    const vocab = JSON.parse(readFileSync(path.join(modelDir, "tokenizer", "vocab.json"), "utf8")) as Record<string, number>;
    expect(ids.slice(0, 7)).toEqual(["<|startoftext|>", "a</w>", "photo</w>", "of</w>", "a</w>", "cat</w>", "<|endoftext|>"].map((token) => vocab[token]));
  });

  it("prints diffusers' timesteps and sigmas for a scheduler built from the model's config", async () => {
    const modelDir = path.join(dataDir, "models", "demo-sd-tiny");
    const { code, output } = await runCli(["inspect", "scheduler", "--model", modelDir, "--scheduler", "EULER", "--steps", "20"], env);
    expect(code, output).toBe(0);
    const report = JSON.parse(output.trim()) as { timesteps: number[]; sigmas: number[]; initNoiseSigma: number };
    expect(report.timesteps).toHaveLength(20);
    expect(report.timesteps[0]).toBe(999);
    expect(report.sigmas).toHaveLength(21);
    expect(report.initNoiseSigma).toBeCloseTo(14.614645, 5);
    const pndm = JSON.parse((await runCli(["inspect", "scheduler", "--model", modelDir, "--scheduler", "PNDM", "--steps", "20"], env)).output.trim()) as { timesteps: number[]; sigmas?: unknown };
    expect(pndm.timesteps[0]).toBe(951);
    expect(pndm.sigmas).toBeUndefined();
  });
});
