/** CLIP text encoder: token ids → per-token hidden states (what the UNet cross-attends to). */
import type { ModelSession } from "../ort/runtime.ts";
import type { Binding, CONTRACTS } from "./component-contract.ts";

export interface Embeddings {
  /** [batch, sequence, hidden] */
  readonly data: Float32Array;
  readonly dims: readonly [number, number, number];
}

export interface TextEncoder {
  /** Encodes `batch` rows of token ids, each `ids.length / batch` long. */
  encode(ids: Int32Array, batch: number): Promise<Embeddings>;
}

export function createTextEncoder(session: ModelSession, binding: Binding<typeof CONTRACTS.text_encoder>): TextEncoder {
  return {
    async encode(ids, batch) {
      const results = await session.run({ [binding.inputs.inputIds]: { data: ids, dims: [batch, ids.length / batch] } }, [
        binding.outputs.hiddenStates,
      ]);
      const { data, dims } = results[binding.outputs.hiddenStates]!;
      return { data, dims: dims as [number, number, number] };
    },
  };
}
