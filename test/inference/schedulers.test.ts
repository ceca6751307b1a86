/**
 * The schedulers against diffusers v0.35.2 (numbers from tools/reference/schedulers.py, stored in
 * test/fixtures/schedulers.json): one contract suite every scheduler passes, then per-scheduler facts
 * and the errors bad inputs must raise.
 *
 * Tolerances: timesteps exact; sigmas and init noise sigma 1e-6 relative; samples 1e-5 of the tensor's
 * largest magnitude, per step (checksums) and at the end (every value).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  createScheduler,
  SCHEDULER_NAMES,
  type Scheduler,
  type SchedulerName,
} from "../../src/inference/schedulers/index.ts";
import { alphasCumprod, type NoiseScheduleConfig } from "../../src/inference/schedulers/noise-schedule.ts";

interface CaseRecord {
  scheduler: SchedulerName;
  config: string | null;
  label?: string;
  overrides: Record<string, unknown>;
  steps: number;
}
interface ScheduleRecord extends CaseRecord {
  timesteps: number[];
  sigmas: number[] | null;
  initNoiseSigma: number;
}
interface StepRecord {
  timestep: number;
  prev: [number, number];
  scaled?: string;
  prevSample?: string;
  pred?: string | null;
}
interface TrajectoryRecord extends CaseRecord {
  eta: number | null;
  noiseDraws: number;
  perStep: StepRecord[];
  final: string;
  finalPred: string | null;
}
interface Fixture {
  configs: Record<string, Record<string, unknown>>;
  sd15Betas: number[];
  initialSample: string;
  base: string;
  noise: { draws: string[] };
  alphasCumprod: { config: string; overrides: Record<string, unknown>; alphasCumprod: string }[];
  schedules: ScheduleRecord[];
  trajectories: TrajectoryRecord[];
}

const fixture = JSON.parse(readFileSync(new URL("../fixtures/schedulers.json", import.meta.url), "utf8")) as Fixture;
const SD15 = fixture.configs["sd15"]!;
const SAMPLE_TOLERANCE = 1e-5;
const SIGMA_TOLERANCE = 1e-6;

function tensor(base64: string): Float32Array {
  const bytes = Buffer.from(base64, "base64");
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The config JSON a record was made from ("$sd15Betas" stands for the stored SD 1.5 betas). */
function configOf(record: Pick<CaseRecord, "config" | "overrides">): Record<string, unknown> {
  const overrides = Object.fromEntries(
    Object.entries(record.overrides).map(([key, value]) => [key, value === "$sd15Betas" ? fixture.sd15Betas : value]),
  );
  return { ...(record.config === null ? {} : fixture.configs[record.config]), ...overrides };
}

function describeCase(record: CaseRecord): string {
  const overrides = Object.keys(record.overrides).length > 0 ? ` ${JSON.stringify(record.overrides).slice(0, 80)}` : "";
  return `${record.config ?? "{}"}${record.label ? ` (${record.label})` : ""}${overrides}, ${record.steps} steps`;
}

/** The fixture's stand-in UNet; the same float32 operations as the Python script's. */
function model(scaledInput: Float32Array, timestep: number, base: Float32Array): Float32Array {
  const timeScale = Math.fround(1 / (1 + timestep / 500));
  const inputScale = Math.fround(0.1);
  return Float32Array.from(scaledInput, (x, i) => Math.fround(inputScale * x) + Math.fround(base[i]! * timeScale));
}

interface Trajectory {
  timesteps: number[];
  steps: { scaled: Float32Array; prevSample: Float32Array; pred: Float32Array | undefined }[];
  noiseDraws: number;
}

