/**
 * A small ONNX graph builder on top of onnx-proto. Values are plain strings (tensor names);
 * nodes are named the way torch.onnx names them (`/scope/OpType`, outputs
 * `/scope/OpType_output_0`), and trainable weights become initializers named by their PyTorch
 * state-dict key, so a reference script can load them straight into diffusers' modules.
 */
import onnxProto from "onnx-proto";
import { float32ToHalf } from "../../../inference/float16.ts";
import type { ParameterInit, ParameterSource } from "./seeded-parameters.ts";

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** Element types the generated models use. */
export type TensorType = "float32" | "float16" | "int32" | "int64" | "bool";
/** The floating-point type a whole graph computes in. */
export type FloatType = "float32" | "float16";
/** A static size or a symbolic dimension name (as the exporter's `dynamic_axes` names it). */
export type Dim = number | string;

const DATA_TYPE: Record<TensorType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float16: 10 };

/** An attribute value, tagged because ONNX distinguishes int from float attributes. */
export type Attribute =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly string: string }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] };

/** Shorthands for attribute values: `attr.int(1)`, `attr.float(1e-5)`, `attr.ints([0, 2, 1])`. */
export const attr = {
  int: (value: number): Attribute => ({ int: value }),
  float: (value: number): Attribute => ({ float: value }),
  string: (value: string): Attribute => ({ string: value }),
  ints: (value: readonly number[]): Attribute => ({ ints: value }),
  floats: (value: readonly number[]): Attribute => ({ floats: value }),
};

export interface GraphBuilderOptions {
  /** Graph name written into the model (torch writes "main_graph"). @default "main_graph" */
  readonly name?: string;
  /** Default-domain opset version (14 for optimum ≤ 1.27 and diffusers' script, 18 for optimum-onnx). */
  readonly opset: number;
  /** The float type of weights, float inputs/outputs and activations. */
  readonly floatType: FloatType;
  /** Where parameter values come from (see `seededParameters`). */
  readonly parameters: ParameterSource;
  /** Where large initializers go; absent: inline in the model file. */
  readonly externalData?: ExternalData;
}

/** A file that bytes are appended to as they are made. */
export interface ByteSink {
  /** Appends `bytes` and returns the offset they start at. */
  append(bytes: Uint8Array): number;
}

/**
 * onnx.save_model's external data (all_tensors_to_one_file, as optimum saves graphs over 2 GB):
 * each large initializer's bytes are appended to one file beside the model, in creation order
 * with no padding, the moment the parameter is made. So a graph of any size is generated without
 * holding its weights in memory, and the model file keeps only their offsets.
 */
export interface ExternalData {
  /** File name next to model.onnx that the tensors point at: "model.onnx_data" (optimum), "weights.pb" (diffusers' script). */
  readonly location: string;
  readonly sink: ByteSink;
  /** Tensors with fewer raw bytes than this stay inline (onnx's and optimum's 1024). @default 1024 */
  readonly sizeThreshold?: number;
}

/** Accumulates one ONNX graph. */
export class GraphBuilder {
  readonly opset: number;
  readonly floatType: FloatType;
  private readonly graphName: string;
  private readonly parameters: ParameterSource;
  private readonly externalData: ExternalData | undefined;
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly nodeNameCounts = new Map<string, number>();
  private readonly scopes: string[] = [];
  private readonly knownNames = new Set<string>();
  /** Values renamed to graph outputs; later nodes that name the old value get the new one. */
  private readonly renamed = new Map<string, string>();

  constructor(options: GraphBuilderOptions) {
    if (options.opset < 14 || options.opset > 21) {
      throw new Error(`opset must be between 14 and 21, got ${options.opset}`);
    }
    this.opset = options.opset;
    this.floatType = options.floatType;
    this.graphName = options.name ?? "main_graph";
    this.parameters = options.parameters;
    this.externalData = options.externalData;
  }

  /** Declares a graph input and returns its name. */
  input(name: string, type: TensorType, dims: readonly Dim[]): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /**
   * Declares `value` as the graph output `name`. The producing node's output is renamed (as
   * torch does; nodes added later that name `value` get `name`), so no Identity node is added
   * unless `value` is a graph input, an initializer or already an output.
   */
  output(name: string, value: string, type: TensorType, dims: readonly Dim[]): void {
    const current = this.renamed.get(value) ?? value;
    const producer = this.nodes.find((node) => node.output?.includes(current));
    if (producer === undefined || this.isOutput(current) || this.knownNames.has(name)) {
      this.node("Identity", [current], {}, 1, [name]);
    } else {
      this.renameValue(current, name);
      this.knownNames.add(name);
    }
    this.outputs.push(valueInfo(name, type, dims));
  }

  /**
   * A trainable parameter: an initializer named by its state-dict key, values from the
   * parameter source, stored in the graph's float type.
   */
  param(name: string, shape: readonly number[], init: ParameterInit): string {
    this.claim(name);
    const tensor = tensorProto(name, this.floatType, shape, this.parameters(name, shape, init));
    this.initializers.push(this.externalData ? moveToExternalData(tensor, this.externalData) : tensor);
    return name;
  }

