"""Reference CLIP scores for src/inference/clip: writes test/fixtures/clip-scores.json.

What the acceptance check compares against: the scores PyTorch computes with transformers'
CLIPProcessor (CLIPImageProcessor on PIL) and CLIPModel. transformers is not installed here, so
this script is a faithful port of both (transformers 4.46, modeling_clip.py, image_processing_clip.py
and image_transforms.py), with PIL doing the resampling:

* images: convert to RGB, resize the shortest edge with PIL's Image.resize (BICUBIC), center crop
  (zero padding when too small), rescale in float64 then cast to float32, normalize in float32,
  channels first;
* text: openai/CLIP's simple_tokenizer.py ($OPENAI_CLIP_DIR, see openai_tokenizer.py) built from the folder's merges.txt
  (checked equal to vocab.json and tokenizer.json), <|startoftext|> + the first 75 tokens +
  <|endoftext|>, padded to 77 with <|endoftext|> and an attention mask, as the HF tokenizer does
  with truncation=True, padding="max_length";
* CLIPModel: clip_modules.py (the one torch port of transformers' CLIP here): text tower (causal + padding mask, quick_gelu, pooling at the first eos_token_id),
  vision tower (patch conv, class token, pre_layrnorm, post_layernorm on the class token),
  projections, L2 normalization; clipScore = 100 * cosine(image, text).

The weights are the ONNX initializers of a generated demo folder, loaded by name. It also checks a
numpy port of PIL's fixed-point ImagingResample (the algorithm the TypeScript preprocessing
implements) against PIL itself on many sizes, and records the largest pixel difference.

Run:
  node bin/atelier.js models make-demo --preset tiny --out /tmp/demo   (writes /tmp/demo/demo-clip-tiny)
  OPENAI_CLIP_DIR=<openai/CLIP checkout> /usr/bin/python3 tools/reference/clip_reference.py /tmp/demo/demo-clip-tiny
"""
import hashlib
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import PIL
import torch

from openai_tokenizer import openai_simple_tokenizer  # noqa: E402
from clip_modules import CLIPModel, load_weights  # noqa: E402 (tools/reference is the script folder)
from onnx_weights import initializers, weights_checksum  # noqa: E402
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "test" / "fixtures" / "clip-scores.json"
CROP_SAMPLE_STRIDE = 7

torch.set_grad_enabled(False)

LONG_PROMPT = ", ".join(["a beautiful oil painting of an old castle on a green hill under a dramatic sky"] * 6)
PROMPTS = [
    "a photo of a cat",
    "A red car on a mountain road at sunset, highly detailed",
    LONG_PROMPT,
]


# --- test images: integer formulas, rebuilt the same way by test/inference/clip-test-images.ts ---

