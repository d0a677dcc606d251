#!/usr/bin/env bash
# t/bench/50-noop.sh: how fast weft finds that nothing needs doing.
#
# The same graph for weft and ninja: BENCH_NOOP_TASKS (default 100) tasks,
# each with BENCH_NOOP_FILES (default 100) source files of its own (10,000
# sources in all) and one output. Both build once; then each no-op run is
# timed: weft stats every source (no hashing: nothing changed) and checks
# its outputs, ninja stats every input and output.
# Target (issue): weft's no-op within 2x of ninja's.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

TASKS=${BENCH_NOOP_TASKS:-100}
FILES=${BENCH_NOOP_FILES:-100}
REPS=${BENCH_REPS:-5}
bench_posint TASKS FILES REPS
bench_require_time
bench_weft
if ! command -v ninja >/dev/null; then
  echo "noop: ninja not installed (Debian package ninja-build); skipped"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export BENCH_RESULTS=$work/results

mkdir -p out
{
  printf 'rule cat\n  command = cat $in > $out\n\n'
  for ((t = 0; t < TASKS; t++)); do
    mkdir -p "src/d$t"
    ins=""
    for ((f = 0; f < FILES; f++)); do
      echo "$t $f" >"src/d$t/f$f.c"
      ins+=" src/d$t/f$f.c"
    done
    printf 'build out/d%d.o: cat%s\n' "$t" "$ins"
    printf '[t%d]\nsources = src/d%d/*.c\noutputs = out/d%d.o\nrun = cat src/d%d/*.c > out/d%d.o\n\n' \
      "$t" "$t" "$t" "$t" "$t" >>weft.ini
  done
} >build.ninja
printf '[all]\ndeps =' >>weft.ini
for ((t = 0; t < TASKS; t++)); do printf ' t%d' "$t" >>weft.ini; done
printf '\n' >>weft.ini

# The first runs build; their outputs make the later ones no-ops. weft
# hashes a file again while its mtime is within 2 s of the last hash (git's
# "racily clean" rule): wait that out, as any real no-op run would have.
"$WEFT" -j2 all >/dev/null 2>&1
ninja -j2 >/dev/null
sleep 2.5
"$WEFT" -j2 all >/dev/null 2>&1
if ! "$WEFT" -j2 all 2>&1 >/dev/null | grep -q "($TASKS up to date)"; then
  echo "bench: weft's second run was not a no-op" >&2
  exit 1
fi
ninja -n | grep -q 'no work to do' || { echo "bench: ninja's second run was not a no-op" >&2; exit 1; }

# A no-op takes some 10 ms, below /usr/bin/time's resolution: time LOOPS
# runs in a row with the clock in ns, REPS times interleaved, keep the best.
LOOPS=${BENCH_NOOP_LOOPS:-20}
bench_posint LOOPS
echo "noop: no-op run over $((TASKS * FILES)) unchanged sources in $TASKS tasks,"
echo "best of $REPS rounds of $LOOPS runs each, $(nproc) CPUs"
echo
loop_ms() {
  local t0 t1 i
  t0=$(date +%s%N)
  for ((i = 0; i < LOOPS; i++)); do "$@" >/dev/null 2>&1; done
  t1=$(date +%s%N)
  echo $(((t1 - t0) / LOOPS / 1000))
}
best_w="" best_n=""
for ((r = 1; r <= REPS; r++)); do
  w=$(loop_ms "$WEFT" -j2 all)
  n=$(loop_ms ninja -j2)
  [[ -n $best_w && $best_w -le $w ]] || best_w=$w
  [[ -n $best_n && $best_n -le $n ]] || best_n=$n
done
bench_time "weft -j2 (no-op)" "$WEFT" -j2 all
bench_time "ninja -j2 (no-op)" ninja -j2
printf '%-26s %10s %8s\n' tool "ms/run" "RSS MiB"
printf '%-26s %10.2f %8.1f\n' "weft -j2 (no-op)" "$(awk -v u="$best_w" 'BEGIN { print u / 1000 }')" \
  "$(awk -v k="$(bench_rss "weft -j2 (no-op)")" 'BEGIN { print k / 1024 }')"
printf '%-26s %10.2f %8.1f\n' "ninja -j2 (no-op)" "$(awk -v u="$best_n" 'BEGIN { print u / 1000 }')" \
  "$(awk -v k="$(bench_rss "ninja -j2 (no-op)")" 'BEGIN { print k / 1024 }')"
echo
slow=$(awk -v w="$best_w" -v n="$best_n" 'BEGIN { if (n > 0) printf "%.2f", w / n; else print "-" }')
bench_target "noop: weft's no-op time / ninja's" "${slow}x" "<=" 2.0x
((BENCH_MISSED == 0)) || [[ ${BENCH_STRICT:-0} != 1 ]]
