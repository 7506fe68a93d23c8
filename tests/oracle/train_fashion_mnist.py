#!/usr/bin/python3
"""Train a small custom MobileOne on Fashion-MNIST: real, trained weights and a real test set
for the int8 accuracy tests (and PyTorch's own int8 on the same model as the peer).

    /usr/bin/python3 tests/oracle/train_fashion_mnist.py --out DIR [--epochs 1] [--skip-existing]

Data: Debian's dataset-fashion-mnist (IDX files, /usr/share/datasets/fashion-mnist). Images
are padded 28x28 -> 32x32 with zeros, replicated gray -> 3 channels, scaled to [0, 1] and
normalised with the training set's mean and std. DIR gets:
    fm.json             the model spec (m1c --spec)
    fm.pth.tar          torch.save(state_dict) of the trained train-time model (zip format)
    fm_test_x.npy       the 10,000 test images, preprocessed, float32 N x 3 x 32 x 32
    fm_test_y.npy       their labels, int64
    fm_calib_x.npy      1,000 training images (preprocessed): the calibration set
    fm_info.json        PyTorch's accuracies on the test set: float32 (the train-time model in
                        eval, and its reparameterisation) and int8 (FX post-training
                        quantization of the reparameterised model, onednn engine, calibrated
                        on fm_calib_x), with their predictions' agreement, and the training log
    fm_pytorch_int8_pred.npy  PyTorch int8's predicted class per test image
Deterministic for a given seed (one thread: the convs are too small to share).
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mobileone import MobileOne, reparameterize  # noqa: E402

DATA_DIR = "/usr/share/datasets/fashion-mnist"
SPEC = {
    "name": "fashion_mnist",
    # 24 channels in the stem and stage1 (not a multiple of 16: int8 pads them), SE on the
    # last repeat of stage3 and on stage4.
    "width_multipliers": [0.375, 0.5, 0.5, 0.5],
    "blocks_per_stage": [1, 2, 2, 1],
    "num_conv_branches": 2,
    "use_se": True,
    "num_classes": 10,
}
FILES = ["fm.json", "fm.pth.tar", "fm_test_x.npy", "fm_test_y.npy", "fm_calib_x.npy",
         "fm_info.json", "fm_pytorch_int8_pred.npy"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    dims = magic & 0xFF
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(split):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(DATA_DIR, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(DATA_DIR, f"{prefix}-labels-idx1-ubyte.gz"))
    return x, y.astype(np.int64)


def preprocess(x_u8, mean, std):
    x = np.pad(x_u8, ((0, 0), (2, 2), (2, 2))).astype(np.float32) / 255.0
    x = (x - mean) / std
    return np.ascontiguousarray(np.repeat(x[:, None, :, :], 3, axis=1))


def accuracy(model, x, y, batch=1000):
    preds = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            preds.append(model(torch.from_numpy(x[i:i + batch])).argmax(1).numpy())
    p = np.concatenate(preds)
    return float((p == y).mean()), p


def train(model, x, y, epochs, seed, log):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-5, nesterov=True)
    steps = epochs * (len(x) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps, pct_start=0.2)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    step = 0
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=g)
        t0, total = time.time(), 0.0
        for i in range(0, len(x) - 127, 128):
            idx = perm[i:i + 128]
            xb = xt[idx]
            # Light augmentation: random horizontal flips.
            flip = torch.rand(len(idx), generator=g) < 0.5
            xb[flip] = xb[flip].flip(3)
            loss = F.cross_entropy(model(xb), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss)
            step += 1
        log.append(f"epoch {epoch + 1}/{epochs}: mean loss {total / (len(x) // 128):.4f}, "
                   f"{time.time() - t0:.0f} s")
        print("train_fashion_mnist: " + log[-1], flush=True)


def pytorch_int8(fused, calib, x_test):
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    torch.backends.quantized.engine = "onednn"
    example = torch.from_numpy(calib[:1])
    prepared = prepare_fx(fused.eval(), get_default_qconfig_mapping("onednn"), (example,))
    with torch.no_grad():
        for i in range(0, len(calib), 100):
            prepared(torch.from_numpy(calib[i:i + 100]))
    return convert_fx(prepared)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-existing", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.skip_existing and all(os.path.exists(os.path.join(args.out, f)) for f in FILES):
        print("train_fashion_mnist: fixtures present, skipping")
        return
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)  # small convs: a second thread costs more than it gives
    t_start = time.time()

    x_train_u8, y_train = load("train")
    x_test_u8, y_test = load("test")
    padded = np.pad(x_train_u8, ((0, 0), (2, 2), (2, 2))).astype(np.float32) / 255.0
    mean, std = float(padded.mean()), float(padded.std())
    x_train = preprocess(x_train_u8, mean, std)
    x_test = preprocess(x_test_u8, mean, std)
    rng = np.random.default_rng(args.seed)
    calib = np.ascontiguousarray(x_train[rng.choice(len(x_train), 1000, replace=False)])

    cfg = {k: v for k, v in SPEC.items() if k != "name"}
    model = MobileOne(**cfg)
    log = []
    train(model, x_train, y_train, args.epochs, args.seed, log)
    model.eval()
    acc_train_time, pred_f32 = accuracy(model, x_test, y_test)
    fused = reparameterize(model)
    acc_fused, pred_fused = accuracy(fused, x_test, y_test)
    q = pytorch_int8(fused, calib, x_test)
    acc_int8, pred_int8 = accuracy(q, x_test, y_test)

    with open(os.path.join(args.out, "fm.json"), "w") as f:
        json.dump(SPEC, f, indent=2)
    torch.save(model.state_dict(), os.path.join(args.out, "fm.pth.tar"))
    np.save(os.path.join(args.out, "fm_test_x.npy"), x_test)
    np.save(os.path.join(args.out, "fm_test_y.npy"), y_test)
    np.save(os.path.join(args.out, "fm_calib_x.npy"), calib)
    np.save(os.path.join(args.out, "fm_pytorch_int8_pred.npy"), pred_int8.astype(np.int64))
    info = {
        "spec": SPEC,
        "normalisation": {"mean": mean, "std": std, "padding": "28x28 -> 32x32 zeros, gray -> 3 channels"},
        "epochs": args.epochs,
        "seed": args.seed,
        "train_log": log,
        "seconds": round(time.time() - t_start, 1),
        "test_images": int(len(x_test)),
        "calibration_images": int(len(calib)),
        "pytorch": {
            "float32_top1": acc_train_time,
            "float32_reparameterised_top1": acc_fused,
            "float32_agreement": float((pred_f32 == pred_fused).mean()),
            "int8_top1": acc_int8,
            "int8_agreement_with_float32": float((pred_int8 == pred_fused).mean()),
            "int8_method": "FX prepare_fx/convert_fx, get_default_qconfig_mapping('onednn'), "
                           "onednn engine, calibrated on fm_calib_x.npy",
        },
    }
    with open(os.path.join(args.out, "fm_info.json"), "w") as f:
        json.dump(info, f, indent=2)
    print(f"train_fashion_mnist: float32 {acc_fused:.4f}, PyTorch int8 {acc_int8:.4f}, "
          f"{info['seconds']} s -> {args.out}")


if __name__ == "__main__":
    main()
