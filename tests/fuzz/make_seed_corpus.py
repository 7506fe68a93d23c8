#!/usr/bin/python3
"""Seed corpora and dictionaries for the libFuzzer targets in tests/fuzz/.

Writes, under --out (a build directory; nothing here is committed):
  torch/        small torch.save files (dtypes, views, wrappers, parameters, protocols 1-5,
                MobileOne-like keys) as whole files, plus their data.pkl alone and
                hand-assembled pickles (hostile globals, broken views, plain data) for the
                target's "pickle wrapped in a valid archive" mode (see fuzz_torch_zip.cpp:
                storages data/0..11 of 1024 bytes each)
  safetensors/  hand-written .safetensors files
  spec/         spec JSON files, valid and not
  npy/          .npy files of each accepted dtype and version, and a few rejected ones
  image/        tiny PNGs (every colour type, 16-bit, palette, Adam7) made with zlib, and
                tiny JPEGs cropped from runtime/samples/chelsea.jpg (with PIL if present;
                without it, the whole sample photo)
  <target>.dict libFuzzer dictionaries (-dict=)

Needs Debian's /usr/bin/python3 with torch and numpy (python3-torch, python3-numpy);
python3-pil is optional.
"""
import argparse
import collections
import io
import json
import os
import pickle
import shutil
import struct
import zipfile
import zlib

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STORAGE_BYTES = 1024  # per storage in fuzz_torch_zip's wrapped-pickle mode
STORAGE_KEYS = {str(i) for i in range(12)}


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


# --- torch ------------------------------------------------------------------------------

def state_dicts():
    """name -> object to torch.save; every tensor small."""
    torch.manual_seed(0)
    out = {}
    conv = torch.nn.Conv2d(2, 3, 3)
    bn = torch.nn.BatchNorm2d(3)
    plain = torch.nn.Sequential(conv, bn).state_dict()
    out["plain"] = plain
    out["dtypes"] = collections.OrderedDict([
        ("f32", torch.randn(2, 3)),
        ("f16", torch.tensor([1.0, -0.0, 65504.0, 6e-8, float("inf")]).half()),
        ("bf16", torch.randn(2, 2).bfloat16()),
        ("f64", torch.randn(3, dtype=torch.float64)),
        ("i64", torch.tensor(7)),
        ("i32", torch.arange(-2, 2, dtype=torch.int32)),
        ("i16", torch.tensor([-5, 5], dtype=torch.int16)),
        ("i8", torch.tensor([-128, 127], dtype=torch.int8)),
        ("u8", torch.tensor([0, 255], dtype=torch.uint8)),
        ("b", torch.tensor([True, False])),
    ])
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    out["views"] = collections.OrderedDict([
        ("base", base), ("t", base.t()), ("strided", base[:, 1::2]), ("row", base[2]),
        ("expanded", torch.randn(3, 1).expand(3, 4)), ("empty", torch.zeros(0, 3)),
        ("scalar", torch.tensor(1.5)), ("nan", torch.tensor([float("nan"), 1.0])),
    ])
    out["wrapped_state_dict"] = {"state_dict": plain, "arch": "tiny", "epoch": 3}
    out["wrapped_model"] = {"model": plain, "extra": {"a": [1, 2.5, None, "s", 2**40, b"\x00\x01"],
                                                      "b": (True, False)}}
    out["module_prefix"] = collections.OrderedDict(("module." + k, v) for k, v in plain.items())
    out["parameters"] = torch.nn.Linear(3, 2).state_dict(keep_vars=True)
    out["non_tensor"] = {"w": torch.ones(2), "lr": 0.1}
    out["empty"] = {}
    # MobileOne-like keys (all views of one small storage) so that variant detection and the
    # weight check get past their first checks.
    store = torch.linspace(-1, 1, 256)
    mob = collections.OrderedDict()
    planes = [48, 128, 256, 128]
    for s in range(4):
        mob[f"stage{s + 1}.0.reparam_conv.weight"] = store[:planes[s]].view(planes[s], 1, 1, 1)
        mob[f"stage{s + 1}.1.reparam_conv.weight"] = store[:planes[s]].view(planes[s], 1, 1, 1)
        mob[f"stage{s + 1}.1.reparam_conv.bias"] = store[:planes[s]]
    mob["stage0.reparam_conv.weight"] = store[:162].view(6, 3, 3, 3)
    mob["linear.weight"] = store[:256].view(2, 128)
    mob["linear.bias"] = store[:2]
    out["mobileone_like"] = mob
    train = collections.OrderedDict()
    for k in ("stage1.0.rbr_conv.0.conv.weight", "stage1.0.rbr_conv.1.conv.weight",
              "stage1.1.rbr_conv.0.conv.weight", "stage1.0.rbr_skip.running_var",
              "stage3.2.se.reduce.weight"):
        train[k] = store[:48].view(48, 1, 1, 1)
    train["stage1.0.rbr_conv.0.bn.num_batches_tracked"] = torch.tensor(3)
    out["train_time_like"] = train
    return out


