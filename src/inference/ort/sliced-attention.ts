/**
 * Sliced attention, as a rewrite of an ONNX graph before onnxruntime loads it: each attention
 * `softmax(q·kᵀ)·v` is computed one (batch, head) row at a time by a Scan, so only one row's
 * tokens × tokens scores are alive at once instead of all of them (diffusers'
 * `enable_attention_slicing`, at its finest slice). At 512×512 with guidance, SD 1.5's UNet holds
 * [2, 8, 4096, 4096] fp32 scores and their softmax, 1.07 GB each; a row holds 67 MB.
 *
 * Exported SD graphs spell attention in a few ways (torch's scaled_dot_product_attention export
 * scales q and kᵀ before the MatMul; diffusers' older processors scale the scores with a Mul, on
 * [batch·heads, tokens, dim] or [batch, heads, tokens, dim] tensors), so the match is on what
 * they share: MatMul → elementwise ops by a single-value constant (the scale) → Softmax over the
 * last axis → MatMul by v, each intermediate used only by the next. The Scan's inputs are q, kᵀ
 * and v with their leading axes flattened into one, so the rewrite holds for any rank; the result
 * is reshaped back to the original context's shape. Attention with a mask tensor (the text
 * encoder's causal mask) is left alone: it is small there.
 */
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;
type ModelProto = onnxProto.onnx.IModelProto;
type GraphProto = onnxProto.onnx.IGraphProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

/** Ops allowed between the scores' MatMul and the Softmax, with a single-value constant as their other input (Cast has none). */
const SCALE_OPS = new Set(["Mul", "Div", "Add", "Sub", "Cast"]);
/**
 * Ops whose output has the element type of the inputs at these positions: followed back from q to
 * the weights or declarations that give the Scan body's dtype.
 */
const TYPE_CARRYING_INPUTS: Record<string, readonly number[]> = Object.fromEntries([
  ...["Transpose", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Split", "Slice", "Flatten", "Expand", "Softmax", "Resize", "Sigmoid", "Relu", "Erf", "Tanh", "Neg", "Sqrt"].map((op) => [op, [0]]),
  ...["MatMul", "Mul", "Div", "Add", "Sub", "Pow", "Gemm", "Conv", "LayerNormalization", "InstanceNormalization", "GroupNormalization"].map((op) => [op, [0, 1]]),
]);
/** Slice with its ranges as inputs (opset 10) is the newest op the rewrite writes; Scan needs opset 9. */
const MIN_OPSET = 10;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
/** A Slice end past any axis (onnxruntime clamps it). */
const TO_END = Number.MAX_SAFE_INTEGER;

/**
 * The rewrite's revision, part of the optimized-graph cache key of sliced graphs: a graph saved
 * after an older rewrite is not reused. 2: fp16 Softmax computed in fp32.
 */
export const SLICED_ATTENTION_REVISION = 2;

export interface SlicedModel {
  /** The rewritten model, serialized. */
  readonly bytes: Uint8Array;
  /** Attention chains rewritten; 0 when the model had none (then `bytes` is the input). */
  readonly sliced: number;
}

/** The model with every matched attention sliced; external weights stay where they are (relative to the original folder). */
export function sliceAttention(modelBytes: Uint8Array): SlicedModel {
  const model = onnx.ModelProto.decode(modelBytes);
  const sliced = rewriteGraph(model);
  return sliced === 0 ? { bytes: modelBytes, sliced } : { bytes: onnx.ModelProto.encode(model).finish(), sliced };
}

interface AttentionChain {
  /** MatMul(q, kᵀ). */
  readonly scores: NodeProto;
  /** The scale ops and the Softmax, in order. */
  readonly between: readonly NodeProto[];
  /** MatMul(probabilities, v). */
  readonly context: NodeProto;
}

function rewriteGraph(model: ModelProto): number {
  const opset = Number(model.opsetImport?.find((entry) => !entry.domain)?.version ?? 0);
  const graph = model.graph;
  if (!graph || opset < MIN_OPSET) return 0;
  const nodes = graph.node ?? [];
  const producers = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const node of nodes) {
    for (const output of node.output ?? []) producers.set(output, node);
    for (const input of node.input ?? []) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  }
  const reads = readCounts(graph);
  const constants = singleValueConstants(graph, nodes);
  // Each intermediate of the chain is read once, by the next op: nothing else needs the whole scores.
  const readOnce = (node: NodeProto) => node.output?.length === 1 && reads.get(node.output[0]!) === 1;

  const replacements = new Map<NodeProto, NodeProto[]>();
  const removed = new Set<NodeProto>();
  for (const softmax of nodes.filter((node) => node.opType === "Softmax" && !node.domain)) {
    const chain = matchChain(softmax, { producers, consumers, constants, readOnce });
    const dtype = chain && elementType(chain.scores.input![0]!, graph, producers);
    if (!chain || !dtype) continue;
    replacements.set(chain.context, scanNodes(chain, dtype, `/atelier/sliced_attention_${replacements.size}`));
    for (const node of [chain.scores, ...chain.between]) removed.add(node);
  }
  if (replacements.size === 0) return 0;
  const gone = new Set([...removed].flatMap((node) => node.output ?? []));
  graph.node = nodes.flatMap((node) => replacements.get(node) ?? (removed.has(node) ? [] : [node]));
  graph.valueInfo = (graph.valueInfo ?? []).filter((info) => !gone.has(info.name ?? ""));
  return replacements.size;
}

