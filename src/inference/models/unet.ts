/**
 * The denoising UNet: (noisy latents, timestep, text embeddings) → predicted noise (or velocity).
 * The timestep goes in as the export declares it: a float32 scalar (optimum ≥ 1.24), an int64 vector
 * (optimum ≤ 1.23, truncated as optimum's ORT pipeline does by `astype`), or a fixed-length vector.
 */
import type { HostTensor, ModelSession, TensorSpec } from "../ort/runtime.ts";
import type { Binding, CONTRACTS } from "./component-contract.ts";

export interface UnetInput {
  /** [batch, channels, height, width] latents, already scaled by the scheduler. */
  sample: Float32Array;
  sampleDims: readonly number[];
  timestep: number;
  /** [batch, sequence, hidden] */
  encoderHiddenStates: Float32Array;
  encoderDims: readonly number[];
  /** [batch, time_cond_proj_dim] guidance embedding, for LCM-distilled UNets only. */
  timestepCond?: { data: Float32Array; dims: readonly number[] };
}

export interface Unet {
  /** Whether the UNet takes a guidance embedding (LCM-distilled) instead of classifier-free guidance. */
  readonly takesGuidanceEmbedding: boolean;
  /** Width of that embedding, from the session (time_cond_proj_dim). */
  readonly guidanceEmbeddingSize: number | undefined;
  predict(input: UnetInput): Promise<Float32Array>;
}

export function createUnet(session: ModelSession, binding: Binding<typeof CONTRACTS.unet>): Unet {
  const timestepSpec = session.inputs.get(binding.inputs.timestep)!;
  const condName = binding.optionalInputs.timestepCond;
  const condSize = condName ? session.inputs.get(condName)!.shape[1] : undefined;
  return {
    takesGuidanceEmbedding: condName !== undefined,
    guidanceEmbeddingSize: typeof condSize === "number" ? condSize : undefined,
    async predict(input) {
      const feeds: Record<string, HostTensor> = {
        [binding.inputs.sample]: { data: input.sample, dims: input.sampleDims },
        [binding.inputs.timestep]: timestepFeed(timestepSpec, input.timestep),
        [binding.inputs.encoderHiddenStates]: { data: input.encoderHiddenStates, dims: input.encoderDims },
      };
      if (condName) {
        if (!input.timestepCond) throw new Error("This UNet takes a guidance embedding (timestep_cond) but none was given");
        feeds[condName] = input.timestepCond;
      }
      const results = await session.run(feeds, [binding.outputs.noisePrediction]);
      return results[binding.outputs.noisePrediction]!.data;
    },
  };
}

/** A scalar for a rank-0 input; otherwise a vector of the declared fixed length, or [1] to broadcast. */
function timestepFeed(spec: TensorSpec, timestep: number): HostTensor {
  if (spec.shape.length === 0) return { data: Float32Array.of(timestep), dims: [] };
  const length = typeof spec.shape[0] === "number" && spec.shape[0] > 0 ? spec.shape[0] : 1;
  return { data: new Float32Array(length).fill(timestep), dims: [length] };
}
