"""Checks Atelier against Stable Diffusion and CLIP folders made by PyTorch's own ONNX exporter, called as
optimum calls it (optimum_export.py), rather than by Atelier's generator.

1. Builds a tiny Stable Diffusion with random weights in diffusers' own classes (the configs diffusers'
   pipeline tests use: UNet2DConditionModel with blocks (32, 64), AutoencoderKL with blocks [32, 64], so
   a VAE scale factor of 2; see sharpen() for the one change to torch's init) and a torch port of
   transformers' CLIPTextModel (clip_modules.py) on the demo folder's tokenizer vocabulary, and a tiny
   CLIPModel port.
2. Exports them in each era of optimum's layout under the work folder (FOLDERS: eras A, B, B with external
   data, C approximated; A and B also with SD 1.5's published scheduler_config.json; B with an
   LCM-distilled UNet, whose export takes `timestep_cond`), and the CLIPModel
   as optimum does (opset 11; opset 17 rewritten to 18 beside era C).
3. For each folder and case (CASES: 6 schedulers, seeds 0, 42 and 2^32 + 7, default and non-square sizes,
   1 or 3 samples in UNet batches of 1 to 3, guidance 7.5 / 1.0, negative prompts) runs
   `atelier generate ... --json` with the exported CLIP folder, reads
   the PNGs, and compares their pixels with diffusers 0.35.2's StableDiffusionPipeline.__call__ on the
   same torch modules (pipeline_reference.py's stand-ins for tokenizer and `transformers`; one
   torch.Generator("cpu").manual_seed(seed + i) per image). Era A's int64 timestep input is fed, by
   optimum's ORT pipeline, `t.astype(int64)`: its reference UNet receives the truncated timestep.
   Bar: every channel within 2/255, mean |difference| within 0.02/255.
4. Compares each image's `clipScore` with PyTorch's: clip_reference.py's port of CLIPImageProcessor (PIL)
   on the PNG's pixels, the CLIPModel port's embeddings, 100 × cosine (not clamped at 0 as torchmetrics'
   CLIPScore is: Atelier reports the raw value). Bar: within 0.01.
5. Runs CONTROLS: Atelier's images against deliberately wrong references, each of which must fail the bar.
Prints one table row per folder and case; exits 1 when any row fails or any control passes.

Run from the repository root (a few minutes on 2 cores):
  OPENAI_CLIP_DIR=<openai/CLIP checkout> PYTHONPATH=<diffusers v0.35.2>/src:<huggingface_hub v0.36.2>/src /usr/bin/python3 tools/reference/export_check.py [work folder]
The work folder (default /tmp/atelier-export-check) receives the model folders and images; nothing is
written to the repository.
<diffusers v0.35.2> and <huggingface_hub v0.36.2>: source trees of those tags of github.com/huggingface/diffusers
and huggingface_hub (e.g. `git archive v0.35.2 src | tar -x`); nothing is pip-installed.
"""
import contextlib
import dataclasses
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.dont_write_bytecode = True  # the sibling modules imported below leave no __pycache__ in the repository

import pipeline_reference as reference  # noqa: E402 (first: it stubs `transformers` before diffusers loads)
import clip_reference  # noqa: E402
from clip_modules import CLIPModel  # noqa: E402
from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel  # noqa: E402
from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion import StableDiffusionPipeline  # noqa: E402
from optimum_export import Era, write_clip, write_stable_diffusion  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TORCH_SEED = 20240601
MAX_ABS_BAR = 2  # in 1/255
MEAN_ABS_BAR = 0.02  # in 1/255
CLIP_BAR = 0.01

ERA_A = Era("A", "optimum <= 1.23: int32 ids, int64 timestep [steps], opset 14", 14, torch.int32, "int64-vector")
ERA_B = Era("B", "optimum >= 1.24: int64 ids, float32 scalar timestep, opset 14", 14, torch.int64, "float-scalar")
ERA_B_EXT = Era("B-ext", "era B saved with external data (optimum with FORCE_ONNX_EXTERNAL_DATA=1)", 14, torch.int64, "float-scalar",
                external_data=True)
ERA_C = Era("C~18", "optimum-onnx approximated: era B exported at opset 17 (torch 1.13's maximum), reductions rewritten to opset 18",
            17, torch.int64, "float-scalar", upgrade_to_opset_18=True)

PROMPT = "a photo of a cat"
LONG_PROMPT = "A beautiful landscape painting of a castle on a hill, trending on artstation, highly detailed"
NEGATIVE = "blurry, low quality"


