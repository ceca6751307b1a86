/**
 * Float32 arithmetic the way PyTorch does it on CPU: every tensor operation rounds its result to
 * float32, and a Python scalar (or a 0-dim tensor) meets a float32 tensor as a float32. Writing each
 * operation through `f32` reproduces diffusers' scheduler math bit for bit (transcendentals aside).
 */

/** Rounds a double to the nearest float32. */
export const f32 = Math.fround;

/** A new tensor whose element `i` is `value(i)` (stored, hence rounded, as float32). */
export function elementwise(length: number, value: (i: number) => number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = value(i);
  return out;
}

/** Throws unless every tensor has `expected` elements; `what` names them in the message. */
export function requireLength(owner: string, expected: number, tensors: Record<string, Float32Array>): void {
  for (const [what, tensor] of Object.entries(tensors)) {
    if (tensor.length !== expected) {
      throw new Error(`${owner}: ${what} has ${tensor.length} elements but sample has ${expected}; they must match`);
    }
  }
}