/** A pipeline's denoising loop around the scheduler, noise taken in order from the recorded draws. */
function runTrajectory(scheduler: Scheduler, steps: number, eta: number | null): Trajectory {
  const initial = tensor(fixture.initialSample);
  const base = tensor(fixture.base);
  scheduler.setTimesteps(steps);
  let sample: Float32Array = Float32Array.from(initial, (x) => Math.fround(x * scheduler.initNoiseSigma));
  let noiseDraws = 0;
  const randn = () => tensor(fixture.noise.draws[noiseDraws++]!);
  const record: Trajectory = { timesteps: [], steps: [], noiseDraws: 0 };
  for (const timestep of scheduler.timesteps) {
    const scaled = scheduler.scaleModelInput(sample, timestep);
    const result = scheduler.step(model(scaled, timestep, base), timestep, sample, { randn, ...(eta !== null && { eta }) });
    sample = result.prevSample;
    record.timesteps.push(timestep);
    record.steps.push({ scaled, prevSample: sample, pred: result.predOriginalSample });
  }
  record.noiseDraws = noiseDraws;
  return record;
}

function maxAbs(values: ArrayLike<number>): number {
  return Array.from(values).reduce((max, v) => Math.max(max, Math.abs(v)), 0);
}

/** Every value within SAMPLE_TOLERANCE of the reference's largest magnitude. */
function expectTensorClose(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const bound = SAMPLE_TOLERANCE * Math.max(maxAbs(expected), 1e-6);
  const worst = Array.from(actual).reduce((max, v, i) => Math.max(max, Math.abs(v - expected[i]!)), 0);
  expect(worst, `${what}: max |diff| vs bound ${bound}`).toBeLessThanOrEqual(bound);
}

function expectChecksumClose(actual: Float32Array, [sum, absSum]: [number, number], what: string): void {
  let actualSum = 0;
  let actualAbsSum = 0;
  for (const v of actual) {
    actualSum += v;
    actualAbsSum += Math.abs(v);
  }
  expect(Math.abs(actualSum - sum), `${what}: sum ${actualSum} vs ${sum}`).toBeLessThanOrEqual(SAMPLE_TOLERANCE * absSum);
  expect(Math.abs(actualAbsSum - absSum), `${what}: abs sum`).toBeLessThanOrEqual(SAMPLE_TOLERANCE * absSum);
}

function expectSigmasClose(actual: Float32Array | undefined, expected: number[], what: string): void {
  expect(actual, what).toBeDefined();
  expect(actual!.length, what).toBe(expected.length);
  actual!.forEach((sigma, i) => {
    expect(Math.abs(sigma - expected[i]!), `${what}: sigma[${i}]`).toBeLessThanOrEqual(SIGMA_TOLERANCE * Math.abs(expected[i]!));
  });
}

function expectTimestepsMatch(actual: readonly number[], record: ScheduleRecord | TrajectoryRecord, what: string): void {
  const expected = "timesteps" in record ? record.timesteps : record.perStep.map((s) => s.timestep);
  expect(actual.map(Math.fround), what).toEqual(expected.map(Math.fround));
}

const USES_SIGMAS: readonly SchedulerName[] = ["EULER", "EULER_ANCESTRAL", "DPM_PP_2M", "DPM_PP_2M_KARRAS"];
const IDENTITY_SCALING: readonly SchedulerName[] = ["PNDM", "DDIM", "DPM_PP_2M", "DPM_PP_2M_KARRAS", "LCM"];