@dataclass(frozen=True)
class Case:
    name: str
    scheduler: str
    seed: int
    steps: int
    guidance: float
    samples: int
    size: tuple[int, int] | None = None  # (width, height); None = the model's default
    negative: str = ""
    prompt: str = PROMPT
    batch: int = 1  # atelier's --batch: samples per UNet run (diffusers runs all samples in one batch)


CASES = [
    Case("pndm-default", "PNDM", 0, 10, 7.5, 1),
    Case("pndm-3-samples-negative", "PNDM", 2**32 + 7, 6, 7.5, 3, (48, 32), NEGATIVE, LONG_PROMPT),
    Case("ddim-3-samples", "DDIM", 42, 8, 7.5, 3),
    Case("ddim-nonsquare-negative", "DDIM", 0, 6, 7.5, 1, (32, 48), NEGATIVE),
    Case("euler-nonsquare", "EULER", 42, 12, 7.5, 1, (48, 32)),
    Case("euler-no-guidance-negative", "EULER", 0, 6, 1.0, 1, None, NEGATIVE),
    Case("euler-ancestral-3-samples", "EULER_ANCESTRAL", 2**32 + 7, 8, 7.5, 3),
    Case("euler-ancestral-seed-42-nonsquare", "EULER_ANCESTRAL", 42, 6, 7.5, 1, (48, 32)),
    Case("dpm-2m-seed-42", "DPM_PP_2M", 42, 10, 7.5, 1),
    Case("dpm-2m-karras-negative", "DPM_PP_2M_KARRAS", 0, 15, 7.5, 1, (48, 32), NEGATIVE),
    Case("dpm-2m-karras-3-samples", "DPM_PP_2M_KARRAS", 2**32 + 7, 8, 7.5, 3),
    Case("lcm-no-guidance-3-samples", "LCM", 2**32 + 7, 4, 1.0, 3),
    Case("lcm-guided-nonsquare", "LCM", 0, 6, 7.5, 1, (48, 32)),
    Case("ddim-3-samples-batch-3", "DDIM", 42, 8, 7.5, 3, batch=3),
    Case("euler-ancestral-3-samples-batch-2", "EULER_ANCESTRAL", 2**32 + 7, 8, 7.5, 3, (48, 32), NEGATIVE, batch=2),
    Case("lcm-no-guidance-3-samples-batch-3", "LCM", 0, 4, 1.0, 3, batch=3),
]
BY_NAME = {case.name: case for case in CASES}
# Schedulers whose timesteps depend on the config's timestep_spacing default (fractional for Euler's linspace).
SPACING_CASES = [BY_NAME[name] for name in ("pndm-default", "euler-nonsquare", "euler-no-guidance-negative", "euler-ancestral-3-samples",
                                            "euler-ancestral-seed-42-nonsquare", "dpm-2m-seed-42", "dpm-2m-karras-negative", "lcm-guided-nonsquare")]
# On an LCM-distilled UNet the guidance scale goes in as an embedding (no classifier-free guidance).
DISTILLED_CASES = [
    Case("distilled-lcm-guidance-8", "LCM", 0, 4, 8.0, 1),
    Case("distilled-lcm-no-guidance", "LCM", 42, 4, 1.0, 1, (48, 32)),
    Case("distilled-lcm-3-samples-batch-3", "LCM", 2**32 + 7, 6, 7.5, 3, batch=3),
    Case("distilled-euler-negative-ignored", "EULER", 42, 8, 7.5, 1, None, NEGATIVE),
]
EXTERNAL_DATA_CASES = [BY_NAME[name] for name in ("pndm-default", "ddim-3-samples-batch-3", "euler-ancestral-3-samples", "dpm-2m-karras-negative")]


@dataclass(frozen=True)
class Folder:
    """An exported folder: its era and which scheduler_config.json it carries. "saved" is what optimum
    writes (scheduler.save_pretrained: every key, PNDM's timestep_spacing "leading" included); "sd15" is
    SD 1.5's file as published (no timestep_spacing: each scheduler's own default applies)."""

    label: str
    era: Era
    scheduler: str
    cases: list
    unet: str = "base"  # or "lcm-distilled": UNet2DConditionModel(time_cond_proj_dim=32), input timestep_cond


FOLDERS = [
    Folder("A", ERA_A, "saved", CASES),
    Folder("A/sd15-sched", ERA_A, "sd15", SPACING_CASES),
    Folder("B", ERA_B, "saved", CASES),
    Folder("B/sd15-sched", ERA_B, "sd15", SPACING_CASES),
    Folder("B-ext", ERA_B_EXT, "saved", EXTERNAL_DATA_CASES),
    Folder("C~18", ERA_C, "saved", CASES),
    Folder("B/lcm-distilled", ERA_B, "saved", DISTILLED_CASES, unet="lcm-distilled"),
]


