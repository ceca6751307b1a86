/**
 * The ᾱ-parameterised arithmetic shared by PNDM, DDIM and LCM: looking up ᾱ at a timestep and turning
 * the model output into the predicted clean sample x₀ or the predicted noise ε (float32, as diffusers).
 */
import type { PredictionType } from "./scheduler.ts";
import { elementwise, f32 } from "./float32.ts";

/** ᾱ at a training timestep, indexed as a torch tensor is: -1 is the last entry ("trailing" can produce it). */
export function alphaProductAt(alphasCumprod: Float32Array, timestep: number): number {
  const value = alphasCumprod.at(timestep);
  if (value === undefined || !Number.isInteger(timestep)) {
    throw new Error(`timestep ${timestep} is outside the ${alphasCumprod.length} training timesteps`);
  }
  return value;
}

/** ᾱ "before" the first training timestep: 1 with `set_alpha_to_one`, else ᾱ₀. */
export function finalAlphaProduct(alphasCumprod: Float32Array, setAlphaToOne: boolean): number {
  return setAlphaToOne ? 1 : alphasCumprod[0]!;
}

/** ᾱ at the previous timestep; negative means past the end of the schedule. */
export function previousAlphaProduct(alphasCumprod: Float32Array, prevTimestep: number, finalAlpha: number): number {
  return prevTimestep >= 0 ? alphaProductAt(alphasCumprod, prevTimestep) : finalAlpha;
}

/** x₀ from the model output at a timestep whose ᾱ is `alphaProd`. */
export function predictOriginalSample(
  prediction: PredictionType,
  modelOutput: Float32Array,
  sample: Float32Array,
  alphaProd: number,
): Float32Array {
  const sqrtAlpha = f32(Math.sqrt(alphaProd));
  const sqrtBeta = f32(Math.sqrt(f32(1 - alphaProd)));
  switch (prediction) {
    case "epsilon":
      return elementwise(sample.length, (i) => f32(sample[i]! - f32(sqrtBeta * modelOutput[i]!)) / sqrtAlpha);
    case "v_prediction":
      return elementwise(sample.length, (i) => f32(sqrtAlpha * sample[i]!) - f32(sqrtBeta * modelOutput[i]!));
    case "sample":
      return modelOutput.slice();
  }
}

/** ε from the model output (for "sample", from the x₀ it predicts). */
export function predictEpsilon(
  prediction: PredictionType,
  modelOutput: Float32Array,
  sample: Float32Array,
  alphaProd: number,
): Float32Array {
  const sqrtAlpha = f32(Math.sqrt(alphaProd));
  const sqrtBeta = f32(Math.sqrt(f32(1 - alphaProd)));
  switch (prediction) {
    case "epsilon":
      return modelOutput.slice();
    case "v_prediction":
      return elementwise(sample.length, (i) => f32(sqrtAlpha * modelOutput[i]!) + f32(sqrtBeta * sample[i]!));
    case "sample":
      return elementwise(sample.length, (i) => f32(sample[i]! - f32(sqrtAlpha * modelOutput[i]!)) / sqrtBeta);
  }
}

/** `tensor.clamp(-range, range)`. */
export function clampSample(x: Float32Array, range: number): Float32Array {
  const bound = f32(range);
  return elementwise(x.length, (i) => Math.min(Math.max(x[i]!, -bound), bound));
}
