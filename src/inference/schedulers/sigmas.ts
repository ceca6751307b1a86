/**
 * Noise levels σ = √((1 − ᾱ)/ᾱ) and the ways diffusers' sigma-based schedulers place them: linear
 * interpolation at the inference timesteps, Karras et al.'s ρ-schedule, and the inverse map σ → t.
 */
import { elementwise, f32 } from "./float32.ts";
import { interpOnUnitGrid, numpyLinspace, numpyLogFloat32 } from "./numpy-numerics.ts";

/** What follows the last inference sigma (diffusers' `final_sigmas_type`). */
export type FinalSigmaType = "zero" | "sigma_min";

/** σ at each training timestep, ascending with t (float32, as torch computes it). */
export function trainingSigmas(alphasCumprod: Float32Array): Float32Array {
  return elementwise(alphasCumprod.length, (i) => {
    const alphaBar = alphasCumprod[i]!;
    return Math.sqrt(f32(f32(1 - alphaBar) / alphaBar));
  });
}

/** σ at (possibly fractional) timesteps, by `numpy.interp` over the training sigmas (float64). */
export function interpolatedSigmas(timesteps: readonly number[], sigmas: Float32Array): number[] {
  return timesteps.map((t) => interpOnUnitGrid(t, sigmas));
}

/** The value after the last inference sigma: 0, or the smallest training sigma. */
export function finalSigma(type: FinalSigmaType, sigmas: Float32Array): number {
  return type === "zero" ? 0 : sigmas[0]!;
}

/** Karras et al. (2022) noise levels from `sigmaMax` down to `sigmaMin`, evenly spaced in σ^(1/ρ) (float64). */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, count: number, rho = 7.0): number[] {
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  return numpyLinspace(0, 1, count).map((ramp) => (maxInvRho + ramp * (minInvRho - maxInvRho)) ** rho);
}

/** log σ per training timestep as diffusers gets it: `numpy.log` of the float32 sigmas (a float32 result). */
export function logSigmas(sigmas: Float32Array): Float32Array {
  return elementwise(sigmas.length, (i) => numpyLogFloat32(sigmas[i]!));
}

/**
 * diffusers' `_sigma_to_t`: the fractional training timestep whose σ is `sigma`, interpolating log σ
 * between the two neighbouring training sigmas (clamped to the table's ends). numpy 1.x promotes the
 * float64 log σ to the table's float32 and computes the weight in float32, the final blend in float64.
 */
export function sigmaToTimestep(sigma: number, logSigmaTable: Float32Array): number {
  const logSigma = f32(Math.log(Math.max(sigma, 1e-10)));
  const low = Math.min(lastIndexAtOrBelow(logSigmaTable, logSigma), logSigmaTable.length - 2);
  const lowLog = logSigmaTable[low]!;
  const highLog = logSigmaTable[low + 1]!;
  const weight = Math.min(Math.max(f32(f32(lowLog - logSigma) / f32(lowLog - highLog)), 0), 1);
  return f32(1 - weight) * low + weight * (low + 1);
}

/** The last index whose entry is <= value, or 0 if none is (numpy's `cumsum(...).argmax()` idiom). */
function lastIndexAtOrBelow(table: Float32Array, value: number): number {
  for (let i = table.length - 1; i >= 0; i--) if (table[i]! <= value) return i;
  return 0;
}
