#!/usr/bin/python3
"""Reference logits of a fixture checkpoint at another input size (PyTorch, the oracle).

    /usr/bin/python3 oracle_logits.py CHECKPOINT VARIANT HxW INPUT.npy LOGITS.npy

Loads the train-time checkpoint into the oracle's MobileOne (tests/oracle/mobileone.py),
feeds it a seeded random 1x3xHxW input in eval() and saves the input and the logits as
float32 .npy files: what tests/c/run_model.c compares a library with. The Slurm test uses
it for libraries compiled from records tuned at 64x64.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle"))
from mobileone import mobileone  # noqa: E402


def main():
    ckpt, variant, size, input_path, logits_path = sys.argv[1:6]
    h, w = (int(v) for v in size.split("x"))
    model = mobileone(variant)
    model.load_state_dict(torch.load(ckpt, map_location="cpu"))
    model.eval()
    x = torch.empty(1, 3, h, w).normal_(0.0, 1.0, generator=torch.Generator().manual_seed(64))
    with torch.no_grad():
        logits = model(x)
    np.save(input_path, x.numpy().astype(np.float32))
    np.save(logits_path, logits.numpy().astype(np.float32))


if __name__ == "__main__":
    main()
