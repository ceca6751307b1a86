/**
 * The training noise schedule: betas → alphas → alphas_cumprod, in float32 as diffusers builds them
 * with torch (`torch.linspace`, `torch.cumprod`), plus the zero-terminal-SNR rescale.
 */
import type { CommonSchedulerConfig } from "./scheduler.ts";
import { elementwise, f32 } from "./float32.ts";
import { torchCumprodFloat32, torchLinspaceFloat32 } from "./torch-numerics.ts";

export type NoiseScheduleConfig = Pick<
  CommonSchedulerConfig,
  "num_train_timesteps" | "beta_start" | "beta_end" | "beta_schedule" | "trained_betas"
> & {
  /** Rescale betas to zero terminal SNR (arXiv:2305.08891). Not every scheduler has this option. @default false */
  readonly rescale_betas_zero_snr?: boolean;
};

/**
 * diffusers' `alphas_cumprod` for a config: index t holds ᾱ_t, the signal fraction left at training
 * timestep t.
 */
export function alphasCumprod(owner: string, config: NoiseScheduleConfig): Float32Array {
  let betas = betasFor(owner, config);
  if (config.rescale_betas_zero_snr) betas = rescaleZeroTerminalSnr(betas);
  return cumprodOfAlphas(betas);
}

/**
 * `alphasCumprod` for the σ-based schedulers: after the zero-SNR rescale the last ᾱ is 0 (σ = ∞), so
 * diffusers' Euler and DPM-Solver replace it with 2⁻²⁴.
 */
export function sigmaSafeAlphasCumprod(owner: string, config: NoiseScheduleConfig): Float32Array {
  const alphas = alphasCumprod(owner, config);
  if (config.rescale_betas_zero_snr) alphas[alphas.length - 1] = 2 ** -24;
  return alphas;
}

function betasFor(owner: string, config: NoiseScheduleConfig): Float32Array {
  const steps = config.num_train_timesteps;
  if (config.trained_betas !== null) {
    if (config.trained_betas.length !== steps) {
      throw new Error(
        `${owner} scheduler config: "trained_betas" has ${config.trained_betas.length} values but "num_train_timesteps" is ${steps}; they must agree`,
      );
    }
    return Float32Array.from(config.trained_betas);
  }
  switch (config.beta_schedule) {
    case "linear":
      return torchLinspaceFloat32(config.beta_start, config.beta_end, steps);
    case "scaled_linear": {
      const roots = torchLinspaceFloat32(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), steps);
      return elementwise(steps, (i) => roots[i]! * roots[i]!);
    }
    case "squaredcos_cap_v2":
      return cosineBetas(steps);
  }
}

/** Glide's cosine schedule (diffusers' `betas_for_alpha_bar`), computed in float64 then stored as float32. */
function cosineBetas(steps: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
  return Float32Array.from({ length: steps }, (_, i) =>
    Math.min(1 - alphaBar((i + 1) / steps) / alphaBar(i / steps), maxBeta),
  );
}

function cumprodOfAlphas(betas: Float32Array): Float32Array {
  return torchCumprodFloat32(elementwise(betas.length, (i) => 1 - betas[i]!));
}

/** diffusers' `rescale_zero_terminal_snr`: shifts and scales √ᾱ so that the last timestep is pure noise. */
function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const n = betas.length;
  const alphaBarBefore = cumprodOfAlphas(betas);
  const sqrtAlphaBar = elementwise(n, (i) => Math.sqrt(alphaBarBefore[i]!));
  const first = sqrtAlphaBar[0]!;
  const last = sqrtAlphaBar[n - 1]!;
  const scale = f32(first / f32(first - last));
  const shifted = elementwise(n, (i) => f32(sqrtAlphaBar[i]! - last) * scale);
  const alphaBar = elementwise(n, (i) => shifted[i]! * shifted[i]!);
  return elementwise(n, (i) => 1 - (i === 0 ? alphaBar[0]! : f32(alphaBar[i]! / alphaBar[i - 1]!)));
}
