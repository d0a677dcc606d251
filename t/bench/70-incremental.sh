#!/usr/bin/env bash
# t/bench/70-incremental.sh: weft as a C build tool, against make and ninja.
#
# A generated project of BENCH_INCR_FILES (default 500) .c files, each
# including a common header and one of ten others, compiled with gcc -MMD
# -MP into one object each and linked into one program: the same graph
# for the three tools, with depfiles for all three (make: -include of the
# .d files; ninja: deps = gcc; weft: a foreach task with sources = {},
# outputs and depfile per item). Each tool builds into a directory of its
# own, from the same sources. Timed, at -j2:
#   clean        from nothing (BENCH_INCR_CLEAN_REPS, default 1: CPU heavy)
#   incremental  one .c edited, then each tool rebuilds (BENCH_REPS, 3)
#   no-op        nothing changed (best of BENCH_REPS rounds of
#                BENCH_INCR_LOOPS, default 10, runs in a row)
# Targets (issue): incremental <= 1.2x make's wall time, no-op <= ninja's,
# clean <= 1.05x make's.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

FILES=${BENCH_INCR_FILES:-500}
REPS=${BENCH_REPS:-3}
CLEAN_REPS=${BENCH_INCR_CLEAN_REPS:-1}
LOOPS=${BENCH_INCR_LOOPS:-10}
bench_posint FILES REPS CLEAN_REPS LOOPS
bench_require_time
bench_weft
if ! command -v ninja >/dev/null || ! command -v gcc >/dev/null; then
  echo "incremental: ninja or gcc not installed (Debian packages ninja-build, gcc); skipped"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir src include

# The project.
printf '#ifndef COMMON_H\n#define COMMON_H\n#define SCALE 3\n#endif\n' >include/common.h
for ((h = 0; h < 10; h++)); do
  printf '#ifndef H%d_H\n#define H%d_H\n#include "common.h"\nstatic inline int h%d(int x) { return x * SCALE + %d; }\n#endif\n' \
    "$h" "$h" "$h" "$h" >"include/h$h.h"
done
{
  printf '#include <stdio.h>\n'
  for ((i = 0; i < FILES; i++)); do printf 'int f%d(int);\n' "$i"; done
  printf 'int main(void)\n{\n\tlong s = 0;\n'
  for ((i = 0; i < FILES; i++)); do printf '\ts += f%d(%d);\n' "$i" "$i"; done
  printf '\tprintf("%%ld\\n", s);\n\treturn 0;\n}\n'
} >src/main.c
for ((i = 0; i < FILES; i++)); do
  printf '#include "h%d.h"\n\nint f%d(int x)\n{\n\tint s = 0;\n\tfor (int k = 0; k < x %% 17; k++)\n\t\ts += h%d(k);\n\treturn s;\n}\n' \
    $((i % 10)) "$i" $((i % 10)) >"src/f$i.c"
done

