#!/usr/bin/python3
"""Make the fixtures of checkpoints as users have them, from make_fixtures.py's output:
timm-named hub files, headless encoders, and reference stage features.

    /usr/bin/python3 tests/oracle/make_hub_fixtures.py --fixtures DIR

timm is not installable here, so its naming is applied by this script, written from
timm's byobnet MobileOne (module names stem, stages.N, conv_kxk, conv_scale, identity,
attn.fc1/fc2, head.fc); the renaming below is independent of m1c's (frontend/naming.cpp).
Files, in DIR/hub/ (V in s0, s4, custom):
    timm_V/model.safetensors, timm_V/pytorch_model.bin                 train-time, timm names
    timm_V_reparam/model.safetensors, timm_V_reparam/pytorch_model.bin reparameterised
    V_headless.pth.tar, timm_V_headless.safetensors   encoders without the classifier
    V_feat_input.npy (2x3x256x320), V_feat_stage{1,2,3,4}.npy  the outputs of stage1..4
        of the authors' model (forward hooks), NCHW float32
    V_os16_feat_stage{1..4}.npy, V_os8_feat_stage{1..4}.npy  the same at output stride 16
        and 8, made as segmentation_models_pytorch makes them (replace_strides_with_dilation:
        every Conv2d of stage4, for 8 also of stage3, gets stride 1, dilation d and padding
        (k // 2) * d; d = 2, for 8: 2 in stage3 and 4 in stage4)
The hub files hold the same weights as V.pth.tar / V_fused.pth.tar, so V_logits.npy on
V_input.npy is their reference too.
"""
import argparse
import json
import os
import re
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import spec_of  # noqa: E402
from mobileone import MobileOne  # noqa: E402

NAMES = ["s0", "s4", "custom"]
FEATURE_SHAPE = (2, 3, 256, 320)


def timm_name(key):
    """The authors' key as timm's byobnet MobileOne names it."""
    key = re.sub(r"^linear\.", "head.fc.", key)
    key = re.sub(r"^stage0\.", "stem.", key)
    key = re.sub(r"^stage([1-4])\.", lambda m: f"stages.{int(m.group(1)) - 1}.", key)
    for a, t in ((".rbr_conv.", ".conv_kxk."), (".rbr_scale.", ".conv_scale."),
                 (".rbr_skip.", ".identity."), (".se.reduce.", ".attn.fc1."),
                 (".se.expand.", ".attn.fc2.")):
        key = key.replace(a, t)
    return key


def write_safetensors(path, sd):
    """safetensors format by hand (the package is not installed): u64 header length, JSON
    header with __metadata__, data; what safetensors.torch.save_file writes for timm."""
    names = {torch.float32: "F32", torch.int64: "I64"}
    header = {"__metadata__": {"format": "pt"}}
    data = b""
    for name, t in sd.items():
        raw = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)
    os.replace(tmp, path)


def save_torch(path, sd):
    torch.save(sd, path + ".tmp")
    os.replace(path + ".tmp", path)


def write_hub(hub, name, sd):
    os.makedirs(hub, exist_ok=True)
    timm_sd = {timm_name(k): v for k, v in sd.items()}
    assert len(timm_sd) == len(sd), f"{name}: renaming merged keys"
    write_safetensors(os.path.join(hub, "model.safetensors"), timm_sd)
    save_torch(os.path.join(hub, "pytorch_model.bin"), timm_sd)
    return timm_sd


def dilate_(stage, d):
    """segmentation_models_pytorch's replace_strides_with_dilation on one stage."""
    for mod in stage.modules():
        if isinstance(mod, torch.nn.Conv2d):
            mod.stride = (1, 1)
            mod.dilation = (d, d)
            kh, kw = mod.kernel_size
            mod.padding = ((kh // 2) * d, (kw // 2) * d)


@torch.no_grad()
def hooked_features(model, x):
    feats = {}
    hooks = [getattr(model, f"stage{s}").register_forward_hook(
        lambda _m, _i, o, s=s: feats.__setitem__(s, o.numpy().astype(np.float32)))
        for s in (1, 2, 3, 4)]
    model(x)
    for h in hooks:
        h.remove()
    return feats


@torch.no_grad()
def write_features(fixtures, out, name, sd):
    cfg, _ = spec_of(name)
    model = MobileOne(**cfg)
    model.load_state_dict(sd)
    model.eval()
    g = torch.Generator().manual_seed(2024)
    x = torch.empty(FEATURE_SHAPE).normal_(0.0, 1.0, generator=g)
    np.save(os.path.join(out, f"{name}_feat_input.npy"), x.numpy().astype(np.float32))
    for tag, dilations in (("", {}), ("_os16", {4: 2}), ("_os8", {3: 2, 4: 4})):
        for s, d in dilations.items():
            dilate_(getattr(model, f"stage{s}"), d)
        for s, f in hooked_features(model, x).items():
            np.save(os.path.join(out, f"{name}{tag}_feat_stage{s}.npy"), f)


def make(fixtures, name):
    out = os.path.join(fixtures, "hub")
    sd = torch.load(os.path.join(fixtures, f"{name}.pth.tar"))
    fsd = torch.load(os.path.join(fixtures, f"{name}_fused.pth.tar"))
    timm_sd = write_hub(os.path.join(out, f"timm_{name}"), name, sd)
    write_hub(os.path.join(out, f"timm_{name}_reparam"), name, fsd)
    headless = {k: v for k, v in sd.items() if not k.startswith("linear.")}
    save_torch(os.path.join(out, f"{name}_headless.pth.tar"), headless)
    write_safetensors(os.path.join(out, f"timm_{name}_headless.safetensors"),
                      {k: v for k, v in timm_sd.items() if not k.startswith("head.")})
    write_features(fixtures, out, name, sd)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixtures", required=True, help="make_fixtures.py's output directory")
    args = ap.parse_args()
    os.makedirs(os.path.join(args.fixtures, "hub"), exist_ok=True)
    for name in NAMES:
        make(args.fixtures, name)
        print(f"{name}: hub files, headless encoders, features at {FEATURE_SHAPE}", flush=True)


if __name__ == "__main__":
    main()
