/**
 * The one module that imports onnxruntime-node. Everything else in Atelier talks to models through
 * `ModelSession`: inputs fed as float32 / integer host arrays and converted here to whatever dtype the
 * session declares (so fp16 exports and int32-vs-int64 ids need no special cases upstream), outputs
 * returned as float32 whatever the model computes in.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import * as ort from "onnxruntime-node";
import { float32ToHalf, halfToFloat32 } from "../float16.ts";
import { cachedGraph } from "./optimized-graph-cache.ts";
import { SLICED_ATTENTION_REVISION, sliceAttention } from "./sliced-attention.ts";

export type ExecutionProvider = "cpu" | "cuda" | "webgpu";

export interface RuntimeOptions {
  /** Providers to try, in order; onnxruntime falls back along the list. @default ["cpu"] */
  executionProviders?: readonly ExecutionProvider[];
  /** Threads inside one operator (0 = onnxruntime's choice, one per core). @default 0 */
  intraOpThreads?: number;
  /** Threads across independent operators (0 = onnxruntime's choice). @default 0 */
  interOpThreads?: number;
  /**
   * Folder of onnxruntime's optimized graphs (see optimized-graph-cache.ts), used with the CPU
   * provider only: a GPU provider's optimized graph is not portable. Absent: optimize on every load.
   */
  optimizedGraphCache?: string;
  /**
   * With the CPU provider, rewrite the model's attention to run one (batch, head) row at a time
   * (sliced-attention.ts): for the UNet, whose full-resolution attention scores are its biggest
   * tensors. Same speed, 1.9 GB less at 512×512 with guidance (bench/RESULTS.md). @default false
   */
  sliceAttention?: boolean;
  /** Told the wall time of every `run`, in milliseconds (benchmarks measure the share spent in onnxruntime). */
  onRunTimed?: (modelPath: string, ms: number) => void;
  /**
   * Further onnxruntime session options, over Atelier's own (bench/real-scale.ts measures the
   * optimization level, execution mode, memory arena and pattern, free dimension overrides).
   */
  tuning?: TuningOptions;
}

/** The onnxruntime session options a benchmark may vary; providers and thread counts have their own fields. */
export type TuningOptions = Pick<
  ort.InferenceSession.SessionOptions,
  "graphOptimizationLevel" | "executionMode" | "enableCpuMemArena" | "enableMemPattern" | "freeDimensionOverrides" | "optimizedModelFilePath" | "extra"
>;

/** Element types a session may declare for an input or output. */
export type TensorDtype = "float32" | "float16" | "int32" | "int64" | "bool" | "uint8" | "int8" | "float64" | "string";

export interface TensorSpec {
  readonly name: string;
  readonly dtype: TensorDtype;
  /** Numbers for fixed dimensions, names for symbolic ones ("batch_size"); [] for a scalar. */
  readonly shape: readonly (number | string)[];
}

/** A value on the host side: float data as float32, integer data as plain numbers. */
export interface HostTensor {
  readonly data: Float32Array | Int32Array;
  readonly dims: readonly number[];
}

export interface OutputTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
  /** The dtype the model produced before conversion to float32. */
  readonly dtype: TensorDtype;
}

export interface ModelSession {
  /** The model file this session runs. */
  readonly path: string;
  readonly inputs: ReadonlyMap<string, TensorSpec>;
  readonly outputs: ReadonlyMap<string, TensorSpec>;
  /** Runs the model; each feed is converted to its input's declared dtype, outputs come back as float32. */
  run(feeds: Record<string, HostTensor>, outputNames?: readonly string[]): Promise<Record<string, OutputTensor>>;
  release(): Promise<void>;
}

export async function createModelSession(path: string, options: RuntimeOptions = {}): Promise<ModelSession> {
  const providers = options.executionProviders ?? ["cpu"];
  const onCpu = providers.every((provider) => provider === "cpu");
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: [...providers],
    intraOpNumThreads: options.intraOpThreads ?? 0,
    interOpNumThreads: options.interOpThreads ?? 0,
    graphOptimizationLevel: "all",
    // No memory pattern on the CPU: the pattern allocates one block for all of a run's planned
    // buffers, which at SD 1.5 size holds several 4096 × 4096 attention-score tensors at once. Without
    // it the 512×512 UNet run peaked at 5.9 GB instead of 8.2 GB and was no slower (bench/RESULTS.md).
    // The arena stays: without it every run faults in fresh pages for those tensors, and was slower.
    ...(onCpu && { enableMemPattern: false }),
    ...options.tuning,
  };
  const slice = onCpu && options.sliceAttention === true;
  const cacheable = options.optimizedGraphCache !== undefined && onCpu && !options.tuning;
  const session = cacheable ? await createCachedSession(path, sessionOptions, options.optimizedGraphCache!, slice) : await openSession(path, sessionOptions, slice);
  const inputs = specs(session.inputMetadata);
  const outputs = specs(session.outputMetadata);
  const run = async (feeds: Record<string, HostTensor>, outputNames?: readonly string[]) => {
    const ortFeeds = toOrtFeeds(feeds, inputs);
    const started = performance.now();
    const results = outputNames ? await session.run(ortFeeds, [...outputNames]) : await session.run(ortFeeds);
    options.onRunTimed?.(path, performance.now() - started);
    return Object.fromEntries(Object.entries(results).map(([name, value]) => [name, toOutputTensor(value as ort.Tensor)]));
  };
  return { path, inputs, outputs, run, release: () => session.release() };
}