def op_unicode(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def op_int(i):
    if 0 <= i < 256:
        return b"K" + bytes([i])
    if -(2**31) <= i < 2**31:
        return b"J" + struct.pack("<i", i)
    raw = i.to_bytes(9, "little", signed=True).rstrip(b"\x00") or b"\x00"
    return b"\x8a" + bytes([len(raw)]) + raw


def op_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def op_tuple(items):
    return b"(" + b"".join(items) + b"t"


def ordered_dict():
    return op_global("collections", "OrderedDict") + b")R"


def rebuild(key, numel, offset, size, stride, storage="FloatStorage"):
    pid = op_tuple([op_unicode("storage"), op_global("torch", storage), op_unicode(key),
                    op_unicode("cpu"), op_int(numel)])
    return (op_global("torch._utils", "_rebuild_tensor_v2")
            + op_tuple([pid + b"Q", op_int(offset), op_tuple([op_int(s) for s in size]),
                        op_tuple([op_int(s) for s in stride]), b"\x89", ordered_dict()]) + b"R")


def state_dict_pickle(entries):
    body = b"".join(op_unicode(k) + v for k, v in entries)
    return b"\x80\x02" + ordered_dict() + b"(" + body + b"u."


def hand_pickles():
    """Pickles pickle.dumps would not write: hostile globals, broken views, odd opcodes."""
    cmd = "echo pwned > /tmp/m1c_fuzz_PWNED"
    p = {}
    p["hostile_os_system"] = b"\x80\x02" + op_global("os", "system") + op_unicode(cmd) + b"\x85R."
    body = (b"\x8c\x08builtins\x94\x8c\x04eval\x94\x93" + op_unicode(f"__import__('os').system('{cmd}')")
            + b"\x85R.")
    p["hostile_eval_frame"] = b"\x80\x04\x95" + struct.pack("<Q", len(body)) + body
    p["hostile_nested"] = state_dict_pickle([
        ("w", rebuild("0", 4, 0, (4,), (1,))),
        ("b", op_global("posix", "system") + op_unicode(cmd) + b"\x85R")])
    p["hostile_storage_type"] = state_dict_pickle(
        [("w", rebuild("0", 4, 0, (4,), (1,)).replace(b"torch\nFloatStorage\n", b"os\nsystem\n"))])
    p["bad_view_past_end"] = state_dict_pickle([("w", rebuild("0", 4, 2, (10,), (1,)))])
    p["bad_view_stride_overflow"] = state_dict_pickle([("w", rebuild("0", 4, 0, (3,), (2**62,)))])
    p["bad_view_negative"] = state_dict_pickle([("w", rebuild("0", 4, 0, (-1,), (1,)))])
    p["bad_storage_numel"] = state_dict_pickle([("w", rebuild("0", 1000, 0, (4,), (1,)))])
    p["bad_storage_missing"] = state_dict_pickle([("w", rebuild("9", 4, 0, (4,), (1,)))])
    p["view_4d_strided"] = state_dict_pickle([
        ("a", rebuild("1", 256, 3, (2, 3, 2, 2), (40, 1, 12, 3))),
        ("b", rebuild("2", 128, 0, (4, 4), (0, 8), "DoubleStorage")),
        ("c", rebuild("3", 512, 1, (5, 7), (1, 5), "HalfStorage")),
        ("d", rebuild("4", 512, 0, (2, 2), (2, 1), "BFloat16Storage"))])
    # Memo, DUP, protocol-0 text opcodes, LONG4, BINBYTES8, FRAME, lists and nested dicts.
    p["opcodes_misc"] = (b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01]q\x02(K\x01K\x02e"
                         b"X\x01\x00\x00\x00bh\x02X\x01\x00\x00\x00cI42\nX\x01\x00\x00\x00d"
                         b"L-7L\nX\x01\x00\x00\x00eF1.5\nX\x01\x00\x00\x00f\x8b\x02\x00\x00\x00\xff\x7f"
                         b"X\x01\x00\x00\x00g\x8e\x02\x00\x00\x00\x00\x00\x00\x00hi"
                         b"X\x01\x00\x00\x00h2u.")
    return p


def torch_seeds(out):
    d = os.path.join(out, "torch")
    os.makedirs(d, exist_ok=True)
    for name, obj in state_dicts().items():
        protocols = (2, 4, 5) if name in ("plain", "wrapped_model") else (2,)
        for proto in protocols:
            buf = io.BytesIO()
            torch.save(obj, buf, pickle_protocol=proto)
            raw = buf.getvalue()
            tag = f"{name}_p{proto}"
            write(os.path.join(d, f"zip_{tag}.pth"), raw)
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
                storages = {n.rsplit("/", 1)[1]: z.getinfo(n).file_size
                            for n in z.namelist() if "/data/" in n}
                fits = all(k in STORAGE_KEYS and s <= STORAGE_BYTES for k, s in storages.items())
                if fits:
                    write(os.path.join(d, f"pkl_{tag}.pkl"), z.read(pkl))
    for name, data in hand_pickles().items():
        write(os.path.join(d, f"pkl_{name}.pkl"), data)
    # Plain data in every protocol (the interpreter's non-torch opcodes).
    plain = {"a": [1, -1, 2**31, -(2**63), 2.5, None, True, "text", b"\x00\xff" * 3],
             "b": (1,), "c": (1, 2), "d": (1, 2, 3), "e": (), "f": {"g": [[], {}]}}
    for proto in range(0, 6):
        write(os.path.join(d, f"pkl_data_p{proto}.pkl"), pickle.dumps(plain, protocol=proto))
    # A TorchScript archive and the legacy format: both refused, by different paths.
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(torch.nn.Linear(1, 1)), buf)
    write(os.path.join(d, "zip_torchscript.pt"), buf.getvalue())
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buf, _use_new_zipfile_serialization=False)
    write(os.path.join(d, "legacy.pth"), buf.getvalue())
    # A deflated re-zip of a torch.save file (libzip's inflate path).
    src = os.path.join(d, "zip_plain_p2.pth")
    buf = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
    write(os.path.join(d, "zip_plain_deflated.pth"), buf.getvalue())


