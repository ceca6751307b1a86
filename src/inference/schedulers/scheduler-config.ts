/**
 * Reading a `scheduler_config.json` the way diffusers' `XScheduler.from_config(config, **overrides)`
 * does: each scheduler declares its options with their defaults; an option the JSON leaves out (or
 * lists in `_use_default_values`) takes that scheduler's default; keys it does not read are kept and
 * listed, never dropped; the result is frozen. Options diffusers has but Atelier does not implement
 * are accepted only at the value that leaves the math unchanged, and rejected otherwise.
 */
import type { PredictionType, TimestepSpacing } from "./scheduler.ts";

/** How one option is read from the JSON. */
export interface ConfigOption<T> {
  readonly default: T;
  /** Returns the value typed, or throws an Error whose message says what is allowed. */
  readonly read: (value: unknown) => T;
}

export type ConfigOptions = Readonly<Record<string, ConfigOption<unknown>>>;

export type ConfigValues<S extends ConfigOptions> = {
  readonly [K in keyof S]: S[K] extends ConfigOption<infer T> ? T : never;
};

export interface ResolvedConfig<V> {
  /** Every declared option, from the JSON or its default (or fixed by the scheduler's name), frozen. */
  readonly values: V;
  /** The JSON as given, frozen. */
  readonly source: Readonly<Record<string, unknown>>;
  /** Public keys of the JSON that no declared option reads. */
  readonly ignoredKeys: readonly string[];
}

/**
 * Resolves `json` against `options`. `fixed` holds values a scheduler's name implies (DPM++ 2M Karras
 * fixes `use_karras_sigmas: true`); like diffusers' `from_config` keyword overrides, they win over the JSON.
 */
export function resolveConfig<S extends ConfigOptions>(
  owner: string,
  options: S,
  json: Readonly<Record<string, unknown>>,
  fixed: Partial<ConfigValues<S>> = {},
): ResolvedConfig<ConfigValues<S>> {
  const defaulted = new Set(readDefaultedKeys(owner, json));
  const values: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(options)) {
    if (Object.hasOwn(fixed, key)) values[key] = fixed[key as keyof S];
    else if (Object.hasOwn(json, key) && !defaulted.has(key)) values[key] = readOption(owner, key, option, json[key]);
    else values[key] = option.default;
  }
  const ignoredKeys = Object.keys(json).filter((key) => !key.startsWith("_") && !Object.hasOwn(options, key));
  return {
    values: Object.freeze(values) as ConfigValues<S>,
    source: Object.freeze({ ...json }),
    ignoredKeys: Object.freeze(ignoredKeys),
  };
}

function readOption(owner: string, key: string, option: ConfigOption<unknown>, value: unknown): unknown {
  try {
    return option.read(value);
  } catch (error) {
    throw new Error(`${owner} scheduler config: "${key}" ${(error as Error).message}`);
  }
}

/** diffusers records options a saved config took from defaults in `_use_default_values`; they stay defaults. */
function readDefaultedKeys(owner: string, json: Readonly<Record<string, unknown>>): string[] {
  const listed = json["_use_default_values"];
  if (listed === undefined) return [];
  if (Array.isArray(listed) && listed.every((key) => typeof key === "string")) return listed;
  throw new Error(`${owner} scheduler config: "_use_default_values" must be a list of option names; got ${show(listed)}`);
}

/** A value as it appears in a message. */
export function show(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : JSON.stringify(value) ?? String(value);
}

export function integerOption(defaultValue: number, minimum: number): ConfigOption<number> {
  return {
    default: defaultValue,
    read: (value) => {
      if (typeof value === "number" && Number.isInteger(value) && value >= minimum) return value;
      throw new Error(`must be an integer >= ${minimum}; got ${show(value)}`);
    },
  };
}

export function numberOption(defaultValue: number): ConfigOption<number> {
  return {
    default: defaultValue,
    read: (value) => {
      if (typeof value === "number" && !Number.isNaN(value)) return value;
      throw new Error(`must be a number; got ${show(value)}`);
    },
  };
}

/** A number or null (null meaning "derive it", as diffusers' `Optional[float] = None`). */
export function optionalNumberOption(): ConfigOption<number | null> {
  return {
    default: null,
    read: (value) => {
      if (value === null || (typeof value === "number" && Number.isFinite(value))) return value;
      throw new Error(`must be a finite number or null; got ${show(value)}`);
    },
  };
}

