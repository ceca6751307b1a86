"""Reference outputs for the demo Stable Diffusion components (test/fixtures/demo-components.json).

Also records how OpenAI CLIP's own tokenizer splits a few prompts with the demo vocabulary.

Loads the ONNX initializers of generated demo folders into diffusers' own UNet2DConditionModel
and AutoencoderKL (from_config + load_state_dict(strict=True)) and into a torch port of
transformers' CLIPTextModel (clip_modules.py; transformers is not installed here), runs them on fixed
inputs and records inputs, outputs and a checksum of the weights.

Make the folders, then run:
  node bin/atelier.js models make-demo --preset tiny --out /tmp  (writes /tmp/demo-sd-tiny)
  node bin/atelier.js models make-demo --preset small --out /tmp (writes /tmp/demo-sd-small)
  OPENAI_CLIP_DIR=<openai/CLIP checkout> PYTHONPATH=<diffusers v0.35.2>/src:<huggingface_hub v0.36.2>/src /usr/bin/python3 \
    tools/reference/demo_components.py /tmp/demo-sd-tiny /tmp/demo-sd-small > test/fixtures/demo-components.json
<diffusers v0.35.2> and <huggingface_hub v0.36.2>: source trees of those tags of github.com/huggingface/diffusers
and huggingface_hub (e.g. `git archive v0.35.2 src | tar -x`); nothing is pip-installed.
"""
import importlib.machinery
import json
import re
import sys
import types

import numpy as np
import torch

import openai_tokenizer  # noqa: E402
from clip_modules import CLIPTextModel, load_weights  # noqa: E402 (tools/reference is the script folder)
from onnx_weights import initializers, to_torch, weights_checksum  # noqa: E402


def shim_missing_modules():
    """diffusers 0.35.2 imports safetensors and torch.float8_* at import time; neither is used
    here (no files are loaded, no quantization), and neither exists for torch 1.13 on Debian.
    Any name imported from the safetensors stand-ins (safe_open, load_file, ...) raises if called."""
    def unavailable(name):
        if name.startswith("__"):
            raise AttributeError(name)

        def call(*args, **kwargs):
            raise RuntimeError(f"safetensors is not installed: {name} cannot run")

        return call

    for name in ("safetensors", "safetensors.torch"):
        module = types.ModuleType(name)
        module.__spec__ = importlib.machinery.ModuleSpec(name, None)
        module.__getattr__ = unavailable
        sys.modules[name] = module
    sys.modules["safetensors"].torch = sys.modules["safetensors.torch"]
    for name in ("float8_e4m3fn", "float8_e5m2"):
        if not hasattr(torch, name):
            setattr(torch, name, torch.int8)


shim_missing_modules()
from diffusers import AutoencoderKL, UNet2DConditionModel  # noqa: E402

torch.set_grad_enabled(False)


def pattern(shape, phase, scale=1.5):
    """Deterministic inputs both sides rebuild from {shape, phase, scale}: float32(sin(i * 0.731 + phase) * scale)."""
    count = int(np.prod(shape))
    return (np.sin(np.arange(count, dtype=np.float64) * 0.731 + phase) * scale).astype(np.float32).reshape(shape)


def pattern_record(shape, phase, scale=1.5):
    return {"pattern": {"shape": shape, "phase": phase, "scale": scale}}


def rounded(array):
    return [float(f"{v:.7g}") for v in np.asarray(array, dtype=np.float64).ravel()]


def tensor_record(array):
    array = np.asarray(array)
    return {"shape": list(array.shape), "data": rounded(array)}


def text_encoder_case(folder):
    config = json.load(open(f"{folder}/text_encoder/config.json"))
    raw = initializers(f"{folder}/text_encoder/model.onnx")
    weights = to_torch(raw)
    eos = config["vocab_size"] - 1
    ids = [[eos - 1, 5, 300, 700, 900, eos, eos, eos], [eos - 1, 40, 260, eos, eos, eos, eos, eos]]
    last, pooled = load_weights(CLIPTextModel(config), weights)(torch.tensor(ids, dtype=torch.int64))
    return {
        "weightsSha256": weights_checksum(raw),
        "inputs": {"input_ids": {"shape": [2, 8], "data": [v for row in ids for v in row]}},
        "outputs": {"last_hidden_state": tensor_record(last), "pooler_output": tensor_record(pooled)},
    }


