"""Reference images for Atelier's Stable Diffusion pipeline (test/fixtures/pipeline-reference.json).

Runs diffusers' own StableDiffusionPipeline.__call__ (v0.35.2) on a demo Stable Diffusion folder, with
one CPU generator per image (`generator=[torch.Generator("cpu").manual_seed(seed + i) for i in range(n)]`),
output_type="np", then `(x * 255).round().astype("uint8")` as diffusers' numpy_to_pil does.

Components:
* unet, vae: diffusers' UNet2DConditionModel / AutoencoderKL with the folder's ONNX initializers
  (demo_components.diffusers_unet / diffusers_vae: from_config + load_state_dict(strict=True));
* scheduler: `XScheduler.from_config(scheduler/scheduler_config.json, **overrides)`, SCHEDULERS below;
* text_encoder: clip_modules.py's torch port of transformers' CLIPTextModel with the folder's ONNX
  initializers, inside the small PipelineTextEncoder class below;
* tokenizer: openai/CLIP's simple_tokenizer fed the folder's merges.txt (checked against vocab.json),
  inside the CLIPTokenizer class below, which pads and truncates as transformers' does.

The Python `transformers` package is not installed; stub_transformers() says exactly what stands in.

A case with "unetTimestep": "int64" wraps the UNet so that it receives `t.to(torch.int64)`: what
optimum's ORT pipeline feeds an export whose `timestep` input is int64 (optimum <= 1.23). That
pipeline is this same __call__ (optimum v1.23.3 onnxruntime/modeling_diffusion.py:720,
`class ORTStableDiffusionPipeline(ORTDiffusionPipeline, StableDiffusionPipeline)`) with ORT parts
that cast every input to the session's dtype with numpy's astype (modeling_ort.py:941-944), which
truncates Euler's fractional timesteps toward zero.

Make the folder, then run:
  node bin/atelier.js models make-demo --preset tiny --exporter optimum-1.24 --out /tmp/ref
  OPENAI_CLIP_DIR=<openai/CLIP checkout> PYTHONPATH=<diffusers v0.35.2>/src:<huggingface_hub v0.36.2>/src /usr/bin/python3 \
    tools/reference/pipeline_reference.py /tmp/ref/demo-sd-tiny-optimum-1.24-float32 > test/fixtures/pipeline-reference.json
<diffusers v0.35.2> and <huggingface_hub v0.36.2>: source trees of those tags of github.com/huggingface/diffusers
and huggingface_hub (e.g. `git archive v0.35.2 src | tar -x`); nothing is pip-installed.
"""
import base64
import importlib.machinery
import json
import re
import sys
import time
import types

import numpy as np
import torch

TRANSFORMERS_VERSION = "4.46.3"  # what the demo folders' text_encoder/config.json claims


def stub_transformers():
    """Stand-ins for the `transformers` package so that diffusers' StableDiffusionPipeline imports:
    * `sys.modules["transformers"]`: a module in which every name diffusers imports (CLIPTextModel,
      CLIPTokenizer, CLIPImageProcessor, PreTrainedModel, ...: used in type hints, isinstance checks
      and the safety checker, which is None here) is an empty placeholder class, recorded in
      `placeholders` (the fixture lists them). The pipeline is given instances of this script's
      PipelineTextEncoder and CLIPTokenizer classes, which nothing checks the type of;
    * `sys.modules["transformers.utils"]`: transformers' weight file names (SAFE_WEIGHTS_NAME,
      WEIGHTS_NAME, FLAX_WEIGHTS_NAME), which pipeline_loading_utils imports; no file is loaded;
    * `diffusers.utils.import_utils._transformers_available = True` and `_transformers_version`, so
      that diffusers.loaders exposes the mixins the pipeline class inherits (it reads the flag when
      the module is first imported, hence before anything imports diffusers.models)."""
    module = types.ModuleType("transformers")
    module.__spec__ = importlib.machinery.ModuleSpec("transformers", None)
    module.__version__ = TRANSFORMERS_VERSION
    module.placeholders = set()

    def placeholder(name):
        if name.startswith("__"):
            raise AttributeError(name)
        module.placeholders.add(name)
        cls = type(name, (), {"__module__": "transformers"})
        setattr(module, name, cls)
        return cls

    module.__getattr__ = placeholder
    module.__path__ = []
    utils = types.ModuleType("transformers.utils")
    utils.__spec__ = importlib.machinery.ModuleSpec("transformers.utils", None)
    utils.SAFE_WEIGHTS_NAME, utils.WEIGHTS_NAME, utils.FLAX_WEIGHTS_NAME = "model.safetensors", "pytorch_model.bin", "flax_model.msgpack"
    module.utils = utils
    sys.modules["transformers"] = module
    sys.modules["transformers.utils"] = utils
    from diffusers.utils import import_utils

    import_utils._transformers_available = True
    import_utils._transformers_version = TRANSFORMERS_VERSION
    return module


