#!/usr/bin/env bash
# m1c on a fresh Debian 12 machine.
#   ./setup.sh        install packages, build m1c, compile MobileOne-S0 to a static library
#                     and run it on the sample image (the main job)
#   ./setup.sh test   install packages, build everything (oracle fixtures, generated
#                     libraries for x86-64 and ARM64) and run the test suite with ctest
#   ./setup.sh deps   install packages only
# Environment: M1C_WEIGHTS=path/to/checkpoint to use your own S0 checkpoint in the main job;
# BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")"
BUILD_DIR=${BUILD_DIR:-build}

# Debian packages: the toolchain, Halide 14 (with LLVM 14 and its autoschedulers), the
# libraries m1c uses, the PyTorch oracle, OpenCV DNN and ONNX (the third system of
# bench/compare), the ARM64 cross linker and emulator, LLVM's headers (m1c disassembles what
# it generates to check its instructions), Fashion-MNIST (the int8 accuracy tests train a
# small MobileOne on it), and Slurm with munge (the one-node cluster the `m1c tune` Slurm
# test starts).
PACKAGES=(
  cmake ninja-build g++ pkg-config
  libhalide14-0-dev llvm-14-dev libcli11-dev nlohmann-json3-dev libzip-dev libstb-dev libgtest-dev
  python3-torch python3-numpy
  python3-opencv python3-onnx
  gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user
  clang-14 libclang-rt-14-dev python3-pil
  dataset-fashion-mnist
  slurmctld slurmd slurm-client munge
)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && { echo "setup: all ${#PACKAGES[@]} packages present"; return; }
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

configure() {
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
}

main_job() {
  configure
  cmake --build "$BUILD_DIR" --target m1c
  local m1c="$BUILD_DIR/m1c" out="$BUILD_DIR/quickstart"
  mkdir -p "$out"
  local weights=${M1C_WEIGHTS:-}
  if [ -z "$weights" ]; then
    echo
    echo "setup: no checkpoint given (M1C_WEIGHTS); making a MobileOne-S0 checkpoint with RANDOM"
    echo "       weights with the PyTorch oracle. Its predictions are meaningless: it shows the path."
    /usr/bin/python3 tests/oracle/make_fixtures.py --variants s0 --out "$out" --skip-existing
    weights="$out/s0.pth.tar"
  fi
  echo
  echo "== m1c inspect (folded graph totals)"
  "$m1c" inspect --weights "$weights" | tail -n 2
  echo
  echo "== m1c compile: S0 -> $out/libmobileone_s0.a + mobileone_s0.h"
  "$m1c" compile --weights "$weights" --target host --name mobileone_s0 --out-dir "$out"
  echo
  echo "== m1c run on runtime/samples/ (top-5)"
  "$m1c" run --weights "$weights" --input runtime/samples/chelsea.jpg
}

run_tests() {
  configure
  cmake --build "$BUILD_DIR"
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)"
}

case "${1:-main}" in
  deps) install_packages ;;
  test) install_packages; run_tests ;;
  main) install_packages; main_job ;;
  *) echo "usage: $0 [main|test|deps]" >&2; exit 2 ;;
esac
