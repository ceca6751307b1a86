/**
 * The scheduler registry: build a scheduler by name from a model's `scheduler/scheduler_config.json`,
 * as diffusers pipelines switch schedulers with `XScheduler.from_config(pipe.scheduler.config)`.
 */
import { DdimScheduler } from "./ddim.ts";
import { DpmSolverMultistepScheduler } from "./dpm-solver-multistep.ts";
import { EulerAncestralScheduler } from "./euler-ancestral.ts";
import { EulerScheduler } from "./euler.ts";
import { LcmScheduler } from "./lcm.ts";
import { PndmScheduler } from "./pndm.ts";
import { SCHEDULER_NAMES, type Scheduler, type SchedulerName } from "./scheduler.ts";

export type {
  CommonSchedulerConfig,
  PredictionType,
  Scheduler,
  SchedulerName,
  StepOptions,
  StepResult,
  TimestepDtype,
  TimestepSpacing,
} from "./scheduler.ts";
export { SCHEDULER_NAMES } from "./scheduler.ts";

type SchedulerConfigJson = Readonly<Record<string, unknown>>;

const FACTORIES: Readonly<Record<SchedulerName, (json: SchedulerConfigJson) => Scheduler>> = {
  PNDM: (json) => PndmScheduler.fromConfig(json),
  DDIM: (json) => DdimScheduler.fromConfig(json),
  EULER: (json) => EulerScheduler.fromConfig(json),
  EULER_ANCESTRAL: (json) => EulerAncestralScheduler.fromConfig(json),
  DPM_PP_2M: (json) => DpmSolverMultistepScheduler.fromConfig("DPM_PP_2M", json),
  DPM_PP_2M_KARRAS: (json) => DpmSolverMultistepScheduler.fromConfig("DPM_PP_2M_KARRAS", json),
  LCM: (json) => LcmScheduler.fromConfig(json),
};

export function isSchedulerName(value: unknown): value is SchedulerName {
  return SCHEDULER_NAMES.includes(value as SchedulerName);
}

/**
 * A new scheduler (one per generation job: it keeps per-run state) from `schedulerConfigJson`, the
 * parsed `scheduler_config.json` of any diffusers scheduler class. Options the JSON leaves out take this
 * scheduler's defaults; keys it does not read are listed in `ignoredConfigKeys` and kept in
 * `sourceConfig`, so `createScheduler(other, scheduler.sourceConfig)` switches schedulers.
 */
export function createScheduler(name: SchedulerName, schedulerConfigJson: SchedulerConfigJson): Scheduler {
  if (!isSchedulerName(name)) {
    throw new Error(`unknown scheduler ${JSON.stringify(name)}; expected one of ${SCHEDULER_NAMES.join(", ")}`);
  }
  if (typeof schedulerConfigJson !== "object" || schedulerConfigJson === null || Array.isArray(schedulerConfigJson)) {
    throw new Error(`${name}: the scheduler config must be a JSON object; got ${JSON.stringify(schedulerConfigJson)}`);
  }
  return FACTORIES[name](schedulerConfigJson);
}