interface GraphIndex {
  producers: ReadonlyMap<string, NodeProto>;
  consumers: ReadonlyMap<string, readonly NodeProto[]>;
  constants: ReadonlySet<string>;
  readOnce: (node: NodeProto) => boolean;
}

/** The attention chain through this Softmax, when it is one that can be sliced. */
function matchChain(softmax: NodeProto, { producers, consumers, constants, readOnce }: GraphIndex): AttentionChain | undefined {
  const axis = softmax.attribute?.find((attribute) => attribute.name === "axis");
  if ((axis && Number(axis.i) !== -1) || !readOnce(softmax)) return undefined;
  const context = consumers.get(softmax.output![0]!)?.[0];
  if (!context || context.opType !== "MatMul" || context.domain || context.input?.[0] !== softmax.output![0]) return undefined;
  const between: NodeProto[] = [softmax];
  let current = producers.get(softmax.input![0]!);
  while (current && SCALE_OPS.has(current.opType ?? "") && !current.domain && readOnce(current)) {
    const node = current;
    const fromChain = (node.input ?? []).filter((name) => node.opType === "Cast" || !constants.has(name));
    if (fromChain.length !== 1) return undefined;
    between.unshift(node);
    current = producers.get(fromChain[0]!);
  }
  if (!current || current.opType !== "MatMul" || current.domain || !readOnce(current)) return undefined;
  return { scores: current, between, context };
}

/**
 * Reshape q, kᵀ and v to [rows, tokens, ·], Scan the row-wise attention over them, and reshape
 * the result to the original context's shape under the context's own output name.
 */
function scanNodes(chain: AttentionChain, dtype: number, prefix: string): NodeProto[] {
  const [q, keysT] = chain.scores.input as [string, string];
  const v = chain.context.input![1]!;
  const output = chain.context.output![0]!;
  const nodes: NodeProto[] = [];
  const add = (opType: string, inputs: string[], suffix: string, attribute: onnxProto.onnx.IAttributeProto[] = []): string => {
    const name = `${prefix}/${suffix}`;
    nodes.push({ name, opType, input: inputs, output: [`${name}_output_0`], attribute });
    return `${name}_output_0`;
  };
  const int64s = (suffix: string, values: number[]): string => {
    const name = `${prefix}/${suffix}`;
    nodes.push({ name, opType: "Constant", input: [], output: [name], attribute: [{ name: "value", type: onnx.AttributeProto.AttributeType.TENSOR, t: int64Tensor(values) }] });
    return name;
  };
  const minusOne = int64s("minus_one", [-1]);
  const lastTwo = int64s("last_two", [-2]);
  const lastOne = int64s("last_one", [-1]);
  const start = int64s("zero", [0]);
  const end = int64s("end", [TO_END]);
  const rows = (tensor: string, suffix: string) => {
    const tail = add("Slice", [add("Shape", [tensor], `${suffix}_shape`), lastTwo, end], `${suffix}_tail`);
    return add("Reshape", [tensor, add("Concat", [minusOne, tail], `${suffix}_rows_shape`, [intAttribute("axis", 0)])], `${suffix}_rows`);
  };
  const body = scanBody(chain, dtype, prefix);
  const scanned = add("Scan", [rows(q, "q"), rows(keysT, "k"), rows(v, "v")], "Scan", [
    intAttribute("num_scan_inputs", 3),
    { name: "body", type: onnx.AttributeProto.AttributeType.GRAPH, g: body },
  ]);
  // Context shape: q's leading axes and tokens, v's last axis.
  const qShape = add("Shape", [q], "q_full_shape");
  const vShape = add("Shape", [v], "v_full_shape");
  const shape = add("Concat", [add("Slice", [qShape, start, lastOne], "q_head"), add("Slice", [vShape, lastOne, end], "v_last")], "context_shape", [intAttribute("axis", 0)]);
  nodes.push({ name: `${prefix}/Reshape`, opType: "Reshape", input: [scanned, shape], output: [output] });
  return nodes;
}

