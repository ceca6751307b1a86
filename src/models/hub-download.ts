/**
 * Downloads a model repository from the Hugging Face Hub (or a mirror at HF_ENDPOINT) into a local
 * folder: only the files Atelier runs (ONNX graphs, their external weights, configs, tokenizers), each
 * written to a `.part` file and renamed when complete, so an interrupted pull leaves no file that
 * looks whole. Files already present with the right size are skipped, so a pull can be resumed.
 */
import { createWriteStream, existsSync, statSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { UserFacingError } from "../errors.ts";

export interface PullOptions {
  /** Hub base URL, e.g. https://huggingface.co. */
  endpoint: string;
  /** Access token for gated or private repos. */
  token?: string | undefined;
  /** Branch, tag or commit. @default "main" */
  revision?: string;
  /** Called as bytes arrive. */
  onProgress?: (progress: PullProgress) => void;
  signal?: AbortSignal;
}

export interface PullProgress {
  file: string;
  /** Bytes of all selected files received so far, and their total. */
  bytes: number;
  totalBytes: number;
}

/** Thrown when the hub cannot be reached or refuses; the message says how to get the files by hand. */
export class HubDownloadError extends UserFacingError {
  override readonly name = "HubDownloadError";
}

interface RepoFile {
  rfilename: string;
  size?: number;
}

/** Weights in formats Atelier does not run: never downloaded. */
const SKIPPED = /\.(bin|safetensors|ckpt|pt|pth|msgpack|h5|gguf)$/i;
/** transformers.js repos keep quantized and half-precision copies beside each float32 graph in onnx/. */
const ONNX_VARIANT = /_(fp16|quantized|int8|uint8|q4|q4f16|bnb4)\.onnx(_data)?$/;
/** A CLIP repo with split towers needs no combined onnx/model.onnx. */
const CLIP_TOWER = /^onnx\/(text_model|vision_model)\.onnx$/;

export async function pullRepository(repo: string, destination: string, options: PullOptions): Promise<{ files: string[] }> {
  const revision = options.revision ?? "main";
  const listing = await hubFetch(`${options.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`, repo, destination, options);
  const { siblings } = (await listing.json()) as { siblings: RepoFile[] };
  const wanted = selectFiles(siblings);
  if (wanted.length === 0) throw new HubDownloadError(`${repo} (revision ${revision}) has no ONNX model files Atelier can run`);
  const totalBytes = wanted.reduce((sum, file) => sum + (file.size ?? 0), 0);
  let bytes = 0;
  for (const file of wanted) {
    const target = path.join(destination, file.rfilename);
    if (file.size !== undefined && existsSync(target) && statSync(target).size === file.size) {
      bytes += file.size;
      continue;
    }
    const url = `${options.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${file.rfilename}`;
    await downloadFile(url, target, repo, destination, options, (received) => {
      bytes += received;
      options.onProgress?.({ file: file.rfilename, bytes, totalBytes });
    });
  }
  return { files: wanted.map((file) => file.rfilename) };
}

/**
 * Stable Diffusion repos: everything but PyTorch weights. transformers.js repos (CLIP): configs,
 * tokenizer and the float32 graphs in onnx/ (the split towers when there are some, else the combined model).
 */
export function selectFiles(siblings: RepoFile[]): RepoFile[] {
  const hasTowers = siblings.some((file) => CLIP_TOWER.test(file.rfilename));
  return siblings.filter(({ rfilename: name }) => {
    if (SKIPPED.test(name) || name.startsWith(".")) return false;
    if (name.startsWith("onnx/") && (ONNX_VARIANT.test(name) || (hasTowers && /^onnx\/model\.onnx/.test(name)))) return false;
    return name.endsWith(".json") || name.endsWith(".txt") || /\.(onnx|onnx_data|pb)$/.test(name);
  });
}

async function downloadFile(
  url: string,
  target: string,
  repo: string,
  destination: string,
  options: PullOptions,
  onBytes: (count: number) => void,
): Promise<void> {
  const response = await hubFetch(url, repo, destination, options);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const partial = `${target}.part`;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(response.body as never), counter, createWriteStream(partial), { signal: options.signal });
  await fs.rename(partial, target);
}

async function hubFetch(url: string, repo: string, destination: string, options: PullOptions): Promise<Response> {
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  let response: Response;
  try {
    response = await fetch(url, { headers, redirect: "follow", signal: options.signal });
  } catch (error) {
    throw new HubDownloadError(
      `Cannot reach ${options.endpoint} to download ${repo}: ${describeFetchError(error)}. ` +
        `On a machine with internet access, download the repo (for example \`huggingface-cli download ${repo} --local-dir ${repo.split("/")[1]}\`) ` +
        `and copy the folder to ${destination}, or point the model setting at the folder.`,
    );
  }
  if (!response.ok) {
    const hint = response.status === 401 || response.status === 403 ? " (gated or private: set HF_TOKEN)" : response.status === 404 ? " (no such repo, revision or file)" : "";
    throw new HubDownloadError(`${options.endpoint} answered ${response.status} for ${url}${hint}`);
  }
  return response;
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
