/**
 * Latent Consistency Model multistep sampling (Luo et al. 2023, arXiv:2310.04378) as diffusers'
 * `LCMScheduler`: each step maps to a consistency-model estimate of x₀ ("denoised") and re-noises it
 * to the next timestep. Timesteps are a subset of a fixed `original_inference_steps` grid.
 */
import type { Scheduler, StepOptions, StepResult } from "./scheduler.ts";
import {
  alphaProductAt,
  clampSample,
  finalAlphaProduct,
  predictOriginalSample,
  previousAlphaProduct,
} from "./alpha-prediction.ts";
import { elementwise, f32, requireLength } from "./float32.ts";
import { alphasCumprod } from "./noise-schedule.ts";
import { numpyLinspace } from "./numpy-numerics.ts";
import { SchedulerBase } from "./scheduler-base.ts";
import {
  booleanOption,
  integerOption,
  noiseScheduleOptions,
  numberOption,
  resolveConfig,
  samplingOptions,
  thresholdingOptions,
  type ConfigValues,
  type ResolvedConfig,
} from "./scheduler-config.ts";
import { StepCounter } from "./step-index.ts";

export const LCM_OPTIONS = {
  ...noiseScheduleOptions({ beta_start: 0.00085, beta_end: 0.012, beta_schedule: "scaled_linear" }),
  // timestep_spacing and steps_offset are declared (diffusers has them) but LCM's schedule ignores them.
  ...samplingOptions("leading", ["epsilon", "v_prediction", "sample"]),
  /** @default false */
  rescale_betas_zero_snr: booleanOption(false),
  /** Size of the distillation timestep grid the inference timesteps are picked from. @default 50 */
  original_inference_steps: integerOption(50, 1),
  /** Clamp the predicted x₀ to ±clip_sample_range. @default false */
  clip_sample: booleanOption(false),
  /** @default 1.0 */
  clip_sample_range: numberOption(1.0),
  /** Use ᾱ = 1 past the last step (else ᾱ₀). @default true */
  set_alpha_to_one: booleanOption(true),
  ...thresholdingOptions(),
  /** Multiplies t in the boundary-condition scalings c_skip and c_out. @default 10.0 */
  timestep_scaling: numberOption(10.0),
} as const;

export type LcmConfig = ConfigValues<typeof LCM_OPTIONS>;

/** σ_data of the consistency-model boundary condition. */
const SIGMA_DATA = 0.5;

interface LcmRun {
  readonly timesteps: readonly number[];
  readonly counter: StepCounter;
}

export class LcmScheduler extends SchedulerBase<LcmConfig> implements Scheduler {
  readonly timestepDtype = "int64";
  readonly initNoiseSigma = 1;
  readonly #alphasCumprod: Float32Array;
  readonly #finalAlpha: number;
  #run: LcmRun | undefined;

  static fromConfig(json: Readonly<Record<string, unknown>>): LcmScheduler {
    return new LcmScheduler(resolveConfig("LCM", LCM_OPTIONS, json));
  }

  private constructor(resolved: ResolvedConfig<LcmConfig>) {
    super("LCM", resolved);
    const { original_inference_steps: original, num_train_timesteps: trainSteps } = this.config;
    if (original > trainSteps) {
      throw new Error(
        `LCM scheduler config: "original_inference_steps" (${original}) cannot exceed "num_train_timesteps" (${trainSteps})`,
      );
    }
    this.#alphasCumprod = alphasCumprod(this.name, this.config);
    this.#finalAlpha = finalAlphaProduct(this.#alphasCumprod, this.config.set_alpha_to_one);
  }

  setTimesteps(numInferenceSteps: number): void {
    const original = this.config.original_inference_steps;
    this.checkStepCount(numInferenceSteps, original, "original_inference_steps");
    const stride = Math.floor(this.config.num_train_timesteps / original);
    const grid = Array.from({ length: original }, (_, i) => (original - i) * stride - 1);
    const picks = numpyLinspace(0, grid.length, numInferenceSteps, false).map(Math.floor);
    const timesteps = Object.freeze(picks.map((i) => grid[i]!));
    this.#run = { timesteps, counter: new StepCounter(this.name, timesteps, "error") };
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
    const index = run.counter.indexFor(timestep);
    const isLast = index === run.timesteps.length - 1;
    const alphaProd = alphaProductAt(this.#alphasCumprod, timestep);
    const alphaProdPrev = previousAlphaProduct(
      this.#alphasCumprod,
      isLast ? timestep : run.timesteps[index + 1]!,
      this.#finalAlpha,
    );
    let original = predictOriginalSample(this.config.prediction_type, modelOutput, sample, alphaProd);
    if (this.config.clip_sample) original = clampSample(original, this.config.clip_sample_range);
    const { skip, out } = this.boundaryScalings(timestep);
    const denoised = elementwise(sample.length, (i) => f32(out * original[i]!) + f32(skip * sample[i]!));
    run.counter.advance();
    if (isLast) return { prevSample: denoised, predOriginalSample: denoised };
    const noise = this.drawNoise(options, sample.length, "every LCM step but the last");
    const denoisedScale = f32(Math.sqrt(alphaProdPrev));
    const noiseScale = f32(Math.sqrt(f32(1 - alphaProdPrev)));
    const prevSample = elementwise(sample.length, (i) => f32(denoisedScale * denoised[i]!) + f32(noiseScale * noise[i]!));
    return { prevSample, predOriginalSample: denoised };
  }

  /** c_skip and c_out of the consistency boundary condition at t (float32: t is a torch int64 tensor). */
  private boundaryScalings(timestep: number): { skip: number; out: number } {
    const scaled = f32(f32(timestep) * f32(this.config.timestep_scaling));
    const denominator = f32(f32(scaled * scaled) + SIGMA_DATA ** 2);
    return { skip: f32(SIGMA_DATA ** 2 / denominator), out: f32(scaled / f32(Math.sqrt(denominator))) };
  }
}
