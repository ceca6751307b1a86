/**
 * `pullRepository` against a Hugging Face Hub stand-in served on loopback: real HTTP, the hub's
 * listing and resolve URLs, and the failure modes a user meets (offline, gated, missing).
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HubDownloadError, pullRepository, selectFiles } from "../../src/models/hub-download.ts";
import { freePort } from "../support/free-port.ts";
import { makeTempDir } from "../support/temp-dir.ts";

const FILES: Record<string, string> = {
  "model_index.json": '{"_class_name": "StableDiffusionPipeline"}',
  "scheduler/scheduler_config.json": '{"_class_name": "PNDMScheduler"}',
  "tokenizer/merges.txt": "#version: 0.2\na b\n",
  "unet/model.onnx": "onnx-graph-bytes".repeat(1000),
  "unet/model.onnx_data": "weights".repeat(5000),
  "unet/diffusion_pytorch_model.safetensors": "pytorch weights Atelier never runs",
  ".gitattributes": "*.onnx filter=lfs",
};

let server: http.Server;
let endpoint: string;
const requests: string[] = [];

beforeAll(async () => {
  server = http.createServer((request, response) => {
    requests.push(`${request.method} ${request.url} ${request.headers.authorization ?? ""}`.trim());
    const url = new URL(request.url!, "http://hub");
    if (url.pathname.startsWith("/api/models/gated/")) return void response.writeHead(401).end();
    if (url.pathname === "/api/models/org/sd-onnx/revision/main") {
      const siblings = Object.entries(FILES).map(([rfilename, content]) => ({ rfilename, size: Buffer.byteLength(content) }));
      return void response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ siblings }));
    }
    const file = /^\/org\/sd-onnx\/resolve\/main\/(.+)$/.exec(url.pathname)?.[1];
    if (file && FILES[file] !== undefined) return void response.writeHead(200).end(FILES[file]);
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("pullRepository", () => {
  it("downloads the files Atelier runs, with progress, and skips PyTorch weights", async () => {
    const destination = path.join(await makeTempDir("atelier-pull"), "org", "sd-onnx");
    const progress: number[] = [];
    const { files } = await pullRepository("org/sd-onnx", destination, { endpoint, token: "hf_secret", onProgress: (p) => progress.push(p.bytes) });
    expect(files.sort()).toEqual(["model_index.json", "scheduler/scheduler_config.json", "tokenizer/merges.txt", "unet/model.onnx", "unet/model.onnx_data"]);
    for (const file of files) expect(readFileSync(path.join(destination, file), "utf8")).toBe(FILES[file]);
    expect(existsSync(path.join(destination, "unet/diffusion_pytorch_model.safetensors"))).toBe(false);
    expect(readdirSync(path.join(destination, "unet")).filter((name) => name.endsWith(".part"))).toEqual([]);
    expect(progress.at(-1)).toBe(files.reduce((sum, file) => sum + Buffer.byteLength(FILES[file]!), 0));
    expect(requests.filter((line) => line.includes("/resolve/")).every((line) => line.endsWith("Bearer hf_secret"))).toBe(true);
  });

  it("skips files already complete, so an interrupted pull resumes", async () => {
    const destination = path.join(await makeTempDir("atelier-pull-again"), "repo");
    await pullRepository("org/sd-onnx", destination, { endpoint });
    requests.length = 0;
    await pullRepository("org/sd-onnx", destination, { endpoint });
    expect(requests.filter((line) => line.includes("/resolve/"))).toEqual([]);
  });

  it("says how to get a gated repo", async () => {
    const attempt = pullRepository("gated/model", await makeTempDir("atelier-gated"), { endpoint });
    await expect(attempt).rejects.toBeInstanceOf(HubDownloadError);
    await expect(attempt).rejects.toThrow("answered 401");
    await expect(attempt).rejects.toThrow("set HF_TOKEN");
  });

  it("says how to download by hand when the hub cannot be reached", async () => {
    const closedPort = await freePort();
    const destination = await makeTempDir("atelier-offline");
    const attempt = pullRepository("org/sd-onnx", destination, { endpoint: `http://127.0.0.1:${closedPort}` });
    await expect(attempt).rejects.toThrow(`Cannot reach http://127.0.0.1:${closedPort} to download org/sd-onnx: ECONNREFUSED`);
    await expect(attempt).rejects.toThrow(`copy the folder to ${destination}`);
  });
});

describe("selectFiles", () => {
  it("keeps the float32 combined model of a CLIP repo without split towers", () => {
    const names = ["config.json", "onnx/model.onnx", "onnx/model_quantized.onnx", "onnx/model_fp16.onnx", "model.safetensors"];
    expect(selectFiles(names.map((rfilename) => ({ rfilename }))).map((file) => file.rfilename)).toEqual(["config.json", "onnx/model.onnx"]);
  });

  it("keeps only the float32 towers of a transformers.js CLIP repo", () => {
    const names = ["config.json", "tokenizer.json", "preprocessor_config.json", "onnx/model.onnx", "onnx/text_model.onnx", "onnx/vision_model.onnx", "onnx/text_model_quantized.onnx", "onnx/vision_model_fp16.onnx", "pytorch_model.bin"];
    expect(selectFiles(names.map((rfilename) => ({ rfilename }))).map((file) => file.rfilename)).toEqual([
      "config.json",
      "tokenizer.json",
      "preprocessor_config.json",
      "onnx/text_model.onnx",
      "onnx/vision_model.onnx",
    ]);
  });
});
