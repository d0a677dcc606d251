#!/usr/bin/env bash
# t/bench/20-exec.sh: throughput and memory of weft exec (fan-out from stdin)
# against xargs and GNU parallel.
#
# Each tool runs BENCH_EXEC_N (default 10000) `true` jobs, one per line of
# standard input, 2 at once:
#   seq N | weft exec -j2 true
#   seq N | xargs -P2 -n1 sh -c 'true' sh
#   seq N | parallel --will-cite -j2 true
# GNU parallel is slow, so it runs BENCH_EXEC_PARALLEL_N (default 1000) jobs
# and its jobs/s is scaled (the table says so). BENCH_REPS (default 3)
# interleaved runs each; best wall time counts.
# Then weft alone runs BENCH_EXEC_BIG (default 100000) jobs, once, to check that
# its peak RSS does not grow with the number of jobs (input is streamed).
#
# Targets: weft >= 1.0x the throughput of xargs -P2, >= 10x GNU parallel;
# RSS(BIG jobs) - RSS(N jobs) within 1 MiB (1024 KiB).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

N=${BENCH_EXEC_N:-10000}
PN=${BENCH_EXEC_PARALLEL_N:-1000}
BIG=${BENCH_EXEC_BIG:-100000}
REPS=${BENCH_REPS:-3}
bench_posint N PN BIG REPS
bench_require_time
bench_weft
have_parallel=$(bench_have_parallel)
bench_workdir

seq "$N" >in.txt
seq "$PN" >in-parallel.txt
seq "$BIG" >in-big.txt

# --- check that weft exec runs every job before timing it ---------------------
if ! seq 100 | "$WEFT" exec -j2 echo >out.txt 2>err.txt || [[ $(sort -n out.txt | tr '\n' ' ') != "$(seq 100 | tr '\n' ' ')" ]]; then
  echo "bench: weft exec did not run 100 jobs (seq 100 | weft exec -j2 echo):" >&2
  head -n 5 err.txt >&2
  exit 1
fi

echo "exec: $N jobs (true) from stdin, 2 at once, best of $REPS runs, $(nproc) CPUs"
echo "weft: $WEFT ($("$WEFT" --version 2>/dev/null | head -n 1 || true))"
$have_parallel || echo "GNU parallel: not installed, skipped (Debian package parallel)"
echo

$have_parallel && bench_count "parallel -j2" "$PN"
for ((r = 1; r <= REPS; r++)); do
  bench_time "weft exec -j2" "$WEFT" exec -j2 true <in.txt
  bench_time "xargs -P2 -n1 sh -c" xargs -P2 -n1 sh -c 'true' sh <in.txt
  if $have_parallel; then
    bench_time "parallel -j2" parallel --will-cite -j2 true <in-parallel.txt
  fi
done

bench_table "$N"
echo
bench_target "exec: weft vs xargs -P2 throughput" "$(bench_speedup "weft exec -j2" "xargs -P2 -n1 sh -c" "$N")x" ">=" 1.0x
if $have_parallel; then
  bench_target "exec: weft vs GNU parallel throughput" "$(bench_speedup "weft exec -j2" "parallel -j2" "$N")x" ">=" 10x
fi

# --- memory: flat in the number of jobs ----------------------------------------
echo
echo "exec: weft exec -j2 true on $BIG jobs, once (peak RSS)"
bench_time "weft exec -j2 (big)" "$WEFT" exec -j2 true <in-big.txt
small=$(bench_rss "weft exec -j2" min)
big=$(bench_rss "weft exec -j2 (big)")
wall=$(bench_best "weft exec -j2 (big)")
awk -v n="$N" -v b="$BIG" -v s="$small" -v g="$big" -v w="$wall" 'BEGIN {
  printf "%-26s %8s %9s %9s\n", "jobs", "wall s", "jobs/s", "RSS KiB"
  printf "%-26s %8s %9s %9d   (smallest of its runs above)\n", n, "", "", s
  printf "%-26s %8.2f %9s %9d\n", b, w, (w > 0 ? sprintf("%.0f", b / w) : "-"), g
  printf "difference: %+d KiB\n", g - s }'
bench_target "exec: RSS($BIG jobs) - RSS($N jobs), KiB" "$((big - small))" "<=" 1024
((BENCH_MISSED == 0)) || [[ ${BENCH_STRICT:-0} != 1 ]]
