#!/usr/bin/python3
"""Make the model test fixtures: MobileOne checkpoints with random weights and their
reference outputs, saved exactly as the authors' real checkpoints are.

    /usr/bin/python3 tests/oracle/make_fixtures.py --out DIR [--variants s0,custom] [--skip-existing]

Per variant V (s0..s4, and "custom", a small odd-shaped network) DIR gets:
    V.pth.tar         torch.save(state_dict) of the train-time model (zip format)
    V_fused.pth.tar   torch.save(state_dict) of the reparameterised model
    V_input.npy       float32 reference input (1x3x224x224; custom: 2x3x160x96)
    V_logits.npy      float32 logits of the train-time model in eval() on that input
    V_info.json       parameter and key counts, max|logit|, config
and, for custom only, custom.json (the model spec).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mobileone import VARIANTS, MobileOne, MobileOneBlock, SqueezeExcite, reparameterize  # noqa: E402

CUSTOM_SPEC = {
    "name": "custom",
    "width_multipliers": [0.5, 0.75, 0.75, 1.0],
    "blocks_per_stage": [1, 2, 3, 1],
    "num_conv_branches": 2,
    "use_se": True,
    "num_classes": 10,
}
SEEDS = {"s0": 1000, "s1": 1001, "s2": 1002, "s3": 1003, "s4": 1004, "custom": 1099}
ALL = ["s0", "s1", "s2", "s3", "s4", "custom"]

TARGET_PREACT_STD = 1.0   # per-block std of the sum of branches on the reference input
TARGET_LOGIT_STD = 8.0    # std of the logits across classes (and batch)


def spec_of(name):
    if name == "custom":
        cfg = {k: v for k, v in CUSTOM_SPEC.items() if k != "name"}
        return cfg, (2, 3, 160, 96)
    cfg = dict(VARIANTS[name])
    cfg.update(blocks_per_stage=(2, 8, 10, 1), num_classes=1000)
    return cfg, (1, 3, 224, 224)


def files_of(name):
    f = [f"{name}.pth.tar", f"{name}_fused.pth.tar", f"{name}_input.npy",
         f"{name}_logits.npy", f"{name}_info.json"]
    return f + (["custom.json"] if name == "custom" else [])


# --- random weights -------------------------------------------------------------------
def _kaiming_(w, g):
    """Kaiming-normal for ReLU, fan-in mode."""
    fan_in = w[0].numel()
    return w.normal_(0.0, math.sqrt(2.0 / fan_in), generator=g)


@torch.no_grad()
def randomize_(model, g):
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            _kaiming_(m.weight, g)
            if m.bias is not None:
                m.bias.normal_(0.0, 0.1, generator=g)
        elif isinstance(m, torch.nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5, generator=g)
            m.bias.normal_(0.0, 0.1, generator=g)
            m.running_mean.normal_(0.0, 0.1, generator=g)
            m.running_var.uniform_(0.5, 2.0, generator=g)
            m.num_batches_tracked.fill_(int(torch.randint(1000, 100000, (1,), generator=g)))
        elif isinstance(m, torch.nn.Linear):
            m.weight.normal_(0.0, 1.0 / math.sqrt(m.in_features), generator=g)
            m.bias.normal_(0.0, 0.1, generator=g)


def _bns(block):
    out = [b.bn for b in block.rbr_conv]
    if block.rbr_scale is not None:
        out.append(block.rbr_scale.bn)
    if block.rbr_skip is not None:
        out.append(block.rbr_skip)
    return out


def _snap(c):
    """Round a scale factor to a 1/64 step of log2 so that float noise (thread count, CPU
    kind) in the calibration pass cannot change the saved weights."""
    return 2.0 ** (round(math.log2(c) * 64) / 64)


@torch.no_grad()
def calibrate_(model, x):
    """Keep the random network alive: walking the blocks in order on the reference input,
    scale every BN affine (gamma, beta) of a block by one factor so that the block's sum of
    branches has std ~TARGET_PREACT_STD; then scale the classifier to TARGET_LOGIT_STD.
    Returns per-block activation statistics for the health checks."""
    stats = []
    for name, block in model.named_modules():
        if not isinstance(block, MobileOneBlock):
            continue
        c = _snap(TARGET_PREACT_STD / float(block.branch_sum(x).std()))
        for bn in _bns(block):
            bn.weight.mul_(c)
            bn.bias.mul_(c)
        x = block(x)
        stats.append((name, float(x.std()), float(x.abs().max()), float((x > 0).float().mean())))
    logits = model.linear(torch.flatten(model.gap(x), 1))
    c = _snap(TARGET_LOGIT_STD / float(logits.std()))
    model.linear.weight.mul_(c)
    model.linear.bias.mul_(c)
    return stats


def check_health(name, stats, logits):
    for blk, std, amax, alive in stats:
        assert 1e-2 < std < 1e2 and amax < 1e4, f"{name}/{blk}: activations std {std} max {amax}"
        assert 0.02 < alive < 0.98, f"{name}/{blk}: {alive:.3f} of activations positive"
    a = np.abs(logits)
    assert np.isfinite(logits).all(), f"{name}: non-finite logits"
    for row in logits.reshape(logits.shape[0], -1):
        assert row.std() > 0.1 and row.std() > 1e-3 * np.abs(row).max(), f"{name}: flat logits"
        assert np.abs(row).max() < 1e6 * np.median(np.abs(row)), f"{name}: one class dominates"
        assert len(np.unique(row)) > row.size // 2, f"{name}: repeated logits"
    assert a.max() < 1e3, f"{name}: logits too large ({a.max()})"


# --- output ----------------------------------------------------------------------------
def _atomic(path, write):
    tmp = path + ".tmp"
    write(tmp)
    os.replace(tmp, path)


def _save_state(sd, path):
    _atomic(path, lambda p: torch.save(sd, p))


def _save_npy(arr, path):
    def w(p):
        with open(p, "wb") as f:
            np.save(f, arr)
    _atomic(path, w)


def _save_json(obj, path):
    def w(p):
        with open(p, "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
    _atomic(path, w)


def count_macs(model, x):
    """Multiply-accumulates of every Conv2d and Linear (SE convs included) on input x,
    counted with forward hooks: an independent check of m1c's own MAC arithmetic."""
    total = [0]

    def conv_hook(m, _inp, out):
        kh, kw = m.kernel_size
        total[0] += out.numel() * (m.in_channels // m.groups) * kh * kw

    def linear_hook(m, _inp, out):
        total[0] += out.numel() * m.in_features

    hooks = [m.register_forward_hook(conv_hook) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    hooks += [m.register_forward_hook(linear_hook) for m in model.modules() if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return total[0]


def make(name, out):
    cfg, in_shape = spec_of(name)
    seed = SEEDS[name]
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)

    model = MobileOne(**cfg)
    randomize_(model, g)
    model.eval()
    x = torch.empty(in_shape).normal_(0.0, 1.0, generator=g)

    with torch.no_grad():
        stats = calibrate_(model, x)
        logits = model(x)
        fused = reparameterize(model)
        fused_logits = fused(x)

    logits_np = logits.numpy().astype(np.float32)
    check_health(name, stats, logits_np)
    max_abs = float(np.abs(logits_np).max())
    diff = float((fused_logits - logits).abs().max())
    assert diff <= 1e-4 * max_abs, f"{name}: fused model differs by {diff} (max|logit| {max_abs})"

    sd = model.state_dict()
    fsd = fused.state_dict()
    if name == "custom":
        _save_json(CUSTOM_SPEC, os.path.join(out, "custom.json"))
    _save_state(sd, os.path.join(out, f"{name}.pth.tar"))
    _save_state(fsd, os.path.join(out, f"{name}_fused.pth.tar"))
    _save_npy(x.numpy().astype(np.float32), os.path.join(out, f"{name}_input.npy"))
    _save_npy(logits_np, os.path.join(out, f"{name}_logits.npy"))
    info = {
        "variant": name,
        "train_params": sum(p.numel() for p in model.parameters()),
        "fused_params": sum(p.numel() for p in fused.parameters()),
        "fused_macs": count_macs(fused, x),
        "num_keys": len(sd),
        "fused_num_keys": len(fsd),
        "max_abs_logit": max_abs,
        "logit_std": float(logits_np.std()),
        "fused_max_abs_diff": diff,
        "input_shape": list(in_shape),
        "logits_shape": list(logits_np.shape),
        "seed": seed,
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
        "min_block_std": min(s[1] for s in stats),
        "max_block_abs": max(s[2] for s in stats),
        "torch": torch.__version__,
    }
    _save_json(info, os.path.join(out, f"{name}_info.json"))  # last: marks completion
    return info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory (created if missing)")
    ap.add_argument("--variants", default=",".join(ALL),
                    help="comma-separated subset of " + ",".join(ALL) + " (default: all)")
    ap.add_argument("--skip-existing", action="store_true",
                    help="skip a variant whose fixture files all exist")
    args = ap.parse_args(argv)

    names = [v.strip().lower() for v in args.variants.split(",") if v.strip()]
    bad = [v for v in names if v not in ALL]
    if bad:
        ap.error(f"unknown variant(s) {bad}; choose from {ALL}")
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))

    t_all = time.time()
    for name in names:
        if args.skip_existing and all(os.path.exists(os.path.join(args.out, f))
                                      for f in files_of(name)):
            print(f"{name}: exists, skipped", flush=True)
            continue
        t = time.time()
        info = make(name, args.out)
        print(f"{name}: train {info['train_params']:,} params ({info['num_keys']} keys), "
              f"fused {info['fused_params']:,}, max|logit| {info['max_abs_logit']:.3f}, "
              f"logit std {info['logit_std']:.3f}, fused diff {info['fused_max_abs_diff']:.2e}, "
              f"{time.time() - t:.1f}s", flush=True)
    print(f"done in {time.time() - t_all:.1f}s -> {args.out}", flush=True)


if __name__ == "__main__":
    main()
