/**
 * Ancestral Euler sampling (k-diffusion's `sample_euler_ancestral`, η = 1) as diffusers'
 * `EulerAncestralDiscreteScheduler`: an Euler step down to σ_down, then fresh noise of std σ_up.
 */
import type { Scheduler, StepOptions, StepResult } from "./scheduler.ts";
import { EulerFamilyScheduler } from "./euler-family.ts";
import { elementwise, f32, requireLength } from "./float32.ts";
import {
  booleanOption,
  DEFAULT_BETAS,
  noiseScheduleOptions,
  resolveConfig,
  samplingOptions,
  type ConfigValues,
  type ResolvedConfig,
} from "./scheduler-config.ts";
import { originalFromSigmaOutput, sigmaDerivative } from "./sigma-prediction.ts";
import type { SigmaTimelineConfig } from "./sigma-timeline.ts";

export const EULER_ANCESTRAL_OPTIONS = {
  ...noiseScheduleOptions(DEFAULT_BETAS),
  // diffusers raises NotImplementedError for "sample" prediction here.
  ...samplingOptions("linspace", ["epsilon", "v_prediction"]),
  /** @default false */
  rescale_betas_zero_snr: booleanOption(false),
} as const;

export type EulerAncestralConfig = ConfigValues<typeof EULER_ANCESTRAL_OPTIONS>;

export class EulerAncestralScheduler extends EulerFamilyScheduler<EulerAncestralConfig> implements Scheduler {
  static fromConfig(json: Readonly<Record<string, unknown>>): EulerAncestralScheduler {
    return new EulerAncestralScheduler(resolveConfig("EULER_ANCESTRAL", EULER_ANCESTRAL_OPTIONS, json));
  }

  private constructor(resolved: ResolvedConfig<EulerAncestralConfig>) {
    super("EULER_ANCESTRAL", resolved);
  }

  /** diffusers' ancestral Euler has no Karras or final-sigma options: interpolated sigmas ending at 0. */
  protected timelineConfig(): SigmaTimelineConfig {
    return { ...this.config, use_karras_sigmas: false, sigma_min: null, sigma_max: null, final_sigmas_type: "zero" };
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options?: StepOptions): StepResult {
    const run = this.timeline();
    requireLength(this.name, sample.length, { modelOutput });
    const sigma = run.sigmaFor(timestep);
    const { up, down } = ancestralSplit(sigma, run.nextSigma(timestep));
    const original = originalFromSigmaOutput(this.config.prediction_type, modelOutput, sample, sigma);
    const derivative = sigmaDerivative(sample, original, sigma);
    const dt = f32(down - sigma);
    const noise = this.drawNoise(options, sample.length, "every Euler ancestral step");
    const prevSample = elementwise(sample.length, (i) => f32(sample[i]! + f32(derivative[i]! * dt)) + f32(noise[i]! * up));
    run.counter.advance();
    return { prevSample, predOriginalSample: original };
  }
}

/** Splits the move from σ_from to σ_to into a deterministic part (to σ_down) and fresh noise (σ_up). */
function ancestralSplit(from: number, to: number): { up: number; down: number } {
  const fromSquared = f32(from * from);
  const toSquared = f32(to * to);
  const up = f32(Math.sqrt(f32(f32(toSquared * f32(fromSquared - toSquared)) / fromSquared)));
  const down = f32(Math.sqrt(f32(toSquared - f32(up * up))));
  return { up, down };
}
