import path from "node:path";
import { describe, expect, it } from "vitest";
import { ModelReferenceError, parseModelReference } from "../../src/models/model-reference.ts";
import { makeTempDir } from "../support/temp-dir.ts";

describe("parseModelReference", () => {
  const modelsDir = "/data/models";

  it("names demo models, which live in the models folder", () => {
    expect(parseModelReference("demo-sd-tiny", modelsDir)).toEqual({
      kind: "demo",
      name: "demo-sd-tiny",
      family: "stable-diffusion",
      preset: "tiny",
      dir: "/data/models/demo-sd-tiny",
    });
    expect(parseModelReference("demo-clip-small", modelsDir)).toMatchObject({ kind: "demo", family: "clip", preset: "small" });
  });

  it("takes an existing folder as it is", async () => {
    const dir = await makeTempDir("atelier-model-folder");
    expect(parseModelReference(dir, modelsDir)).toEqual({ kind: "folder", name: path.basename(dir), dir });
  });

  it("maps a Hugging Face repo id under models/hub", () => {
    expect(parseModelReference("Xenova/clip-vit-base-patch32", modelsDir)).toEqual({
      kind: "hub",
      name: "Xenova/clip-vit-base-patch32",
      repo: "Xenova/clip-vit-base-patch32",
      dir: "/data/models/hub/Xenova/clip-vit-base-patch32",
    });
  });

  it("explains what is allowed for anything else", () => {
    expect(() => parseModelReference("not a model!", modelsDir)).toThrow(ModelReferenceError);
    expect(() => parseModelReference("./missing", modelsDir)).toThrow(
      /is not a model folder, a Hugging Face repo id \(org\/name\) or a demo model \(demo-sd-tiny, demo-sd-small, demo-clip-tiny, demo-clip-small\)/,
    );
  });
});