def stub_torch_compiler():
    """torch 1.13 has no torch.compiler; diffusers' pipeline_utils decorates progress_bar with
    `@torch.compiler.disable`, a hint to torch.compile (not used here): the identity stands in."""
    if not hasattr(torch, "compiler"):
        torch.compiler = types.SimpleNamespace(disable=lambda fn=None, recursive=True: fn if fn else (lambda f: f), is_compiling=lambda: False)


transformers = stub_transformers()
stub_torch_compiler()

from onnx_weights import initializers, to_torch, weights_checksum  # noqa: E402
from clip_modules import CLIPTextModel, load_weights  # noqa: E402
from demo_components import diffusers_unet, diffusers_vae, openai_simple_tokenizer  # noqa: E402
from diffusers import (  # noqa: E402
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    LCMScheduler,
    PNDMScheduler,
)
from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion import StableDiffusionPipeline  # noqa: E402

torch.set_grad_enabled(False)


class PipelineTextEncoder(CLIPTextModel):
    """clip_modules' CLIPTextModel with what StableDiffusionPipeline reads of transformers' besides
    forward: `config` (no `use_attention_mask`, as CLIPTextConfig has none, so no mask is passed),
    `dtype`, `device`. With a seed, random weights; without, load them with load_weights."""

    def __init__(self, config, seed=None):
        super().__init__(config, seed)
        self.config = types.SimpleNamespace(**config)

    @property
    def dtype(self):
        return torch.float32

    @property
    def device(self):
        return torch.device("cpu")


def folder_text_encoder(folder):
    config = json.load(open(f"{folder}/text_encoder/config.json"))
    return load_weights(PipelineTextEncoder(config), to_torch(initializers(f"{folder}/text_encoder/model.onnx")))


class CLIPTokenizer:
    """What encode_prompt calls on transformers' CLIPTokenizer: `model_max_length`,
    `__call__(text, padding="max_length"|"longest", max_length, truncation, return_tensors="pt")`
    (BOS, the BPE ids cut to max_length - 2 when truncating, EOS, then pad ids), `tokenize` and
    `added_tokens_encoder` (the textual-inversion check), `batch_decode` (the truncation warning).
    Special tokens and pad token from the folder's tokenizer_config.json."""

    def __init__(self, folder):
        self.bpe = openai_simple_tokenizer(folder)
        config = json.load(open(f"{folder}/tokenizer/tokenizer_config.json"))
        self.model_max_length = config["model_max_length"]
        vocab = self.bpe.encoder
        self.bos_token_id = vocab[config["bos_token"]]
        self.eos_token_id = vocab[config["eos_token"]]
        self.pad_token_id = vocab[config["pad_token"]]
        self.added_tokens_encoder = {config["bos_token"]: self.bos_token_id, config["eos_token"]: self.eos_token_id}

    def __call__(self, text, padding="longest", max_length=None, truncation=False, return_tensors="pt"):
        assert return_tensors == "pt"
        texts = [text] if isinstance(text, str) else list(text)
        rows = [self.bpe.encode(t) for t in texts]
        if truncation:
            rows = [row[: max_length - 2] for row in rows]
        rows = [[self.bos_token_id, *row, self.eos_token_id] for row in rows]
        length = max_length if padding == "max_length" else max(len(row) for row in rows)
        ids = torch.tensor([row + [self.pad_token_id] * (length - len(row)) for row in rows], dtype=torch.int64)
        mask = torch.tensor([[1] * len(row) + [0] * (length - len(row)) for row in rows], dtype=torch.int64)
        return types.SimpleNamespace(input_ids=ids, attention_mask=mask)

    def tokenize(self, text):
        return [self.bpe.decoder[i] for i in self.bpe.encode(text)]

    def batch_decode(self, rows):
        return [self.bpe.decode([int(i) for i in row]) for row in rows]