# --- safetensors ----------------------------------------------------------------------

def safetensors_bytes(tensors, metadata=None, pad=True):
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds(out):
    d = os.path.join(out, "safetensors")
    os.makedirs(d, exist_ok=True)
    f32 = lambda *v: struct.pack(f"<{len(v)}f", *v)
    seeds = {
        "basic": safetensors_bytes({"w": ("F32", [2, 3], f32(*range(6))), "b": ("F32", [3], f32(1, 2, 3))},
                                   {"format": "pt"}),
        "dtypes": safetensors_bytes({
            "f16": ("F16", [2], np.array([1.5, -2], "<f2").tobytes()),
            "bf16": ("BF16", [2], b"\x80\x3f\x00\xc0"),
            "f64": ("F64", [1], struct.pack("<d", 3.25)),
            "i64": ("I64", [], struct.pack("<q", 42)),
            "i32": ("I32", [2], struct.pack("<2i", -1, 1)),
            "i16": ("I16", [1], struct.pack("<h", -3)),
            "i8": ("I8", [1], b"\x80"), "u8": ("U8", [1], b"\xff"), "bool": ("BOOL", [2], b"\x01\x00"),
        }),
        "empty_tensor": safetensors_bytes({"e": ("F32", [0, 4], b""), "s": ("F32", [], f32(1))}),
        "unpadded": safetensors_bytes({"x": ("F32", [1], f32(0.5))}, pad=False),
        "nonfinite": safetensors_bytes({"x": ("F32", [2], f32(float("nan"), float("inf")))}),
        "mobileone_like": safetensors_bytes({
            "stage0.reparam_conv.weight": ("F32", [2, 3, 1, 1], f32(*[0.1] * 6)),
            "stage1.1.reparam_conv.weight": ("F32", [48, 1, 1, 1], f32(*[0.1] * 48)),
            "linear.weight": ("F32", [2, 4], f32(*[0.1] * 8)),
        }),
        "empty_header": struct.pack("<Q", 2) + b"{}",
    }
    for name, data in seeds.items():
        write(os.path.join(d, name + ".safetensors"), data)


