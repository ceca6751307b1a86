/**
 * What Euler and Euler ancestral share around their step: the training sigmas, a `SigmaTimeline` per
 * run, and the timeline-backed members of the `Scheduler` interface.
 */
import type { CommonSchedulerConfig, SchedulerName } from "./scheduler.ts";
import { sigmaSafeAlphasCumprod, type NoiseScheduleConfig } from "./noise-schedule.ts";
import { SchedulerBase } from "./scheduler-base.ts";
import type { ResolvedConfig } from "./scheduler-config.ts";
import { SigmaTimeline, type SigmaTimelineConfig } from "./sigma-timeline.ts";
import { trainingSigmas } from "./sigmas.ts";

export abstract class EulerFamilyScheduler<C extends CommonSchedulerConfig & NoiseScheduleConfig> extends SchedulerBase<C> {
  readonly timestepDtype = "float32";
  readonly #trainSigmas: Float32Array;
  #run: SigmaTimeline | undefined;

  protected constructor(name: SchedulerName, resolved: ResolvedConfig<C>) {
    super(name, resolved);
    this.#trainSigmas = trainingSigmas(sigmaSafeAlphasCumprod(name, this.config));
  }

  /** How this scheduler lays out its sigmas (Euler ancestral fixes what Euler lets the config choose). */
  protected abstract timelineConfig(): SigmaTimelineConfig;

  setTimesteps(numInferenceSteps: number): void {
    this.checkStepCount(numInferenceSteps);
    this.#run = new SigmaTimeline(this.name, this.timelineConfig(), this.#trainSigmas, numInferenceSteps);
  }

  get timesteps(): readonly number[] {
    return this.timeline().timesteps;
  }

  get sigmas(): Float32Array {
    return this.timeline().sigmas.slice();
  }

  get initNoiseSigma(): number {
    return this.timeline().initNoiseSigma;
  }

  scaleModelInput(sample: Float32Array, timestep: number): Float32Array {
    return this.timeline().scaleModelInput(sample, timestep);
  }

  protected timeline(): SigmaTimeline {
    return this.prepared(this.#run);
  }
}
