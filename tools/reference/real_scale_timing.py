"""diffusers' side of bench/real-scale.ts: eager PyTorch timings on a generated full-size folder's own weights.

Loads diffusers' own UNet2DConditionModel and AutoencoderKL (v0.35.2, from_config of the folder's
config.json) and clip_modules.py's port of transformers' CLIPTextModel, copies the folder's ONNX
initializers into them (every parameter and buffer named, shapes checked; external data read from
disk one tensor at a time, so the weights are never held twice), then times:
  * `unet`: one UNet forward at 512x512 with classifier-free guidance: sample [2, 4, 64, 64], a scalar
    timestep, encoder_hidden_states [2, 77, 768] (one warm-up run, then --unet-runs timed runs);
  * `image`: a whole image as StableDiffusionPipeline.__call__ makes it: text encoder on [negative,
    prompt], --steps EulerDiscreteScheduler steps with CFG 7.5, VAE decode of latents / scaling_factor.
Prints one JSON object (seconds). Only float32 folders: torch 1.13's CPU kernels have no fp16 convolution.

  PYTHONPATH=<diffusers v0.35.2>/src:<huggingface_hub v0.36.2>/src /usr/bin/python3 \
    tools/reference/real_scale_timing.py <folder> [--steps 20] [--unet-runs 3] [--threads N]
<diffusers v0.35.2> and <huggingface_hub v0.36.2>: source trees of those tags (e.g. `git archive v0.35.2 src | tar -x`).
"""
import argparse
import json
import os
import resource
import time

import numpy as np
import onnx
import torch

from clip_modules import CLIPTextModel
from demo_components import AutoencoderKL, UNet2DConditionModel  # also shims what diffusers imports but torch 1.13 lacks
from diffusers import EulerDiscreteScheduler

ONNX_TO_NUMPY = {onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.FLOAT16: np.float16}


def onnx_tensors(path):
    """(name, numpy array) for each initializer of an ONNX file, reading external data lazily."""
    model = onnx.load(path, load_external_data=False)
    folder = os.path.dirname(path)
    for tensor in model.graph.initializer:
        dtype = ONNX_TO_NUMPY[tensor.data_type]
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            entry = {item.key: item.value for item in tensor.external_data}
            count = int(entry["length"]) // np.dtype(dtype).itemsize
            values = np.fromfile(os.path.join(folder, entry["location"]), dtype=dtype, count=count, offset=int(entry["offset"]))
        else:
            values = np.frombuffer(tensor.raw_data, dtype=dtype).copy()
        yield tensor.name, values.reshape(tuple(tensor.dims))


def load_into(module, paths):
    """Copies the initializers of `paths` into `module`'s parameters and buffers, which they must cover exactly."""
    targets = dict(module.named_parameters()) | dict(module.named_buffers())
    seen = set()
    with torch.no_grad():
        for path in paths:
            for name, values in onnx_tensors(path):
                if name not in targets:
                    raise SystemExit(f"{path}: {name} is not a tensor of {type(module).__name__}")
                target = targets[name]
                if tuple(target.shape) != values.shape:
                    raise SystemExit(f"{name}: ONNX shape {values.shape}, diffusers shape {tuple(target.shape)}")
                target.copy_(torch.from_numpy(values.astype(np.float32)))
                seen.add(name)
    missing = [name for name in targets if name not in seen and not name.endswith("position_ids")]
    if missing:
        raise SystemExit(f"{len(missing)} tensors not in the ONNX files, e.g. {missing[:3]}")
    return module.eval()


def config(folder, component):
    return json.load(open(f"{folder}/{component}/config.json"))


def peak_rss_gb():
    # ru_maxrss is in KiB on Linux; GB of 10^9 bytes, as bench/real-scale.ts counts.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--unet-runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    folder = args.folder

    started = time.perf_counter()
    unet = load_into(UNet2DConditionModel.from_config(config(folder, "unet")), [f"{folder}/unet/model.onnx"])
    vae_paths = [f"{folder}/vae_encoder/model.onnx", f"{folder}/vae_decoder/model.onnx"]
    vae = load_into(AutoencoderKL.from_config(config(folder, "vae_decoder")), vae_paths)
    text_config = config(folder, "text_encoder")
    text_encoder = load_into(CLIPTextModel(text_config), [f"{folder}/text_encoder/model.onnx"])
    load_s = time.perf_counter() - started

    generator = torch.Generator("cpu").manual_seed(0)
    sample = torch.randn((2, 4, 64, 64), generator=generator)
    context = torch.randn((2, 77, text_config["hidden_size"]), generator=generator)
    unet(sample, 999, encoder_hidden_states=context)  # warm-up: first-run allocations
    unet_s = []
    for _ in range(args.unet_runs):
        started = time.perf_counter()
        unet(sample, 999, encoder_hidden_states=context)
        unet_s.append(time.perf_counter() - started)

    started = time.perf_counter()
    image_timings = whole_image(folder, unet, vae, text_encoder, text_config, args.steps, generator)
    image_s = time.perf_counter() - started
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "loadSeconds": load_s,
        "unetSeconds": unet_s,
        "imageSeconds": image_s,
        "imageParts": image_timings,
        "steps": args.steps,
        "peakRssGb": peak_rss_gb(),
    }))


def whole_image(folder, unet, vae, text_encoder, text_config, steps, generator):
    """StableDiffusionPipeline.__call__'s work for one 512x512 image (guidance 7.5), timed by part."""
    vocab = json.load(open(f"{folder}/tokenizer/vocab.json"))
    bos, eos = vocab["<|startoftext|>"], vocab["<|endoftext|>"]
    # [negative "", prompt "a photo of a cat"], each word one token, padded with <|endoftext|> to 77 as SD 1.x pads.
    words = [vocab[f"{word}</w>"] for word in "a photo of a cat".split()]
    ids = torch.tensor([[bos, eos] + [eos] * 75, [bos, *words, eos] + [eos] * (75 - len(words))], dtype=torch.int64)
    started = time.perf_counter()
    context, _ = text_encoder(ids)
    text_s = time.perf_counter() - started

    scheduler = EulerDiscreteScheduler.from_config(json.load(open(f"{folder}/scheduler/scheduler_config.json")))
    scheduler.set_timesteps(steps)
    latents = torch.randn((1, 4, 64, 64), generator=generator) * scheduler.init_noise_sigma
    started = time.perf_counter()
    for t in scheduler.timesteps:
        model_input = scheduler.scale_model_input(torch.cat([latents] * 2), t)
        uncond, cond = unet(model_input, t, encoder_hidden_states=context).sample.chunk(2)
        latents = scheduler.step(uncond + 7.5 * (cond - uncond), t, latents).prev_sample
    denoise_s = time.perf_counter() - started

    started = time.perf_counter()
    vae.decode(latents / vae.config.scaling_factor)
    decode_s = time.perf_counter() - started
    return {"textEncoder": text_s, "denoise": denoise_s, "vaeDecode": decode_s}


if __name__ == "__main__":
    main()
