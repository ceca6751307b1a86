/**
 * The one interface every noise scheduler implements, shaped like diffusers' `SchedulerMixin` as
 * `StableDiffusionPipeline` drives it: `setTimesteps` → latents × `initNoiseSigma` → per timestep
 * `scaleModelInput` → UNet → guidance → `step`.
 *
 * Tensors are flat `Float32Array`s over the whole batch: every scheduler operation is elementwise, so
 * shapes never matter here. An instance keeps per-run state (step index, DPM-Solver's previous model
 * outputs, PNDM's history): build one per generation job.
 */

/** The schedulers Atelier offers, by the names the API and the database use. */
export const SCHEDULER_NAMES = [
  "PNDM",
  "DDIM",
  "EULER",
  "EULER_ANCESTRAL",
  "DPM_PP_2M",
  "DPM_PP_2M_KARRAS",
  "LCM",
] as const;

export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/** What the model's output predicts (diffusers' `prediction_type`). */
export type PredictionType = "epsilon" | "v_prediction" | "sample";

/** How inference timesteps are spread over the training timesteps (diffusers' `timestep_spacing`). */
export type TimestepSpacing = "linspace" | "leading" | "trailing";

/** The element type of diffusers' `scheduler.timesteps`: what a PyTorch pipeline would feed the UNet. */
export type TimestepDtype = "int64" | "float32";

/** Options every scheduler reads from `scheduler_config.json` (keys as diffusers spells them). */
export interface CommonSchedulerConfig {
  /** @default 1000 */
  readonly num_train_timesteps: number;
  /** @default 0.0001 (LCM: 0.00085) */
  readonly beta_start: number;
  /** @default 0.02 (LCM: 0.012) */
  readonly beta_end: number;
  /** @default "linear" (LCM: "scaled_linear") */
  readonly beta_schedule: "linear" | "scaled_linear" | "squaredcos_cap_v2";
  /** Explicit betas, one per training timestep; overrides beta_start/beta_end/beta_schedule. @default null */
  readonly trained_betas: readonly number[] | null;
  /** @default "epsilon" */
  readonly prediction_type: PredictionType;
  /** @default "leading" for PNDM, DDIM and LCM; "linspace" for Euler, Euler ancestral and DPM-Solver */
  readonly timestep_spacing: TimestepSpacing;
  /** Added to "leading" timesteps (SD 1.x/2.x configs use 1). @default 0 */
  readonly steps_offset: number;
}

export interface StepOptions {
  /**
   * Draws standard normal noise shaped like `sample` (the whole batch). Called exactly where diffusers
   * draws from the pipeline's generator, at most once per step; required by the schedulers that draw
   * (Euler ancestral, LCM before its last step, DDIM with `eta > 0`). With one generator per image the
   * pipeline concatenates per-image draws, as diffusers' `randn_tensor` does.
   */
  randn?: () => Float32Array;
  /**
   * DDIM's η (0 = deterministic DDIM, 1 = DDPM-like). Other schedulers ignore it, as diffusers'
   * pipeline does. @default 0
   */
  eta?: number;
}

export interface StepResult {
  /** The sample at the next (less noisy) timestep. */
  prevSample: Float32Array;
  /**
   * The scheduler's estimate of the clean sample, where it computes one: DDIM, Euler and Euler
   * ancestral return diffusers' `pred_original_sample`, LCM its `denoised`, DPM-Solver++ the data
   * prediction it steps with. PNDM has none.
   */
  predOriginalSample?: Float32Array;
}

export interface Scheduler {
  readonly name: SchedulerName;
  /**
   * Every option this scheduler reads, resolved as diffusers' `from_config` does, frozen: the common
   * ones typed, the scheduler's own by key (each class exports its full config type).
   */
  readonly config: Readonly<CommonSchedulerConfig> & Readonly<Record<string, unknown>>;
  /** The `scheduler_config.json` object it was built from, untouched: build another scheduler from it. */
  readonly sourceConfig: Readonly<Record<string, unknown>>;
  /** Keys of `sourceConfig` this scheduler does not read (kept in `sourceConfig`, never dropped). */
  readonly ignoredConfigKeys: readonly string[];
  /** Model evaluations per step (1 for all of these). */
  readonly order: number;
  readonly timestepDtype: TimestepDtype;
  /** Prepares a run of `numInferenceSteps` steps; resets all per-run state. */
  setTimesteps(numInferenceSteps: number): void;
  /** As diffusers' `scheduler.timesteps` after `setTimesteps` (float32 values for the Euler family). */
  readonly timesteps: readonly number[];
  /** As diffusers' `scheduler.sigmas`, trailing final sigma included; only sigma-based schedulers have it. */
  readonly sigmas?: Float32Array;
  /** Scale for the initial noise; read it after `setTimesteps`, as diffusers' pipeline does. */
  readonly initNoiseSigma: number;
  scaleModelInput(sample: Float32Array, timestep: number): Float32Array;
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options?: StepOptions): StepResult;
}
