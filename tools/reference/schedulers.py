"""Reference numbers for src/inference/schedulers: writes test/fixtures/schedulers.json.

Runs diffusers' own schedulers (v0.35.2) the way StableDiffusionPipeline switches and drives them:
`XScheduler.from_config(config, **name_overrides)`, `set_timesteps(n)`, latents * init_noise_sigma, then per
timestep `scale_model_input` -> model -> `step(..., generator=g)`.

Run:  PYTHONPATH=<diffusers v0.35.2>/src:<huggingface_hub v0.36.2>/src /usr/bin/python3 tools/reference/schedulers.py

The "model" is a fixed function of the scaled input and t, repeated in test/inference/schedulers.test.ts:
    model_output = 0.1 * scaled_input + base * (1 / (1 + t / 500))      (float32 tensor ops, scalars as torch casts them)
Noise: every stochastic run uses one CPU generator seeded NOISE_SEED, so the k-th draw of any run is the k-th draw of
one sequence. The sequence is stored once; each run's actual draws are captured and checked against it.
Tensors are stored as base64 of little-endian float32; float32 scalars as their shortest decimal repr.

The numbers are this machine's: torch 1.13's AVX2 CPU kernels (torch.linspace, SLEEF log/exp) and numpy 1.24's
float32 log kernel and value-based type promotion, which src/inference/schedulers emulates.
<diffusers v0.35.2> and <huggingface_hub v0.36.2>: source trees of those tags of github.com/huggingface/diffusers
and huggingface_hub (e.g. `git archive v0.35.2 src | tar -x`); nothing is pip-installed.
"""

import base64
import inspect
import json
import os
import sys

import numpy as np
import torch

import diffusers
from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    LCMScheduler,
    PNDMScheduler,
)
from diffusers.schedulers import (
    scheduling_ddim,
    scheduling_dpmsolver_multistep,
    scheduling_euler_ancestral_discrete,
    scheduling_euler_discrete,
    scheduling_lcm,
)

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "schedulers.json")
SAMPLE_SHAPE = (2, 4, 2, 4)
SAMPLE_SEED = 20240601
BASE_SEED = 7
NOISE_SEED = 1234
STEP_COUNTS = [1, 2, 4, 20, 25, 50]

# Project name -> (diffusers class, from_config keyword overrides the name fixes).
SCHEDULERS = {
    "PNDM": (PNDMScheduler, {}),
    "DDIM": (DDIMScheduler, {}),
    "EULER": (EulerDiscreteScheduler, {}),
    "EULER_ANCESTRAL": (EulerAncestralDiscreteScheduler, {}),
    "DPM_PP_2M": (DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": False}),
    "DPM_PP_2M_KARRAS": (DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True}),
    "LCM": (LCMScheduler, {}),
}

# runwayml/stable-diffusion-v1-5 scheduler/scheduler_config.json
SD15 = {
    "_class_name": "PNDMScheduler",
    "_diffusers_version": "0.6.0",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "num_train_timesteps": 1000,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "trained_betas": None,
    "clip_sample": False,
}
# stabilityai/stable-diffusion-2-1 scheduler/scheduler_config.json (768-v model)
SD21V = {
    "_class_name": "DDIMScheduler",
    "_diffusers_version": "0.8.0",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "num_train_timesteps": 1000,
    "prediction_type": "v_prediction",
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "trained_betas": None,
}

CONFIGS = {
    "sd15": SD15,
    "sd21v": SD21V,
    "sd21v-trailing": {**SD21V, "timestep_spacing": "trailing"},
    "sd21v-leading": {**SD21V, "timestep_spacing": "leading"},
    "sd21v-linspace": {**SD21V, "timestep_spacing": "linspace"},
}


def f32(x):
    """A float32 value as the shortest decimal that reads back to the same float32."""
    return float(repr(np.float32(float(x))))


def b64(t):
    return base64.b64encode(np.ascontiguousarray(t.detach().cpu().numpy() if torch.is_tensor(t) else t, dtype="<f4").tobytes()).decode()


