#!/bin/sh
# A runner that misbehaves on purpose, for the fault tests (test_tune_farm.cpp):
#   fault_runner.sh MODE FROM TO STATE COMMAND... BINARY ARGS...
# Counts its calls in the file STATE; calls FROM..TO (1-based; TO 0: every call from FROM
# on; call 1 is m1c's probe of the runner) misbehave as MODE says, the others run COMMAND
# with the binary and its arguments (a working runner, e.g. replay_runner.py).
#   exit      fails with exit status 3 and a message
#   signal    dies of SIGKILL (a device that reboots, an OOM kill)
#   hang      never answers (m1c's --timeout must kill it)
#   garbage   prints nonsense, with times that must never be recorded (999 ms), exit 0
#   truncate  prints the first lines of a real report only, exit 0 (connection lost)
#   cpu       a real report from another kind of CPU
#   kill      kills m1c itself with SIGKILL (its pid in STATE.pid)
set -u
mode=$1 from=$2 to=$3 state=$4
shift 4
n=$(( $(cat "$state" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$state"
if [ "$n" -lt "$from" ] || { [ "$to" -gt 0 ] && [ "$n" -gt "$to" ]; }; then exec "$@"; fi
case "$mode" in
  exit) echo "fault_runner: device busy (injected failure)" >&2; exit 3 ;;
  signal) kill -KILL $$ ;;
  hang) sleep 600 ;;
  garbage) printf 'cpu\tReplay CPU\ncand\t0\t999\t3\nlorem ipsum\ncand\t1\tNaN\t3\n\001\002\003\n' ;;
  truncate) "$@" | head -n 2 ;;
  cpu) "$@" | sed 's/^cpu\t.*/cpu\tSome Other CPU/' ;;
  kill) kill -KILL "$(cat "$state.pid")"; exit 0 ;;
  *) echo "fault_runner: unknown mode $mode" >&2; exit 2 ;;
esac