# --- models -------------------------------------------------------------------------------------

def text_encoder_config(vocab_size):
    """diffusers' pipeline tests' CLIPTextConfig (vocabulary of the demo tokenizer), SD 1.x's legacy eos id."""
    return dict(attention_dropout=0.0, bos_token_id=0, dropout=0.0, eos_token_id=2, hidden_act="quick_gelu", hidden_size=32,
                initializer_factor=1.0, initializer_range=0.02, intermediate_size=37, layer_norm_eps=1e-05,
                max_position_embeddings=77, num_attention_heads=4, num_hidden_layers=5, pad_token_id=1, projection_dim=32,
                vocab_size=vocab_size)


def clip_config(vocab_size):
    """A small CLIPConfig: ViT-B/32's image and patch sizes, narrow towers, a current eos id."""
    layers = dict(attention_dropout=0.0, dropout=0.0, hidden_act="quick_gelu", initializer_factor=1.0, initializer_range=0.02,
                  layer_norm_eps=1e-05, num_attention_heads=4, num_hidden_layers=3, projection_dim=40)
    return {
        "initializer_factor": 1.0, "logit_scale_init_value": 2.6592, "projection_dim": 40,
        "text_config": {**layers, "bos_token_id": vocab_size - 2, "eos_token_id": vocab_size - 1, "hidden_size": 32,
                        "intermediate_size": 64, "max_position_embeddings": 77, "pad_token_id": 1, "vocab_size": vocab_size},
        "vision_config": {**layers, "hidden_size": 48, "image_size": 224, "intermediate_size": 96, "num_channels": 3, "patch_size": 32},
    }


def build_pipeline(demo_sd, time_cond_proj_dim=None):
    """The tiny pipeline; `time_cond_proj_dim` makes its UNet LCM-distilled (a guidance-scale embedding input)."""
    torch.manual_seed(TORCH_SEED)
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=4, out_channels=4,
                                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
                                cross_attention_dim=32, time_cond_proj_dim=time_cond_proj_dim).eval()
    sharpen(unet)
    vae = AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 2,
                        up_block_types=["UpDecoderBlock2D"] * 2, latent_channels=4).eval()
    tokenizer = reference.CLIPTokenizer(demo_sd)
    config = text_encoder_config(len(tokenizer.bpe.encoder))
    text_encoder = reference.PipelineTextEncoder(config, TORCH_SEED + 1).eval()
    scheduler = PNDMScheduler.from_config(json.loads((Path(demo_sd) / "scheduler" / "scheduler_config.json").read_text()))
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    return pipe, config


def sharpen(unet):
    """With torch's default init the tiny UNet barely reacts to its timestep and prompt: truncating Euler's
    timesteps moved the images by 0.005/255 on average, under the bar. Scaling the time-embedding weights
    by 6 and the cross-attention key/value weights by 3 makes both visible (0.24/255 and 0.58/255 on
    average, see CONTROLS) while the images keep the same spread."""
    for name, parameter in unet.named_parameters():
        if name.endswith("weight") and "time_emb" in name:
            parameter.data *= 6
        elif name.endswith("weight") and ("attn2.to_k" in name or "attn2.to_v" in name):
            parameter.data *= 3


# --- running both sides -----------------------------------------------------------------------

def atelier_generate(model, clip, case, out):
    command = ["node", "bin/atelier.js", "generate", case.prompt, "--model", str(model), "--clip-model", str(clip),
               "--samples", str(case.samples), "--seed", str(case.seed), "--steps", str(case.steps), "--scheduler", case.scheduler,
               "--guidance", str(case.guidance), "--batch", str(case.batch), "--out", str(out), "--json"]
    if case.size:
        command += ["--width", str(case.size[0]), "--height", str(case.size[1])]
    if case.negative:
        command += ["--negative", case.negative]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"atelier exited {result.returncode}:\n{result.stderr[-3000:]}")
    report = json.loads(result.stdout)
    by_sample = sorted(report["images"], key=lambda image: image["sampleIndex"])
    pixels = [np.array(Image.open(image["file"]).convert("RGB")) for image in by_sample]
    return np.stack(pixels), [image["clipScore"] for image in by_sample]