describe.each(SCHEDULER_NAMES)("%s: scheduler contract", (name) => {
  const schedules = fixture.schedules.filter((s) => s.scheduler === name);
  const trajectories = fixture.trajectories.filter((t) => t.scheduler === name);

  it("matches diffusers' timesteps, sigmas and init noise sigma for every recorded config and step count", () => {
    expect(schedules.length).toBeGreaterThan(20);
    for (const record of schedules) {
      const what = `${name} ${describeCase(record)}`;
      const scheduler = createScheduler(name, configOf(record));
      scheduler.setTimesteps(record.steps);
      expectTimestepsMatch(scheduler.timesteps, record, what);
      if (record.sigmas === null) expect(scheduler.sigmas, what).toBeUndefined();
      else expectSigmasClose(scheduler.sigmas, record.sigmas, what);
      expect(Math.abs(scheduler.initNoiseSigma - record.initNoiseSigma), `${what}: initNoiseSigma`).toBeLessThanOrEqual(
        SIGMA_TOLERANCE * record.initNoiseSigma,
      );
    }
  });

  it("walks diffusers' trajectories step by step (same timesteps, noise draws and samples)", () => {
    expect(trajectories.length).toBeGreaterThan(5);
    for (const record of trajectories) {
      const what = `${name} ${describeCase(record)}`;
      const run = runTrajectory(createScheduler(name, configOf(record)), record.steps, record.eta);
      expectTimestepsMatch(run.timesteps, record, what);
      expect(run.noiseDraws, `${what}: noise draws`).toBe(record.noiseDraws);
      record.perStep.forEach((expected, i) => {
        const actual = run.steps[i]!;
        expectChecksumClose(actual.prevSample, expected.prev, `${what}, step ${i}`);
        if (expected.prevSample) expectTensorClose(actual.prevSample, tensor(expected.prevSample), `${what}, step ${i} prev_sample`);
        if (expected.scaled) expectTensorClose(actual.scaled, tensor(expected.scaled), `${what}, step ${i} scaled input`);
        if (expected.pred) expectTensorClose(actual.pred!, tensor(expected.pred), `${what}, step ${i} x0`);
      });
      expectTensorClose(run.steps.at(-1)!.prevSample, tensor(record.final), `${what}: final sample`);
      if (record.finalPred) expectTensorClose(run.steps.at(-1)!.pred!, tensor(record.finalPred), `${what}: final x0`);
    }
  });

  it("starts over on setTimesteps: a reused instance repeats its first run exactly", () => {
    const scheduler = createScheduler(name, SD15);
    const first = runTrajectory(scheduler, 4, null);
    const second = runTrajectory(scheduler, 4, null);
    expect(second.steps.at(-1)!.prevSample).toEqual(first.steps.at(-1)!.prevSample);
  });

  it("lays timesteps from noisiest to cleanest within the training range", () => {
    const scheduler = createScheduler(name, SD15);
    scheduler.setTimesteps(25);
    const timesteps = scheduler.timesteps;
    expect(timesteps.length).toBeGreaterThanOrEqual(25);
    timesteps.slice(1).forEach((t, i) => expect(t).toBeLessThanOrEqual(timesteps[i]!));
    expect(Math.min(...timesteps)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...timesteps)).toBeLessThan(1000);
    expect(Object.isFrozen(timesteps)).toBe(true);
    expect(scheduler.order).toBe(1);
  });

  it(IDENTITY_SCALING.includes(name) ? "leaves the model input unscaled" : "scales the model input by 1/sqrt(sigma^2 + 1)", () => {
    const scheduler = createScheduler(name, SD15);
    scheduler.setTimesteps(10);
    const sample = tensor(fixture.initialSample);
    const first = scheduler.timesteps[0]!;
    const scaled = scheduler.scaleModelInput(sample, first);
    if (IDENTITY_SCALING.includes(name)) {
      expect(scaled).toEqual(sample);
    } else {
      const sigma = scheduler.sigmas![0]!;
      expectTensorClose(scaled, sample.map((x) => x / Math.sqrt(sigma * sigma + 1)), "scaled input");
    }
  });

  it(USES_SIGMAS.includes(name) ? "has one sigma per timestep plus a final 0" : "has no sigmas", () => {
    const scheduler = createScheduler(name, SD15);
    scheduler.setTimesteps(20);
    if (!USES_SIGMAS.includes(name)) return expect(scheduler.sigmas).toBeUndefined();
    expect(scheduler.sigmas!.length).toBe(scheduler.timesteps.length + 1);
    expect(scheduler.sigmas!.at(-1)).toBe(0);
  });

  it("keeps the config JSON and lists the keys it does not read", () => {
    const json = { ...SD15, some_future_option: 3 };
    const scheduler = createScheduler(name, json);
    expect(scheduler.sourceConfig).toEqual(json);
    expect(scheduler.ignoredConfigKeys).toContain("some_future_option");
    expect(scheduler.ignoredConfigKeys).not.toContain("_class_name");
    expect(scheduler.ignoredConfigKeys).not.toContain("beta_start");
    expect(Object.isFrozen(scheduler.config)).toBe(true);
    expect(scheduler.config.num_train_timesteps).toBe(1000);
  });

  it("refuses to run before setTimesteps", () => {
    const scheduler = createScheduler(name, SD15);
    const sample = new Float32Array(4);
    expect(() => scheduler.timesteps).toThrow(`${name}: call setTimesteps(numInferenceSteps) first`);
    expect(() => scheduler.step(sample, 999, sample)).toThrow("call setTimesteps");
  });

  it.each([0, -1, 2.5, 1001, Number.NaN])("rejects %s inference steps, naming the allowed range", (steps) => {
    const scheduler = createScheduler(name, SD15);
    const maximum = name === "LCM" ? "50 (original_inference_steps)" : "1000 (num_train_timesteps)";
    expect(() => scheduler.setTimesteps(steps)).toThrow(`${name}: numInferenceSteps must be an integer from 1 to ${maximum}; got ${steps}`);
  });

  it("rejects a model output or noise of another size than the sample", () => {
    const scheduler = createScheduler(name, SD15);
    scheduler.setTimesteps(4);
    const t = scheduler.timesteps[0]!;
    expect(() => scheduler.step(new Float32Array(3), t, new Float32Array(4))).toThrow(
      `${name}: modelOutput has 3 elements but sample has 4; they must match`,
    );
  });
});

