"""Stable Diffusion and CLIP folders exported by torch.onnx.export the way optimum's ONNX exporter calls it.

What is copied from optimum (v1.23.3 / v1.24.0; optimum-onnx for the opset-18 era):
* the export call (exporters/onnx/convert.py, export_pytorch): `torch.onnx.export(model, (dummy_inputs,),
  f, input_names, output_names, dynamic_axes=dict(chain(inputs, outputs)), do_constant_folding=True,
  opset_version)`, inputs ordered as the forward signature takes them;
* input/output names and dynamic axes (exporters/onnx/model_configs.py: CLIPTextOnnxConfig, UNetOnnxConfig,
  VaeEncoderOnnxConfig, VaeDecoderOnnxConfig, CLIPOnnxConfig) and the default opsets (14 for the SD parts,
  11 for CLIPModel, 18 everywhere in optimum-onnx);
* dummy inputs (utils/input_generators.py, DEFAULT_DUMMY_SHAPES: batch 2, sequence 16, 64×64 images
  unless the config has an image size): era A casts the ids to int32 and draws an int64 timestep of shape
  [batch]; era B draws int64 ids and a float32 scalar timestep;
* the VAE wrappers (exporters/utils.py, _get_submodels_for_export_diffusion): vae_encoder returns
  `encode(x=sample).latent_dist.parameters` as `latent_parameters`, vae_decoder `decode(z=latent_sample)`
  (post_quant_conv + decoder) as `sample`; on torch < 2.1 the UNet gets AttnProcessor();
* external data (FORCE_ONNX_EXTERNAL_DATA=1): `onnx.save(..., save_as_external_data=True,
  all_tensors_to_one_file=True, location="model.onnx_data", size_threshold=100, convert_attribute=True)`;
* files: `<component>/model.onnx`, each diffusers component's `save_config`, the text encoder's
  config.json, `scheduler.save_pretrained`, the tokenizer folder, the pipeline's `save_config`
  (model_index.json); a CLIPModel export is `model.onnx` at the folder root beside its config.json,
  tokenizer files and preprocessor_config.json.
"""
import copy
import functools
import json
import shutil
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

DUMMY_BATCH = 2
DUMMY_SEQUENCE = 16
DUMMY_IMAGE = 64


@dataclass(frozen=True)
class Era:
    """One generation of optimum's SD export: how ids and timestep are declared, the opset, and how
    the file is saved. `upgrade_to_opset_18` rewrites an opset-17 export as opset 18 (see upgrade_to_opset_18)."""

    name: str
    about: str
    opset: int
    ids_dtype: torch.dtype
    timestep: str  # "int64-vector" (shape [steps]) or "float-scalar" (shape [])
    external_data: bool = False
    upgrade_to_opset_18: bool = False


def dummy_int(generator, shape, high, dtype):
    return torch.randint(0, high, shape, generator=generator, dtype=torch.int64).to(dtype)


def dummy_float(generator, shape, high=1.0):
    return torch.rand(shape, generator=generator) * high


def export(module, dummy_inputs, path, inputs, outputs, opset):
    """optimum's export_pytorch call; `inputs`/`outputs` map names to dynamic axes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        module,
        (dummy_inputs,),
        f=path.as_posix(),
        input_names=list(inputs),
        output_names=list(outputs),
        dynamic_axes=dict(chain(inputs.items(), outputs.items())),
        do_constant_folding=True,
        opset_version=opset,
    )


# Reductions whose `axes` moved from an attribute to an input in opset 18 (ReduceSum did so in 13).
REDUCTIONS_WITH_AXES_INPUT_IN_18 = {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                                    "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"}


def upgrade_to_opset_18(model):
    """torch 1.13 exports at most opset 17 and onnx 1.12's version converter stops at 17, so optimum-onnx's
    opset 18 is approximated: the reductions' `axes` attributes become int64 initializer inputs (what
    torch 2's symbolic_opset18 emits for them) and the default domain is declared at 18. Every other op
    the SD and CLIP exports use has the same form in 17 and 18 (Resize and Pad only gained optional
    attributes and inputs)."""
    for index, node in enumerate(model.graph.node):
        if node.op_type not in REDUCTIONS_WITH_AXES_INPUT_IN_18:
            continue
        axes = [attribute for attribute in node.attribute if attribute.name == "axes"]
        if axes:
            name = f"{node.name or node.op_type}_{index}_axes"
            model.graph.initializer.append(numpy_helper.from_array(np.array(axes[0].ints, dtype=np.int64), name))
            node.input.append(name)
            node.attribute.remove(axes[0])
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx"):
            opset.version = 18
    return model


def finish(path, upgrade_to_18, external_data):
    """Post-export steps: the opset-18 rewrite when asked, then optimum's external-data save."""
    if upgrade_to_18:
        onnx.save(upgrade_to_opset_18(onnx.load(path.as_posix())), path.as_posix())
    if external_data:
        model = onnx.load(path.as_posix())
        onnx.save(model, path.as_posix(), save_as_external_data=True, all_tensors_to_one_file=True,
                  location=path.name + "_data", size_threshold=100, convert_attribute=True)


