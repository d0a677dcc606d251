#!/usr/bin/env bash
# t/bench/60-cluster.sh: tiny-job throughput of weft with 1, 2 and 4
# runners (--cluster) against weft alone, make, ninja and xargs, and the
# master's own CPU time per job.
#
# Each tool runs BENCH_CLUSTER_N (default 5000) independent `true` tasks, at
# most BENCH_CLUSTER_JOBS (default: the CPUs) at once, BENCH_REPS times
# (default 3), interleaved; the table shows each one's best wall time, jobs/s,
# ratio and peak RSS. Then weft --cluster 2 runs BENCH_CLUSTER_CPU_N (default
# 10000) tasks with WEFT_RUSAGE: the master's user+system time per job,
# runners and jobs excluded (target: at most 60 us, so that one master can
# feed 15,000 jobs a second). Last, the master's peak RSS with
# BENCH_CLUSTER_RSS_N (default 100000) tiny jobs read from stdin against a
# tenth of them: it must not grow with the jobs run (target: at most
# 512 KB more, i.e. under 6 bytes a job).
#
# Usage (from the repo root): [WEFT=path/to/weft] t/bench/60-cluster.sh, or
# every benchmark with make bench; on a big machine, t/bench/scale.
# Needs /usr/bin/time (Debian package time); ninja (ninja-build) is optional.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

N=${BENCH_CLUSTER_N:-5000}
CPU_N=${BENCH_CLUSTER_CPU_N:-10000}
RSS_N=${BENCH_CLUSTER_RSS_N:-100000}
P=${BENCH_CLUSTER_JOBS:-$(nproc)}
REPS=${BENCH_REPS:-3}
RUNNERS=${BENCH_CLUSTER_RUNNERS:-1 2 4}
bench_posint N CPU_N RSS_N P REPS
bench_require_time
bench_weft
have_ninja=true
command -v ninja >/dev/null || have_ninja=false
unset MAKEFLAGS MFLAGS MAKELEVEL

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export BENCH_RESULTS=$work/results

# recipe N FILE-PREFIX: the same N `true` tasks for weft, make and ninja.
tasks() {
  seq -f 't%.0f' 0 $(($1 - 1)) >"$2.txt"
  local names
  names=$(tr '\n' ' ' <"$2.txt")
  names=${names% }
  { awk '{ printf "[%s]\nrun = true\n\n", $1 }' "$2.txt"; printf '[all]\ndeps = %s\n' "$names"; } >"$2.ini"
  { printf '.PHONY: all %s\n\nall: %s\n\n' "$names" "$names"; awk '{ printf "%s:\n\ttrue\n", $1 }' "$2.txt"; } >"$2.mk"
  { printf 'rule r\n  command = true\n\n'; awk '{ printf "build %s: r\n", $1 }' "$2.txt"; printf 'build all: phony %s\n' "$names"; } >"$2.ninja"
}
tasks "$N" small
tasks "$CPU_N" big

for k in $RUNNERS; do
  if ! "$WEFT" -j"$P" --cluster "$k" -f small.ini all >/dev/null 2>weft.err; then
    echo "bench: weft --cluster $k failed on the generated recipe:" >&2
    head -n 5 weft.err >&2
    exit 1
  fi
done

echo "cluster: $N tasks (true), $P jobs at once, best of $REPS runs, $(nproc) CPUs"
echo "weft: $WEFT ($("$WEFT" --version 2>/dev/null | head -n 1 || true))"
$have_ninja || echo "ninja: not installed, skipped (Debian package ninja-build)"
echo

for ((r = 1; r <= REPS; r++)); do
  bench_time "weft -j$P" "$WEFT" -j"$P" -f small.ini all
  for k in $RUNNERS; do
    bench_time "weft --cluster $k" "$WEFT" -j"$P" --cluster "$k" -f small.ini all
  done
  bench_time "make -j$P" make -j"$P" -s -f small.mk all
  if $have_ninja; then
    bench_time "ninja -j$P" ninja -j"$P" -f small.ninja all
  fi
  bench_time "xargs -P$P" xargs -P"$P" -I{} -a small.txt true
done

bench_table "$N"
echo
best=""
for k in $RUNNERS; do
  bench_summary "cluster: weft --cluster $k vs weft alone: $(bench_speedup "weft --cluster $k" "weft -j$P")x"
done
for k in $RUNNERS; do
  bench_summary "cluster: weft --cluster $k vs make -j$P: $(bench_speedup "weft --cluster $k" "make -j$P")x"
done
if $have_ninja; then
  for k in $RUNNERS; do
    bench_summary "cluster: weft --cluster $k vs ninja -j$P: $(bench_speedup "weft --cluster $k" "ninja -j$P")x"
  done
fi
for k in $RUNNERS; do
  bench_summary "cluster: weft --cluster $k vs xargs -P$P: $(bench_speedup "weft --cluster $k" "xargs -P$P")x"
done

# --- the master's own CPU per job ---------------------------------------------
cpu_best=""
for ((r = 1; r <= REPS; r++)); do
  WEFT_RUSAGE=$work/rusage "$WEFT" -j"$P" --cluster 2 -f big.ini all >/dev/null 2>&1
  read -r user sys <"$work/rusage"
  per=$(((user + sys) / CPU_N))
  if [[ -z $cpu_best ]] || ((per < cpu_best)); then cpu_best=$per; fi
done
echo "master CPU per job, --cluster 2, $CPU_N tasks: ${cpu_best} us (best of $REPS)"
bench_target "cluster: master CPU per job (us)" "$cpu_best" "<=" 60

# --- the master's RSS, flat in the jobs run ------------------------------------
# Inputs from stdin, so that none of them is held as ::: values are (they
# are on the command line anyway). %M is the largest RSS of weft and the
# runners it waited for; the master is the largest of them.
rss_of() {
  seq "$1" | /usr/bin/time -f %M -o "$work/rss" "$WEFT" exec -j"$P" --cluster 2 true >/dev/null 2>&1
  tail -n 1 "$work/rss"
}
rss_small=$(rss_of $((RSS_N / 10)))
rss_big=$(rss_of "$RSS_N")
echo "master peak RSS, --cluster 2: $rss_small KB at $((RSS_N / 10)) jobs, $rss_big KB at $RSS_N jobs"
bench_target "cluster: master RSS growth from $((RSS_N / 10)) to $RSS_N jobs (KB)" "$((rss_big - rss_small))" "<=" 512