describe("scheduler specifics from the SD 1.5 config", () => {
  it("Euler: 20 steps start at t = 999 with sigma = initNoiseSigma = 14.614645", () => {
    for (const name of ["EULER", "EULER_ANCESTRAL"] as const) {
      const scheduler = createScheduler(name, SD15);
      scheduler.setTimesteps(20);
      expect(scheduler.config.timestep_spacing).toBe("linspace");
      expect(scheduler.timesteps[0]).toBe(999);
      expect(scheduler.timesteps[1]).toBe(Math.fround((999 * 18) / 19));
      expect(scheduler.sigmas![0]).toBeCloseTo(14.614645, 5);
      expect(scheduler.initNoiseSigma).toBe(scheduler.sigmas![0]);
    }
  });

  it("Euler with leading spacing scales the initial noise by sqrt(sigma_max^2 + 1)", () => {
    const scheduler = createScheduler("EULER", { ...SD15, timestep_spacing: "leading" });
    scheduler.setTimesteps(20);
    const sigmaMax = scheduler.sigmas![0]!;
    expect(scheduler.timesteps[0]).toBe(951);
    expect(scheduler.initNoiseSigma).toBeCloseTo(Math.sqrt(sigmaMax * sigmaMax + 1), 5);
  });

  it("PNDM and DDIM: leading spacing, first of 20 steps t = 951; PNDM repeats 901 for its two-evaluation first step", () => {
    const ddim = createScheduler("DDIM", SD15);
    ddim.setTimesteps(20);
    expect(ddim.timesteps.slice(0, 3)).toEqual([951, 901, 851]);
    expect(ddim.timesteps.at(-1)).toBe(1);
    const pndm = createScheduler("PNDM", SD15);
    pndm.setTimesteps(20);
    expect(pndm.timesteps.slice(0, 4)).toEqual([951, 901, 901, 851]);
    expect(pndm.timesteps).toHaveLength(21);
  });

  it("PNDM with Runge-Kutta warm-up: 12 PRK timesteps then PLMS", () => {
    const pndm = createScheduler("PNDM", { ...SD15, skip_prk_steps: false });
    pndm.setTimesteps(20);
    expect(pndm.timesteps.slice(0, 12)).toEqual([951, 926, 926, 901, 901, 876, 876, 851, 851, 826, 826, 801]);
    expect(pndm.timesteps[12]).toBe(801);
    expect(() => pndm.setTimesteps(3)).toThrow("PNDM: with skip_prk_steps false, numInferenceSteps must be at least 4");
  });

  it("DPM++ 2M Karras: sigmas from sigma_max to sigma_min, integer timesteps", () => {
    const karras = createScheduler("DPM_PP_2M_KARRAS", SD15);
    karras.setTimesteps(20);
    const sigmas = karras.sigmas!;
    expect(karras.config).toMatchObject({ use_karras_sigmas: true, algorithm_type: "dpmsolver++", solver_order: 2 });
    expect(sigmas[0]).toBeCloseTo(14.614643, 4);
    expect(sigmas[19]).toBeCloseTo(0.0291675, 6);
    for (let i = 1; i < 20; i++) expect(sigmas[i]).toBeLessThan(sigmas[i - 1]!);
    expect(karras.timesteps.every(Number.isInteger)).toBe(true);
    expect(karras.timesteps[0]).toBe(999);
    const plain = createScheduler("DPM_PP_2M", { ...SD15, use_karras_sigmas: true });
    expect(plain.config.use_karras_sigmas).toBe(false); // the name decides, as from_config keyword overrides do
  });

  it("LCM: timesteps are picked from the original_inference_steps grid", () => {
    const lcm = createScheduler("LCM", SD15);
    lcm.setTimesteps(4);
    expect(lcm.timesteps).toEqual([999, 759, 499, 259]);
    const shorter = createScheduler("LCM", { ...SD15, original_inference_steps: 25 });
    shorter.setTimesteps(4);
    expect(shorter.timesteps).toEqual([999, 759, 519, 279]);
    expect(() => shorter.setTimesteps(26)).toThrow("LCM: numInferenceSteps must be an integer from 1 to 25 (original_inference_steps); got 26");
  });

  it("takes each class's defaults where the config is silent, and SD 1.5's values where it speaks", () => {
    const ddim = createScheduler("DDIM", SD15);
    expect(ddim.config).toMatchObject({ set_alpha_to_one: false, clip_sample: false, steps_offset: 1, timestep_spacing: "leading" });
    expect(ddim.ignoredConfigKeys).toEqual(["skip_prk_steps"]);
    const bare = createScheduler("DDIM", {});
    expect(bare.config).toMatchObject({ set_alpha_to_one: true, clip_sample: true, beta_schedule: "linear", beta_start: 0.0001 });
    const lcm = createScheduler("LCM", {});
    expect(lcm.config).toMatchObject({ beta_schedule: "scaled_linear", beta_start: 0.00085, original_inference_steps: 50 });
  });

  it("treats options listed in _use_default_values as unset (a config saved by diffusers)", () => {
    const saved = { ...SD15, timestep_spacing: "leading", _use_default_values: ["timestep_spacing"] };
    expect(createScheduler("EULER", saved).config.timestep_spacing).toBe("linspace");
    expect(createScheduler("EULER", { ...SD15, timestep_spacing: "leading" }).config.timestep_spacing).toBe("leading");
  });

  it("switches schedulers from another's sourceConfig", () => {
    const euler = createScheduler("EULER", SD15);
    const ddim = createScheduler("DDIM", euler.sourceConfig);
    expect(ddim.config.set_alpha_to_one).toBe(false);
    expect(ddim.sourceConfig).toEqual(SD15);
  });

  it("builds alphas_cumprod bit for bit (torch's float32 linspace, float64-accumulated cumprod)", () => {
    for (const record of fixture.alphasCumprod) {
      const config = createScheduler("DDIM", configOf(record)).config as NoiseScheduleConfig;
      expect(alphasCumprod("DDIM", config), JSON.stringify(record.overrides)).toEqual(tensor(record.alphasCumprod));
    }
  });
});

