#!/usr/bin/python3
"""Small files for the checkpoint readers (tests/test_checkpoint_readers.cpp).

Writes into --out:
  *.pth              real torch.save files: dtypes, views, wrappers, parameters, ...
  hostile_*.pth      torch-style zips whose data.pkl is hand-assembled from raw pickle
                     opcodes to call os.system / builtins.eval / posix.system. They are
                     never unpickled here; a reader that runs them would create PWNED.
  bad_*.pth          hand-assembled pickles with broken tensor metadata (views past the
                     storage, overflowing strides, storages shorter than declared).
  legacy.pth         the pre-1.6 format (_use_new_zipfile_serialization=False).
  torchscript.pt     a torch.jit.save archive (not a state dict).
  hand.safetensors   written by hand with struct + json.
  expected.json      {file: {key: {"shape", "dtype", "values"}}} with every element as
                     float32, for the files that must load.

Run with Debian's /usr/bin/python3 (which has torch 1.13):
  /usr/bin/python3 tests/oracle/make_reader_fixtures.py --out build/fixtures/readers
"""
import argparse
import collections
import copy
import json
import os
import struct
import zipfile

import numpy as np
import torch

# ---------------------------------------------------------------------------------------
# Raw pickle opcodes, to build pickles that pickle.dumps would never write.