class NoiseRecorder:
    """Wraps diffusers' randn_tensor inside the scheduler modules to capture every draw."""

    def __init__(self):
        self.draws = []
        self.modules = [scheduling_ddim, scheduling_euler_ancestral_discrete, scheduling_euler_discrete,
                        scheduling_lcm, scheduling_dpmsolver_multistep]
        self.original = scheduling_ddim.randn_tensor
        for module in self.modules:
            module.randn_tensor = self.draw

    def draw(self, *args, **kwargs):
        noise = self.original(*args, **kwargs)
        self.draws.append(noise.clone())
        return noise


def make_scheduler(name, config, overrides=None):
    cls, fixed = SCHEDULERS[name]
    return cls.from_config({**config, **(overrides or {})}, **fixed)


def schedule_record(scheduler):
    sigmas = getattr(scheduler, "sigmas", None)
    uses_sigmas = isinstance(scheduler, (EulerDiscreteScheduler, EulerAncestralDiscreteScheduler, DPMSolverMultistepScheduler))
    return {
        "timesteps": [f32(t) if scheduler.timesteps.is_floating_point() else int(t) for t in scheduler.timesteps],
        "sigmas": [f32(s) for s in sigmas] if uses_sigmas else None,
        "initNoiseSigma": f32(scheduler.init_noise_sigma),
    }


def model(scaled_input, t, base):
    return 0.1 * scaled_input + base * (1.0 / (1.0 + float(t) / 500.0))


def checksum(t):
    """Sum and sum of magnitudes in float64, to 9 significant digits (the test compares within 1e-5)."""
    values = t.detach().numpy().astype(np.float64).ravel()
    return [float("%.9g" % values.sum()), float("%.9g" % np.abs(values).sum())]


def run_trajectory(scheduler, steps, sample0, base, recorder, noise_sequence, eta=None, detailed=False):
    scheduler.set_timesteps(steps)
    sample = sample0 * scheduler.init_noise_sigma
    generator = torch.Generator().manual_seed(NOISE_SEED)
    accepts = inspect.signature(scheduler.step).parameters
    kwargs = {"generator": generator} if "generator" in accepts else {}
    if eta is not None:
        kwargs["eta"] = eta
    recorder.draws = []
    records = []
    pred = None
    for t in scheduler.timesteps:
        scaled = scheduler.scale_model_input(sample, t)
        output = scheduler.step(model(scaled, t, base), t, sample, **kwargs)
        sample = output.prev_sample
        pred = getattr(output, "pred_original_sample", None)
        if pred is None:
            pred = getattr(output, "denoised", None)
        if pred is None and isinstance(scheduler, DPMSolverMultistepScheduler):
            pred = scheduler.model_outputs[-1]  # the converted (x0) model output DPM-Solver++ steps with
        record = {"timestep": f32(t) if t.is_floating_point() else int(t), "prev": checksum(sample)}
        if detailed:
            record.update({"scaled": b64(scaled), "prevSample": b64(sample), "pred": None if pred is None else b64(pred)})
        records.append(record)
    for k, drawn in enumerate(recorder.draws):
        if not torch.equal(drawn, noise_sequence[k]):
            sys.exit(f"noise draw {k} of {type(scheduler).__name__} is not draw {k} of the shared sequence")
    return {
        "steps": steps,
        "noiseDraws": len(recorder.draws),
        "perStep": records,
        "final": b64(sample),
        "finalPred": None if pred is None else b64(pred),
    }


def alphas_cumprod_record(config_name, overrides):
    scheduler = DDIMScheduler.from_config({**CONFIGS[config_name], **overrides})
    return {"config": config_name, "overrides": overrides, "alphasCumprod": b64(scheduler.alphas_cumprod)}


