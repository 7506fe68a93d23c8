#!/bin/bash
# Regenerates the "Figures" table of examples/firmware/README.md: firmware libraries of
# S0..S4 at 224x224 from the oracle's random-weight checkpoints (host float32, float16 and
# int8, ARM64 float32 and int8 with dot products), their manifests, and
# tests/c/firmware_checks.c runs against the PyTorch logits (heap and thread calls trapped).
# The int8 libraries are calibrated on 8 random images (--calibration random:8).
#   examples/firmware/figures.sh [BUILD_DIR [OUT_DIR]]   (defaults: build, /tmp/m1c-figures)
# BUILD_DIR must hold m1c and the fixtures (a build of the tests). Takes ~30 min on 2 cores.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$SRC/build}" && pwd)
OUT=${2:-/tmp/m1c-figures}
F=$B/fixtures
C=$SRC/tests/c
WRAP=-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=posix_memalign,--wrap=aligned_alloc,--wrap=pthread_create
mkdir -p "$OUT"
for v in s0 s1 s2 s3 s4; do
  for kind in f32 f16 arm i8 i8arm; do
    n=${v}_$kind
    args=(--weights "$F/$v.pth.tar" --variant "$v" --firmware --name "$n" --out-dir "$OUT/$n")
    [ "$kind" = f16 ] && args+=(--weights-dtype f16)
    [ "$kind" = arm ] && args+=(--target arm-64-linux)
    [ "$kind" = i8 ] && args+=(--precision int8 --calibration random:8)
    [ "$kind" = i8arm ] && args+=(--precision int8 --calibration random:8 --target arm-64-linux-arm_dot_prod)
    [ -f "$OUT/$n/$n.json" ] || "$B/m1c" compile "${args[@]}" > "$OUT/$n.log" 2>&1
    [ "$kind" = arm ] || [ "$kind" = i8arm ] && continue
    cc -std=c99 -O2 -D_DEFAULT_SOURCE "-DM1C_HEADER=\"$n.h\"" -DM1C_NAME="$n" -I"$C" -I"$OUT/$n" \
       "$C/firmware_checks.c" "$C/no_heap_guard.c" "$OUT/$n/lib$n.a" -lm "$WRAP" -o "$OUT/checks_$n"
    repeat=3; [ "$v" = s0 ] && repeat=200
    "$OUT/checks_$n" "$F/${v}_input.npy" "$F/${v}_logits.npy" --tolerance 1 --repeat $repeat > "$OUT/$n.out"
  done
done
/usr/bin/python3 - "$OUT" <<'EOF'
import json, re, sys
out = sys.argv[1]
def manifest(n): return json.load(open(f"{out}/{n}/{n}.json"))
def run(n):
    t = open(f"{out}/{n}.out").read()
    return float(re.search(r"ratio ([0-9.e+-]+)", t).group(1)), float(re.search(r"time: ([0-9.]+) ms", t).group(1))
print("| variant | workspace bytes | naive activation bytes | reduction | allocations | code bytes x86-64 | code bytes ARM64 | weight bytes f32 | weight bytes f16 | f16 max\\|diff\\|/max\\|logit\\| |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for v in ["s0", "s1", "s2", "s3", "s4"]:
    m, h, a = manifest(f"{v}_f32"), manifest(f"{v}_f16"), manifest(f"{v}_arm")
    mem = m["memory"]
    assert a["memory"]["workspace_bytes"] == mem["workspace_bytes"], "ARM64 plan differs"
    print(f"| {v.upper()} | {mem['workspace_bytes']:,} | {mem['naive_activation_bytes']:,} | "
          f"{mem['naive_activation_bytes'] / mem['workspace_bytes']:.1f}x | {mem['allocations']} | "
          f"{m['sizes']['code_bytes']:,} | {a['sizes']['code_bytes']:,} | {m['sizes']['weight_bytes']:,} | "
          f"{h['sizes']['weight_bytes']:,} | {run(f'{v}_f16')[0]:.1e} |")
print()
print(f"S0 firmware, one thread, this host: {run('s0_f32')[1]:.2f} ms (float32 weights), "
      f"{run('s0_f16')[1]:.2f} ms (float16 weights); float32 logits max|diff|/max|logit| "
      f"{run('s0_f32')[0]:.1e}")
print()
print("int8 (`--precision int8`), firmware:")
print()
print("| variant | workspace bytes | vs float32 | code bytes x86-64 | code bytes ARM64 | weight bytes | vs float32 | max\\|diff\\|/max\\|logit\\| | ms, 1 thread |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for v in ["s0", "s1", "s2", "s3", "s4"]:
    m, q, a = manifest(f"{v}_f32"), manifest(f"{v}_i8"), manifest(f"{v}_i8arm")
    assert a["memory"]["workspace_bytes"] == q["memory"]["workspace_bytes"], "ARM64 int8 plan differs"
    ws, ws32 = q["memory"]["workspace_bytes"], m["memory"]["workspace_bytes"]
    wb, wb32 = q["sizes"]["weight_bytes"], m["sizes"]["weight_bytes"]
    err, ms = run(f"{v}_i8")
    print(f"| {v.upper()} | {ws:,} | {ws / ws32:.2f}x | {q['sizes']['code_bytes']:,} | {a['sizes']['code_bytes']:,} | "
          f"{wb:,} | {wb / wb32:.2f}x | {err:.1e} | {ms:.2f} |")
EOF
