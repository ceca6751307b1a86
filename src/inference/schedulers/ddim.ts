/**
 * DDIM (Song et al. 2020, arXiv:2010.02502) as diffusers' `DDIMScheduler`: one deterministic jump per
 * step from the predicted x₀ and ε (stochastic with η > 0).
 */
import type { Scheduler, StepOptions, StepResult } from "./scheduler.ts";
import {
  alphaProductAt,
  clampSample,
  finalAlphaProduct,
  predictEpsilon,
  predictOriginalSample,
  previousAlphaProduct,
} from "./alpha-prediction.ts";
import { elementwise, f32, requireLength } from "./float32.ts";
import { alphasCumprod } from "./noise-schedule.ts";
import { roundHalfEven } from "./numpy-numerics.ts";
import { SchedulerBase } from "./scheduler-base.ts";
import {
  booleanOption,
  DEFAULT_BETAS,
  noiseScheduleOptions,
  numberOption,
  resolveConfig,
  samplingOptions,
  thresholdingOptions,
  type ConfigValues,
  type ResolvedConfig,
} from "./scheduler-config.ts";
import { spacedTimesteps } from "./timestep-spacing.ts";

export const DDIM_OPTIONS = {
  ...noiseScheduleOptions(DEFAULT_BETAS),
  ...samplingOptions("leading", ["epsilon", "v_prediction", "sample"]),
  /** @default false */
  rescale_betas_zero_snr: booleanOption(false),
  /** Clamp the predicted x₀ to ±clip_sample_range. @default true */
  clip_sample: booleanOption(true),
  /** @default 1.0 */
  clip_sample_range: numberOption(1.0),
  /** Use ᾱ = 1 past the last step (else ᾱ₀). @default true */
  set_alpha_to_one: booleanOption(true),
  ...thresholdingOptions(),
} as const;

export type DdimConfig = ConfigValues<typeof DDIM_OPTIONS>;

interface DdimRun {
  readonly timesteps: readonly number[];
  readonly stride: number;
}

export class DdimScheduler extends SchedulerBase<DdimConfig> implements Scheduler {
  readonly timestepDtype = "int64";
  readonly initNoiseSigma = 1;
  readonly #alphasCumprod: Float32Array;
  readonly #finalAlpha: number;
  #run: DdimRun | undefined;

  static fromConfig(json: Readonly<Record<string, unknown>>): DdimScheduler {
    return new DdimScheduler(resolveConfig("DDIM", DDIM_OPTIONS, json));
  }

  private constructor(resolved: ResolvedConfig<DdimConfig>) {
    super("DDIM", resolved);
    this.#alphasCumprod = alphasCumprod(this.name, this.config);
    this.#finalAlpha = finalAlphaProduct(this.#alphasCumprod, this.config.set_alpha_to_one);
  }

  setTimesteps(numInferenceSteps: number): void {
    this.checkStepCount(numInferenceSteps);
    const { timestep_spacing: spacing, num_train_timesteps: trainSteps, steps_offset: stepsOffset } = this.config;
    const timesteps = spacedTimesteps({ spacing, count: numInferenceSteps, trainSteps, stepsOffset }).map(roundHalfEven);
    this.#run = { timesteps: Object.freeze(timesteps), stride: Math.floor(trainSteps / numInferenceSteps) };
  }

  get timesteps(): readonly number[] {
    return this.prepared(this.#run).timesteps;
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options?: StepOptions): StepResult {
    const run = this.prepared(this.#run);
    requireLength(this.name, sample.length, { modelOutput });
    const eta = readEta(options?.eta);
    const alphaProd = alphaProductAt(this.#alphasCumprod, timestep);
    const alphaProdPrev = previousAlphaProduct(this.#alphasCumprod, timestep - run.stride, this.#finalAlpha);
    const prediction = this.config.prediction_type;
    const epsilon = predictEpsilon(prediction, modelOutput, sample, alphaProd);
    let original = predictOriginalSample(prediction, modelOutput, sample, alphaProd);
    if (this.config.clip_sample) original = clampSample(original, this.config.clip_sample_range);

    const stdDev = f32(eta * f32(Math.sqrt(ddimVariance(alphaProd, alphaProdPrev))));
    const directionScale = f32(Math.sqrt(f32(f32(1 - alphaProdPrev) - f32(stdDev * stdDev))));
    const originalScale = f32(Math.sqrt(alphaProdPrev));
    let prevSample = elementwise(sample.length, (i) => f32(originalScale * original[i]!) + f32(directionScale * epsilon[i]!));
    if (eta > 0) {
      const noise = this.drawNoise(options, sample.length, "DDIM with eta > 0");
      const noisy = prevSample;
      prevSample = elementwise(sample.length, (i) => noisy[i]! + f32(stdDev * noise[i]!));
    }
    return { prevSample, predOriginalSample: original };
  }
}

/** σ_t²/η² of the DDIM paper (eq. 16): (1 − ᾱ_prev)/(1 − ᾱ_t) · (1 − ᾱ_t/ᾱ_prev). */
function ddimVariance(alphaProd: number, alphaProdPrev: number): number {
  const betaRatio = f32(f32(1 - alphaProdPrev) / f32(1 - alphaProd));
  return f32(betaRatio * f32(1 - f32(alphaProd / alphaProdPrev)));
}

function readEta(eta: number | undefined): number {
  if (eta === undefined) return 0;
  if (!Number.isFinite(eta) || eta < 0) throw new Error(`DDIM: eta must be a finite number >= 0; got ${eta}`);
  return f32(eta);
}
