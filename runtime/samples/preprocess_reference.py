#!/usr/bin/python3
"""Reference values for tests/test_runtime_io.cpp: torchvision's own ImageNet preprocessing
(PIL images) on synthetic images and on the sample photo. Prints the numbers the C++ test
hard-codes; rerun and paste if the rules in runtime/image_input.h ever change.

Needs Debian's python3-pil, python3-numpy, python3-torch and python3-torchvision (this last
one can also be unpacked without installing: apt-get download python3-torchvision;
dpkg -x python3-torchvision_*.deb DIR; PYTHONPATH=DIR/usr/lib/python3/dist-packages).
"""
import os

import numpy as np
from PIL import Image
import torch
import torchvision.transforms as T

HERE = os.path.dirname(os.path.abspath(__file__))


def synthetic(h, w):
    """Same formula as synthetic_image() in tests/test_runtime_io.cpp: busy enough that
    antialiasing matters."""
    y, x = np.mgrid[0:h, 0:w].astype(np.uint64)
    chans = [(x * x * 3 + y * 7 + x * y + c * 85 + (x ^ y)) % 256 for c in range(3)]
    return np.stack(chans, axis=-1).astype(np.uint8)


def plan(ih, iw, oh, ow):
    """Resize/crop geometry of runtime/image_input.cpp (plan_resize_crop)."""
    def scaled(t):
        return (t * 16 + 7) // 14
    if oh * iw >= ow * ih:
        rh = scaled(oh)
        rw = int(rh * iw / ih)
    else:
        rw = scaled(ow)
        rh = int(rw * ih / iw)
    return max(rh, oh), max(rw, ow)


def preprocess(img, oh, ow):
    norm = [T.ToTensor(), T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))]
    if (oh, ow) == (224, 224):
        tf = T.Compose([T.Resize(256, interpolation=T.InterpolationMode.BILINEAR),
                        T.CenterCrop(224)] + norm)
    else:
        rh, rw = plan(img.height, img.width, oh, ow)
        tf = T.Compose([T.Resize((rh, rw), interpolation=T.InterpolationMode.BILINEAR),
                        T.CenterCrop((oh, ow))] + norm)
    return tf(img).numpy()


POINTS = [(0, 0, 0), (1, 5, 7), (2, 100, 3), (0, 37, 150), (1, 112, 112), (2, 159, 95),
          (0, 80, 60), (1, 10, 90)]


def report(name, x):
    sums = [float(np.sum(x[c], dtype=np.float64)) for c in range(3)]
    pts = []
    for c, y, xx in POINTS:
        if y < x.shape[1] and xx < x.shape[2]:
            pts.append(f"{{{c}, {y}, {xx}, {x[c, y, xx]:.9g}f}}")
    print(f"// {name}: shape {list(x.shape)}")
    print(f"sums {{{', '.join(f'{s:.9g}' for s in sums)}}}")
    print(f"points {{{', '.join(pts)}}}")
    print(f"mean {[round(float(x[c].mean()), 6) for c in range(3)]} "
          f"std {[round(float(x[c].std()), 6) for c in range(3)]}")


def main():
    for (h, w, oh, ow) in [(333, 250, 224, 224), (100, 150, 224, 224), (300, 451, 160, 96),
                           (224, 224, 224, 224)]:
        img = Image.fromarray(synthetic(h, w), "RGB")
        report(f"synthetic {h}x{w} -> {oh}x{ow}", preprocess(img, oh, ow))
    sample = Image.open(os.path.join(HERE, "chelsea.jpg")).convert("RGB")
    report("chelsea.jpg (PIL/libjpeg decode) -> 224x224", preprocess(sample, 224, 224))


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