def image_from_formula(name, width, height):
    y, x = np.mgrid[0:height, 0:width].astype(np.int64)
    channels = {
        "gradient": lambda c: [4 * x, 4 * y, 255 - 2 * (x + y)][c],
        "checker": lambda c: np.where(((x // 8) + (y // 8)) % 2 == 1, [230, 40, 90][c], [20, 200, 120][c]),
        "texture": lambda c: (x * x * 7 + y * 13 + c * 101 + x * y * 3) % 256,
        "stripes": lambda c: [(x * 3 + y) % 256, (y * 5) % 256, ((x ^ y) * 4) % 256][c],
        "sawtooth": lambda c: (x * 7 + y * 3 + c * 85) % 256,
    }[name]
    return np.stack([channels(c) for c in range(3)], axis=-1).astype(np.uint8)


IMAGES = [
    ("gradient", 64, 64),
    ("checker", 64, 64),
    ("texture", 64, 64),
    ("stripes", 80, 48),
    ("sawtooth", 300, 260),
]


# PIL resizes recorded by checksum, to test the TypeScript port beyond the CLIP sizes:
# (formula, width, height, output width, output height, PIL resample code).
PIL_RESIZES = [
    ("texture", 64, 64, 224, 224, 3),
    ("sawtooth", 512, 512, 224, 224, 3),
    ("stripes", 17, 9, 224, 118, 3),
    ("texture", 1000, 700, 320, 224, 3),
    ("checker", 7, 5, 3, 11, 3),
    ("gradient", 37, 91, 200, 13, 3),
    ("texture", 64, 48, 300, 224, 2),
    ("sawtooth", 300, 260, 258, 224, 2),
    ("texture", 99, 70, 31, 200, 4),
    ("texture", 64, 48, 300, 224, 1),
    ("sawtooth", 300, 260, 258, 224, 1),
    ("texture", 64, 48, 300, 224, 5),
    ("sawtooth", 300, 260, 258, 224, 5),
]


def pil_resize_records():
    records = []
    for name, width, height, out_width, out_height, resample in PIL_RESIZES:
        resized = np.array(Image.fromarray(image_from_formula(name, width, height)).resize((out_width, out_height), resample=resample))
        records.append({"image": name, "width": width, "height": height, "outWidth": out_width, "outHeight": out_height,
                        "resample": resample, "sha256": hashlib.sha256(np.ascontiguousarray(resized).tobytes()).hexdigest()})
    return records


# --- transformers CLIPImageProcessor (slow, PIL) --------------------------------------------------

def processor_settings(folder):
    """preprocessor_config.json with get_size_dict's conversions of the legacy int forms."""
    raw = json.load(open(f"{folder}/preprocessor_config.json"))
    size = raw.get("size", {"shortest_edge": 224})
    size = {"shortest_edge": size} if isinstance(size, int) else size
    crop = raw.get("crop_size", {"height": 224, "width": 224})
    crop = {"height": crop, "width": crop} if isinstance(crop, int) else crop
    return {
        "size": size,
        "crop_size": crop,
        "resample": raw.get("resample", 3),
        "rescale_factor": raw.get("rescale_factor", 1 / 255),
        "image_mean": raw.get("image_mean"),
        "image_std": raw.get("image_std"),
    }


def resize_output_size(height, width, size):
    """get_resize_output_image_size for {"shortest_edge"} (default_to_square=False) or {"height","width"}."""
    if "shortest_edge" in size:
        short, long = (width, height) if width <= height else (height, width)
        new_short, new_long = size["shortest_edge"], int(size["shortest_edge"] * long / short)
        return (new_long, new_short) if width <= height else (new_short, new_long)
    return size["height"], size["width"]


def center_crop(image, crop_height, crop_width):
    """image_transforms.center_crop on an HWC array, zero padding when the crop is larger."""
    height, width = image.shape[:2]
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    if top >= 0 and left >= 0 and top + crop_height <= height and left + crop_width <= width:
        return image[top : top + crop_height, left : left + crop_width]
    new_height, new_width = max(crop_height, height), max(crop_width, width)
    padded = np.zeros((new_height, new_width) + image.shape[2:], dtype=image.dtype)
    top_pad, left_pad = math.ceil((new_height - height) / 2), math.ceil((new_width - width) / 2)
    padded[top_pad : top_pad + height, left_pad : left_pad + width] = image
    top, left = top + top_pad, left + left_pad
    return padded[max(0, top) : min(new_height, top + crop_height), max(0, left) : min(new_width, left + crop_width)]


def preprocess(image, settings):
    """Returns (the cropped uint8 HWC image, float32 CHW pixel values)."""
    height, width = resize_output_size(image.shape[0], image.shape[1], settings["size"])
    resized = np.array(Image.fromarray(image).convert("RGB").resize((width, height), resample=settings["resample"]))
    cropped = center_crop(resized, settings["crop_size"]["height"], settings["crop_size"]["width"])
    rescaled = (cropped.astype(np.float64) * settings["rescale_factor"]).astype(np.float32)
    mean = np.array(settings["image_mean"], dtype=np.float32)
    std = np.array(settings["image_std"], dtype=np.float32)
    normalized = (rescaled - mean) / std
    return cropped, np.ascontiguousarray(normalized.transpose(2, 0, 1))


# --- PIL's ImagingResample, ported (fixed-point 8-bit path), to check the algorithm ---------------

PRECISION_BITS = 32 - 8 - 2


def bicubic(x):
    a = -0.5
    x = abs(x)
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1
    if x < 2.0:
        return (((x - 5) * x + 8) * x - 4) * a
    return 0.0


def c_int(value):
    """C's (int) cast: truncation toward zero."""
    return int(value)


def precompute_coeffs(in_size, out_size):
    """precompute_coeffs + normalize_coeffs_8bpc: per output index, first input index and int weights."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 2.0 * filterscale
    ksize = c_int(math.ceil(support)) * 2 + 1
    starts, weights = [], np.zeros((out_size, ksize), dtype=np.int64)
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(c_int(center - support + 0.5), 0)
        xmax = min(c_int(center + support + 0.5), in_size) - xmin
        k = [bicubic((x + xmin - center + 0.5) * (1.0 / filterscale)) for x in range(xmax)]
        total = sum(k)
        k = [w / total if total != 0.0 else w for w in k]
        weights[xx, :xmax] = [c_int(-0.5 + w * (1 << PRECISION_BITS)) if w < 0 else c_int(0.5 + w * (1 << PRECISION_BITS)) for w in k]
        starts.append(xmin)
    return np.array(starts), weights


def resample_axis(image, out_size, axis):
    """One pass along `axis` (1 = horizontal, 0 = vertical) of an HWC uint8 image."""
    in_size = image.shape[axis]
    starts, weights = precompute_coeffs(in_size, out_size)
    taps = np.minimum(starts[:, None] + np.arange(weights.shape[1])[None, :], in_size - 1)
    moved = np.moveaxis(image.astype(np.int64), axis, 0)  # [in, other, C]
    gathered = moved[taps]  # [out, ksize, other, C]
    acc = (gathered * weights[:, :, None, None]).sum(axis=1) + (1 << (PRECISION_BITS - 1))
    out = np.clip(acc >> PRECISION_BITS, 0, 255).astype(np.uint8)
    return np.moveaxis(out, 0, axis)


def resize_port(image, width, height):
    """ImagingResampleInner: horizontal pass (when the width changes), then vertical."""
    out = image
    if width != image.shape[1]:
        out = resample_axis(out, width, 1)
    if height != image.shape[0]:
        out = resample_axis(out, height, 0)
    return out


def resize_check():
    """Largest |port - PIL| over upscales, downscales and odd sizes of random and formula images."""
    rng = np.random.default_rng(20240611)
    sizes = [((64, 64), (224, 224)), ((80, 48), (373, 224)), ((300, 260), (258, 224)), ((512, 512), (224, 224)),
             ((17, 9), (224, 118)), ((1000, 700), (320, 224)), ((7, 5), (3, 11)), ((224, 224), (224, 224))]
    sizes += [((int(rng.integers(2, 400)), int(rng.integers(2, 400))), (int(rng.integers(2, 400)), int(rng.integers(2, 400)))) for _ in range(40)]
    worst = 0
    for (in_w, in_h), (out_w, out_h) in sizes:
        image = rng.integers(0, 256, size=(in_h, in_w, 3), dtype=np.uint8)
        pil = np.array(Image.fromarray(image).resize((out_w, out_h), resample=Image.BICUBIC))
        worst = max(worst, int(np.abs(pil.astype(int) - resize_port(image, out_w, out_h).astype(int)).max()))
    for name, width, height in IMAGES:
        image = image_from_formula(name, width, height)
        out_h, out_w = resize_output_size(height, width, {"shortest_edge": 224})
        pil = np.array(Image.fromarray(image).resize((out_w, out_h), resample=Image.BICUBIC))
        worst = max(worst, int(np.abs(pil.astype(int) - resize_port(image, out_w, out_h).astype(int)).max()))
    return {"cases": len(sizes) + len(IMAGES), "maxAbsDiff": worst}


# --- tokenizer ----------------------------------------------------------------------------------

def load_tokenizer(folder):
    tokenizer = openai_simple_tokenizer(folder)
    fast = json.load(open(f"{folder}/tokenizer.json", encoding="utf-8"))
    assert {**fast["model"]["vocab"], **{t["content"]: t["id"] for t in fast["added_tokens"]}} == tokenizer.encoder
    return tokenizer


def prompt_inputs(tokenizer, text, max_length):
    bos, eos = tokenizer.encoder["<|startoftext|>"], tokenizer.encoder["<|endoftext|>"]
    tokens = tokenizer.encode(text)
    ids = [bos] + tokens[: max_length - 2] + [eos]
    mask = [1] * len(ids) + [0] * (max_length - len(ids))
    return tokens, ids + [eos] * (max_length - len(ids)), mask


# --- transformers CLIPModel forward: clip_modules.py's port --------------------------------------


def text_features(model, input_ids, attention_mask):
    """CLIPTextTransformer + text_projection (unnormalized text_embeds)."""
    return model.text_projection(model.text_model(input_ids, attention_mask)[1])


def image_features(model, pixel_values):
    """CLIPVisionTransformer + visual_projection (unnormalized image_embeds)."""
    return model.visual_projection(model.vision_model(pixel_values)[1])


# --- fixture ------------------------------------------------------------------------------------

def rounded(values):
    return [float(f"{v:.7g}") for v in np.asarray(values, dtype=np.float64).ravel()]


def to_json(value):
    """Indented JSON with number lists kept on one line."""
    text = json.dumps(value, indent=1)
    return re.sub(r"\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]", lambda m: "[" + ", ".join(n.strip() for n in m.group(1).split(",")) + "]", text) + "\n"


def image_record(name, width, height, cropped, pixel_values):
    sample = cropped[::CROP_SAMPLE_STRIDE, ::CROP_SAMPLE_STRIDE]
    return {
        "name": name,
        "width": width,
        "height": height,
        "cropSha256": hashlib.sha256(np.ascontiguousarray(cropped).tobytes()).hexdigest(),
        "cropSample": [int(v) for v in sample.ravel()],
        "pixelValuesSha256": hashlib.sha256(pixel_values.astype("<f4").tobytes()).hexdigest(),
        "pixelValuesChannelMeans": rounded(pixel_values.astype(np.float64).mean(axis=(1, 2))),
        "pixelValuesHead": rounded(pixel_values.ravel()[:12]),
    }


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    folder = sys.argv[1]
    config = json.load(open(f"{folder}/config.json"))
    text_config = config["text_config"]
    parts = [initializers(f"{folder}/onnx/{name}.onnx") for name in ("text_model", "vision_model", "model")]
    raw = parts[2]
    for part in parts[:2]:
        assert all(np.array_equal(part[name], raw[name]) for name in part), "a parameter differs between ONNX files"
    weights = {name: torch.from_numpy(np.array(value, dtype=np.float32)) for name, value in raw.items()}

    settings = processor_settings(folder)
    images, pixel_batch = [], []
    for name, width, height in IMAGES:
        cropped, pixel_values = preprocess(image_from_formula(name, width, height), settings)
        images.append(image_record(name, width, height, cropped, pixel_values))
        pixel_batch.append(pixel_values)
    model = load_weights(CLIPModel(config), weights)
    image_embeds = image_features(model, torch.from_numpy(np.stack(pixel_batch)))

    tokenizer = load_tokenizer(folder)
    max_length = text_config["max_position_embeddings"]
    encoded = [prompt_inputs(tokenizer, text, max_length) for text in PROMPTS]
    input_ids = torch.tensor([ids for _, ids, _ in encoded], dtype=torch.int64)
    attention_mask = torch.tensor([mask for _, _, mask in encoded], dtype=torch.int64)
    text_embeds = text_features(model, input_ids, attention_mask)

    normalize = lambda x: x / x.norm(p=2, dim=-1, keepdim=True)
    cosine = normalize(text_embeds) @ normalize(image_embeds).t()
    check = resize_check()
    fixture = {
        "generatedBy": "tools/reference/clip_reference.py",
        "reference": "ports of transformers 4.46 CLIPImageProcessor (PIL) and CLIPModel.forward; openai/CLIP simple_tokenizer.py",
        "versions": {"torch": torch.__version__, "pillow": PIL.__version__, "numpy": np.__version__},
        "model": {"preset": json.load(open(f"{folder}/demo-model.json"))["preset"], "weightsSha256": weights_checksum(raw)},
        "resizeCheck": {"about": "numpy port of PIL ImagingResample (8-bit fixed point) vs PIL Image.resize BICUBIC", **check},
        "pilResizes": pil_resize_records(),
        "cropSampleStride": CROP_SAMPLE_STRIDE,
        "images": images,
        "prompts": [
            {"text": text, "tokenCount": len(tokens), "inputIds": ids[: sum(mask)], "textEmbeds": rounded(embeds)}
            for (text, (tokens, ids, mask), embeds) in zip(PROMPTS, encoded, text_embeds.numpy())
        ],
        "imageEmbeds": [rounded(embeds) for embeds in image_embeds.numpy()],
        "logitScale": float(weights["logit_scale"]),
        "scores": [rounded(row) for row in (100 * cosine).numpy()],
    }
    OUT.write_text(to_json(fixture), encoding="utf-8")
    print(f"wrote {OUT.relative_to(REPO)}: {len(images)} images, {len(PROMPTS)} prompts")
    print(f"resize check: {check['cases']} cases, max |port - PIL| = {check['maxAbsDiff']}")
    print("scores (prompt x image):")
    for text, row in zip(PROMPTS, fixture["scores"]):
        print(f"  {text[:40]!r:44} {row}")


if __name__ == "__main__":
    main()
