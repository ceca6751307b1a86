/**
 * The scheduler a model was saved with: diffusers records it as `_class_name` in
 * scheduler/scheduler_config.json. DPM-Solver++ with Karras sigmas is its own Atelier name.
 */
import type { SchedulerName } from "../schedulers/scheduler.ts";

const BY_CLASS_NAME: Record<string, SchedulerName> = {
  PNDMScheduler: "PNDM",
  DDIMScheduler: "DDIM",
  EulerDiscreteScheduler: "EULER",
  EulerAncestralDiscreteScheduler: "EULER_ANCESTRAL",
  DPMSolverMultistepScheduler: "DPM_PP_2M",
  LCMScheduler: "LCM",
};

/** The model's own scheduler; PNDM (what SD 1.x ships with) for classes Atelier does not implement. */
export function defaultSchedulerName(config: Readonly<Record<string, unknown>>): SchedulerName {
  const name = BY_CLASS_NAME[String(config._class_name)] ?? "PNDM";
  return name === "DPM_PP_2M" && config.use_karras_sigmas === true ? "DPM_PP_2M_KARRAS" : name;
}
