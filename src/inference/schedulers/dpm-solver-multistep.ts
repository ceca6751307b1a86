/**
 * DPM-Solver++(2M) (Lu et al. 2022, arXiv:2211.01095) as diffusers' `DPMSolverMultistepScheduler` with
 * `algorithm_type: "dpmsolver++"`, `solver_order: 2`; the Karras variant spaces sigmas as Karras et al.
 * Deterministic; keeps the previous step's data prediction.
 */
import type { Scheduler, SchedulerName, StepResult } from "./scheduler.ts";
import { elementwise, f32, requireLength } from "./float32.ts";
import { sigmaSafeAlphasCumprod } from "./noise-schedule.ts";
import { roundHalfEven } from "./numpy-numerics.ts";
import { SchedulerBase } from "./scheduler-base.ts";
import {
  booleanOption,
  choiceOption,
  DEFAULT_BETAS,
  integerOption,
  noiseScheduleOptions,
  numberOption,
  optionalNumberOption,
  resolveConfig,
  samplingOptions,
  show,
  thresholdingOptions,
  unsupportedFlag,
  type ConfigOption,
  type ConfigValues,
  type ResolvedConfig,
} from "./scheduler-config.ts";
import {
  finalSigma,
  interpolatedSigmas,
  karrasSigmas,
  logSigmas,
  sigmaToTimestep,
  trainingSigmas,
  type FinalSigmaType,
} from "./sigmas.ts";
import { StepCounter } from "./step-index.ts";
import { solverSpacedTimesteps } from "./timestep-spacing.ts";

export const DPM_SOLVER_OPTIONS = {
  ...noiseScheduleOptions(DEFAULT_BETAS),
  ...samplingOptions("linspace", ["epsilon", "v_prediction", "sample"]),
  /** @default false */
  rescale_betas_zero_snr: booleanOption(false),
  /** Fixed to 2 by both scheduler names. */
  solver_order: integerOption(2, 1),
  /** Fixed to "dpmsolver++" by both scheduler names. */
  algorithm_type: choiceOption("dpmsolver++", ["dpmsolver++"]),
  /** Second-order update rule; UniPC/DEIS names map to "midpoint" as in diffusers. @default "midpoint" */
  solver_type: choiceOption("midpoint", ["midpoint", "heun"], {
    aliases: { logrho: "midpoint", bh1: "midpoint", bh2: "midpoint" },
  }),
  /** First-order last step(s) when fewer than 15 steps. @default true */
  lower_order_final: booleanOption(true),
  /** First-order last step always. @default false */
  euler_at_final: booleanOption(false),
  /** Fixed by the name: false for DPM_PP_2M, true for DPM_PP_2M_KARRAS. */
  use_karras_sigmas: booleanOption(false),
  use_exponential_sigmas: unsupportedFlag(),
  use_beta_sigmas: unsupportedFlag(),
  use_lu_lambdas: unsupportedFlag(),
  use_flow_sigmas: unsupportedFlag(),
  /** Only read with flow sigmas (unsupported). @default 1.0 */
  flow_shift: numberOption(1.0),
  /** Only read with flow sigmas and a `mu` (unsupported). @default false */
  use_dynamic_shifting: booleanOption(false),
  /** Only read with dynamic shifting. @default "exponential" */
  time_shift_type: choiceOption("exponential", ["exponential", "linear"]),
  /** @default "zero" */
  final_sigmas_type: choiceOption<FinalSigmaType>("zero", ["zero", "sigma_min"]),
  /** Drops the timesteps whose log-SNR λ is below this (cosine schedules use -5.1). @default -Infinity */
  lambda_min_clipped: numberOption(-Infinity),
  /** Learned-variance outputs ("learned", "learned_range") are not supported. @default null */
  variance_type: varianceTypeOption(),
  ...thresholdingOptions(),
  /** Karras' smallest σ; diffusers reads it from the config's extra keys. @default null */
  sigma_min: optionalNumberOption(),
  /** Karras' largest σ; diffusers reads it from the config's extra keys. @default null */
  sigma_max: optionalNumberOption(),
} as const;

export type DpmSolverConfig = ConfigValues<typeof DPM_SOLVER_OPTIONS>;

interface DpmRun {
  readonly timesteps: readonly number[];
  readonly sigmas: Float32Array;
  readonly counter: StepCounter;
  /** The previous step's data prediction (diffusers' `model_outputs[-2]`). */
  previousOriginal: Float32Array | undefined;
}

