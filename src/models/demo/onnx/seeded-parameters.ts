/**
 * Deterministic random weights: every tensor gets its own integer PRNG seeded by a hash of
 * `seed/name`, so a tensor's values depend only on the seed and its state-dict key — not on
 * the order tensors are created, the export variant, or the machine. Only integer arithmetic
 * and one division per value: no Math.random, no transcendental functions whose last bit
 * could differ between platforms.
 */

/** How a parameter tensor is filled: `center + uniform(-spread, +spread)`. */
export interface ParameterInit {
  /** Half-width of the uniform distribution. */
  readonly spread: number;
  /** Value the distribution is centred on. @default 0 */
  readonly center?: number;
}

/** Makes the float32 values of one named parameter tensor. */
export type ParameterSource = (name: string, shape: readonly number[], init: ParameterInit) => Float32Array;

/** 32-bit FNV-1a over the UTF-16 code units of `text` (names are ASCII). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** mulberry32: a small, well-mixed 32-bit generator; returns uniforms in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A parameter source whose tensors are seeded by `${seed}/${name}`. */
export function seededParameters(seed: string): ParameterSource {
  return (name, shape, init) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const next = mulberry32(fnv1a32(`${seed}/${name}`));
    const center = init.center ?? 0;
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = center + (2 * next() - 1) * init.spread;
    return values;
  };
}