@contextlib.contextmanager
def truncated_timesteps(unet, era):
    """Era A: the UNet as its int64 `timestep` input sees values through optimum's astype(np.int64)."""
    if era.timestep != "int64-vector":
        yield
        return
    reference.truncating_timesteps(unet)
    try:
        yield
    finally:
        del unet.forward


def diffusers_generate(pipe, folder, case, era):
    scheduler_class, overrides = reference.SCHEDULERS[case.scheduler]
    width, height = case.size or (None, None)
    with truncated_timesteps(pipe.unet, era), scheduler_of(pipe, scheduler_class.from_config(
            json.loads((folder / "scheduler" / "scheduler_config.json").read_text()), **overrides)):
        images = pipe(case.prompt, negative_prompt=case.negative or None, num_images_per_prompt=case.samples,
                      generator=[torch.Generator("cpu").manual_seed(case.seed + i) for i in range(case.samples)],
                      num_inference_steps=case.steps, guidance_scale=case.guidance, width=width, height=height, output_type="np").images
    return (images * 255).round().astype("uint8")


@contextlib.contextmanager
def scheduler_of(pipe, scheduler):
    """The case's scheduler for one call; the pipeline keeps the PNDM scheduler the exports save."""
    original = pipe.scheduler
    pipe.scheduler = scheduler
    try:
        yield
    finally:
        pipe.scheduler = original


class TorchClipScorer:
    """PyTorch's CLIP score of an image's pixels: CLIPImageProcessor (PIL) port + the CLIPModel port."""

    def __init__(self, model, folder):
        self.model = model
        self.settings = clip_reference.processor_settings(folder)
        self.tokenizer = clip_reference.load_tokenizer(folder)
        self.max_length = model.text_model.embeddings.position_embedding.num_embeddings

    @torch.no_grad()
    def score(self, prompt, image):
        _, ids, mask = clip_reference.prompt_inputs(self.tokenizer, prompt, self.max_length)
        _, pixel_values = clip_reference.preprocess(image, self.settings)
        _, _, text, image_embeds = self.model(torch.tensor([ids]), torch.from_numpy(pixel_values)[None], torch.tensor([mask]))
        return 100 * float((text * image_embeds).sum())


def check_case(pipe, folder, clip_folder, scorer, case, era, out, reference_case=None, reference_era=None):
    """Atelier's images of `case` against diffusers' (of `reference_case` with `reference_era`'s UNet
    feed when given: the controls, which must fail)."""
    started = time.perf_counter()
    actual, atelier_scores = atelier_generate(folder, clip_folder, case, out)
    expected = diffusers_generate(pipe, folder, reference_case or case, reference_era or era)
    if actual.shape != expected.shape:
        return dict(error=f"shape {actual.shape} vs diffusers {expected.shape}")
    difference = np.abs(actual.astype(np.int32) - expected.astype(np.int32))
    clip_errors = [abs(score - scorer.score(case.prompt, image)) for score, image in zip(atelier_scores, actual)]
    return dict(max=int(difference.max()), mean=float(difference.mean()), clip=max(clip_errors), spread=float(expected.std()),
                scores=atelier_scores, seconds=time.perf_counter() - started)


def passes(row):
    return "error" not in row and row["max"] <= MAX_ABS_BAR and row["mean"] <= MEAN_ABS_BAR and row["clip"] <= CLIP_BAR


def print_row(folder_label, case, row):
    label = f"{folder_label:15} {case.name:34}"
    if "error" in row:
        print(f"{label} ERROR {row['error']}", flush=True)
        return
    verdict = "PASS" if passes(row) else "FAIL"
    print(f"{label} max {row['max']:3d}  mean {row['mean']:.4f}  clip |Δ| {row['clip']:.2e}  pixel std {row['spread']:5.1f}  "
          f"{verdict}  ({row['seconds']:.1f} s)", flush=True)


def make_demo(work):
    subprocess.run(["node", "bin/atelier.js", "models", "make-demo", "--out", str(work / "demo")], cwd=REPO, check=True, capture_output=True)
    return work / "demo" / "demo-sd-tiny", work / "demo" / "demo-clip-tiny"


# Deliberately wrong references: each must FAIL the bar, or the check could not tell the difference.
CONTROLS = [
    ("A/sd15-sched", "euler-nonsquare", "reference UNet fed Euler's fractional timesteps (not truncated)", {}, ERA_B),
    ("B", "pndm-default", "reference prompt 'a photo of a dog'", {"prompt": "a photo of a dog"}, None),
    ("B", "ddim-3-samples", "reference guidance 7.0", {"guidance": 7.0}, None),
    ("B", "dpm-2m-seed-42", "reference with 11 steps", {"steps": 11}, None),
    ("B/lcm-distilled", "distilled-lcm-guidance-8", "reference guidance embedding of 7.0", {"guidance": 7.0}, None),
]