/** α_t and σ_t of the variance-preserving process at noise level σ (α = 1/√(σ²+1), σ_t = σ·α). */
interface NoiseLevel {
  readonly alpha: number;
  readonly sigma: number;
  /** log(α/σ), the half log-SNR the solver steps in. */
  readonly lambda: number;
}

export class DpmSolverMultistepScheduler extends SchedulerBase<DpmSolverConfig> implements Scheduler {
  readonly timestepDtype = "int64";
  readonly initNoiseSigma = 1;
  readonly #alphasCumprod: Float32Array;
  readonly #trainSigmas: Float32Array;
  #run: DpmRun | undefined;

  /** `name` picks the σ spacing: "DPM_PP_2M" interpolated, "DPM_PP_2M_KARRAS" Karras. */
  static fromConfig(name: "DPM_PP_2M" | "DPM_PP_2M_KARRAS", json: Readonly<Record<string, unknown>>): DpmSolverMultistepScheduler {
    const fixed = { algorithm_type: "dpmsolver++", solver_order: 2, use_karras_sigmas: name === "DPM_PP_2M_KARRAS" } as const;
    return new DpmSolverMultistepScheduler(name, resolveConfig(name, DPM_SOLVER_OPTIONS, json, fixed));
  }

  private constructor(name: SchedulerName, resolved: ResolvedConfig<DpmSolverConfig>) {
    super(name, resolved);
    this.#alphasCumprod = sigmaSafeAlphasCumprod(this.name, this.config);
    this.#trainSigmas = trainingSigmas(this.#alphasCumprod);
  }