# Atelier name -> (diffusers class, from_config overrides).
SCHEDULERS = {
    "PNDM": (PNDMScheduler, {}),
    "DDIM": (DDIMScheduler, {}),
    "EULER": (EulerDiscreteScheduler, {}),
    "EULER_ANCESTRAL": (EulerAncestralDiscreteScheduler, {}),
    "DPM_PP_2M": (DPMSolverMultistepScheduler, {}),
    "DPM_PP_2M_KARRAS": (DPMSolverMultistepScheduler, {"use_karras_sigmas": True}),
    "LCM": (LCMScheduler, {}),
}

PROMPT = "a photo of a cat"
LONG_PROMPT = "A beautiful landscape painting, trending on artstation, highly detailed"
TRUNCATED_PROMPT = " ".join(["a red fox in the snow at dawn"] * 12)  # 96 tokens: cut to BOS + 75 + EOS
NEGATIVE = "blurry, low quality"

# Every request field is given: the tests pass these to Atelier's generate() as they are.
# Sizes: 64x64 is the tiny model's default (and the only size a config-less diffusers-script folder
# takes); 32x32 keeps the fixture small; 48x32 is non-square (multiples of 16, the tiny model's size
# multiple). Steps 4 to 20; seeds 0, 42 and 2^32 + 7 (which torch seeds like 7: only the low 32 bits
# reach its Mersenne Twister, hence the seed-7 case).
CASES = [
    dict(name="pndm-default", scheduler="PNDM", seed=0, steps=10, guidanceScale=7.5, width=64, height=64, samples=1),
    dict(name="ddim-3-samples", scheduler="DDIM", seed=42, steps=8, guidanceScale=7.5, width=64, height=64, samples=3),
    dict(name="euler-nonsquare", scheduler="EULER", seed=42, steps=12, guidanceScale=7.5, width=48, height=32, samples=1),
    dict(name="euler-ancestral-3-samples", scheduler="EULER_ANCESTRAL", seed=2**32 + 7, steps=8, guidanceScale=7.5, width=32, height=32, samples=3),
    dict(name="euler-ancestral-seed-7", scheduler="EULER_ANCESTRAL", seed=7, steps=8, guidanceScale=7.5, width=32, height=32, samples=1),
    dict(name="dpm-2m-negative", scheduler="DPM_PP_2M", seed=0, steps=15, guidanceScale=7.5, width=32, height=32, samples=1, negativePrompt=NEGATIVE),
    dict(name="dpm-2m-karras-20-steps", scheduler="DPM_PP_2M_KARRAS", seed=42, steps=20, guidanceScale=7.5, width=64, height=64, samples=1),
    dict(name="lcm-no-guidance", scheduler="LCM", seed=2**32 + 7, steps=4, guidanceScale=1.0, width=32, height=32, samples=3),
    dict(name="lcm-guided-nonsquare", scheduler="LCM", seed=0, steps=6, guidanceScale=7.5, width=48, height=32, samples=1),
    dict(name="euler-no-guidance-negative-ignored", scheduler="EULER", seed=0, steps=6, guidanceScale=1.0, width=64, height=64, samples=1, negativePrompt=NEGATIVE),
    dict(name="pndm-long-prompt-negative", scheduler="PNDM", seed=42, steps=4, guidanceScale=7.5, width=48, height=32, samples=1, prompt=LONG_PROMPT, negativePrompt=NEGATIVE),
    dict(name="ddim-truncated-prompt", scheduler="DDIM", seed=0, steps=4, guidanceScale=7.5, width=32, height=32, samples=1, prompt=TRUNCATED_PROMPT),
    dict(name="ddim-no-guidance", scheduler="DDIM", seed=2**32 + 7, steps=5, guidanceScale=1.0, width=32, height=32, samples=1),
    # The int64-timestep variants (optimum <= 1.23 exports) of the Euler-family cases.
    dict(name="euler-nonsquare", scheduler="EULER", seed=42, steps=12, guidanceScale=7.5, width=48, height=32, samples=1, unetTimestep="int64"),
    dict(name="euler-ancestral-3-samples", scheduler="EULER_ANCESTRAL", seed=2**32 + 7, steps=8, guidanceScale=7.5, width=32, height=32, samples=3, unetTimestep="int64"),
]


