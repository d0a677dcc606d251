#!/usr/bin/env bash
# t/bench/10-spawn.sh: task-spawn throughput of weft against make, ninja and
# xargs.
#
# Each tool runs the same work: BENCH_TASKS (default 2000) independent tiny
# tasks (`true`), at most 2 at once. Each tool runs BENCH_REPS times (default
# 3), interleaved; the table shows each one's best wall time, jobs/s, ratio to
# weft (above 1: weft is faster) and the peak RSS of that run.
#
# Usage (from the repo root): [WEFT=path/to/weft] t/bench/10-spawn.sh, or all
# benchmarks with make bench (t/bench/run).
# Needs /usr/bin/time (Debian package time); ninja (ninja-build) is optional.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

N=${BENCH_TASKS:-2000}
REPS=${BENCH_REPS:-3}
bench_posint N REPS
bench_require_time
bench_weft
have_ninja=true
command -v ninja >/dev/null || have_ninja=false

# `make bench` exports its flags and jobserver; the make under test must not see them.
unset MAKEFLAGS MFLAGS MAKELEVEL

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export BENCH_RESULTS=$work/results

# --- the same work for each tool ---------------------------------------------
seq -f 't%.0f' 0 $((N - 1)) >tasks.txt
names=$(tr '\n' ' ' <tasks.txt)
names=${names% }

awk '{ printf "[%s]\nrun = true\n\n", $1 }' tasks.txt >weft.ini
printf '[all]\ndeps = %s\n' "$names" >>weft.ini

{
  printf '.PHONY: all %s\n\nall: %s\n\n' "$names" "$names"
  awk '{ printf "%s:\n\ttrue\n", $1 }' tasks.txt
} >Makefile

{
  printf 'rule r\n  command = true\n\n'
  awk '{ printf "build %s: r\n", $1 }' tasks.txt
  printf 'build all: phony %s\n' "$names"
} >build.ninja

# --- check that weft runs the recipe (and every task) before timing it -------
if ! "$WEFT" -j2 -f weft.ini all >/dev/null 2>weft.err; then
  echo "bench: weft failed on the generated recipe:" >&2
  head -n 5 weft.err >&2
  exit 1
fi
done_count=$(sed -n 's/^weft: \([0-9]*\) tasks done in .*/\1/p' weft.err | tail -n 1)
if [[ -z $done_count ]] || ((done_count < N)); then
  echo "bench: weft did not report $N tasks done; its last line: $(tail -n 1 weft.err)" >&2
  exit 1
fi

# --- time them, interleaved --------------------------------------------------
echo "spawn: $N tasks (true), 2 jobs at once, best of $REPS runs, $(nproc) CPUs"
echo "weft: $WEFT ($("$WEFT" --version 2>/dev/null | head -n 1 || true))"
$have_ninja || echo "ninja: not installed, skipped (Debian package ninja-build)"
echo

for ((r = 1; r <= REPS; r++)); do
  bench_time "weft -j2" "$WEFT" -j2 -f weft.ini all
  bench_time "make -j2" make -j2 -s -f Makefile all
  if $have_ninja; then
    bench_time "ninja -j2" ninja -j2 -f build.ninja all
  fi
  bench_time "xargs -P2" xargs -P2 -I{} -a tasks.txt true
done

bench_table "$N"
echo
bench_summary "spawn: weft vs make -j2: $(bench_speedup "weft -j2" "make -j2")x"
if $have_ninja; then
  bench_summary "spawn: weft vs ninja -j2: $(bench_speedup "weft -j2" "ninja -j2")x"
fi