describe("bad inputs", () => {
  it("rejects an unknown scheduler name, listing the known ones", () => {
    expect(() => createScheduler("HEUN" as SchedulerName, SD15)).toThrow(
      'unknown scheduler "HEUN"; expected one of PNDM, DDIM, EULER, EULER_ANCESTRAL, DPM_PP_2M, DPM_PP_2M_KARRAS, LCM',
    );
  });

  it("rejects a config that is not an object", () => {
    expect(() => createScheduler("DDIM", [] as unknown as Record<string, unknown>)).toThrow("DDIM: the scheduler config must be a JSON object; got []");
  });

  it.each<[SchedulerName, Record<string, unknown>, string]>([
    ["EULER", { timestep_spacing: "even" }, 'EULER scheduler config: "timestep_spacing" must be one of "linspace", "leading", "trailing"; got "even"'],
    ["DDIM", { beta_schedule: "sigmoid" }, 'DDIM scheduler config: "beta_schedule" must be one of "linear", "scaled_linear", "squaredcos_cap_v2"; got "sigmoid"'],
    ["DDIM", { num_train_timesteps: 0 }, 'DDIM scheduler config: "num_train_timesteps" must be an integer >= 1; got 0'],
    ["PNDM", { steps_offset: "1" }, 'PNDM scheduler config: "steps_offset" must be an integer >= 0; got "1"'],
    ["DDIM", { thresholding: true }, 'DDIM scheduler config: "thresholding" = true is a diffusers option Atelier does not implement (it changes the math); only false is supported'],
    ["EULER_ANCESTRAL", { prediction_type: "sample" }, 'EULER_ANCESTRAL scheduler config: "prediction_type" = "sample" is a diffusers option Atelier does not implement; supported: "epsilon", "v_prediction"'],
    ["PNDM", { prediction_type: "x0" }, 'PNDM scheduler config: "prediction_type" must be one of "epsilon", "v_prediction"; got "x0"'],
    ["EULER", { interpolation_type: "log_linear" }, 'EULER scheduler config: "interpolation_type" = "log_linear" is a diffusers option Atelier does not implement; supported: "linear"'],
    ["EULER", { use_exponential_sigmas: true }, '"use_exponential_sigmas" = true is a diffusers option Atelier does not implement'],
    ["EULER", { timestep_type: "continuous", prediction_type: "v_prediction" }, '"timestep_type" = "continuous" with "prediction_type" = "v_prediction" is a diffusers option Atelier does not implement'],
    ["DPM_PP_2M", { variance_type: "learned_range" }, 'DPM_PP_2M scheduler config: "variance_type" = "learned_range" (a learned-variance model output) is a diffusers option Atelier does not implement'],
    ["DPM_PP_2M_KARRAS", { use_lu_lambdas: true }, 'DPM_PP_2M_KARRAS scheduler config: "use_lu_lambdas" = true is a diffusers option'],
    ["DDIM", { num_train_timesteps: 3, trained_betas: [0.1, 0.2] }, 'DDIM scheduler config: "trained_betas" has 2 values but "num_train_timesteps" is 3; they must agree'],
    ["LCM", { original_inference_steps: 2000 }, 'LCM scheduler config: "original_inference_steps" (2000) cannot exceed "num_train_timesteps" (1000)'],
    ["EULER", { _use_default_values: "timestep_spacing" }, 'EULER scheduler config: "_use_default_values" must be a list of option names; got "timestep_spacing"'],
  ])("%s rejects %j", (name, overrides, message) => {
    expect(() => createScheduler(name, { ...SD15, ...overrides })).toThrow(message);
  });

  it("requires noise where diffusers draws it, of the sample's size", () => {
    const sample = tensor(fixture.initialSample);
    const ancestral = createScheduler("EULER_ANCESTRAL", SD15);
    ancestral.setTimesteps(4);
    const t = ancestral.timesteps[0]!;
    expect(() => ancestral.step(sample, t, sample)).toThrow("EULER_ANCESTRAL: every Euler ancestral step draws noise; pass options.randn to step()");
    expect(() => ancestral.step(sample, t, sample, { randn: () => new Float32Array(2) })).toThrow(
      `EULER_ANCESTRAL: options.randn() returned 2 values; the sample has ${sample.length}`,
    );
    const ddim = createScheduler("DDIM", SD15);
    ddim.setTimesteps(4);
    expect(() => ddim.step(sample, 751, sample, { eta: 1 })).toThrow("DDIM: DDIM with eta > 0 draws noise; pass options.randn to step()");
    expect(() => ddim.step(sample, 751, sample, { eta: -1 })).toThrow("DDIM: eta must be a finite number >= 0; got -1");
  });

  it("rejects a first timestep that is not in the schedule (Euler, LCM)", () => {
    const euler = createScheduler("EULER", SD15);
    euler.setTimesteps(4);
    expect(() => euler.scaleModelInput(new Float32Array(4), 500)).toThrow(
      "EULER: timestep 500 is not in this run's timesteps; pass one of scheduler.timesteps",
    );
  });
});