def returning(module, forward, pick):
    """`module` with its forward replaced as optimum's ModelPatcher does (functools.wraps keeps the
    signature, from which torch.onnx.export orders the dummy inputs), keeping the outputs `pick` takes."""

    @functools.wraps(forward)
    def patched_forward(*args, **kwargs):
        return pick(forward(*args, **kwargs))

    module.forward = patched_forward
    return module


def export_text_encoder(text_encoder, folder, era, generator):
    vocab = text_encoder.text_model.embeddings.token_embedding.num_embeddings
    ids = dummy_int(generator, (DUMMY_BATCH, DUMMY_SEQUENCE), vocab, era.ids_dtype)
    path = folder / "text_encoder" / "model.onnx"
    export(text_encoder, {"input_ids": ids}, path, {"input_ids": {0: "batch_size", 1: "sequence_length"}},
           {"last_hidden_state": {0: "batch_size", 1: "sequence_length"}, "pooler_output": {0: "batch_size"}}, era.opset)
    finish(path, era.upgrade_to_opset_18, era.external_data)


def export_unet(unet, folder, era, generator):
    from diffusers.models.attention_processor import AttnProcessor

    unet = copy.deepcopy(unet)
    unet.set_attn_processor(AttnProcessor())  # optimum on torch < 2.1
    config = unet.config
    size = config.sample_size
    if era.timestep == "int64-vector":
        timestep, timestep_axes = dummy_int(generator, (DUMMY_BATCH,), config.norm_num_groups, torch.int64), {0: "steps"}
    else:
        timestep, timestep_axes = dummy_float(generator, (), config.norm_num_groups), {}
    dummy = {
        "sample": dummy_float(generator, (DUMMY_BATCH, config.in_channels, size, size)),
        "timestep": timestep,
        "encoder_hidden_states": dummy_float(generator, (DUMMY_BATCH, DUMMY_SEQUENCE, config.cross_attention_dim)),
    }
    inputs = {"sample": {0: "batch_size", 2: "height", 3: "width"}, "timestep": timestep_axes,
              "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"}}
    if config.time_cond_proj_dim is not None:
        dummy["timestep_cond"] = dummy_float(generator, (DUMMY_BATCH, config.time_cond_proj_dim))
        inputs["timestep_cond"] = {0: "batch_size"}
    path = folder / "unet" / "model.onnx"
    export(returning(unet, unet.forward, lambda output: (output.sample,)), dummy, path, inputs, {"out_sample": {0: "batch_size", 2: "height", 3: "width"}}, era.opset)
    finish(path, era.upgrade_to_opset_18, era.external_data)


def vae_for_export(vae):
    from diffusers.models.attention_processor import Attention, AttnProcessor

    vae = copy.deepcopy(vae)
    for module in vae.modules():  # override_diffusers_2_0_attn_processors
        if isinstance(module, Attention):
            module.set_processor(AttnProcessor())
    return vae


def export_vae(vae, folder, era, generator):
    encoder, decoder = vae_for_export(vae), vae_for_export(vae)
    size = vae.config.sample_size
    path = folder / "vae_encoder" / "model.onnx"
    export(returning(encoder, lambda sample: encoder.encode(x=sample), lambda output: (output.latent_dist.parameters,)),
           {"sample": dummy_float(generator, (DUMMY_BATCH, vae.config.in_channels, size, size))}, path,
           {"sample": {0: "batch_size", 2: "height", 3: "width"}},
           {"latent_parameters": {0: "batch_size", 2: "height_latent", 3: "width_latent"}}, era.opset)
    finish(path, era.upgrade_to_opset_18, era.external_data)
    path = folder / "vae_decoder" / "model.onnx"
    export(returning(decoder, lambda latent_sample: decoder.decode(z=latent_sample), lambda output: (output.sample,)),
           {"latent_sample": dummy_float(generator, (DUMMY_BATCH, vae.config.latent_channels, DUMMY_IMAGE, DUMMY_IMAGE))}, path,
           {"latent_sample": {0: "batch_size", 2: "height_latent", 3: "width_latent"}},
           {"sample": {0: "batch_size", 2: "height", 3: "width"}}, era.opset)
    finish(path, era.upgrade_to_opset_18, era.external_data)


