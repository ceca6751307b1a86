/**
 * PNDM (Liu et al. 2022, arXiv:2202.09778) as diffusers' `PNDMScheduler`: pseudo linear multistep
 * (PLMS) steps, optionally preceded by pseudo Runge-Kutta (PRK) steps. SD 1.x configs skip PRK.
 */
import type { Scheduler, StepResult } from "./scheduler.ts";
import { alphaProductAt, finalAlphaProduct, predictEpsilon, previousAlphaProduct } from "./alpha-prediction.ts";
import { elementwise, f32, requireLength } from "./float32.ts";
import { alphasCumprod } from "./noise-schedule.ts";
import { roundHalfEven } from "./numpy-numerics.ts";
import { SchedulerBase } from "./scheduler-base.ts";
import {
  booleanOption,
  DEFAULT_BETAS,
  noiseScheduleOptions,
  resolveConfig,
  samplingOptions,
  type ConfigValues,
  type ResolvedConfig,
} from "./scheduler-config.ts";
import { spacedTimesteps } from "./timestep-spacing.ts";

export const PNDM_OPTIONS = {
  ...noiseScheduleOptions(DEFAULT_BETAS),
  ...samplingOptions("leading", ["epsilon", "v_prediction"]),
  /** Start with PLMS steps directly (no Runge-Kutta warm-up). @default false */
  skip_prk_steps: booleanOption(false),
  /** Use ᾱ = 1 past the last step (else ᾱ₀). @default false */
  set_alpha_to_one: booleanOption(false),
} as const;

export type PndmConfig = ConfigValues<typeof PNDM_OPTIONS>;

/** The Runge-Kutta warm-up runs over the last four timesteps of the plain schedule. */
const PRK_MIN_STEPS = 4;

interface PndmRun {
  readonly timesteps: readonly number[];
  readonly prkTimesteps: readonly number[];
  /** Training timesteps between two inference steps. */
  readonly stride: number;
  counter: number;
  /** Model outputs of past steps, newest last (at most 4 used). */
  history: Float32Array[];
  /** The Runge-Kutta weighted sum so far (diffusers' `cur_model_output`). */
  rungeKuttaSum: Float32Array | undefined;
  /** The sample a multi-evaluation step started from. */
  startSample: Float32Array | undefined;
}

export class PndmScheduler extends SchedulerBase<PndmConfig> implements Scheduler {
  readonly timestepDtype = "int64";
  readonly initNoiseSigma = 1;
  readonly #alphasCumprod: Float32Array;
  readonly #finalAlpha: number;
  #run: PndmRun | undefined;

  static fromConfig(json: Readonly<Record<string, unknown>>): PndmScheduler {
    return new PndmScheduler(resolveConfig("PNDM", PNDM_OPTIONS, json));
  }

  private constructor(resolved: ResolvedConfig<PndmConfig>) {
    super("PNDM", resolved);
    this.#alphasCumprod = alphasCumprod(this.name, this.config);
    this.#finalAlpha = finalAlphaProduct(this.#alphasCumprod, this.config.set_alpha_to_one);
  }

