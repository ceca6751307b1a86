/**
 * PyTorch's CPU float32 routines whose results differ from the textbook formula (torch 1.13, AVX2
 * kernels, as Debian's python3-torch runs them): diffusers builds its betas and alphas_cumprod with them.
 */
import { f32 } from "./float32.ts";

/** Float32 lanes of an AVX2 vector: `torch.linspace` fills the output in blocks of this many. */
const VECTOR_LANES = 8;

/**
 * `torch.linspace(start, end, steps, dtype=torch.float32)` exactly: the step is float32, the first
 * half counts up from `start` and the second half down from `end`, each vector block starts from a
 * fused multiply-add and adds `k * step` inside the block.
 */
export function torchLinspaceFloat32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  const first = f32(start);
  const last = f32(end);
  if (steps === 1) out[0] = first;
  if (steps <= 1) return out;
  const step = f32(f32(last - first) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  // Torch fuses these into one multiply-add; the product is exact in double, so one rounding emulates it.
  const valueAt = (idx: number) => (idx < halfway ? f32(step * idx + first) : f32(last - step * (steps - idx - 1)));
  let idx = 0;
  // The vectorized loop takes two blocks at a time while two fit; the rest goes element by element.
  for (; idx + 2 * VECTOR_LANES <= steps; idx += 2 * VECTOR_LANES) {
    fillBlock(out, idx, valueAt(idx), step);
    fillBlock(out, idx + VECTOR_LANES, valueAt(idx + VECTOR_LANES), step);
  }
  for (; idx < steps; idx++) out[idx] = valueAt(idx);
  return out;
}

function fillBlock(out: Float32Array, start: number, base: number, step: number): void {
  for (let k = 0; k < VECTOR_LANES; k++) out[start + k] = f32(base + f32(k * step));
}

/** `torch.cumprod` of a float32 tensor: accumulates in float64, stores each partial product as float32. */
export function torchCumprodFloat32(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  let product = 1;
  for (let i = 0; i < values.length; i++) {
    product *= values[i]!;
    out[i] = product;
  }
  return out;
}