# make: pattern rule, depfiles included.
cat >Makefile <<'MK'
SRCS := $(wildcard src/*.c)
OBJS := $(SRCS:src/%.c=mk/%.o)
mk/app: $(OBJS)
	gcc -o $@ $(OBJS)
mk/%.o: src/%.c
	gcc -Iinclude -MMD -MP -c $< -o $@
-include $(OBJS:.o=.d)
MK
# ninja: the same, deps = gcc.
{
  printf 'rule cc\n  command = gcc -Iinclude -MMD -MP -MF $out.d -c $in -o $out\n  depfile = $out.d\n  deps = gcc\n'
  printf 'rule link\n  command = gcc -o $out $in\n'
  objs=""
  for f in src/*.c; do
    b=${f#src/}
    printf 'build nj/%s.o: cc %s\n' "${b%.c}" "$f"
    objs+=" nj/${b%.c}.o"
  done
  printf 'build nj/app: link%s\n' "$objs"
} >build.ninja
# weft: items checked one by one.
cat >weft.ini <<'INI'
[compile]
foreach = src/*.c
sources = {}
outputs = wf/{/.}.o
depfile = wf/{/.}.d
run = gcc -Iinclude -MMD -MP -MF wf/{/.}.d -c {} -o wf/{/.}.o

[link]
deps = compile
sources = wf/*.o
outputs = wf/app
run = gcc -o wf/app wf/*.o
INI

clean() { rm -rf mk nj wf .weft .ninja_log .ninja_deps && mkdir mk nj wf; }
run_make() { make -s -j2 mk/app; }
run_ninja() { ninja -j2 nj/app; }
run_weft() { "$WEFT" -j2 link; }
export -f run_make run_ninja run_weft
export WEFT

echo "incremental: a $((FILES + 1))-file C project (gcc -MMD -MP) at -j2, $(nproc) CPUs"
echo

# Clean builds.
export BENCH_RESULTS=$work/clean
for ((r = 1; r <= CLEAN_REPS; r++)); do
  clean
  bench_time "make -j2 (clean)" bash -c run_make
  bench_time "ninja -j2 (clean)" bash -c run_ninja
  bench_time "weft -j2 (clean)" bash -c run_weft
done
[[ $(mk/app) == "$(nj/app)" && $(nj/app) == "$(wf/app)" ]] || { echo "bench: the three programs differ" >&2; exit 1; }
bench_table $((FILES + 2)) steps
echo

# One .c edited, REPS times (another file each time); each tool rebuilds.
export BENCH_RESULTS=$work/incr
"$WEFT" -j2 link >/dev/null 2>&1
for ((r = 1; r <= REPS; r++)); do
  f=src/f$((r * 37 % FILES)).c
  printf '/* edit %d */\n' "$r" >>"$f"
  bench_time "make -j2 (one .c)" bash -c run_make
  bench_time "ninja -j2 (one .c)" bash -c run_ninja
  bench_time "weft -j2 (one .c)" bash -c run_weft
done
if ! "$WEFT" --explain -j2 link 2>&1 | grep -q "($((FILES + 2)) up to date)"; then
  echo "bench: weft rebuilt more than the edited file" >&2
  exit 1
fi
bench_table
echo

# No-op: past the racy window (weft hashes again what changed within 2 s
# of its last hash), as a real no-op run would be.
sleep 2.5
"$WEFT" -j2 link >/dev/null 2>&1
ninja -n -j2 nj/app | grep -q 'no work to do' || { echo "bench: ninja's run was not a no-op" >&2; exit 1; }
loop_ms() {
  local t0 t1 i
  t0=$(date +%s%N)
  for ((i = 0; i < LOOPS; i++)); do "$@" >/dev/null 2>&1; done
  t1=$(date +%s%N)
  echo $(((t1 - t0) / LOOPS / 1000))
}
best_m="" best_n="" best_w=""
for ((r = 1; r <= REPS; r++)); do
  m=$(loop_ms run_make)
  n=$(loop_ms run_ninja)
  w=$(loop_ms run_weft)
  [[ -n $best_m && $best_m -le $m ]] || best_m=$m
  [[ -n $best_n && $best_n -le $n ]] || best_n=$n
  [[ -n $best_w && $best_w -le $w ]] || best_w=$w
done
printf '%-26s %10s\n' tool "ms/run"
for t in "make -j2 (no-op):$best_m" "ninja -j2 (no-op):$best_n" "weft -j2 (no-op):$best_w"; do
  printf '%-26s %10.2f\n' "${t%%:*}" "$(awk -v u="${t##*:}" 'BEGIN { print u / 1000 }')"
done
echo

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
BENCH_RESULTS=$work/clean
bench_target "incremental: clean build, weft / make" \
  "$(ratio "$(bench_best "weft -j2 (clean)")" "$(bench_best "make -j2 (clean)")")x" "<=" 1.05x
BENCH_RESULTS=$work/incr
bench_target "incremental: one .c edited, weft / make" \
  "$(ratio "$(bench_best "weft -j2 (one .c)")" "$(bench_best "make -j2 (one .c)")")x" "<=" 1.2x
bench_target "incremental: no-op, weft / ninja" "$(ratio "$best_w" "$best_n")x" "<=" 1.0x
((BENCH_MISSED == 0)) || [[ ${BENCH_STRICT:-0} != 1 ]]