  setTimesteps(numInferenceSteps: number): void {
    this.checkStepCount(numInferenceSteps);
    const { timesteps, sigmas } = this.config.use_karras_sigmas
      ? this.karrasSchedule(numInferenceSteps)
      : this.interpolatedSchedule(numInferenceSteps);
    const frozen = Object.freeze(timesteps);
    this.#run = {
      timesteps: frozen,
      sigmas: Float32Array.from([...sigmas, finalSigma(this.config.final_sigmas_type, this.#trainSigmas)]),
      counter: new StepCounter(this.name, frozen, "last"),
      previousOriginal: undefined,
    };
  }

  get timesteps(): readonly number[] {
    return this.prepared(this.#run).timesteps;
  }

  get sigmas(): Float32Array {
    return this.prepared(this.#run).sigmas.slice();
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array): StepResult {
    const run = this.prepared(this.#run);
    requireLength(this.name, sample.length, { modelOutput });
    const index = run.counter.indexFor(timestep);
    const original = this.dataPrediction(modelOutput, sample, noiseLevel(run.sigmas[index]!));
    const firstOrder = run.previousOriginal === undefined || this.lowerOrderFinal(index, run.timesteps.length);
    const prevSample = firstOrder
      ? firstOrderUpdate(original, sample, this.levelsAround(run, index))
      : this.secondOrderUpdate(run.previousOriginal!, original, sample, this.levelsAround(run, index));
    run.previousOriginal = original;
    run.counter.advance();
    return { prevSample, predOriginalSample: original };
  }

  private interpolatedSchedule(count: number): { timesteps: number[]; sigmas: number[] } {
    const timesteps = solverSpacedTimesteps({
      spacing: this.config.timestep_spacing,
      count,
      trainSteps: this.config.num_train_timesteps,
      stepsOffset: this.config.steps_offset,
      lastTimestep: this.config.num_train_timesteps - this.clippedTimesteps(),
    });
    return { timesteps, sigmas: interpolatedSigmas(timesteps, this.#trainSigmas) };
  }

  /** Karras sigmas span the whole training range; timesteps are their σ → t inverses, rounded (not for cosine). */
  private karrasSchedule(count: number): { timesteps: number[]; sigmas: number[] } {
    const train = this.#trainSigmas;
    const sigmas = karrasSigmas(this.config.sigma_min ?? train[0]!, this.config.sigma_max ?? train.at(-1)!, count);
    const table = logSigmas(train);
    const round = this.config.beta_schedule === "squaredcos_cap_v2" ? (t: number) => t : roundHalfEven;
    // diffusers stores them as int64, which truncates what was not rounded.
    const timesteps = sigmas.map((sigma) => Math.trunc(round(sigmaToTimestep(sigma, table))));
    return { timesteps, sigmas };
  }

  /** How many of the least noisy training timesteps have λ below `lambda_min_clipped` (torch.searchsorted). */
  private clippedTimesteps(): number {
    const lambdas = elementwise(this.#alphasCumprod.length, (i) => {
      const alphaBar = this.#alphasCumprod[i]!;
      return f32(Math.log(f32(Math.sqrt(alphaBar)))) - f32(Math.log(f32(Math.sqrt(f32(1 - alphaBar)))));
    }).reverse();
    let clipped = 0;
    while (clipped < lambdas.length && lambdas[clipped]! < this.config.lambda_min_clipped) clipped++;
    return clipped;
  }

  private lowerOrderFinal(index: number, steps: number): boolean {
    const { euler_at_final, lower_order_final, final_sigmas_type } = this.config;
    return index === steps - 1 && (euler_at_final || (lower_order_final && steps < 15) || final_sigmas_type === "zero");
  }

  /** The noise levels at the previous (s1), current (s0) and next (t) sigma. */
  private levelsAround(run: DpmRun, index: number): SolverLevels {
    return {
      s1: index > 0 ? noiseLevel(run.sigmas[index - 1]!) : undefined,
      s0: noiseLevel(run.sigmas[index]!),
      t: noiseLevel(run.sigmas[index + 1]!),
    };
  }

  /** diffusers' `convert_model_output` for DPM-Solver++: the predicted x₀. */
  private dataPrediction(modelOutput: Float32Array, sample: Float32Array, level: NoiseLevel): Float32Array {
    switch (this.config.prediction_type) {
      case "epsilon":
        return elementwise(sample.length, (i) => f32(sample[i]! - f32(level.sigma * modelOutput[i]!)) / level.alpha);
      case "v_prediction":
        return elementwise(sample.length, (i) => f32(level.alpha * sample[i]!) - f32(level.sigma * modelOutput[i]!));
      case "sample":
        return modelOutput.slice();
    }
  }

  /** The multistep second-order update from the last two data predictions (midpoint or Heun form). */
  private secondOrderUpdate(m1: Float32Array, m0: Float32Array, sample: Float32Array, levels: SolverLevels): Float32Array {
    const { s0, t } = levels;
    const s1 = levels.s1!;
    const h = f32(t.lambda - s0.lambda);
    const r0 = f32(f32(s0.lambda - s1.lambda) / h);
    const inverseR0 = f32(1 / r0);
    const expMinus1 = f32(f32(Math.exp(-h)) - 1);
    const sampleScale = f32(t.sigma / s0.sigma);
    const d0Scale = f32(t.alpha * expMinus1);
    const d1Scale =
      this.config.solver_type === "midpoint" ? -f32(0.5 * d0Scale) : f32(t.alpha * f32(f32(expMinus1 / h) + 1));
    return elementwise(sample.length, (i) => {
      const d1 = f32(inverseR0 * f32(m0[i]! - m1[i]!));
      return f32(f32(sampleScale * sample[i]!) - f32(d0Scale * m0[i]!)) + f32(d1Scale * d1);
    });
  }
}

interface SolverLevels {
  readonly s1: NoiseLevel | undefined;
  readonly s0: NoiseLevel;
  readonly t: NoiseLevel;
}

/** DPM-Solver++'s first-order update (equivalent to DDIM). */
function firstOrderUpdate(original: Float32Array, sample: Float32Array, { s0, t }: SolverLevels): Float32Array {
  const h = f32(t.lambda - s0.lambda);
  const sampleScale = f32(t.sigma / s0.sigma);
  const originalScale = f32(t.alpha * f32(f32(Math.exp(-h)) - 1));
  return elementwise(sample.length, (i) => f32(sampleScale * sample[i]!) - f32(originalScale * original[i]!));
}

function noiseLevel(sigma: number): NoiseLevel {
  const alpha = f32(1 / f32(Math.sqrt(f32(f32(sigma * sigma) + 1))));
  const sigmaT = f32(sigma * alpha);
  return { alpha, sigma: sigmaT, lambda: f32(f32(Math.log(alpha)) - f32(Math.log(sigmaT))) };
}

function varianceTypeOption(): ConfigOption<string | null> {
  return {
    default: null,
    read: (value) => {
      if (value === "learned" || value === "learned_range") {
        throw new Error(`= ${show(value)} (a learned-variance model output) is a diffusers option Atelier does not implement; use null`);
      }
      if (value === null || typeof value === "string") return value;
      throw new Error(`must be a string or null; got ${show(value)}`);
    },
  };
}