/** A boolean; null reads as false, as Python's truthiness treats diffusers' `Optional[bool]`. */
export function booleanOption(defaultValue: boolean): ConfigOption<boolean> {
  return {
    default: defaultValue,
    read: (value) => {
      if (typeof value === "boolean") return value;
      if (value === null) return false;
      throw new Error(`must be true or false; got ${show(value)}`);
    },
  };
}

/**
 * One of `allowed`. `aliases` maps other accepted spellings to an allowed value (diffusers maps UniPC's
 * solver types to DPM-Solver's "midpoint"); `unsupported` lists diffusers' values Atelier does not implement.
 */
export function choiceOption<T extends string>(
  defaultValue: T,
  allowed: readonly T[],
  extra: { aliases?: Readonly<Record<string, T>>; unsupported?: readonly string[] } = {},
): ConfigOption<T> {
  return {
    default: defaultValue,
    read: (value) => {
      if (allowed.includes(value as T)) return value as T;
      const alias = typeof value === "string" ? extra.aliases?.[value] : undefined;
      if (alias !== undefined) return alias;
      const choices = allowed.map(show).join(", ");
      if (extra.unsupported?.includes(value as string)) {
        throw new Error(`= ${show(value)} is a diffusers option Atelier does not implement; supported: ${choices}`);
      }
      throw new Error(`must be one of ${choices}; got ${show(value)}`);
    },
  };
}

/** A diffusers feature flag Atelier does not implement: accepted only when off (false or null). */
export function unsupportedFlag(): ConfigOption<false> {
  return {
    default: false,
    read: (value) => {
      if (value === false || value === null) return false;
      if (value === true) throw new Error(`= true is a diffusers option Atelier does not implement (it changes the math); only false is supported`);
      throw new Error(`must be true or false (only false is supported); got ${show(value)}`);
    },
  };
}

/** A list of finite numbers, or null. */
export function numberListOption(): ConfigOption<readonly number[] | null> {
  return {
    default: null,
    read: (value) => {
      if (value === null) return null;
      if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "number" && Number.isFinite(v))) {
        return Object.freeze([...value]);
      }
      throw new Error(`must be null or a non-empty list of finite numbers; got ${show(value).slice(0, 80)}`);
    },
  };
}

export const BETA_SCHEDULES = ["linear", "scaled_linear", "squaredcos_cap_v2"] as const;
export const TIMESTEP_SPACINGS: readonly TimestepSpacing[] = ["linspace", "leading", "trailing"];

/** The training noise schedule options every scheduler declares, with its own defaults. */
export function noiseScheduleOptions(defaults: {
  beta_start: number;
  beta_end: number;
  beta_schedule: (typeof BETA_SCHEDULES)[number];
}) {
  return {
    num_train_timesteps: integerOption(1000, 1),
    beta_start: numberOption(defaults.beta_start),
    beta_end: numberOption(defaults.beta_end),
    beta_schedule: choiceOption(defaults.beta_schedule, BETA_SCHEDULES),
    trained_betas: numberListOption(),
  } as const;
}

/** diffusers' defaults for the betas, shared by every scheduler here but LCM. */
export const DEFAULT_BETAS = { beta_start: 0.0001, beta_end: 0.02, beta_schedule: "linear" } as const;

/** The sampling options every scheduler declares: prediction type, spacing, offset. */
export function samplingOptions(
  defaultSpacing: TimestepSpacing,
  predictionTypes: readonly PredictionType[],
  predictionAliases: Readonly<Record<string, PredictionType>> = {},
) {
  return {
    prediction_type: choiceOption<PredictionType>("epsilon", predictionTypes, {
      aliases: predictionAliases,
      unsupported: ["sample", "flow_prediction"].filter((p) => !predictionTypes.includes(p as PredictionType)),
    }),
    timestep_spacing: choiceOption(defaultSpacing, TIMESTEP_SPACINGS),
    steps_offset: integerOption(0, 0),
  } as const;
}

/** Options of diffusers' dynamic thresholding, which Atelier does not implement (`thresholding` must stay off). */
export function thresholdingOptions() {
  return {
    thresholding: unsupportedFlag(),
    dynamic_thresholding_ratio: numberOption(0.995),
    sample_max_value: numberOption(1.0),
  } as const;
}