def diffusers_unet(folder):
    """diffusers' UNet2DConditionModel with the folder's ONNX initializers; also returns them."""
    config = json.load(open(f"{folder}/unet/config.json"))
    raw = initializers(f"{folder}/unet/model.onnx")
    unet = UNet2DConditionModel.from_config(config).eval()
    unet.load_state_dict(to_torch(raw), strict=True)
    return unet, raw


def diffusers_vae(folder):
    """diffusers' AutoencoderKL with the folder's encoder and decoder initializers; also returns them."""
    config = json.load(open(f"{folder}/vae_decoder/config.json"))
    raw = {**initializers(f"{folder}/vae_encoder/model.onnx"), **initializers(f"{folder}/vae_decoder/model.onnx")}
    vae = AutoencoderKL.from_config(config).eval()
    vae.load_state_dict(to_torch(raw), strict=True)
    return vae, raw


def unet_case(folder):
    unet, raw = diffusers_unet(folder)
    config = unet.config
    sample_spec = ([2, config["in_channels"], 8, 8], 0.0)
    context_spec = ([2, 7, config["cross_attention_dim"]], 1.0)
    sample, context = pattern(*sample_spec), pattern(*context_spec)
    run = lambda t: unet(torch.from_numpy(sample), t, torch.from_numpy(context)).sample.numpy()
    return {
        "weightsSha256": weights_checksum(raw),
        "inputs": {"sample": pattern_record(*sample_spec), "encoder_hidden_states": pattern_record(*context_spec)},
        "outputs": {
            "timesteps_951_1": tensor_record(run(torch.tensor([951, 1], dtype=torch.int64))),
            "timestep_500_scalar": tensor_record(run(torch.tensor(500.0))),
        },
    }


def vae_case(folder):
    vae, raw = diffusers_vae(folder)
    config = vae.config
    latents_spec = ([1, config["latent_channels"], 2, 2], 2.0)
    image_spec = ([1, config["in_channels"], 16, 16], 3.0, 1.0)
    latents, image = pattern(*latents_spec), pattern(*image_spec)
    return {
        "weightsSha256": weights_checksum(raw),
        "inputs": {"latent_sample": pattern_record(*latents_spec), "sample": pattern_record(*image_spec)},
        "outputs": {
            "decoded": tensor_record(vae.decode(torch.from_numpy(latents)).sample.numpy()),
            "latent_parameters": tensor_record(vae.encode(torch.from_numpy(image)).latent_dist.parameters.numpy()),
        },
    }


TOKENIZER_PROMPTS = [
    "a photo of a cat",
    "A beautiful landscape painting, trending on artstation",
    "zebra xylophone",
    "  Portrait of an OLD wizard -- highly detailed!!  ",
]


def openai_simple_tokenizer(folder):
    """The tokenizer of a Stable Diffusion folder, as openai/CLIP builds it."""
    return openai_tokenizer.openai_simple_tokenizer(f"{folder}/tokenizer")


def tokenizer_case(folder):
    tokenizer = openai_simple_tokenizer(folder)
    return {
        "about": "ids from openai/CLIP simple_tokenizer.encode (no <|startoftext|>/<|endoftext|>, no padding)",
        "cases": [{"prompt": p, "ids": tokenizer.encode(p), "tokens": [tokenizer.decoder[i] for i in tokenizer.encode(p)]} for p in TOKENIZER_PROMPTS],
    }


def main(folders):
    presets = {}
    for folder in folders:
        marker = json.load(open(f"{folder}/demo-model.json"))
        presets[marker["preset"]] = {
            "text_encoder": text_encoder_case(folder),
            "unet": unet_case(folder),
            "vae": vae_case(folder),
        }
    fixture = {
        "about": "Reference outputs of the demo SD components: diffusers v0.35.2 UNet2DConditionModel and "
        "AutoencoderKL (from_config + load_state_dict(strict=True) of the ONNX initializers) and a torch port "
        "of transformers' CLIPTextModel forward (transformers is not installed), torch "
        + torch.__version__ + ", float32 CPU. Inputs: pattern(shape, phase) = sin(i*0.731+phase)*1.5.",
        "generatedBy": "tools/reference/demo_components.py",
        "folders": "makeDemoStableDiffusion({ preset, exporter: \"optimum-1.23\", dtype: \"float32\" })",
        "presets": presets,
        "tokenizer": tokenizer_case(folders[0]),
    }
    # One line per tensor keeps the fixture readable and diffable.
    text = json.dumps(fixture, indent=1)
    text = re.sub(r"\[\s*([-0-9.e+,\s]*?)\s*\]", lambda m: "[" + ",".join(m.group(1).split()).replace(",,", ",") + "]", text)
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