  setTimesteps(numInferenceSteps: number): void {
    this.checkStepCount(numInferenceSteps);
    const { timestep_spacing: spacing, num_train_timesteps: trainSteps, steps_offset: stepsOffset } = this.config;
    const ascending = spacedTimesteps({ spacing, count: numInferenceSteps, trainSteps, stepsOffset })
      .map(roundHalfEven)
      .reverse();
    const stride = Math.floor(trainSteps / numInferenceSteps);
    const { prk, plms } = this.config.skip_prk_steps
      ? plmsOnly(ascending)
      : rungeKuttaThenPlms(ascending, stride, numInferenceSteps);
    this.#run = {
      timesteps: Object.freeze([...prk, ...plms]),
      prkTimesteps: prk,
      stride,
      counter: 0,
      history: [],
      rungeKuttaSum: undefined,
      startSample: undefined,
    };
  }

  get timesteps(): readonly number[] {
    return this.prepared(this.#run).timesteps;
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array): StepResult {
    const run = this.prepared(this.#run);
    requireLength(this.name, sample.length, { modelOutput });
    const prevSample =
      run.counter < run.prkTimesteps.length
        ? this.rungeKuttaStep(run, modelOutput, timestep, sample)
        : this.linearMultistep(run, modelOutput, timestep, sample);
    run.counter += 1;
    return { prevSample };
  }

  /** One of the four evaluations of a pseudo Runge-Kutta step (weights 1/6, 1/3, 1/3, 1/6). */
  private rungeKuttaStep(run: PndmRun, modelOutput: Float32Array, timestep: number, sample: Float32Array): Float32Array {
    const prevTimestep = timestep - (run.counter % 2 === 1 ? 0 : Math.floor(run.stride / 2));
    const stepStart = run.prkTimesteps[Math.floor(run.counter / 4) * 4]!;
    let output = modelOutput;
    switch (run.counter % 4) {
      case 0:
        run.rungeKuttaSum = weighted(undefined, 1 / 6, modelOutput);
        run.history.push(modelOutput.slice());
        run.startSample = sample.slice();
        break;
      case 1:
      case 2:
        run.rungeKuttaSum = weighted(run.rungeKuttaSum, 1 / 3, modelOutput);
        break;
      case 3:
        output = weighted(run.rungeKuttaSum, 1 / 6, modelOutput);
        run.rungeKuttaSum = undefined;
    }
    return this.previousSample(run.startSample ?? sample, stepStart, prevTimestep, output);
  }

  /** A PLMS step: Adams-Bashforth over up to four past outputs (a Heun-like pair at the very start). */
  private linearMultistep(run: PndmRun, modelOutput: Float32Array, timestep: number, sample: Float32Array): Float32Array {
    let from = timestep;
    let to = timestep - run.stride;
    if (run.counter === 1) {
      // The second call re-evaluates the first step's start with the average of both outputs.
      [from, to] = [timestep + run.stride, timestep];
    } else {
      run.history = [...run.history.slice(-3), modelOutput.slice()];
    }
    let startSample = sample;
    let output: Float32Array;
    if (run.history.length === 1 && run.counter === 0) {
      output = modelOutput;
      run.startSample = sample.slice();
    } else if (run.history.length === 1 && run.counter === 1) {
      const first = run.history[0]!;
      output = elementwise(sample.length, (i) => f32(modelOutput[i]! + first[i]!) / 2);
      startSample = run.startSample!;
      run.startSample = undefined;
    } else {
      output = adamsBashforth(run.history);
    }
    return this.previousSample(startSample, from, to, output);
  }

  /** diffusers' `_get_prev_sample`: formula (9) of the PNDM paper, from ε at `timestep` to `prevTimestep`. */
  private previousSample(sample: Float32Array, timestep: number, prevTimestep: number, output: Float32Array): Float32Array {
    const alphaProd = alphaProductAt(this.#alphasCumprod, timestep);
    const alphaProdPrev = previousAlphaProduct(this.#alphasCumprod, prevTimestep, this.#finalAlpha);
    const betaProd = f32(1 - alphaProd);
    const betaProdPrev = f32(1 - alphaProdPrev);
    const epsilon = predictEpsilon(this.config.prediction_type, output, sample, alphaProd);
    const sampleScale = f32(Math.sqrt(f32(alphaProdPrev / alphaProd)));
    const outputDenominator = f32(
      f32(alphaProd * f32(Math.sqrt(betaProdPrev))) + f32(Math.sqrt(f32(f32(alphaProd * betaProd) * alphaProdPrev))),
    );
    const alphaGap = f32(alphaProdPrev - alphaProd);
    return elementwise(
      sample.length,
      (i) => f32(sampleScale * sample[i]!) - f32(f32(alphaGap * epsilon[i]!) / outputDenominator),
    );
  }
}

/** `sum + weight * output` (sum absent = 0), rounding as torch does. */
function weighted(sum: Float32Array | undefined, weight: number, output: Float32Array): Float32Array {
  const w = f32(weight);
  return elementwise(output.length, (i) => (sum ? sum[i]! : 0) + f32(w * output[i]!));
}

/** Adams-Bashforth combinations of the last 2, 3 or 4 outputs (newest last). */
function adamsBashforth(history: Float32Array[]): Float32Array {
  const [e1, e2, e3, e4] = [history.at(-1)!, history.at(-2)!, history.at(-3), history.at(-4)];
  const n = e1.length;
  if (e3 === undefined) return elementwise(n, (i) => f32(f32(3 * e1[i]!) - e2[i]!) / 2);
  if (e4 === undefined) {
    return elementwise(n, (i) => f32(f32(f32(23 * e1[i]!) - f32(16 * e2[i]!)) + f32(5 * e3[i]!)) / 12);
  }
  const scale = f32(1 / 24);
  return elementwise(n, (i) => {
    const sum = f32(f32(f32(f32(55 * e1[i]!) - f32(59 * e2[i]!)) + f32(37 * e3[i]!)) - f32(9 * e4[i]!));
    return scale * sum;
  });
}

function plmsOnly(ascending: number[]): { prk: number[]; plms: number[] } {
  // diffusers repeats the second-to-last timestep: the first PLMS step takes two model evaluations.
  return { prk: [], plms: [...ascending.slice(0, -1), ...ascending.slice(-2, -1), ...ascending.slice(-1)].reverse() };
}

function rungeKuttaThenPlms(ascending: number[], stride: number, count: number): { prk: number[]; plms: number[] } {
  if (ascending.length < PRK_MIN_STEPS) {
    throw new Error(
      `PNDM: with skip_prk_steps false, numInferenceSteps must be at least ${PRK_MIN_STEPS} (Runge-Kutta warm-up); got ${count}`,
    );
  }
  const half = Math.floor(stride / 2);
  const pairs = ascending.slice(-PRK_MIN_STEPS).flatMap((t) => [t, t + half]);
  const prk = pairs.slice(0, -1).flatMap((t) => [t, t]).slice(1, -1).reverse();
  return { prk, plms: ascending.slice(0, -3).reverse() };
}
