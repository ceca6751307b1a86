/**
 * Euler's method on the probability-flow ODE (Karras et al. 2022, Algorithm 2 without churn) as
 * diffusers' `EulerDiscreteScheduler`. Deterministic.
 */
import type { Scheduler, StepResult } from "./scheduler.ts";
import { EulerFamilyScheduler } from "./euler-family.ts";
import { elementwise, f32, requireLength } from "./float32.ts";
import {
  booleanOption,
  choiceOption,
  DEFAULT_BETAS,
  noiseScheduleOptions,
  optionalNumberOption,
  resolveConfig,
  samplingOptions,
  unsupportedFlag,
  type ConfigValues,
  type ResolvedConfig,
} from "./scheduler-config.ts";
import { originalFromSigmaOutput, sigmaDerivative } from "./sigma-prediction.ts";
import type { SigmaTimelineConfig } from "./sigma-timeline.ts";
import type { FinalSigmaType } from "./sigmas.ts";

export const EULER_OPTIONS = {
  ...noiseScheduleOptions(DEFAULT_BETAS),
  // diffusers still accepts "original_sample" for "sample".
  ...samplingOptions("linspace", ["epsilon", "v_prediction", "sample"], { original_sample: "sample" }),
  /** @default false */
  rescale_betas_zero_snr: booleanOption(false),
  /** How sigmas are read off the training sigmas at fractional timesteps. @default "linear" */
  interpolation_type: choiceOption("linear", ["linear"], { unsupported: ["log_linear"] }),
  /** Karras et al.'s σ spacing instead of the interpolated one. @default false */
  use_karras_sigmas: booleanOption(false),
  use_exponential_sigmas: unsupportedFlag(),
  use_beta_sigmas: unsupportedFlag(),
  /** Karras' smallest σ; null = the schedule's own. @default null */
  sigma_min: optionalNumberOption(),
  /** Karras' largest σ; null = the schedule's own. @default null */
  sigma_max: optionalNumberOption(),
  /** "continuous" (timesteps as ¼·log σ) is accepted only where it changes nothing: with epsilon prediction. @default "discrete" */
  timestep_type: choiceOption("discrete", ["discrete", "continuous"]),
  /** @default "zero" */
  final_sigmas_type: choiceOption<FinalSigmaType>("zero", ["zero", "sigma_min"]),
} as const;

export type EulerConfig = ConfigValues<typeof EULER_OPTIONS>;

export class EulerScheduler extends EulerFamilyScheduler<EulerConfig> implements Scheduler {
  static fromConfig(json: Readonly<Record<string, unknown>>): EulerScheduler {
    return new EulerScheduler(resolveConfig("EULER", EULER_OPTIONS, json));
  }

  private constructor(resolved: ResolvedConfig<EulerConfig>) {
    super("EULER", resolved);
    if (this.config.timestep_type === "continuous" && this.config.prediction_type === "v_prediction") {
      throw new Error(
        `EULER scheduler config: "timestep_type" = "continuous" with "prediction_type" = "v_prediction" is a diffusers option Atelier does not implement; use "discrete"`,
      );
    }
  }

  protected timelineConfig(): SigmaTimelineConfig {
    return this.config;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array): StepResult {
    const run = this.timeline();
    requireLength(this.name, sample.length, { modelOutput });
    const sigma = run.sigmaFor(timestep);
    const original = originalFromSigmaOutput(this.config.prediction_type, modelOutput, sample, sigma);
    const derivative = sigmaDerivative(sample, original, sigma);
    const dt = f32(run.nextSigma(timestep) - sigma);
    const prevSample = elementwise(sample.length, (i) => sample[i]! + f32(derivative[i]! * dt));
    run.counter.advance();
    return { prevSample, predOriginalSample: original };
  }
}