def request_of(case):
    return {
        "prompt": case.get("prompt", PROMPT),
        "negativePrompt": case.get("negativePrompt", ""),
        "samples": case["samples"],
        "seed": case["seed"],
        "steps": case["steps"],
        "guidanceScale": case["guidanceScale"],
        "width": case["width"],
        "height": case["height"],
        "scheduler": case["scheduler"],
    }


def truncating_timesteps(unet):
    """The UNet as an int64 `timestep` ONNX input sees it through optimum's astype(np.int64)."""
    forward = unet.forward
    unet.forward = lambda sample, timestep, *args, **kwargs: forward(sample, timestep.to(torch.int64), *args, **kwargs)
    return unet


def run_case(folder, case):
    scheduler_class, overrides = SCHEDULERS[case["scheduler"]]
    scheduler = scheduler_class.from_config(json.load(open(f"{folder}/scheduler/scheduler_config.json")), **overrides)
    unet = diffusers_unet(folder)[0]
    if case.get("unetTimestep", "float") == "int64":
        unet = truncating_timesteps(unet)
    pipe = StableDiffusionPipeline(
        vae=diffusers_vae(folder)[0],
        text_encoder=folder_text_encoder(folder),
        tokenizer=CLIPTokenizer(folder),
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    request = request_of(case)
    n = request["samples"]
    started = time.perf_counter()
    images = pipe(
        request["prompt"],
        negative_prompt=request["negativePrompt"] or None,
        num_images_per_prompt=n,
        generator=[torch.Generator("cpu").manual_seed(request["seed"] + i) for i in range(n)],
        num_inference_steps=request["steps"],
        guidance_scale=request["guidanceScale"],
        width=request["width"],
        height=request["height"],
        output_type="np",
    ).images
    seconds = time.perf_counter() - started
    pixels = (images * 255).round().astype("uint8")  # diffusers' numpy_to_pil
    print(f"{case['name']} ({case.get('unetTimestep', 'float')}): {seconds:.2f} s", file=sys.stderr)
    return {
        "name": case["name"],
        "unetTimestep": case.get("unetTimestep", "float"),
        "request": request,
        "images": [base64.b64encode(np.ascontiguousarray(image).tobytes()).decode() for image in pixels],
    }


def main(folder):
    marker = json.load(open(f"{folder}/demo-model.json"))
    cases = [run_case(folder, case) for case in CASES]
    fixture = {
        "about": "diffusers v0.35.2 StableDiffusionPipeline.__call__ on the demo SD folder (torch "
        + torch.__version__
        + ", float32 CPU), one torch.Generator('cpu').manual_seed(seed + i) per image, output_type='np', "
        "(x * 255).round().astype(uint8). Each image: base64 of height x width x 3 RGB bytes, row-major. "
        "unetTimestep 'int64': the UNet receives t.to(int64), as optimum's ORT pipeline feeds an int64 timestep input.",
        "generatedBy": "tools/reference/pipeline_reference.py",
        "folder": {key: marker[key] for key in ("preset", "exporter", "dtype") if key in marker},
        "weightsSha256": {
            "text_encoder": weights_checksum(initializers(f"{folder}/text_encoder/model.onnx")),
            "unet": weights_checksum(diffusers_unet(folder)[1]),
            "vae": weights_checksum(diffusers_vae(folder)[1]),
        },
        "transformersStandIns": {
            "components": ["text_encoder: torch port of CLIPTextModel's forward", "tokenizer: openai/CLIP simple_tokenizer, padded as CLIPTokenizer"],
            "placeholderClasses": sorted(transformers.placeholders),
        },
        "cases": cases,
    }
    text = json.dumps(fixture, indent=1)
    text = re.sub(r'"request": \{[^}]*\}', lambda m: re.sub(r"\s*\n\s*", " ", m.group(0)), text)
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
