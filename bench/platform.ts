/**
 * Platform benchmark: what the job platform itself (queue, LISTEN/NOTIFY event bus, worker, image
 * store, Job/Image rows) costs on top of the pipeline, all in one process on the generated demo
 * models (`demo-sd-tiny` + `demo-clip-tiny`, or the `small` ones with `--preset small`, made into a
 * temporary data directory):
 *
 *   1. job overhead: a 4-sample, 20-step job from `submitJob` to the SUCCEEDED event seen through
 *      `subscribeJob`, against `textToImage` doing the same work (denoise, CLIP scoring, PNG + WebP
 *      encoding) without the platform; workers with step previews on and off;
 *   2. step-event latency: synthetic step events published on the bus at a fixed rate, received by
 *      1 and by 1,000 `subscribeJob` followers (also with a worker busy in the same process);
 *   3. submitJob throughput: 1 and 16 concurrent callers, one prompt for all jobs and distinct
 *      prompts, no worker running.
 *
 * It makes its own databases on the admin URL's server (CREATE DATABASE; two, one per worker
 * setting, so both workers stay loaded and the runs can alternate) and drops them at the end, with
 * the temporary data directory, also when it fails.
 *
 * Where a job's time goes is read back from its Image rows (`timingsMs`, which the worker writes per
 * sample) and compared with the same stages of `textToImage`.
 *
 *   npx tsx bench/platform.ts [--admin-url postgresql://postgres@127.0.0.1:5432/postgres] [--jobs 5]
 *     [--subscribers 1000] [--events 200] [--interval-ms 10] [--callers 16] [--submit-seconds 5]
 *     [--batch-size 1] [--preset tiny|small]
 */
import { randomBytes } from "node:crypto";
import { setMaxListeners } from "node:events";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { createProgressBar } from "../src/cli/progress-bar.ts";
import { benchmarkRequest, createBenchDatabase, createCleanup, max, median, ms, now, percentile, sleep } from "./bench-support.ts";
import { loadConfig, type AtelierConfig } from "../src/config.ts";
import { openDatabase, type Database } from "../src/db/database.ts";
import type { StepProgressEvent } from "../src/events/job-event.ts";
import { latentPreview } from "../src/inference/pipeline/latent-preview.ts";
import { textToImage } from "../src/inference/text-to-image.ts";
import type { JobInput } from "../src/jobs/job-limits.ts";
import { openPlatform, type OpenPlatform } from "../src/jobs/open-platform.ts";
import { submitJob } from "../src/jobs/submit-job.ts";
import { subscribeJob } from "../src/jobs/subscribe-job.ts";
import { createLogger } from "../src/log.ts";
import { ensureModel } from "../src/models/ensure-model.ts";
import { parseModelReference } from "../src/models/model-reference.ts";
import { openModels, type OpenedModels } from "../src/models/open-models.ts";
import { prepareModels } from "../src/models/prepare-models.ts";
import { startWorker, type RunningWorker } from "../workers/worker.ts";

const { values } = parseArgs({
  options: {
    "admin-url": { type: "string", default: "postgresql://postgres@127.0.0.1:5432/postgres" },
    jobs: { type: "string", default: "5" },
    subscribers: { type: "string", default: "1000" },
    events: { type: "string", default: "200" },
    "interval-ms": { type: "string", default: "10" },
    callers: { type: "string", default: "16" },
    "submit-seconds": { type: "string", default: "5" },
    "batch-size": { type: "string", default: "1" },
    preset: { type: "string", default: "tiny" },
  },
});
const adminUrl = values["admin-url"];
const rounds = positive("jobs");
const subscriberCount = positive("subscribers");
const eventCount = positive("events");
const intervalMs = positive("interval-ms");
const callerCount = positive("callers");
const submitSeconds = positive("submit-seconds");
const batchSize = positive("batch-size");
if (values.preset !== "tiny" && values.preset !== "small") throw new Error(`--preset must be tiny or small, got ${values.preset}`);
const preset = values.preset;