/** One row: scores = q·kᵀ, the chain's own scale ops and Softmax, then · v. Constants are read from the outer graph. */
function scanBody(chain: AttentionChain, dtype: number, prefix: string): GraphProto {
  const input = (name: string) => ({ name: `${prefix}/row_${name}`, type: { tensorType: { elemType: dtype } } });
  const [q, k, v] = [input("q"), input("k"), input("v")];
  const renamed = new Map<string, string>([[chain.scores.output![0]!, `${prefix}/row_scores`]]);
  const rename = (name: string) => renamed.get(name) ?? name;
  const nodes: NodeProto[] = [{ name: `${prefix}/row/MatMul`, opType: "MatMul", input: [q.name, k.name], output: [`${prefix}/row_scores`] }];
  for (const node of chain.between) {
    const name = `${prefix}/row${node.name ?? ""}`;
    if (node.opType === "Softmax" && dtype !== FLOAT) {
      // onnxruntime's CPU provider has no fp16 Softmax: it inlines Softmax's function body, which
      // inside a Scan body leaves an optimized graph that cannot be loaded back ("_inlfunc_Softmax_axes
      // initializer name is not unique"). In fp32 it has a kernel; the result is rounded back once.
      const cast = (input: string, to: number, suffix: string) => {
        nodes.push({ name: `${name}/${suffix}`, opType: "Cast", input: [input], output: [`${name}/${suffix}_output_0`], attribute: [intAttribute("to", to)] });
        return `${name}/${suffix}_output_0`;
      };
      const softmax = `${name}_float_output_0`;
      nodes.push({ ...node, name, input: [cast(rename(node.input![0]!), FLOAT, "to_float")], output: [softmax] });
      renamed.set(node.output![0]!, cast(softmax, dtype, "from_float"));
      continue;
    }
    const out = `${prefix}/row${node.name ?? node.opType}_output_0`;
    nodes.push({ ...node, name, input: node.input!.map(rename), output: [out] });
    renamed.set(node.output![0]!, out);
  }
  const context = `${prefix}/row_context`;
  nodes.push({ name: `${prefix}/row/MatMul_1`, opType: "MatMul", input: [rename(chain.context.input![0]!), v.name], output: [context] });
  return { name: `${prefix}/row`, node: nodes, input: [q, k, v], output: [{ name: context, type: { tensorType: { elemType: dtype } } }] };
}

/** How many times each value is read: by nodes, by subgraphs (outer-scope reads), and as a graph output. */
function readCounts(graph: GraphProto): Map<string, number> {
  const counts = new Map<string, number>();
  const count = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
  const visit = (g: GraphProto) => {
    for (const node of g.node ?? []) {
      for (const name of node.input ?? []) if (name) count(name);
      for (const attribute of node.attribute ?? []) for (const sub of [attribute.g, ...(attribute.graphs ?? [])]) if (sub) visit(sub);
    }
  };
  visit(graph);
  for (const output of graph.output ?? []) count(output.name ?? "");
  return counts;
}

/** Names of initializers and Constant outputs that hold exactly one value (a scale, a 0 or 1). */
function singleValueConstants(graph: GraphProto, nodes: readonly NodeProto[]): Set<string> {
  const single = (tensor: TensorProto | null | undefined) => tensor != null && (tensor.dims ?? []).every((dim) => Number(dim) === 1);
  const names = new Set((graph.initializer ?? []).filter(single).map((tensor) => tensor.name ?? ""));
  for (const node of nodes) {
    if (node.opType !== "Constant") continue;
    const value = node.attribute?.find((attribute) => attribute.name === "value" || attribute.name === "value_float");
    if (value && (value.name === "value_float" || single(value.t))) names.add(node.output![0]!);
  }
  return names;
}

/**
 * The ONNX element type of a value, from the graph's declarations, or followed back through ops
 * that keep their inputs' type to a declared value, a weight, a Cast or a Constant; undefined if none is found.
 */
function elementType(name: string, graph: GraphProto, producers: ReadonlyMap<string, NodeProto>): number | undefined {
  const declared = new Map([...(graph.input ?? []), ...(graph.valueInfo ?? []), ...(graph.output ?? [])].map((info) => [info.name, info.type?.tensorType?.elemType]));
  const weights = new Map((graph.initializer ?? []).map((tensor) => [tensor.name, tensor.dataType]));
  const queue = [name];
  for (const seen = new Set<string>(); queue.length > 0 && seen.size < 256; ) {
    const value = queue.shift()!;
    if (seen.has(value)) continue;
    seen.add(value);
    const known = declared.get(value) ?? weights.get(value);
    if (known) return known;
    const producer = producers.get(value);
    if (producer?.opType === "Cast") return Number(producer.attribute?.find((attribute) => attribute.name === "to")?.i);
    if (producer?.opType === "Constant") return producer.attribute?.find((attribute) => attribute.name === "value")?.t?.dataType ?? undefined;
    for (const index of TYPE_CARRYING_INPUTS[producer?.opType ?? ""] ?? []) if (producer!.input?.[index]) queue.push(producer!.input[index]!);
  }
  return undefined;
}

function intAttribute(name: string, value: number): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

function int64Tensor(values: number[]): TensorProto {
  return { dataType: onnx.TensorProto.DataType.INT64, dims: [values.length], int64Data: values };
}
