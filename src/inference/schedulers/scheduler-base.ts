/**
 * What every scheduler shares besides its math: its name and resolved config, the step-count rule,
 * the "setTimesteps first" guard and the noise draw.
 */
import type { CommonSchedulerConfig, SchedulerName, StepOptions } from "./scheduler.ts";
import type { ResolvedConfig } from "./scheduler-config.ts";

export abstract class SchedulerBase<C extends CommonSchedulerConfig> {
  readonly order = 1;
  readonly config: C;
  readonly sourceConfig: Readonly<Record<string, unknown>>;
  readonly ignoredConfigKeys: readonly string[];

  protected constructor(
    readonly name: SchedulerName,
    resolved: ResolvedConfig<C>,
  ) {
    this.config = resolved.values;
    this.sourceConfig = resolved.source;
    this.ignoredConfigKeys = resolved.ignoredKeys;
  }

  /** Throws unless `count` is a whole number of steps between 1 and `maximum`. */
  protected checkStepCount(count: number, maximum = this.config.num_train_timesteps, limit = "num_train_timesteps"): void {
    if (!Number.isInteger(count) || count < 1 || count > maximum) {
      throw new Error(`${this.name}: numInferenceSteps must be an integer from 1 to ${maximum} (${limit}); got ${count}`);
    }
  }

  /** The per-run state `setTimesteps` creates, or an error saying to call it first. */
  protected prepared<T>(run: T | undefined): T {
    if (run === undefined) throw new Error(`${this.name}: call setTimesteps(numInferenceSteps) first`);
    return run;
  }

  /** One standard normal draw shaped like the sample, where diffusers draws from the generator. */
  protected drawNoise(options: StepOptions | undefined, length: number, why: string): Float32Array {
    if (options?.randn === undefined) throw new Error(`${this.name}: ${why} draws noise; pass options.randn to step()`);
    const noise = options.randn();
    if (noise.length !== length) {
      throw new Error(`${this.name}: options.randn() returned ${noise.length} values; the sample has ${length}`);
    }
    return noise;
  }
}