# Options beyond the two model configs: (label, scheduler, base config or None for "{}", overrides, steps, eta).
# "TRAINED" stands for SD 1.5's own betas passed as trained_betas.
OPTION_CASES = [
    ("defaults", name, None, {}, [20], None) for name in SCHEDULERS
] + [
    ("final-sigma-min", "EULER", "sd15", {"final_sigmas_type": "sigma_min"}, [20], None),
    ("karras", "EULER", "sd15", {"use_karras_sigmas": True}, [4, 20], None),
    ("karras-leading-bounds", "EULER", "sd15", {"use_karras_sigmas": True, "timestep_spacing": "leading", "sigma_max": 10.0}, [20], None),
    ("sample-prediction", "EULER", "sd15", {"prediction_type": "sample"}, [20], None),
    ("sample-prediction", "DDIM", "sd15", {"prediction_type": "sample"}, [20], None),
    ("sample-prediction", "DPM_PP_2M", "sd15", {"prediction_type": "sample"}, [20], None),
    ("sample-prediction", "LCM", "sd15", {"prediction_type": "sample"}, [4], None),
    ("alpha-one-clip", "DDIM", "sd15", {"set_alpha_to_one": True, "clip_sample": True, "clip_sample_range": 0.5}, [20], None),
    ("eta", "DDIM", "sd15", {}, [4, 20], 0.5),
    ("linear", "DDIM", "sd15", {"beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02}, [20], None),
    ("cosine", "DDIM", "sd15", {"beta_schedule": "squaredcos_cap_v2"}, [20], None),
    ("cosine", "EULER", "sd15", {"beta_schedule": "squaredcos_cap_v2"}, [20], None),
    ("cosine-clipped", "DPM_PP_2M", "sd15", {"beta_schedule": "squaredcos_cap_v2", "lambda_min_clipped": -5.1}, [20], None),
    ("cosine-clipped", "DPM_PP_2M_KARRAS", "sd15", {"beta_schedule": "squaredcos_cap_v2", "lambda_min_clipped": -5.1}, [20], None),
    ("trained-betas", "DDIM", "sd15", "TRAINED", [20], None),
    ("trained-betas", "EULER", "sd15", "TRAINED", [20], None),
    ("zero-snr", "DDIM", "sd21v-trailing", {"rescale_betas_zero_snr": True}, [4, 25], None),
    ("zero-snr", "EULER", "sd21v-trailing", {"rescale_betas_zero_snr": True}, [4, 25], None),
    ("zero-snr", "EULER_ANCESTRAL", "sd21v-trailing", {"rescale_betas_zero_snr": True}, [25], None),
    ("zero-snr", "DPM_PP_2M", "sd21v-trailing", {"rescale_betas_zero_snr": True}, [25], None),
    ("zero-snr", "LCM", "sd21v-trailing", {"rescale_betas_zero_snr": True}, [4], None),
    ("no-lower-order-final", "DPM_PP_2M", "sd15", {"lower_order_final": False}, [10], None),
    ("euler-at-final", "DPM_PP_2M", "sd15", {"euler_at_final": True, "final_sigmas_type": "sigma_min"}, [20], None),
    ("sigma-min-final", "DPM_PP_2M_KARRAS", "sd15", {"final_sigmas_type": "sigma_min", "lower_order_final": False}, [20], None),
    ("heun", "DPM_PP_2M", "sd15", {"solver_type": "heun"}, [20], None),
    ("karras-bounds", "DPM_PP_2M_KARRAS", "sd15", {"sigma_min": 0.1, "sigma_max": 10.0}, [20], None),
    ("prk", "PNDM", "sd15", {"skip_prk_steps": False}, [4, 20], None),
    ("v-prk", "PNDM", "sd21v", {"skip_prk_steps": False}, [20], None),
    ("original-steps", "LCM", "sd15", {"original_inference_steps": 25, "timestep_scaling": 5.0}, [4, 20], None),
    ("clip", "LCM", "sd15", {"clip_sample": True, "clip_sample_range": 0.5, "set_alpha_to_one": True}, [4], None),
]

# Timestep-spacing probes (schedules only): step counts where rounding halves or numpy's arange overshoots.
PROBE_STEPS = [3, 7, 16, 61]
PROBE_SPACINGS = ["leading", "linspace", "trailing"]


def main():
    torch.set_num_threads(1)
    recorder = NoiseRecorder()
    sample0 = torch.from_numpy(np.random.RandomState(SAMPLE_SEED).randn(*SAMPLE_SHAPE).astype(np.float32))
    base = torch.from_numpy(np.random.RandomState(BASE_SEED).randn(*SAMPLE_SHAPE).astype(np.float32))
    generator = torch.Generator().manual_seed(NOISE_SEED)
    noise_sequence = [torch.randn(SAMPLE_SHAPE, generator=generator) for _ in range(50)]
    sd15_betas = [float(b) for b in DDIMScheduler.from_config(SD15).betas]

    schedules, trajectories = [], []
    for config_name, config in CONFIGS.items():
        for name in SCHEDULERS:
            for steps in STEP_COUNTS:
                scheduler = make_scheduler(name, config)
                scheduler.set_timesteps(steps)
                schedules.append({"scheduler": name, "config": config_name, "overrides": {}, "steps": steps, **schedule_record(scheduler)})
                if config_name == "sd15" or steps in (4, 25):
                    run = run_trajectory(make_scheduler(name, config), steps, sample0, base, recorder, noise_sequence,
                                         detailed=(config_name == "sd15" and steps == 4))
                    trajectories.append({"scheduler": name, "config": config_name, "overrides": {}, "eta": None, **run})

    for label, name, config_name, overrides, step_list, eta in OPTION_CASES:
        # The trained betas are stored once, as "sd15Betas"; records name them by that key.
        recorded = {"trained_betas": "$sd15Betas"} if overrides == "TRAINED" else overrides
        overrides = {"trained_betas": sd15_betas} if overrides == "TRAINED" else overrides
        config = CONFIGS[config_name] if config_name is not None else {}
        for steps in step_list:
            scheduler = make_scheduler(name, config, overrides)
            scheduler.set_timesteps(steps)
            schedules.append({"scheduler": name, "config": config_name, "label": label, "overrides": recorded, "steps": steps, **schedule_record(scheduler)})
            run = run_trajectory(make_scheduler(name, config, overrides), steps, sample0, base, recorder, noise_sequence, eta=eta)
            trajectories.append({"scheduler": name, "config": config_name, "label": label, "overrides": recorded, "eta": eta, **run})

    for name in SCHEDULERS:
        if name == "LCM":
            continue  # LCM's timesteps ignore timestep_spacing
        for spacing in PROBE_SPACINGS:
            for steps in PROBE_STEPS:
                overrides = {"timestep_spacing": spacing}
                scheduler = make_scheduler(name, SD15, overrides)
                scheduler.set_timesteps(steps)
                schedules.append({"scheduler": name, "config": "sd15", "label": "spacing-probe", "overrides": overrides, "steps": steps, **schedule_record(scheduler)})

    fixture = {
        "generatedBy": "tools/reference/schedulers.py",
        "versions": {"diffusers": diffusers.__version__, "torch": torch.__version__, "numpy": np.__version__},
        "model": "model_output = 0.1 * scaled_input + base * (1 / (1 + t / 500))",
        "configs": CONFIGS,
        "sd15Betas": sd15_betas,
        "sampleShape": list(SAMPLE_SHAPE),
        "initialSample": b64(sample0),
        "base": b64(base),
        "noise": {"seed": NOISE_SEED, "draws": [b64(n) for n in noise_sequence]},
        "alphasCumprod": [
            alphas_cumprod_record("sd15", {}),
            alphas_cumprod_record("sd15", {"beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02}),
            alphas_cumprod_record("sd15", {"beta_schedule": "squaredcos_cap_v2"}),
            alphas_cumprod_record("sd15", {"rescale_betas_zero_snr": True}),
        ],
        "schedules": schedules,
        "trajectories": trajectories,
    }
    with open(OUT, "w") as out:
        json.dump(fixture, out, separators=(",", ":"))
        out.write("\n")
    print(f"wrote {os.path.normpath(OUT)}: {len(schedules)} schedules, {len(trajectories)} trajectories, "
          f"{os.path.getsize(OUT) // 1024} KiB")


if __name__ == "__main__":
    main()