# --- spec JSON ------------------------------------------------------------------------

def spec_seeds(out):
    d = os.path.join(out, "spec")
    os.makedirs(d, exist_ok=True)
    good = {"name": "custom", "width_multipliers": [0.5, 0.75, 0.75, 1.0],
            "blocks_per_stage": [1, 2, 3, 1], "num_conv_branches": 2, "use_se": True,
            "num_classes": 10}
    seeds = {"custom": good,
             "s0": {"name": "s0", "width_multipliers": [0.75, 1.0, 1.0, 2.0],
                    "blocks_per_stage": [2, 8, 10, 1], "num_conv_branches": 4, "use_se": False,
                    "num_classes": 1000},
             "s4": {"name": "s4", "width_multipliers": [3.0, 3.5, 3.5, 4.0],
                    "blocks_per_stage": [2, 8, 10, 1], "num_conv_branches": 1, "use_se": True,
                    "num_classes": 1000},
             "wrong_types": dict(good, width_multipliers="wide", num_classes=1.5, use_se=1),
             "negative": dict(good, blocks_per_stage=[-1, 0, 2, 1], num_classes=-3),
             "zero_width": dict(good, width_multipliers=[0, 1e-9, 1e308, -1]),
             "unknown_key": dict(good, extra={"a": [None, False]}),
             "missing_key": {k: v for k, v in good.items() if k != "use_se"},
             "huge_ints": dict(good, blocks_per_stage=[2**63, 2**64 - 1, -(2**63), 1],
                               num_conv_branches=99999999999),
             "not_object": [good]}
    for name, obj in seeds.items():
        write(os.path.join(d, name + ".json"), json.dumps(obj).encode())
    write(os.path.join(d, "escapes.json"),
          b'{"name": "\\u00e9\\ud83d\\ude00\\n", "width_multipliers": [5E-1, 0.75e0, 7.5e-1, 1],'
          b' "blocks_per_stage": [1,2,3,1], "num_conv_branches": 1, "use_se": false,'
          b' "num_classes": 10}')


# --- npy ------------------------------------------------------------------------------