/**
 * A session from the cached optimized graph, after saving it first if it is not there yet. A sliced
 * graph is cached under its own key: the saved graph has the rewrite in it. The session that saved
 * is not the one returned: it keeps the optimized weights in its own memory for its whole life, while
 * one opened from the saved graph maps them from the file (the sd15 model's four sessions: 1.6 GB
 * resident after loading, bench/RESULTS.md), and loading the saved graph takes seconds.
 */
async function createCachedSession(path: string, options: ort.InferenceSession.SessionOptions, cacheDir: string, slice: boolean): Promise<ort.InferenceSession> {
  mkdirSync(cacheDir, { recursive: true });
  const graph = cachedGraph(cacheDir, path, slice ? `sliced attention ${SLICED_ATTENTION_REVISION}` : "");
  const fromCache = () => ort.InferenceSession.create(graph.file, { ...options, graphOptimizationLevel: "disabled" });
  if (existsSync(graph.file)) return fromCache();
  const saving = await openSession(
    path,
    {
      ...options,
      optimizedModelFilePath: graph.stagingFile,
      extra: { session: graph.saveOptions },
      // Errors only: onnxruntime warns that the saved graph is specific to this machine, which the key already says.
      logSeverityLevel: 3,
    },
    slice,
  ).catch((error: unknown) => {
    graph.discard();
    throw error;
  });
  await saving.release();
  graph.commit();
  return fromCache();
}

/**
 * A session of the model file, or of its graph with attention sliced. The rewritten graph is given
 * as bytes; its external weights are still read by onnxruntime from the model's folder (never
 * through JavaScript), which is what the folder setting tells it.
 */
async function openSession(path: string, options: ort.InferenceSession.SessionOptions, slice: boolean): Promise<ort.InferenceSession> {
  const sliced = slice ? sliceAttention(readFileSync(path)) : undefined;
  if (!sliced || sliced.sliced === 0) return ort.InferenceSession.create(path, options);
  const session = { ...(options.extra?.session as Record<string, string> | undefined), model_external_initializers_file_folder_path: dirname(path) };
  return ort.InferenceSession.create(sliced.bytes, { ...options, extra: { ...options.extra, session } });
}

function specs(metadata: readonly ort.InferenceSession.ValueMetadata[]): Map<string, TensorSpec> {
  return new Map(
    metadata.map((value) => [
      value.name,
      value.isTensor
        ? { name: value.name, dtype: value.type as TensorDtype, shape: [...value.shape] }
        : { name: value.name, dtype: "float32" as TensorDtype, shape: [] },
    ]),
  );
}

function toOrtFeeds(feeds: Record<string, HostTensor>, inputs: ReadonlyMap<string, TensorSpec>): Record<string, ort.Tensor> {
  return Object.fromEntries(
    Object.entries(feeds).map(([name, value]) => {
      const spec = inputs.get(name);
      if (!spec) throw new Error(`The model has no input named "${name}"; its inputs are ${[...inputs.keys()].join(", ")}`);
      return [name, toOrtTensor(value, spec)];
    }),
  );
}

/** Converts to the declared dtype; integer casts truncate toward zero, as numpy's astype does. */
function toOrtTensor(value: HostTensor, spec: TensorSpec): ort.Tensor {
  const dims = [...value.dims];
  switch (spec.dtype) {
    case "float32":
      return new ort.Tensor("float32", Float32Array.from(value.data), dims);
    case "float16":
      return new ort.Tensor("float16", float32ToHalf(value.data), dims);
    case "int32":
      return new ort.Tensor("int32", Int32Array.from(value.data, Math.trunc), dims);
    case "int64":
      return new ort.Tensor("int64", BigInt64Array.from(value.data, (x) => BigInt(Math.trunc(x))), dims);
    case "float64":
      return new ort.Tensor("float64", Float64Array.from(value.data), dims);
    default:
      throw new Error(`Input "${spec.name}" has dtype ${spec.dtype}; Atelier feeds float32, float16, float64, int32 or int64 inputs`);
  }
}

function toOutputTensor(tensor: ort.Tensor): OutputTensor {
  return { data: toFloat32(tensor), dims: [...tensor.dims], dtype: tensor.type as TensorDtype };
}

function toFloat32(tensor: ort.Tensor): Float32Array {
  switch (tensor.type) {
    case "float32":
      return tensor.data as Float32Array;
    case "float16":
      return halfToFloat32(tensor.data as Uint16Array);
    case "float64":
    case "int32":
      return Float32Array.from(tensor.data as Float64Array | Int32Array);
    case "int64":
      return Float32Array.from(tensor.data as BigInt64Array, Number);
    default:
      throw new Error(`Output of dtype ${tensor.type} cannot be read as float32`);
  }
}
