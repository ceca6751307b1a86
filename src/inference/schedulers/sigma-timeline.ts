/**
 * The timeline Euler and Euler ancestral share: float32 timesteps, the σ at each (plus a final σ),
 * the initial noise scale, the input scaling x / √(σ² + 1), and the step counter.
 */
import type { TimestepSpacing } from "./scheduler.ts";
import { elementwise, f32 } from "./float32.ts";
import {
  finalSigma,
  interpolatedSigmas,
  karrasSigmas,
  logSigmas,
  sigmaToTimestep,
  type FinalSigmaType,
} from "./sigmas.ts";
import { StepCounter } from "./step-index.ts";
import { spacedTimesteps } from "./timestep-spacing.ts";

export interface SigmaTimelineConfig {
  readonly num_train_timesteps: number;
  readonly timestep_spacing: TimestepSpacing;
  readonly steps_offset: number;
  /** Replace the interpolated sigmas by Karras et al.'s, and the timesteps by their σ → t inverses. */
  readonly use_karras_sigmas: boolean;
  /** Karras' lower bound; null = the last interpolated sigma. */
  readonly sigma_min: number | null;
  /** Karras' upper bound; null = the first interpolated sigma. */
  readonly sigma_max: number | null;
  readonly final_sigmas_type: FinalSigmaType;
}

export class SigmaTimeline {
  /** Float32 values, possibly fractional. */
  readonly timesteps: readonly number[];
  /** One per timestep plus the final sigma. */
  readonly sigmas: Float32Array;
  readonly initNoiseSigma: number;
  readonly counter: StepCounter;

  constructor(owner: string, config: SigmaTimelineConfig, trainSigmas: Float32Array, count: number) {
    const spaced = spacedTimesteps({
      spacing: config.timestep_spacing,
      count,
      trainSteps: config.num_train_timesteps,
      stepsOffset: config.steps_offset,
    }).map(f32);
    const interpolated = interpolatedSigmas(spaced, trainSigmas);
    const sigmas = config.use_karras_sigmas
      ? karrasSigmas(config.sigma_min ?? interpolated.at(-1)!, config.sigma_max ?? interpolated[0]!, count)
      : interpolated;
    const table = config.use_karras_sigmas ? logSigmas(trainSigmas) : undefined;
    this.timesteps = Object.freeze(table ? sigmas.map((sigma) => f32(sigmaToTimestep(sigma, table))) : spaced);
    this.sigmas = Float32Array.from([...sigmas, finalSigma(config.final_sigmas_type, trainSigmas)]);
    this.initNoiseSigma = initialNoiseScale(this.sigmas, config.timestep_spacing);
    this.counter = new StepCounter(owner, this.timesteps, "error");
  }

  /** σ at the current step (found from `timestep` on the first call of a run). */
  sigmaFor(timestep: number): number {
    return this.sigmas[this.counter.indexFor(timestep)]!;
  }

  /** σ after the current step. */
  nextSigma(timestep: number): number {
    return this.sigmas[this.counter.indexFor(timestep) + 1]!;
  }

  /** x / √(σ² + 1): the UNet expects unit-variance input. */
  scaleModelInput(sample: Float32Array, timestep: number): Float32Array {
    const sigma = this.sigmaFor(timestep);
    const scale = f32(Math.sqrt(f32(f32(sigma * sigma) + 1)));
    return elementwise(sample.length, (i) => sample[i]! / scale);
  }
}

/** diffusers' `init_noise_sigma`: σ_max for "linspace" and "trailing", √(σ_max² + 1) for "leading". */
function initialNoiseScale(sigmas: Float32Array, spacing: TimestepSpacing): number {
  const maxSigma = sigmas.reduce((max, sigma) => Math.max(max, sigma), -Infinity);
  return spacing === "leading" ? f32(Math.sqrt(f32(f32(maxSigma * maxSigma) + 1))) : maxSigma;
}