def npy_seeds(out):
    d = os.path.join(out, "npy")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {
        "f4_nchw": rng.standard_normal((1, 3, 4, 4)).astype("<f4"),
        "f8": rng.standard_normal((2, 3)).astype("<f8"),
        "f2": rng.standard_normal((5,)).astype("<f2"),
        "f4_big_endian": rng.standard_normal((2, 2)).astype(">f4"),
        "f8_big_endian": rng.standard_normal((3,)).astype(">f8"),
        "scalar": np.array(1.5, "<f4"),
        "empty": np.zeros((0, 3), "<f4"),
        "nan": np.array([1.0, np.nan, np.inf], "<f4"),
        "f8_overflow": np.array([1e300], "<f8"),
        "f2_subnormal": np.array([6e-8, -0.0, 65504], "<f2"),
        "int32": np.arange(4, dtype="<i4"),
        "fortran": np.asfortranarray(rng.standard_normal((2, 3)).astype("<f4")),
    }
    for name, a in arrays.items():
        buf = io.BytesIO()
        np.save(buf, a)
        write(os.path.join(d, name + ".npy"), buf.getvalue())
    # Regression inputs: shape entries near and past int64 (UB in the digit loop once).
    for name, shape in (("dim_2p62", "(4611686018427387904,)"), ("dim_overflow", "(3333333333333333333333,)"),
                        ("numel_2p60", "(1073741824, 1073741824)")):
        header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % shape
        header += " " * (-(len(header) + 11) % 64) + "\n"
        write(os.path.join(d, name + ".npy"),
              b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * 16)
    for version in ((2, 0), (3, 0)):
        buf = io.BytesIO()
        np.lib.format.write_array(buf, rng.standard_normal((2, 2)).astype("<f4"), version=version)
        write(os.path.join(d, f"version{version[0]}.npy"), buf.getvalue())