function positive(name: Exclude<keyof typeof values, "preset">): number {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number above 0, got ${values[name]}`);
  return value;
}

const { defer, cleanUp, state } = createCleanup();

// ---------------------------------------------------------------------------------------------
// The platforms
// ---------------------------------------------------------------------------------------------
interface BenchPlatform {
  label: string;
  config: AtelierConfig;
  database: Database;
  platform: OpenPlatform;
  worker: RunningWorker | undefined;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
}

const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "atelier-bench-platform-"));
defer(`remove ${dataDir}`, () => fs.rm(dataDir, { recursive: true, force: true }));
const settings = {
  ATELIER_DATA_DIR: dataDir,
  ATELIER_SD_MODEL: `demo-sd-${preset}`,
  ATELIER_CLIP_MODEL: `demo-clip-${preset}`,
  ATELIER_BATCH_SIZE: String(batchSize),
  LOG_LEVEL: "warn",
};
const log = createLogger("warn");

async function buildPlatform(label: string, stepPreviews: boolean): Promise<BenchPlatform> {
  const url = await createBenchDatabase(adminUrl, label, defer);
  const config = loadConfig({ ...settings, DATABASE_URL: url, ATELIER_STEP_PREVIEWS: stepPreviews ? "1" : "0" });
  const database = await openDatabase(config.database, log);
  defer(`close database ${label}`, () => database.close());
  await prepareModels(config.models, log);
  const platform = await openPlatform(config, database, log);
  defer(`close platform ${label}`, () => platform.close());
  const bench: BenchPlatform = {
    label,
    config,
    database,
    platform,
    worker: undefined,
    async startWorker() {
      const worker = (bench.worker = await startWorker(platform, config, log));
      defer(`stop worker ${label}`, () => worker.stop());
    },
    async stopWorker() {
      await bench.worker?.stop();
      bench.worker = undefined;
    },
  };
  return bench;
}

try {
  const startedAt = new Date();
  // The demo models, made once into the shared data directory (prepareModels then finds them).
  const modelsDir = path.join(dataDir, "models");
  for (const name of [settings.ATELIER_SD_MODEL, settings.ATELIER_CLIP_MODEL]) {
    const making = createProgressBar(`Making ${name}`);
    await ensureModel(parseModelReference(name, modelsDir), (done, total, what) => making.update(done, total, what));
    making.stop();
  }
  const withPreviews = await buildPlatform("previews on", true);
  const withoutPreviews = await buildPlatform("previews off", false);
  const pipelineModels: OpenedModels = await openModels(withPreviews.config.models);
  defer("release pipeline models", () => pipelineModels.release());

  const { width, height } = pipelineModels.stableDiffusion.defaults;
  const request = benchmarkRequest({ width, height });
  const jobInput: JobInput = { ...request, model: settings.ATELIER_SD_MODEL };

  // -------------------------------------------------------------------------------------------
  // 1. Job overhead
  // -------------------------------------------------------------------------------------------
  /** Sums of the pipeline's own stage timings over a job's samples (a batch's timings counted once). */
  interface Stages {
    /** Text encoder + denoising loop + VAE decode. */
    sdMs: number;
    /** Denoising loops alone. */
    denoiseMs: number;
    /** CLIP scoring + PNG/WebP encoding. */
    clipEncodeMs: number;
  }
  type SampleTimings = { sampleIndex: number; timingsMs: { textEncoder: number; denoise: number; vaeDecode: number; clip: number; encode: number } };
  const stagesOf = (samples: SampleTimings[], encodeConcurrently: boolean): Stages => {
    const batches = new Map<number, SampleTimings["timingsMs"]>();
    for (const sample of samples) batches.set(Math.floor(sample.sampleIndex / batchSize), sample.timingsMs);
    const perBatch = [...batches.values()];
    const textEncoder = perBatch[0]?.textEncoder ?? 0;
    const denoiseMs = perBatch.reduce((sum, t) => sum + t.denoise, 0);
    const sdMs = textEncoder + denoiseMs + perBatch.reduce((sum, t) => sum + t.vaeDecode, 0);
    const clipMs = samples.reduce((sum, s) => sum + s.timingsMs.clip, 0);
    // textToImage encodes all samples at once (so the longest is its wall time); the worker one after another.
    const encodes = samples.map((s) => s.timingsMs.encode);
    const encodeMs = encodeConcurrently ? Math.max(...encodes) : encodes.reduce((a, b) => a + b, 0);
    return { sdMs, denoiseMs, clipEncodeMs: clipMs + encodeMs };
  };

  interface PlatformRun {
    jobId: string;
    stages?: Stages;
    wallMs: number;
    submitMs: number;
    /** submitJob returned → RUNNING seen. */
    toRunningMs: number;
    /** RUNNING seen → last image event seen. */
    runningMs: number;
    /** last image event → SUCCEEDED seen. */
    finishMs: number;
    stepEvents: number;
    stepEventBytes: number;
  }
  let samplePreview: string | null = null;

  /** Submits the job and follows it to SUCCEEDED. */
  async function platformJob(bench: BenchPlatform, input: JobInput = jobInput): Promise<PlatformRun> {
    const started = now();
    const job = await submitJob(bench.platform, input);
    const submitted = now();
    let running = Number.NaN;
    let lastImage = Number.NaN;
    let stepEvents = 0;
    let stepEventBytes = 0;
    for await (const event of subscribeJob(bench.platform, job.id)) {
      const at = now();
      if (event.type === "step") {
        stepEvents++;
        stepEventBytes += Buffer.byteLength(JSON.stringify(event));
        if (event.preview) samplePreview ??= event.preview;
      } else if (event.type === "image") lastImage = at;
      else if (event.status === "RUNNING") running = at;
      else if (event.status === "SUCCEEDED") {
        return {
          jobId: job.id,
          wallMs: at - started,
          submitMs: submitted - started,
          toRunningMs: running - submitted,
          runningMs: lastImage - running,
          finishMs: at - lastImage,
          stepEvents,
          stepEventBytes,
        };
      } else if (event.status !== "QUEUED") throw new Error(`job ${job.id} ended ${event.status}: ${event.errorMessage}`);
    }
    throw new Error(`following job ${job.id} ended before it finished`);
  }
  const pipelineRun = async () => {
    const started = now();
    const images = await textToImage(pipelineModels, request, { batchSize });
    return { wallMs: now() - started, stages: stagesOf(images, true) };
  };
  /** The worker's stage timings, from the job's Image rows (read after the timed run). */
  const withStages = async (bench: BenchPlatform, run: PlatformRun): Promise<PlatformRun> => {
    const images = await bench.platform.prisma.image.findMany({ where: { jobId: run.jobId }, select: { sampleIndex: true, timingsMs: true } });
    return { ...run, stages: stagesOf(images as unknown as SampleTimings[], false) };
  };

  await withPreviews.startWorker();
  await withoutPreviews.startWorker();
  const overheadBar = createProgressBar("job overhead", " runs");
  const totalRuns = 3 * (rounds + 1);
  let runsDone = 0;
  const step = (what: string) => overheadBar.update(++runsDone, totalRuns, what);
  // Warm-up, untimed: the first runs load the workers' models and allocate onnxruntime's arenas.
  await pipelineRun().then(() => step("warm-up pipeline"));
  await platformJob(withPreviews).then(() => step("warm-up previews on"));
  await platformJob(withoutPreviews).then(() => step("warm-up previews off"));
  const pipelineRuns: { wallMs: number; stages: Stages }[] = [];
  const platformRuns = new Map<BenchPlatform, PlatformRun[]>([
    [withPreviews, []],
    [withoutPreviews, []],
  ]);
  const contenders: (() => Promise<void>)[] = [
    async () => void pipelineRuns.push(await pipelineRun()),
    async () => void platformRuns.get(withPreviews)!.push(await withStages(withPreviews, await platformJob(withPreviews))),
    async () => void platformRuns.get(withoutPreviews)!.push(await withStages(withoutPreviews, await platformJob(withoutPreviews))),
  ];
  for (let round = 0; round < rounds; round++) {
    // A different order each round, so none of the three always runs after the same one.
    for (let i = 0; i < contenders.length; i++) {
      await contenders[(round + i) % contenders.length]!();
      step(`round ${round + 1}/${rounds}`);
    }
  }
  overheadBar.stop();
  // What the previews cost by themselves: one per step and sample, of latents the size of the job's.
  const latentDims = [1, 4, height / pipelineModels.stableDiffusion.vaeScaleFactor, width / pipelineModels.stableDiffusion.vaeScaleFactor];
  const latents = Float32Array.from({ length: latentDims.reduce((a, b) => a * b, 1) }, () => Math.random() * 2 - 1);
  for (let i = 0; i < 10; i++) await latentPreview(latents, latentDims, 0);
  const previewsStarted = now();
  for (let i = 0; i < request.samples * request.steps; i++) await latentPreview(latents, latentDims, 0);
  const previewsMs = now() - previewsStarted;
  // Worker "previews off" is done; "previews on" stays for the loaded latency run below.
  await withoutPreviews.stopWorker();

  // -------------------------------------------------------------------------------------------
  // 2. Step-event latency, on platform "previews off" (no worker: its job stays QUEUED)
  // -------------------------------------------------------------------------------------------
  const bus = withoutPreviews;
  // The followed job: 4 samples, and the synthetic events are its steps (200 events: 4 × 50 steps).
  const stepsPerSample = Math.ceil(eventCount / 4);
  const followed = await submitJob(bus.platform, { ...jobInput, samples: 4, steps: Math.min(stepsPerSample, bus.config.jobs.limits.steps) });
  interface LatencyResult {
    label: string;
    subscribers: number;
    subscribeMs: number;
    received: number;
    expected: number;
    latencies: Float64Array;
    publishMs: number[];
  }

  async function stepLatency(label: string, subscribers: number): Promise<LatencyResult> {
    const controller = new AbortController();
    // Every follower listens on this one signal (a server gives each subscription its own).
    setMaxListeners(subscribers + 10, controller.signal);
    const sent = new Map<string, number>();
    const latencies = new Float64Array(subscribers * eventCount);
    let received = 0;
    const subscribeStarted = now();
    const iterators = Array.from({ length: subscribers }, () => subscribeJob(bus.platform, followed.id, controller.signal));
    // The first item is the job's current status: after it, each follower is subscribed.
    await Promise.all(iterators.map((iterator) => iterator.next()));
    const subscribeMs = now() - subscribeStarted;
    const followers = iterators.map(async (iterator) => {
      for (;;) {
        const next = await iterator.next();
        const at = now();
        if (next.done) return;
        if (next.value.type !== "step") continue;
        const sentAt = sent.get(`${next.value.sampleIndex}:${next.value.step}`);
        if (sentAt !== undefined) latencies[received++] = at - sentAt;
      }
    });
    const bar = createProgressBar(`step latency, ${label}`, " events");
    const publishMs: number[] = [];
    const publishes: Promise<void>[] = [];
    const start = now() + 50;
    for (let k = 0; k < eventCount; k++) {
      await sleep(start + k * intervalMs - now());
      const event: StepProgressEvent = {
        type: "step",
        jobId: followed.id,
        sampleIndex: Math.floor(k / stepsPerSample),
        step: (k % stepsPerSample) + 1,
        totalSteps: stepsPerSample,
        progress: (k + 1) / eventCount,
        preview: samplePreview,
      };
      const sentAt = now();
      sent.set(`${event.sampleIndex}:${event.step}`, sentAt);
      publishes.push(bus.platform.events.publish(event).then(() => void publishMs.push(now() - sentAt)));
      if (k % 20 === 19) bar.update(k + 1, eventCount, `${received} received`);
    }
    await Promise.all(publishes);
    const expected = subscribers * eventCount;
    for (const deadline = now() + 10_000; received < expected && now() < deadline; ) await sleep(10);
    bar.update(eventCount, eventCount, `${received} received`);
    bar.stop();
    controller.abort();
    await Promise.all(followers);
    return { label, subscribers, subscribeMs, received, expected, latencies: latencies.subarray(0, received), publishMs };
  }

  const latencyResults: LatencyResult[] = [];
  latencyResults.push(await stepLatency("1 subscriber", 1));
  latencyResults.push(await stepLatency(`${subscriberCount} subscribers`, subscriberCount));
  latencyResults.push(await stepLatency("1 subscriber again", 1));
  // The same, while the other platform's worker runs 4 × 20-step jobs (previews on) in this process.
  let loading = true;
  let loadJobs = 0;
  const load = (async () => {
    while (loading) {
      await platformJob(withPreviews);
      loadJobs++;
    }
  })();
  await sleep(500);
  // onnxruntime-node runs a session synchronously on the main thread: how long the loop stalls.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  latencyResults.push(await stepLatency(`${subscriberCount} subscribers, worker busy`, subscriberCount));
  loopDelay.disable();
  loading = false;
  await load;
  await withPreviews.stopWorker();

  // -------------------------------------------------------------------------------------------
  // 3. submitJob throughput, no worker running
  // -------------------------------------------------------------------------------------------
  interface SubmitResult {
    label: string;
    callers: number;
    jobs: number;
    errors: number;
    firstError: string | undefined;
    seconds: number;
    latencies: number[];
  }
  let counter = 0;
  async function submitLoad(label: string, callers: number, distinctPrompts: boolean, seconds: number): Promise<SubmitResult> {
    const bar = createProgressBar(`submitJob, ${label}`, " ms");
    const latencies: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    const started = now();
    const deadline = started + seconds * 1000;
    const caller = async () => {
      while (now() < deadline) {
        const prompt = distinctPrompts ? `${request.prompt}, variation ${counter++} ${randomBytes(3).toString("hex")}` : request.prompt;
        const sentAt = now();
        try {
          await submitJob(bus.platform, { ...jobInput, prompt });
          latencies.push(now() - sentAt);
        } catch (error) {
          errors++;
          firstError ??= (error as Error).message.split("\n")[0];
        }
        bar.update(Math.min(seconds * 1000, Math.round(now() - started)), seconds * 1000, `${latencies.length} jobs`);
      }
    };
    await Promise.all(Array.from({ length: callers }, caller));
    const elapsed = (now() - started) / 1000;
    bar.stop();
    return { label, callers, jobs: latencies.length, errors, firstError, seconds: elapsed, latencies };
  }

  for (let i = 0; i < 10; i++) await submitJob(bus.platform, jobInput); // warm-up
  // Two passes of half the time each, the second in reverse order, so no variant always runs first.
  const variants = [
    { label: "1 caller, one prompt", callers: 1, distinct: false },
    { label: `${callerCount} callers, one prompt`, callers: callerCount, distinct: false },
    { label: "1 caller, distinct prompts", callers: 1, distinct: true },
    { label: `${callerCount} callers, distinct prompts`, callers: callerCount, distinct: true },
  ];
  const halves: SubmitResult[] = [];
  for (const order of [variants, [...variants].reverse()]) {
    for (const v of order) halves.push(await submitLoad(v.label, v.callers, v.distinct, submitSeconds / 2));
  }
  const submitResults: SubmitResult[] = variants.map((v) => {
    const parts = halves.filter((r) => r.label === v.label);
    return {
      label: v.label,
      callers: v.callers,
      jobs: parts.reduce((sum, r) => sum + r.jobs, 0),
      errors: parts.reduce((sum, r) => sum + r.errors, 0),
      firstError: parts.find((r) => r.firstError)?.firstError,
      seconds: parts.reduce((sum, r) => sum + r.seconds, 0),
      latencies: parts.flatMap((r) => r.latencies),
    };
  });

  // -------------------------------------------------------------------------------------------
  // Report
  // -------------------------------------------------------------------------------------------
  const cpus = os.cpus();
  console.log(`\nrun: ${startedAt.toISOString()}`);
  console.log(
    `machine: ${cpus[0]?.model} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load average at the end ${os.loadavg().map((value) => value.toFixed(2)).join(" ")}`,
  );
  console.log(
    `models: ${settings.ATELIER_SD_MODEL} + ${settings.ATELIER_CLIP_MODEL} (${width}×${height}), ${request.samples} samples × ${request.steps} steps, ${request.scheduler}, CFG ${request.guidanceScale}, batch size ${batchSize}, seed ${request.seed}`,
  );

  console.log(`\n### 1. Job overhead (medians of ${rounds} alternating runs each, after one untimed warm-up each)\n`);
  const pipelineMs = pipelineRuns.map((run) => run.wallMs);
  const pipelineMedian = median(pipelineMs);
  const stageCells = (stages: Stages[], wall: number) => {
    const sd = median(stages.map((s) => s.sdMs));
    const clipEncode = median(stages.map((s) => s.clipEncodeMs));
    return `${ms(median(stages.map((s) => s.denoiseMs)))} | ${ms(sd)} | ${ms(clipEncode)} | ${ms(wall - sd - clipEncode)}`;
  };
  console.log(
    "| run | wall (ms) | / pipeline | denoise (ms) | SD total: text enc. + denoise + VAE (ms) | CLIP + encoding (ms) | rest (ms) | submitJob (ms) | submitted → RUNNING seen (ms) | RUNNING → last image (ms) | last image → SUCCEEDED (ms) | step events | bytes / step event |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  console.log(`| textToImage (no platform) | ${ms(pipelineMedian)} | 1.000 | ${stageCells(pipelineRuns.map((run) => run.stages), pipelineMedian)} | – | – | – | – | – | – |`);
  const ratios = new Map<BenchPlatform, number>();
  for (const [bench, runs] of platformRuns) {
    const pick = (key: "wallMs" | "submitMs" | "toRunningMs" | "runningMs" | "finishMs") => median(runs.map((run) => run[key]));
    const wall = pick("wallMs");
    ratios.set(bench, wall / pipelineMedian);
    const events = runs[0]?.stepEvents ?? 0;
    console.log(
      `| platform, step previews ${bench.label.replace("previews ", "")} | ${ms(wall)} | ${(wall / pipelineMedian).toFixed(3)} | ${stageCells(runs.map((run) => run.stages!), wall)} | ${ms(pick("submitMs"))} | ${ms(pick("toRunningMs"))} | ${ms(pick("runningMs"))} | ${ms(pick("finishMs"))} | ${events} | ${events ? Math.round(runs[0]!.stepEventBytes / events) : "–"} |`,
    );
  }
  console.log(`\nall runs (ms): pipeline ${pipelineMs.map((v) => ms(v, 0)).join(", ")}`);
  for (const [bench, runs] of platformRuns) console.log(`all runs (ms): platform ${bench.label} ${runs.map((run) => ms(run.wallMs, 0)).join(", ")}`);
  console.log(
    `${request.samples * request.steps} latentPreview calls (one job's previews) one after another, alone: ${ms(previewsMs)} ms (${ms(previewsMs / (request.samples * request.steps), 2)} ms each)`,
  );
  console.log("(stage columns: the pipeline's own timings; for the worker as it wrote them into the Image rows; rest = wall − SD − CLIP/encoding)");

  console.log(`\n### 2. Step-event latency: publish → subscribeJob follower (${eventCount} events, ${intervalMs} ms apart, ${samplePreview ? `with a ${Buffer.byteLength(samplePreview)}-byte preview` : "no preview"})\n`);
  console.log("| followers | subscribe all (ms) | received / expected | p50 (ms) | p99 (ms) | max (ms) | publish round trip p50 / p99 (ms) |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const r of latencyResults) {
    console.log(
      `| ${r.label} | ${ms(r.subscribeMs)} | ${r.received} / ${r.expected} | ${ms(percentile(r.latencies, 50), 2)} | ${ms(percentile(r.latencies, 99), 2)} | ${ms(max(r.latencies), 2)} | ${ms(percentile(r.publishMs, 50), 2)} / ${ms(percentile(r.publishMs, 99), 2)} |`,
    );
  }
  console.log(
    `(worker busy: it finished ${loadJobs} jobs of ${request.samples} × ${request.steps} steps meanwhile; event-loop delay then p50 ${ms(loopDelay.percentile(50) / 1e6)} ms, p99 ${ms(loopDelay.percentile(99) / 1e6)} ms, max ${ms(loopDelay.max / 1e6)} ms)`,
  );

  console.log(`\n### 3. submitJob throughput (${submitSeconds} s each, in two halves in opposite orders; no worker)\n`);
  console.log("| callers | jobs | errors | jobs/s | × 1 caller | p50 (ms) | p99 (ms) | max (ms) |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  const baselineRate = new Map<boolean, number>();
  for (const r of submitResults) {
    const rate = r.jobs / r.seconds;
    const distinct = r.label.includes("distinct");
    if (r.callers === 1) baselineRate.set(distinct, rate);
    console.log(
      `| ${r.label} | ${r.jobs} | ${r.errors} | ${rate.toFixed(1)} | ${(rate / baselineRate.get(distinct)!).toFixed(2)} | ${ms(percentile(r.latencies, 50))} | ${ms(percentile(r.latencies, 99))} | ${ms(max(r.latencies))} |`,
    );
  }
  for (const r of submitResults) if (r.firstError) console.log(`first error (${r.label}): ${r.firstError}`);

  console.log("\n### Goals\n");
  const onRatio = ratios.get(withPreviews)!;
  const offRatio = ratios.get(withoutPreviews)!;
  console.log(`- job overhead platform / pipeline ≤ 1.10: ${onRatio <= 1.1 ? "met" : "NOT met"} with previews on (${onRatio.toFixed(3)}); previews off ${offRatio.toFixed(3)} (${offRatio <= 1.1 ? "met" : "not met"})`);
  const big = latencyResults.find((r) => r.subscribers === subscriberCount && !r.label.includes("busy"))!;
  const p99 = percentile(big.latencies, 99);
  console.log(`- step-event p99 ≤ 50 ms with ${subscriberCount} followers: ${p99 <= 50 && big.received === big.expected ? "met" : "NOT met"} (${ms(p99, 2)} ms, ${big.received}/${big.expected} received)`);
} catch (error) {
  // After Ctrl-C the clean-up pulls the models and connections from under the running work.
  if (!state.interrupted) console.error(error);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