def transformers_config(config, architecture, model_type):
    """What PretrainedConfig.save_pretrained writes for the port's config dict."""
    return {"architectures": [architecture], **config, "model_type": model_type, "torch_dtype": "float32", "transformers_version": "4.46.3"}


def write_json(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_stable_diffusion(pipe, text_config, tokenizer_folder, folder, era, seed):
    """The whole optimum layout for `pipe` (a diffusers StableDiffusionPipeline on torch modules)."""
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    generator = torch.Generator().manual_seed(seed)
    export_text_encoder(pipe.text_encoder, folder, era, generator)
    export_unet(pipe.unet, folder, era, generator)
    export_vae(pipe.vae, folder, era, generator)
    write_json(folder / "text_encoder" / "config.json", transformers_config(text_config, "CLIPTextModel", "clip_text_model"))
    pipe.unet.save_config(folder / "unet")
    pipe.vae.save_config(folder / "vae_encoder")
    pipe.vae.save_config(folder / "vae_decoder")
    pipe.scheduler.save_pretrained(folder / "scheduler")
    shutil.copytree(tokenizer_folder, folder / "tokenizer")
    pipe.save_config(folder)
    index = json.loads((folder / "model_index.json").read_text())
    index.update(text_encoder=["transformers", "CLIPTextModel"], tokenizer=["transformers", "CLIPTokenizer"])
    write_json(folder / "model_index.json", index)
    return folder


CLIP_TOKENIZER_FILES = ["vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]


def write_clip(model, config, tokenizer_folder, folder, opset, seed, upgrade_to_18=False):
    """optimum's CLIPModel export: model.onnx at the root, config.json, tokenizer files, preprocessor_config.json."""
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    export_clip(model, config, folder / "model.onnx", opset, torch.Generator().manual_seed(seed))
    finish(folder / "model.onnx", upgrade_to_18, external_data=False)
    write_clip_configs(config, folder)
    for name in CLIP_TOKENIZER_FILES:
        shutil.copy(Path(tokenizer_folder) / name, folder / name)
    return folder


def export_clip(model, config, path, opset, generator):
    text_config, vision_config = config["text_config"], config["vision_config"]
    size = vision_config["image_size"]
    padding = 5  # random_mask_tensor: ones, then a random number of zeros
    dummy = {
        "input_ids": dummy_int(generator, (DUMMY_BATCH, DUMMY_SEQUENCE), text_config["vocab_size"], torch.int64),
        "pixel_values": dummy_float(generator, (DUMMY_BATCH, vision_config["num_channels"], size, size)),
        "attention_mask": torch.cat([torch.ones(DUMMY_BATCH, DUMMY_SEQUENCE - padding, dtype=torch.int64),
                                     torch.zeros(DUMMY_BATCH, padding, dtype=torch.int64)], dim=-1),
    }
    inputs = {"input_ids": {0: "text_batch_size", 1: "sequence_length"},
              "pixel_values": {0: "image_batch_size", 1: "num_channels", 2: "height", 3: "width"},
              "attention_mask": {0: "text_batch_size", 1: "sequence_length"}}
    outputs = {"logits_per_image": {0: "image_batch_size", 1: "text_batch_size"},
               "logits_per_text": {0: "text_batch_size", 1: "image_batch_size"},
               "text_embeds": {0: "text_batch_size"}, "image_embeds": {0: "image_batch_size"}}
    export(model, dummy, path, inputs, outputs, opset)


def write_clip_configs(config, folder):
    """CLIPConfig.save_pretrained's config.json and CLIPImageProcessor's preprocessor_config.json (CLIP's
    mean and std, bicubic resize of the shortest edge to the image size, center crop to it)."""
    top = {key: value for key, value in config.items() if not key.endswith("_config")}
    write_json(folder / "config.json", {**transformers_config(top, "CLIPModel", "clip"),
                                        "text_config": {**config["text_config"], "model_type": "clip_text_model"},
                                        "vision_config": {**config["vision_config"], "model_type": "clip_vision_model"}})
    size = config["vision_config"]["image_size"]
    write_json(folder / "preprocessor_config.json", {
        "crop_size": {"height": size, "width": size}, "do_center_crop": True, "do_convert_rgb": True, "do_normalize": True,
        "do_rescale": True, "do_resize": True, "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_processor_type": "CLIPImageProcessor", "image_std": [0.26862954, 0.26130258, 0.27577711],
        "resample": 3, "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": size}})