# --- images ---------------------------------------------------------------------------

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width, height, colour_type, bit_depth, rows, plte=None, trns=None, interlace=False):
    """rows: list of bytes, one per image row, without filter bytes."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour_type]
    bpp = max(1, channels * bit_depth // 8)

    def unfiltered(pixel_rows, filter_type=0):
        out = b""
        for r in pixel_rows:
            if filter_type == 1:  # Sub
                r = bytes((r[i] - (r[i - bpp] if i >= bpp else 0)) & 0xff for i in range(len(r)))
            out += bytes([filter_type]) + r
        return out

    if interlace:  # Adam7 (bit depth >= 8 here)
        raw = b""
        for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                               (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
            sub = [b"".join(rows[y][x * bpp:(x + 1) * bpp] for x in range(x0, width, dx))
                   for y in range(y0, height, dy)]
            sub = [r for r in sub if r]
            if sub:
                raw += unfiltered(sub)
    else:
        raw = unfiltered(rows, 1 if colour_type == 2 else 0)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, int(interlace))
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    if plte:
        data += png_chunk(b"PLTE", plte)
    if trns:
        data += png_chunk(b"tRNS", trns)
    return data + png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")


def image_seeds(out):
    d = os.path.join(out, "image")
    os.makedirs(d, exist_ok=True)
    w, h = 5, 4
    px = lambda x, y, c: (x * 50 + y * 30 + c * 70) % 256
    rows = lambda ch, depth=8: [bytes(px(x, y, c) for x in range(w) for c in range(ch) for _ in range(depth // 8))
                                for y in range(h)]
    pngs = {
        "rgb": png(w, h, 2, 8, rows(3)),
        "grey": png(w, h, 0, 8, rows(1)),
        "grey_alpha": png(w, h, 4, 8, rows(2)),
        "rgba": png(w, h, 6, 8, rows(4)),
        "rgb16": png(w, h, 2, 16, rows(3, 16)),
        "palette": png(w, h, 3, 8, [bytes((x + y) % 3 for x in range(w)) for y in range(h)],
                       plte=bytes([255, 0, 0, 0, 255, 0, 0, 0, 255]), trns=b"\x80"),
        "grey1bit": png(9, 2, 0, 1, [b"\xaa\x80", b"\x55\x00"]),
        "adam7": png(9, 9, 2, 8, [bytes(px(x, y, c) for x in range(9) for c in range(3)) for y in range(9)],
                     interlace=True),
        "one_pixel": png(1, 1, 2, 8, [b"\x10\x20\x30"]),
    }
    for name, data in pngs.items():
        write(os.path.join(d, name + ".png"), data)
    # Regression input: a DHT segment declaring 320 codes, which overflows stb_image 2.27's
    # Huffman tables (m1c refuses it before stb sees it).
    counts = bytes([0] * 8 + [40] * 8)
    dht = b"\x00" + counts + bytes(range(256)) + bytes(64)
    sof = b"\x08\x00\x08\x00\x08\x01\x01\x11\x00"
    write(os.path.join(d, "jpeg_dht_overflow.jpg"),
          b"\xff\xd8\xff\xc4" + struct.pack(">H", len(dht) + 2) + dht
          + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof
          + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + bytes(8) + b"\xff\xd9")
    sample = os.path.join(ROOT, "runtime", "samples", "chelsea.jpg")
    try:
        from PIL import Image
    except ImportError:
        shutil.copy(sample, os.path.join(d, "chelsea.jpg"))  # 48 KB, slower but still a seed
        return
    img = Image.open(sample).convert("RGB")
    small = img.crop((150, 60, 214, 108)).resize((24, 16))
    variants = {
        "q75_420": dict(quality=75),
        "q90_444": dict(quality=90, subsampling=0),
        "q50_422": dict(quality=50, subsampling=1),
        "progressive": dict(quality=75, progressive=True),
        "optimized": dict(quality=60, optimize=True),
    }
    for name, kw in variants.items():
        buf = io.BytesIO()
        small.save(buf, "JPEG", **kw)
        write(os.path.join(d, f"jpeg_{name}.jpg"), buf.getvalue())
    for mode in ("L", "CMYK"):
        buf = io.BytesIO()
        small.convert(mode).save(buf, "JPEG", quality=70)
        write(os.path.join(d, f"jpeg_{mode.lower()}.jpg"), buf.getvalue())
    buf = io.BytesIO()
    small.resize((7, 5)).save(buf, "JPEG", quality=80)  # sizes not multiples of 8
    write(os.path.join(d, "jpeg_odd_size.jpg"), buf.getvalue())


# --- dictionaries ---------------------------------------------------------------------

def dict_entry(token):
    if isinstance(token, str):
        token = token.encode()
    body = "".join(chr(b) if 0x20 <= b < 0x7f and b not in (0x22, 0x5c) else f"\\x{b:02x}"
                   for b in token)
    return f'"{body}"'


def dictionaries(out):
    pickle_tokens = [
        b"\x80\x02", b"\x80\x04", b"\x80\x05", b"\x95", b"ctorch._utils\n_rebuild_tensor_v2\n",
        b"ctorch._utils\n_rebuild_parameter\n", b"ccollections\nOrderedDict\n", b"ctorch\nFloatStorage\n",
        b"ctorch\nHalfStorage\n", b"ctorch\nBFloat16Storage\n", b"ctorch\nDoubleStorage\n",
        b"ctorch\nLongStorage\n", b"ctorch\nBoolStorage\n", b"cos\nsystem\n", b"c_codecs\nencode\n",
        b"cbuiltins\nbytes\n", b"\x8c\x07storage", b"X\x07\x00\x00\x00storage", b"X\x03\x00\x00\x00cpu",
        b"X\x01\x00\x00\x000", b")R", b"(t", b"Q", b"\x85", b"\x86", b"\x87", b"\x88", b"\x89",
        b"}", b"]", b"(", b"u", b"s", b"e", b"a", b"b", b"h\x00", b"q\x00", b"j\x00\x00\x00\x00",
        b"\x94", b"\x93", b"\x8a\x08", b"\x8b", b"\x8e", b"\x8d", b"\x81", b".", b"K\x00",
        b"J\xff\xff\xff\xff", b"\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7f",
        b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"archive/data.pkl", b"archive/data/0",
        b"archive/byteorder", b"archive/constants.pkl", b"little", b"big", "state_dict", "model",
        "module.", "stage1.0.", "stage1.1.", "reparam_conv.weight", "reparam_conv.bias",
        "rbr_conv.0.conv.weight", "rbr_scale.conv.weight", "rbr_skip.running_var", "bn.weight",
        "num_batches_tracked", "se.reduce.weight", "se.expand.bias", "linear.weight", "linear.bias",
    ]
    safetensors_tokens = ['"dtype"', '"shape"', '"data_offsets"', '"__metadata__"', '"F32"', '"F16"',
                          '"BF16"', '"F64"', '"I64"', '"I32"', '"I16"', '"I8"', '"U8"', '"BOOL"',
                          '"F8_E4M3"', "[0, 4]", "[]", "18446744073709551615", "-1", "1e9", "{", "}",
                          '"linear.weight"', '"stage1.1.reparam_conv.weight"', b"\x00" * 7,
                          b"\xff" * 8]
    json_tokens = ['"name"', '"width_multipliers"', '"blocks_per_stage"', '"num_conv_branches"',
                   '"use_se"', '"num_classes"', "true", "false", "null", "[", "]", "{", "}", ":", ",",
                   "1e308", "-0", "0.0625", "64", "65", "2147483648", "-9223372036854775809",
                   "18446744073709551616", "\\u0000", "\\ud800", '""']
    npy_tokens = [b"\x93NUMPY\x01\x00", b"\x93NUMPY\x02\x00", b"\x93NUMPY\x03\x00", "'descr'", "'<f4'",
                  "'>f4'", "'<f8'", "'<f2'", "'=f4'", "'|u1'", "'fortran_order'", "False", "True",
                  "'shape'", "()", "(0,)", "(1, 3, 224, 224)", "4611686018427387904", ", ", "}", "{",
                  "\n"]
    image_tokens = [b"\x89PNG\r\n\x1a\n", "IHDR", "IDAT", "IEND", "PLTE", "tRNS", "gAMA", "CgBI",
                    b"\x00\x00\x40\x00", b"\x00\x00\x40\x01", b"\x7f\xff\xff\xff", b"\x78\x9c",
                    b"\xff\xd8\xff", b"\xff\xc0", b"\xff\xc1", b"\xff\xc2", b"\xff\xc4", b"\xff\xda",
                    b"\xff\xd9", b"\xff\xdb", b"\xff\xdd", b"\xff\xd0", b"\xff\xe0", b"\xff\xee",
                    b"\xff\xfe", "JFIF\x00", "Adobe", b"\x40\x00", b"\xff\xff"]
    for name, tokens in (("torch", pickle_tokens), ("safetensors", safetensors_tokens),
                         ("spec", json_tokens), ("npy", npy_tokens), ("image", image_tokens)):
        with open(os.path.join(out, name + ".dict"), "w") as f:
            for i, t in enumerate(tokens):
                f.write(f"t{i}={dict_entry(t)}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch_seeds(args.out)
    safetensors_seeds(args.out)
    spec_seeds(args.out)
    npy_seeds(args.out)
    image_seeds(args.out)
    dictionaries(args.out)
    for name in ("torch", "safetensors", "spec", "npy", "image"):
        files = os.listdir(os.path.join(args.out, name))
        largest = max(os.path.getsize(os.path.join(args.out, name, f)) for f in files)
        print(f"seeds: {name}: {len(files)} files, largest {largest} bytes")


if __name__ == "__main__":
    main()
