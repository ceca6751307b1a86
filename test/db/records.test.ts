import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "../../src/db/prisma.ts";
import { normalizePromptText } from "../../src/jobs/prompt-text.ts";

let prisma: PrismaClient;

beforeAll(() => {
  prisma = createPrismaClient(inject("databaseUrl"));
});
afterAll(() => prisma.$disconnect());

function newPrompt(text: string) {
  return prisma.prompt.create({ data: { text, normalizedText: normalizePromptText(text) } });
}

function newJob(promptId: string) {
  return prisma.job.create({
    data: {
      promptId,
      samples: 2,
      seed: 2n ** 53n - 1n,
      steps: 20,
      guidanceScale: 7.5,
      width: 512,
      height: 512,
      scheduler: "EULER_ANCESTRAL",
      modelName: "demo-tiny",
      clipModelName: "demo-clip-tiny",
    },
  });
}

function imageData(jobId: string, promptId: string, sampleIndex: number) {
  return {
    jobId,
    promptId,
    sampleIndex,
    seed: 42n + BigInt(sampleIndex),
    clipScore: 31.25,
    rank: sampleIndex + 1,
    width: 512,
    height: 512,
    format: "png",
    storageKey: `images/${jobId}/${sampleIndex}.png`,
    thumbnailKey: `images/${jobId}/${sampleIndex}.webp`,
    byteSize: 123_456,
    sha256: "ab".repeat(32),
    timingsMs: { textEncoder: 12, denoise: 840, vaeDecode: 95 },
  };
}

describe("normalizePromptText", () => {
  it("ignores case, surrounding and repeated whitespace, and Unicode composition", () => {
    expect(normalizePromptText("  A Photo\tof\n\na  CAT ")).toBe("a photo of a cat");
    expect(normalizePromptText("Cafe\u0301")).toBe(normalizePromptText("café"));
  });
});

describe("records", () => {
  it("round-trips a prompt, a job with every parameter, and its images", async () => {
    const prompt = await newPrompt("A Lighthouse at Dusk");
    const job = await newJob(prompt.id);
    await prisma.image.create({ data: imageData(job.id, prompt.id, 0) });

    const stored = await prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { prompt: true, images: true } });
    expect(stored).toMatchObject({
      status: "QUEUED",
      progress: 0,
      attempts: 0,
      seed: 2n ** 53n - 1n,
      guidanceScale: 7.5,
      scheduler: "EULER_ANCESTRAL",
      negativePrompt: null,
      startedAt: null,
    });
    expect(stored.prompt.text).toBe("A Lighthouse at Dusk");
    expect(stored.prompt.normalizedText).toBe("a lighthouse at dusk");
    expect(stored.images).toHaveLength(1);
    expect(stored.images[0]).toMatchObject({ seed: 42n, clipScore: 31.25, timingsMs: { denoise: 840 } });
  });

  it("keeps one prompt per normalized text", async () => {
    await newPrompt("Red  Fox");
    await expect(newPrompt(" red fox")).rejects.toMatchObject({ code: "P2002" });
    expect(await prisma.prompt.count({ where: { normalizedText: "red fox" } })).toBe(1);
  });

  it("keeps one image per (job, sample index)", async () => {
    const prompt = await newPrompt("unique samples");
    const job = await newJob(prompt.id);
    await prisma.image.create({ data: imageData(job.id, prompt.id, 1) });
    const duplicate = { ...imageData(job.id, prompt.id, 1), storageKey: "other.png", thumbnailKey: "other.webp" };
    await expect(prisma.image.create({ data: duplicate })).rejects.toMatchObject({ code: "P2002" });
  });

  it("rejects parameters outside their ranges at the database too", async () => {
    const prompt = await newPrompt("checked");
    await expect(
      prisma.job.create({
        data: { promptId: prompt.id, samples: 0, seed: 1n, steps: 20, guidanceScale: 7.5, width: 512, height: 512, scheduler: "DDIM", modelName: "m", clipModelName: "c" },
      }),
    ).rejects.toThrow(/samples/i);
    await expect(
      prisma.job.create({
        data: { promptId: prompt.id, samples: 1, seed: 1n, steps: 20, guidanceScale: 7.5, width: 500, height: 512, scheduler: "DDIM", modelName: "m", clipModelName: "c" },
      }),
    ).rejects.toThrow(/width/i);
  });

  it("orders a prompt's gallery by CLIP score through its index", async () => {
    const prompt = await newPrompt("gallery order");
    const job = await newJob(prompt.id);
    await prisma.image.createMany({
      data: [0, 1, 2].map((index) => ({ ...imageData(job.id, prompt.id, index), clipScore: [20, 35, 27][index]! })),
    });
    const gallery = await prisma.image.findMany({ where: { promptId: prompt.id }, orderBy: [{ clipScore: "desc" }, { id: "asc" }] });
    expect(gallery.map((image) => image.clipScore)).toEqual([35, 27, 20]);
  });
});
