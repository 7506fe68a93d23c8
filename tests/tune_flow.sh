#!/bin/sh
# The tuning flow as a user runs it (tests/tune.cmake):
#   tune_flow.sh host M1C CC RUN_MODEL_C C_DIR FIXTURES WORK
#     m1c tune S0 (small budget) -> m1c compile --schedule -> a C program linked against the
#     library -> logits within 1e-4 x max|logit| of the oracle's.
#   tune_flow.sh qemu M1C QEMU SYSROOT FIXTURES WORK
#     m1c tune for arm-64-linux with measurements run under qemu-aarch64 (timings
#     meaningless, flow real) -> valid records, used by m1c compile --target arm-64-linux.
set -eu
mode=$1; shift
if [ "$mode" = host ]; then
  m1c=$1 cc=$2 c_dir=$3 fixtures=$4 work=$5
  rm -rf "$work"; mkdir -p "$work"
  "$m1c" tune --variant s0 --trials 24 --batch-size 24 --runs 3 --no-check --out "$work/s0.json"
  "$m1c" compile --weights "$fixtures/s0.pth.tar" --variant s0 --schedule "$work/s0.json" \
         --name tuned_s0 --out-dir "$work/lib" 2> "$work/compile.log"
  cat "$work/compile.log"
  grep -q "ops tuned" "$work/compile.log"
  grep -q '"tuned/' "$work/lib/tuned_s0.json"
  "$cc" -std=c99 -O2 -D_POSIX_C_SOURCE=200112L '-DM1C_HEADER="tuned_s0.h"' -DM1C_NAME=tuned_s0 \
        -I"$c_dir" -I"$work/lib" "$c_dir/run_model.c" "$work/lib/libtuned_s0.a" \
        -lpthread -ldl -lm -o "$work/run_model"
  "$work/run_model" "$fixtures/s0_input.npy" "$fixtures/s0_logits.npy"
elif [ "$mode" = records ]; then
  # tune_flow.sh records M1C CC C_DIR FIXTURES WORK VARIANT CHECKPOINT RECORDS: a library
  # compiled with kept records (schedules/tuned/; other machines fall back to the default).
  m1c=$1 cc=$2 c_dir=$3 fixtures=$4 work=$5 v=$6 ckpt=$7 records=$8
  rm -rf "$work"; mkdir -p "$work"
  "$m1c" compile --weights "$fixtures/$ckpt" --variant "$v" --schedule "$records" \
         --name kept_$v --out-dir "$work/lib" 2> "$work/compile.log"
  cat "$work/compile.log"
  grep -q "ops tuned" "$work/compile.log"
  "$cc" -std=c99 -O2 -D_POSIX_C_SOURCE=200112L "-DM1C_HEADER=\"kept_$v.h\"" -DM1C_NAME=kept_$v \
        -I"$c_dir" -I"$work/lib" "$c_dir/run_model.c" "$work/lib/libkept_$v.a" \
        -lpthread -ldl -lm -o "$work/run_model"
  "$work/run_model" "$fixtures/${v}_input.npy" "$fixtures/${v}_logits.npy"
elif [ "$mode" = qemu ]; then
  m1c=$1 qemu=$2 sysroot=$3 fixtures=$4 work=$5
  rm -rf "$work"; mkdir -p "$work"
  "$m1c" tune --variant s0 --input-size 64x64 --target arm-64-linux \
         --runner "$qemu -L $sysroot" --ops stage0,stage1 --trials 6 --batch-size 6 --runs 2 \
         --out "$work/arm.json" 2> "$work/tune.log"
  cat "$work/tune.log"
  grep -q "tune: whole model: default" "$work/tune.log"
  grep -q '"m1c_tuning_records": 2' "$work/arm.json"  # version 2: records carry their thread count
  grep -q '"target": "arm-64-linux' "$work/arm.json"
  "$m1c" compile --weights "$fixtures/s0.pth.tar" --variant s0 --input-size 64x64 \
         --target arm-64-linux --schedule "$work/arm.json" --name arm_s0 --out-dir "$work/lib" \
         2> "$work/compile.log"
  cat "$work/compile.log"
  grep -q " of 22 ops tuned" "$work/compile.log"
  if grep -q " 0 of 22 ops tuned" "$work/compile.log"; then exit 1; fi
else
  echo "usage: tune_flow.sh host|qemu ..." >&2; exit 2
fi
