/**
 * What each Stable Diffusion component must offer, checked against the ONNX session's metadata when
 * a model loads. Real exports differ by exporter generation (int32 or int64 ids, an int64 [batch]
 * timestep or a float32 scalar one, `latent_sample` or `latent_parameters` from the VAE encoder),
 * so the contract names what is required and which dtypes and ranks are accepted; the components
 * then adapt to what the session declares.
 */
import type { ModelSession, TensorDtype } from "../ort/runtime.ts";

export interface TensorRequirement {
  /** Accepted names, first preferred: exporters renamed some values across versions. */
  names: readonly string[];
  dtypes: readonly TensorDtype[];
  ranks: readonly number[];
}

export interface ComponentContract {
  inputs: Record<string, TensorRequirement>;
  outputs: Record<string, TensorRequirement>;
  /** Inputs a session may declare beyond the required ones, which the component knows how to feed. */
  optionalInputs?: Record<string, TensorRequirement>;
}

const FLOAT = ["float32", "float16"] as const;

export const CONTRACTS = {
  text_encoder: {
    inputs: { inputIds: { names: ["input_ids"], dtypes: ["int32", "int64"], ranks: [2] } },
    outputs: { hiddenStates: { names: ["last_hidden_state"], dtypes: FLOAT, ranks: [3] } },
  },
  unet: {
    inputs: {
      sample: { names: ["sample"], dtypes: FLOAT, ranks: [4] },
      timestep: { names: ["timestep"], dtypes: ["int64", "int32", "float32", "float16"], ranks: [0, 1] },
      encoderHiddenStates: { names: ["encoder_hidden_states"], dtypes: FLOAT, ranks: [3] },
    },
    optionalInputs: { timestepCond: { names: ["timestep_cond"], dtypes: FLOAT, ranks: [2] } },
    outputs: { noisePrediction: { names: ["out_sample"], dtypes: FLOAT, ranks: [4] } },
  },
  vae_decoder: {
    inputs: { latents: { names: ["latent_sample"], dtypes: FLOAT, ranks: [4] } },
    outputs: { image: { names: ["sample"], dtypes: FLOAT, ranks: [4] } },
  },
  vae_encoder: {
    inputs: { image: { names: ["sample"], dtypes: FLOAT, ranks: [4] } },
    outputs: { latents: { names: ["latent_parameters", "latent_sample"], dtypes: FLOAT, ranks: [4] } },
  },
} satisfies Record<string, ComponentContract>;

export type ComponentName = keyof typeof CONTRACTS;

/** Resolved names: contract key → the session's actual input/output name. */
export type Binding<C extends ComponentContract> = {
  inputs: { [K in keyof C["inputs"]]: string };
  outputs: { [K in keyof C["outputs"]]: string };
  optionalInputs: { [K in keyof NonNullable<C["optionalInputs"]>]?: string };
};

/**
 * Matches a session against its contract; returns the binding, or every mismatch found (the loader
 * collects them across components into one error).
 */
export function bindComponent<C extends ComponentContract>(
  component: string,
  contract: C,
  session: ModelSession,
): { binding: Binding<C>; problems: string[] } {
  const problems: string[] = [];
  const bindAll = (requirements: Record<string, TensorRequirement>, declared: ModelSession["inputs"], kind: string, required: boolean) =>
    Object.fromEntries(
      Object.entries(requirements).flatMap(([key, requirement]) => {
        const name = requirement.names.find((candidate) => declared.has(candidate));
        if (!name) {
          if (required) problems.push(`${component}: no ${kind} named ${requirement.names.join(" or ")} (it has ${[...declared.keys()].join(", ") || "none"})`);
          return [];
        }
        const spec = declared.get(name)!;
        if (!requirement.dtypes.includes(spec.dtype)) problems.push(`${component}: ${kind} "${name}" is ${spec.dtype}; expected ${requirement.dtypes.join(" or ")}`);
        if (!requirement.ranks.includes(spec.shape.length)) problems.push(`${component}: ${kind} "${name}" has rank ${spec.shape.length}; expected ${requirement.ranks.join(" or ")}`);
        return [[key, name]];
      }),
    );
  const binding = {
    inputs: bindAll(contract.inputs, session.inputs, "input", true),
    outputs: bindAll(contract.outputs, session.outputs, "output", true),
    optionalInputs: bindAll(contract.optionalInputs ?? {}, session.inputs, "input", false),
  } as Binding<C>;
  const known = new Set([...Object.values(binding.inputs), ...Object.values(binding.optionalInputs)]);
  for (const name of session.inputs.keys()) {
    if (!known.has(name)) problems.push(`${component}: input "${name}" is not one Atelier knows how to feed`);
  }
  return { binding, problems };
}