  /** A Constant node holding `values` (converted to `type`). */
  constant(values: ArrayLike<number>, dims: readonly number[], type: TensorType = this.floatType): string {
    const [out] = this.node("Constant", [], {}, 1);
    const node = this.nodes[this.nodes.length - 1]!;
    node.attribute = [{ name: "value", type: 4, t: tensorProto("", type, dims, values) }];
    return out!;
  }

  /** A rank-0 constant (default: the graph's float type). */
  scalar(value: number, type: TensorType = this.floatType): string {
    return this.constant([value], [], type);
  }

  /** A 1-D int64 constant, the usual shape/axes argument. */
  int64s(values: readonly number[]): string {
    return this.constant(values, [values.length], "int64");
  }

  /** Adds a node; returns its output names. Pass `""` for an omitted optional input. */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, Attribute>> = {},
    outputCount = 1,
    outputNames?: readonly string[],
  ): string[] {
    const name = this.uniqueNodeName(opType);
    const output = outputNames ? [...outputNames] : range(outputCount).map((i) => `${name}_output_${i}`);
    output.forEach((value) => this.claim(value));
    const attribute = Object.entries(attributes).map(([key, value]) => attributeProto(key, value));
    const input = inputs.map((value) => this.renamed.get(value) ?? value);
    this.nodes.push({ name, opType, input, output, attribute });
    return output;
  }

  /** Adds a single-output node and returns its output name. */
  op(opType: string, inputs: readonly string[], attributes: Readonly<Record<string, Attribute>> = {}): string {
    return this.node(opType, inputs, attributes, 1)[0]!;
  }

  /** Runs `build` with node names prefixed by `path` (a module path such as "down_blocks.0.resnets.1"). */
  scope<T>(path: string, build: () => T): T {
    this.scopes.push(path);
    try {
      return build();
    } finally {
      this.scopes.pop();
    }
  }

  /** The names of all parameters (initializers) in creation order. */
  parameterNames(): string[] {
    return this.initializers.map((tensor) => tensor.name!);
  }

  /** The model file's bytes (large initializers already went to the external data file, if one was given). */
  serialize(): Uint8Array {
    const graph = { name: this.graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs };
    const model = onnx.ModelProto.create({
      irVersion: this.opset <= 14 ? 7 : 8,
      opsetImport: [{ domain: "", version: this.opset }],
      producerName: "atelier-demo-models",
      producerVersion: "1",
      graph,
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private uniqueNodeName(opType: string): string {
    const base = `/${this.scopes.join("/")}${this.scopes.length > 0 ? "/" : ""}${opType}`;
    const seen = this.nodeNameCounts.get(base) ?? 0;
    this.nodeNameCounts.set(base, seen + 1);
    return seen === 0 ? base : `${base}_${seen}`;
  }

  private isOutput(value: string): boolean {
    return this.outputs.some((output) => output.name === value);
  }

  private claim(name: string): void {
    if (this.knownNames.has(name)) throw new Error(`tensor name "${name}" is already used in this graph`);
    this.knownNames.add(name);
  }

  private renameValue(from: string, to: string): void {
    this.renamed.set(from, to);
    for (const node of this.nodes) {
      node.input = node.input!.map((name) => (name === from ? to : name));
      node.output = node.output!.map((name) => (name === from ? to : name));
    }
  }
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

function valueInfo(name: string, type: TensorType, dims: readonly Dim[]): ValueInfoProto {
  const dim = dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: DATA_TYPE[type], shape: { dim } } } };
}

function attributeProto(name: string, value: Attribute): AttributeProto {
  if ("int" in value) return { name, type: 2, i: value.int };
  if ("float" in value) return { name, type: 1, f: value.float };
  if ("string" in value) return { name, type: 3, s: new TextEncoder().encode(value.string) };
  if ("ints" in value) return { name, type: 7, ints: [...value.ints] };
  return { name, type: 6, floats: [...value.floats] };
}

/** A tensor with its values stored little-endian in raw_data, as torch.onnx writes them. */
export function tensorProto(name: string, type: TensorType, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  return { name, dataType: DATA_TYPE[type], dims: [...dims], rawData: rawBytes(type, values) };
}

function rawBytes(type: TensorType, values: ArrayLike<number>): Uint8Array {
  const typed = typedArray(type, values);
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

function typedArray(type: TensorType, values: ArrayLike<number>): ArrayBufferView {
  switch (type) {
    case "float32":
      return Float32Array.from(values);
    case "float16":
      return float32ToHalf(values);
    case "int32":
      return Int32Array.from(values);
    case "int64":
      return BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
    case "bool":
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
  }
}

/** onnx's `convert_model_to_external_data` for one tensor: raw bytes to the sink, their place in the proto. */
function moveToExternalData(tensor: TensorProto, external: ExternalData): TensorProto {
  const raw = tensor.rawData!;
  if (raw.byteLength < (external.sizeThreshold ?? 1024)) return tensor;
  const offset = external.sink.append(raw);
  return { ...tensor, rawData: null, dataLocation: 1, externalData: externalEntries(external.location, offset, raw.byteLength) };
}

function externalEntries(location: string, offset: number, length: number): onnxProto.onnx.IStringStringEntryProto[] {
  return [
    { key: "location", value: location },
    { key: "offset", value: String(offset) },
    { key: "length", value: String(length) },
  ];
}
