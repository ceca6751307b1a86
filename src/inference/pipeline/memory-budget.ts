/**
 * How much memory one batch of a job needs on top of the loaded weights, and the largest batch that
 * fits in what the machine has free: a job is split into smaller batches, or refused before anything
 * runs, instead of being killed halfway by the kernel's out-of-memory killer.
 *
 * The estimate follows where the memory goes at SD sizes. In the UNet, self-attention at full latent
 * resolution has the biggest tensors: a tokens × tokens score matrix per batch row and head (4096²
 * at 512×512). The CPU loader slices that attention (src/inference/ort/sliced-attention.ts), so one
 * row's scores and their softmax are live at a time, whatever the batch and the heads; the rest of
 * the UNet's activations grow with tokens and rows. The VAE decoder, which decodes one image at a
 * time, holds a few full-resolution feature maps of its widest block. The factors were measured on the sd15 preset with
 * onnxruntime's CPU provider (bench/real-scale.ts: peak RSS while running minus after loading).
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import { UserFacingError } from "../../errors.ts";

/** What the estimate reads from a model's configs and sessions. */
export interface MemoryShape {
  /** Whether the UNet's first (full-resolution) block has attention. */
  readonly fullResolutionAttention: boolean;
  /** Channels of the UNet's first block (block_out_channels[0]). */
  readonly unetChannels: number;
  /** Channels of the VAE decoder's last, full-resolution block (block_out_channels[0]). */
  readonly vaeChannels: number;
  /** Image pixels per latent pixel. */
  readonly vaeScaleFactor: number;
  /** Bytes per activation value: 4 for fp32 exports, 2 for fp16. */
  readonly elementBytes: number;
}

/** Live tokens × tokens matrices in one sliced UNet attention: a row's scores and their softmax. */
const ATTENTION_MATRICES = 2;
/** UNet activations other than attention scores, in first-block feature maps (tokens × channels). */
const UNET_FEATURE_MAPS = 40;
/** Full-resolution feature maps the VAE decoder holds per image. */
const VAE_FEATURE_MAPS = 8;
/** Left free for everything else (the tokenizer, JS heap, image encoding, other processes' growth). */
const HEADROOM_BYTES = 512 * 2 ** 20;

/**
 * Bytes one batch needs beyond the weights: the UNet on `unetRows` rows (2 × samples with
 * classifier-free guidance), plus the VAE decoding one image; both sessions' arenas stay allocated.
 */
export function batchMemoryBytes(shape: MemoryShape, width: number, height: number, samples: number, guided: boolean): number {
  const tokens = (width / shape.vaeScaleFactor) * (height / shape.vaeScaleFactor);
  const unetRows = guided ? 2 * samples : samples;
  const attention = shape.fullResolutionAttention ? ATTENTION_MATRICES * tokens * tokens : 0;
  const features = UNET_FEATURE_MAPS * shape.unetChannels * tokens;
  const vae = VAE_FEATURE_MAPS * shape.vaeChannels * width * height;
  return (attention + unetRows * features + vae) * shape.elementBytes;
}

/** What the estimate of a whole job reads: the batch's shape and the weights a worker loads. */
export interface ModelMemory {
  readonly shape: MemoryShape;
  /** Bytes of the model's ONNX files (graphs and external weights) that a worker loads. */
  readonly weightBytes: number;
}

/**
 * The least memory a worker needs to run a job at all: the model's weights, a batch of one sample,
 * and the headroom. Jobs that need more are refused when submitted (src/jobs/job-limits.ts).
 */
export function leastJobMemoryBytes(memory: ModelMemory, request: { width: number; height: number }, guided: boolean): number {
  return memory.weightBytes + batchMemoryBytes(memory.shape, request.width, request.height, 1, guided) + HEADROOM_BYTES;
}

/** Thrown before anything runs when even one sample per batch would not fit. */
export class InsufficientMemoryError extends UserFacingError {
  override readonly name = "InsufficientMemoryError";
}

/**
 * The largest batch size up to `wanted` whose batch fits in `availableBytes`; throws
 * InsufficientMemoryError when a single sample does not fit.
 */
export function fittingBatchSize(shape: MemoryShape, request: { width: number; height: number }, guided: boolean, wanted: number, availableBytes: number): number {
  const budget = availableBytes - HEADROOM_BYTES;
  const needs = (samples: number) => batchMemoryBytes(shape, request.width, request.height, samples, guided);
  if (needs(1) > budget) {
    throw new InsufficientMemoryError(
      `A ${request.width}×${request.height} image needs about ${gigabytes(needs(1) + HEADROOM_BYTES)} of memory beyond the model's weights, ` +
        `and ${gigabytes(availableBytes)} is available: use a smaller size, or free memory.`,
    );
  }
  let fits = Math.max(1, wanted);
  while (fits > 1 && needs(fits) > budget) fits--;
  return fits;
}

/** Memory the kernel can give without swapping (MemAvailable; os.freemem() where /proc is absent). */
export function availableMemoryBytes(): number {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // Not Linux: fall through.
  }
  return os.freemem();
}

/** "5.4 GiB", for messages. */
export function gigabytes(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}
