#!/usr/bin/env python3
"""A runner for `m1c tune --runner` that measures nothing: it replays times.

    replay_runner.py [--records FILE] [--sleep S] [--cpu NAME] BINARY RUNS THREADS BLOCK

Asks the measurement binary what its candidates are (`BINARY --list`: one JSON label per
slot, {"op": ..., "config": ...}), sleeps S seconds (a device measuring; not for a probe,
which has no candidates) and prints the binary's report format (compiler/tune/harness.h)
with, per candidate, its median_ms in the records FILE (same op and config, any device) or
else a time made from the label (replay_ms below: the same label, the same time, always).
Tests check recorded times against replay_ms; bench/tune_farm uses the sleep to give
measurements a fixed cost.
"""
import argparse
import json
import subprocess
import sys
import time


def replay_ms(label: str) -> float:
    """FNV-1a of the label, as a time between 0.05 and 1.05 ms (tests recompute it)."""
    h = 0x811C9DC5
    for b in label.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return 0.05 + (h % 1000) / 1000.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", help="records file whose times to replay")
    ap.add_argument("--sleep", type=float, default=0.0, help="seconds per measurement binary")
    ap.add_argument("--cpu", default="Replay CPU", help="CPU model to report")
    ap.add_argument("--name", default="", help="ignored: tells runners apart in m1c's messages")
    ap.add_argument("binary")
    ap.add_argument("args", nargs="*")
    a = ap.parse_args()

    listing = subprocess.run([a.binary, "--list"], check=True, capture_output=True, text=True).stdout
    labels = {}
    for line in listing.splitlines():
        parts = line.split("\t", 2)
        if parts[0] == "label":
            labels[int(parts[1])] = parts[2]
    recorded = {}
    if a.records:
        with open(a.records) as f:
            for r in json.load(f)["records"]:
                key = json.dumps({"op": r["op"], "config": r["config"]}, sort_keys=True)
                recorded.setdefault(key, r["median_ms"])
    runs = int(a.args[0]) if a.args else 9
    if labels and a.sleep > 0:
        time.sleep(a.sleep)
    out = [f"cpu\t{a.cpu}"]
    for slot in sorted(labels):
        key = json.dumps(json.loads(labels[slot]), sort_keys=True)
        ms = recorded.get(key, replay_ms(labels[slot]))
        out.append(f"cand\t{slot}\t{ms:.6f}\t{runs}")
    out.append(f"end\t{len(labels)}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
