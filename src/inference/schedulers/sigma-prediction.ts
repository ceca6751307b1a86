/**
 * x₀ from a model output in the σ (variance-exploding) parameterisation Euler and Euler ancestral use,
 * where the sample is x₀ + σ·ε and the UNet saw it scaled by 1/√(σ² + 1).
 */
import type { PredictionType } from "./scheduler.ts";
import { elementwise, f32 } from "./float32.ts";

export function originalFromSigmaOutput(
  prediction: PredictionType,
  modelOutput: Float32Array,
  sample: Float32Array,
  sigma: number,
): Float32Array {
  switch (prediction) {
    case "epsilon":
      return elementwise(sample.length, (i) => sample[i]! - f32(sigma * modelOutput[i]!));
    case "v_prediction": {
      // denoised = model_output · c_out + input · c_skip
      const variance = f32(f32(sigma * sigma) + 1);
      const outputScale = f32(-sigma / f32(Math.sqrt(variance)));
      return elementwise(sample.length, (i) => f32(modelOutput[i]! * outputScale) + f32(sample[i]! / variance));
    }
    case "sample":
      return modelOutput.slice();
  }
}

/** The ODE derivative (x − x₀)/σ. */
export function sigmaDerivative(sample: Float32Array, original: Float32Array, sigma: number): Float32Array {
  return elementwise(sample.length, (i) => f32(sample[i]! - original[i]!) / sigma);
}