def op_unicode(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def op_short_unicode(s):
    b = s.encode()
    return b"\x8c" + struct.pack("<B", len(b)) + b


def op_int(i):
    """BININT1 / BININT, or LONG1 for anything wider than 32 bits."""
    if 0 <= i < 256:
        return b"K" + struct.pack("<B", i)
    if -(2**31) <= i < 2**31:
        return b"J" + struct.pack("<i", i)
    raw = i.to_bytes(9, "little", signed=True).rstrip(b"\x00") or b"\x00"
    return b"\x8a" + struct.pack("<B", len(raw)) + raw


def op_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def op_tuple(items):
    return b"(" + b"".join(items) + b"t"


PROTO2 = b"\x80\x02"
EMPTY_TUPLE = b")"
REDUCE = b"R"
STOP = b"."
MARK = b"("
SETITEMS = b"u"
NEWFALSE = b"\x89"


def ordered_dict_begin():
    return op_global("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE


def rebuild_tensor(key, numel, offset, size, stride, storage_type="FloatStorage"):
    """_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()), as torch emits."""
    pid = op_tuple([op_unicode("storage"), op_global("torch", storage_type), op_unicode(key),
                    op_unicode("cpu"), op_int(numel)])
    return (op_global("torch._utils", "_rebuild_tensor_v2")
            + op_tuple([pid + b"Q", op_int(offset), op_tuple([op_int(s) for s in size]),
                        op_tuple([op_int(s) for s in stride]), NEWFALSE, ordered_dict_begin()])
            + REDUCE)


def state_dict_pickle(entries):
    """An OrderedDict pickle of {name: raw value opcodes}."""
    body = b"".join(op_unicode(k) + v for k, v in entries)
    return PROTO2 + ordered_dict_begin() + MARK + body + SETITEMS + STOP


def write_torch_zip(path, pickle_bytes, storages=None, folder="archive"):
    """A zip laid out like torch.save's: folder/data.pkl, folder/data/<key>, folder/version."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{folder}/data.pkl", pickle_bytes)
        for key, data in (storages or {}).items():
            z.writestr(f"{folder}/data/{key}", data)
        z.writestr(f"{folder}/version", b"3\n")


# ---------------------------------------------------------------------------------------
# Expected values.


def expected_of(state_dict):
    out = {}
    for k, v in state_dict.items():
        t = v.detach()
        out[k] = {
            "shape": list(t.shape),
            "dtype": str(t.dtype).replace("torch.", ""),
            "values": t.to(torch.float32).reshape(-1).tolist(),
        }
    return out


def small_state_dict():
    torch.manual_seed(1)
    conv = torch.nn.Conv2d(3, 4, 3)
    bn = torch.nn.BatchNorm2d(4)
    bn.num_batches_tracked.fill_(11)
    model = torch.nn.Sequential(conv, bn)
    return model, model.state_dict()


def make_dtypes():
    torch.manual_seed(0)
    sd = collections.OrderedDict()
    sd["f32"] = torch.randn(3, 4)
    # float16 corner cases: a subnormal, -0, the largest finite value, an exact tiny value.
    sd["f16"] = torch.cat([torch.randn(5), torch.tensor([6.1e-5, 3e-7, -0.0, 65504.0, 2**-24])]).half()
    sd["bf16"] = torch.cat([torch.randn(6), torch.tensor([1e-38, -3.0e38])]).bfloat16().reshape(2, 4)
    sd["f64"] = torch.randn(2, 3, dtype=torch.float64)
    sd["bn.num_batches_tracked"] = torch.tensor(7)  # int64 scalar, shape []
    sd["i32"] = torch.arange(-3, 3, dtype=torch.int32)
    sd["i16"] = torch.tensor([-32768, 5, 32767], dtype=torch.int16)
    sd["i8"] = torch.tensor([-128, 0, 127], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    sd["mask"] = torch.tensor([True, False, True])
    return sd


def make_views():
    torch.manual_seed(2)
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    x = torch.randn(10)
    sd = collections.OrderedDict()
    sd["base"] = base
    sd["transposed"] = base.t()  # strides (1, 6)
    sd["strided"] = base[:, 1::2]  # offset 1, strides (6, 2)
    sd["row"] = base[2]  # offset 12
    sd["slice"] = base.reshape(-1)[5:11]  # offset 5
    sd["expanded"] = torch.randn(3, 1).expand(3, 4)  # stride 0
    sd["empty"] = torch.zeros(0, 3)
    sd["shared_a"] = x[:4]  # shares one storage with shared_b
    sd["shared_b"] = x[4:].view(2, 3)
    sd["half_t"] = torch.randn(3, 2).half().t()  # a non-contiguous float16 view
    return sd


def write_hand_safetensors(path):
    torch.manual_seed(3)
    tensors = collections.OrderedDict()
    tensors["weight"] = torch.randn(2, 3)
    tensors["half"] = torch.randn(4).half()
    tensors["bhalf"] = torch.randn(2, 2).bfloat16()
    tensors["double"] = torch.randn(3, dtype=torch.float64)
    tensors["count"] = torch.tensor(42)
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
             torch.float64: "F64", torch.int64: "I64"}
    header = {"__metadata__": {"format": "pt", "made_by": "make_reader_fixtures.py"}}
    data = b""
    for name, t in tensors.items():
        # bfloat16 has no numpy type: take its raw 16-bit patterns.
        raw = (t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16
               else t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes())
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)
    return tensors


def write_hostile(out):
    marker = os.path.join(os.path.abspath(out), "PWNED")
    command = f"echo pwned > {marker}"
    # REDUCE of os.system, protocol 2 GLOBAL.
    write_torch_zip(os.path.join(out, "hostile_os_system.pth"),
                    PROTO2 + op_global("os", "system") + op_unicode(command) + b"\x85" + REDUCE + STOP)
    # builtins.eval through protocol 4's FRAME / STACK_GLOBAL / MEMOIZE.
    body = (op_short_unicode("builtins") + b"\x94" + op_short_unicode("eval") + b"\x94" + b"\x93"
            + op_unicode(f"__import__('os').system('{command}')") + b"\x85" + REDUCE + STOP)
    write_torch_zip(os.path.join(out, "hostile_eval.pth"),
                    b"\x80\x04\x95" + struct.pack("<Q", len(body)) + body)
    # A normal-looking state dict with posix.system as one of its values.
    good = rebuild_tensor("0", 4, 0, (4,), (1,))
    evil = op_global("posix", "system") + op_unicode(command) + b"\x85" + REDUCE
    write_torch_zip(os.path.join(out, "hostile_nested.pth"),
                    state_dict_pickle([("w", good), ("b", evil)]),
                    {"0": struct.pack("<4f", 1, 2, 3, 4)})
    # A persistent id whose "storage type" is os.system: never called, still refused.
    write_torch_zip(os.path.join(out, "hostile_storage_type.pth"),
                    state_dict_pickle([("w", rebuild_tensor("0", 4, 0, (4,), (1,), "x"
                                                            ).replace(b"torch\nx\n", b"os\nsystem\n"))]),
                    {"0": struct.pack("<4f", 1, 2, 3, 4)})


def write_bad_views(out):
    storage = {"0": struct.pack("<4f", 1, 2, 3, 4)}
    cases = {
        "bad_view_past_end.pth": rebuild_tensor("0", 4, 2, (10,), (1,)),
        "bad_view_stride_overflow.pth": rebuild_tensor("0", 4, 0, (3,), (2**62,)),
        "bad_view_negative_size.pth": rebuild_tensor("0", 4, 0, (-1,), (1,)),
        "bad_storage_numel.pth": rebuild_tensor("0", 1000, 0, (4,), (1,)),
        "bad_storage_missing.pth": rebuild_tensor("7", 4, 0, (4,), (1,)),
    }
    for name, tensor in cases.items():
        write_torch_zip(os.path.join(out, name), state_dict_pickle([("w", tensor)]), storage)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)
    expected = {}

    def save(name, obj, sd=None, **kwargs):
        torch.save(obj, os.path.join(out, name), **kwargs)
        if sd is not None:
            expected[name] = expected_of(sd)

    sd = make_dtypes()
    save("dtypes.pth", sd, sd)
    sd = make_views()
    save("views.pth", sd, sd)

    model, sd = small_state_dict()
    save("plain.pth", sd, sd)
    save("wrapped_state_dict.pth", {"state_dict": sd, "arch": "tiny"}, sd)
    # Other pickle protocols exercise opcodes protocol 2 never uses (FRAME, MEMOIZE, ...).
    extra = {"a": [1, 2.5, None, "s", -7, 2**40, -(2**40)], "b": (True, False), "c": {"n": [[1], [2]]}}
    for protocol in (1, 4, 5):
        save(f"protocol{protocol}.pth", {"model": sd, "extra": extra}, sd, pickle_protocol=protocol)
    # A training step on a copy, so that `sd` (which shares storage with `model`) stays put.
    trained = copy.deepcopy(model)
    optimizer = torch.optim.SGD(trained.parameters(), lr=0.1, momentum=0.9)
    trained(torch.randn(2, 3, 5, 5)).sum().backward()
    optimizer.step()
    save("wrapped_model.pth",
         {"model": sd, "epoch": 3, "optimizer": optimizer.state_dict(), "best_acc": 71.5,
          "note": "text", "flags": [True, False, None], "blob": b"\x00\x01", "big": 2**40}, sd)
    save("module_prefix.pth", collections.OrderedDict(("module." + k, v) for k, v in sd.items()), sd)
    params = model.state_dict(keep_vars=True)  # nn.Parameter values, as in a live model
    assert any(isinstance(v, torch.nn.Parameter) for v in params.values())
    save("parameters.pth", params, params)

    save("non_tensor.pth", {"w": torch.ones(2), "lr": 0.1})
    save("empty_dict.pth", {})
    save("whole_model.pth", torch.nn.Linear(2, 2))
    torch.save(sd, os.path.join(out, "legacy.pth"), _use_new_zipfile_serialization=False)
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), os.path.join(out, "torchscript.pt"))

    expected["hand.safetensors"] = expected_of(write_hand_safetensors(os.path.join(out, "hand.safetensors")))
    write_hostile(out)
    write_bad_views(out)

    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)
    print(f"reader fixtures written to {out}")


if __name__ == "__main__":
    main()
