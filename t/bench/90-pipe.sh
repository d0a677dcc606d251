#!/usr/bin/env bash
# t/bench/90-pipe.sh: weft exec --pipe (standard input cut into blocks, one
# per job's stdin) against GNU parallel --pipe and split + xargs.
#
# The data: BENCH_PIPE_MB MiB (default 200) of numbered lines in a temp
# file, read once before timing. Each tool counts its lines in 1 MiB
# blocks, 2 at once:
#   weft exec -j2 --pipe wc -l < in.txt
#   parallel -j2 --pipe wc -l < in.txt
#   split -C 1M in.txt parts/ && ls parts/* | xargs -P2 -n1 wc -l
#                     (split writes every block to a file first)
# and, on the file itself (cut by seeking, no stdin):
#   weft exec -j2 --pipe-part -a in.txt --block 1M wc -l
#   parallel -j2 --pipe-part -a in.txt --block 1M wc -l
# GNU parallel is slow, so it reads BENCH_PIPE_PARALLEL_MB MiB (default a
# quarter of the data, the same lines' start) and its rate is scaled (the
# table says so). BENCH_REPS (default 3) interleaved runs each; best wall
# time counts. Each tool's line count is checked once before timing.
# Then weft alone runs over the data twice over, once, to check that its
# peak RSS does not grow with the input (blocks are streamed).
#
# Targets: weft >= 1.0x split + xargs and >= 5x GNU parallel in MiB/s;
# weft --pipe-part >= 1.0x GNU parallel --pipe-part;
# RSS(2x data) - RSS(data) within 1 MiB (1024 KiB); weft's peak RSS under
# 16 MiB with 1 MiB blocks.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

MB=${BENCH_PIPE_MB:-200}
PMB=${BENCH_PIPE_PARALLEL_MB:-$(((MB + 3) / 4))}
REPS=${BENCH_REPS:-3}
bench_posint MB PMB REPS
bench_require_time
bench_weft
have_parallel=$(bench_have_parallel)
bench_workdir

(seq 1 1000000000 || :) | head -c $((MB * 1048576)) >in.txt
head -c $((PMB * 1048576)) in.txt >in-parallel.txt
cat in.txt in.txt >in-double.txt
mkdir parts
want=$(wc -l <in.txt)

# --- check each tool's count before timing it ---------------------------------
sum() { awk '{ n += $1 } END { print n + 0 }'; }
got=$("$WEFT" exec -j2 --pipe wc -l <in.txt | sum)
if [[ $got != "$want" ]]; then
  echo "bench: weft exec --pipe wc -l counted $got lines, not $want" >&2
  exit 1
fi
split_xargs() {
  rm -f parts/*
  split -C 1M in.txt parts/ && printf '%s\n' parts/* | xargs -P2 -n1 wc -l
}
got=$("$WEFT" exec -j2 --pipe-part -a in.txt --block 1M wc -l | sum)
if [[ $got != "$want" ]]; then
  echo "bench: weft exec --pipe-part wc -l counted $got lines, not $want" >&2
  exit 1
fi
got=$(split_xargs | sum)
[[ $got == "$want" ]] || { echo "bench: split + xargs counted $got lines, not $want" >&2; exit 1; }
export -f split_xargs

echo "pipe: wc -l over $MB MiB of lines in 1 MiB blocks, 2 at once, best of $REPS runs, $(nproc) CPUs"
echo "weft: $WEFT ($("$WEFT" --version 2>/dev/null | head -n 1 || true))"
$have_parallel || echo "GNU parallel: not installed, skipped (Debian package parallel)"
echo

$have_parallel && bench_count "parallel -j2 --pipe" "$PMB"
for ((r = 1; r <= REPS; r++)); do
  bench_time "weft exec -j2 --pipe" "$WEFT" exec -j2 --pipe wc -l <in.txt
  bench_time "split -C 1M + xargs -P2" bash -c split_xargs
  if $have_parallel; then
    bench_time "parallel -j2 --pipe" parallel --will-cite -j2 --pipe wc -l <in-parallel.txt
  fi
  bench_time "weft exec -j2 --pipe-part" "$WEFT" exec -j2 --pipe-part -a in.txt --block 1M wc -l
  if $have_parallel; then
    bench_time "parallel -j2 --pipe-part" parallel --will-cite -j2 --pipe-part -a in.txt --block 1M wc -l
  fi
done

bench_table "$MB" "MiB/s"
echo
bench_target "pipe: weft vs split + xargs -P2" "$(bench_speedup "weft exec -j2 --pipe" "split -C 1M + xargs -P2" "$MB")x" ">=" 1.0x
if $have_parallel; then
  bench_target "pipe: weft vs GNU parallel --pipe" "$(bench_speedup "weft exec -j2 --pipe" "parallel -j2 --pipe" "$MB")x" ">=" 5x
  bench_target "pipe-part: weft vs GNU parallel --pipe-part" \
    "$(bench_speedup "weft exec -j2 --pipe-part" "parallel -j2 --pipe-part" "$MB")x" ">=" 1.0x
fi

# --- memory: flat in the size of the input --------------------------------------
echo
echo "pipe: weft exec -j2 --pipe wc -l on $((MB * 2)) MiB, once (peak RSS)"
bench_time "weft exec -j2 --pipe (2x)" "$WEFT" exec -j2 --pipe wc -l <in-double.txt
small=$(bench_rss "weft exec -j2 --pipe" max)
big=$(bench_rss "weft exec -j2 --pipe (2x)")
awk -v m="$MB" -v s="$small" -v g="$big" 'BEGIN {
  printf "%-26s %9s\n", "input MiB", "RSS KiB"
  printf "%-26s %9d   (largest of its runs above)\n", m, s
  printf "%-26s %9d\n", m * 2, g
  printf "difference: %+d KiB\n", g - s }'
bench_target "pipe: RSS($((MB * 2)) MiB) - RSS($MB MiB), KiB" "$((big - small))" "<=" 1024
bench_target "pipe: weft's peak RSS, KiB" "$big" "<" 16384
((BENCH_MISSED == 0)) || [[ ${BENCH_STRICT:-0} != 1 ]]