def run_controls(pipes, folders, clip_folder, scorer, work):
    """Returns how many controls did not fail."""
    missed = 0
    for label, name, about, change, era in CONTROLS:
        entry, folder = folders[label]
        case = next(case for case in entry.cases if case.name == name)
        row = check_case(pipes[entry.unet], folder, clip_folder, scorer, case, entry.era, work / "images" / "controls" / name,
                         dataclasses.replace(case, **change), era)
        caught = "error" not in row and not passes(row)
        missed += not caught
        print(f"control {label:15} {name:34} {about}: max {row.get('max')}  mean {row.get('mean', 0):.4f}  "
              f"{'FAIL as expected' if caught else 'NOT CAUGHT'}", flush=True)
    return missed


def export_folders(pipes, text_config, demo_sd, work):
    """Each (era, UNet) export once; a "sd15" folder is a copy with SD 1.5's scheduler_config.json."""
    exported = {}
    for entry in FOLDERS:
        target = work / ("sd-" + entry.label.replace("/", "-"))
        key = (entry.era.name, entry.unet)
        if key not in exported:
            exported[key] = write_stable_diffusion(pipes[entry.unet], text_config, demo_sd / "tokenizer", target, entry.era, TORCH_SEED)
            print(f"exported era {entry.era.name}, {entry.unet} UNet: {entry.era.about} -> {target}", flush=True)
        if entry.scheduler == "sd15":
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(exported[key], target)
            shutil.copy(demo_sd / "scheduler" / "scheduler_config.json", target / "scheduler" / "scheduler_config.json")
        yield entry, target


def run_folder(pipe, entry, folder, clip_folder, scorer, work):
    rows = []
    for case in entry.cases:
        try:
            row = check_case(pipe, folder, clip_folder, scorer, case, entry.era, work / "images" / entry.label / case.name)
        except Exception as error:  # noqa: BLE001 (reported in the table)
            lines = str(error).strip().splitlines()
            row = dict(error=lines[-1] if lines else repr(error))
        print_row(entry.label, case, row)
        rows.append(row)
    return rows


def main(work):
    work = Path(work)
    demo_sd, demo_clip = make_demo(work)
    pipe, text_config = build_pipeline(demo_sd)
    pipes = {"base": pipe, "lcm-distilled": build_pipeline(demo_sd, time_cond_proj_dim=32)[0]}
    config = clip_config(text_config["vocab_size"])
    clip_model = CLIPModel(config, TORCH_SEED + 2).eval()
    clip_folders = {
        "opset 11 (optimum 1.23/1.24)": write_clip(clip_model, config, demo_clip, work / "clip-optimum", opset=11, seed=TORCH_SEED),
        "opset 17 -> 18 (optimum-onnx approximated)": write_clip(clip_model, config, demo_clip, work / "clip-optimum-onnx", opset=17,
                                                                 seed=TORCH_SEED, upgrade_to_18=True),
    }
    scorer = TorchClipScorer(clip_model, work / "clip-optimum")
    rows, folders = [], {}
    for entry, folder in export_folders(pipes, text_config, demo_sd, work):
        clip_label, clip_folder = list(clip_folders.items())[1 if entry.era is ERA_C else 0]
        print(f"{entry.label}: {folder} (scheduler config: {entry.scheduler}), CLIP {clip_label}", flush=True)
        rows += run_folder(pipes[entry.unet], entry, folder, clip_folder, scorer, work)
        folders[entry.label] = (entry, folder)
    missed = run_controls(pipes, folders, clip_folders["opset 11 (optimum 1.23/1.24)"], scorer, work)
    scores = [score for row in rows for score in row.get("scores", [])]
    print(f"Atelier's CLIP scores: {len(scores)} images, from {min(scores):.3f} to {max(scores):.3f} (std {np.std(scores):.3f})")
    failures = [row for row in rows if not passes(row)]
    print(f"\n{len(rows) - len(failures)}/{len(rows)} passed (bar: max ≤ {MAX_ABS_BAR}/255, mean ≤ {MEAN_ABS_BAR}/255, CLIP |Δ| ≤ {CLIP_BAR}); "
          f"{len(CONTROLS) - missed}/{len(CONTROLS)} controls failed as they must")
    return 1 if failures or missed else 0


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/atelier-export-check"))
