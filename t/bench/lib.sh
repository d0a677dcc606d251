# shellcheck shell=bash
# t/bench/lib.sh: helpers shared by the benchmarks in t/bench/. Sourced, not
# run. Each benchmark script sets BENCH_RESULTS to a file in its temp dir,
# calls bench_time once per run (interleaving the tools), then bench_table.
#
#   bench_require_time        exit 1 with a hint if /usr/bin/time is missing
#   bench_weft                set WEFT to an absolute path (default bin/weft);
#                             exit 1 if it is not an executable
#   bench_posint NAME...      exit 1 unless each variable NAME is a whole
#                             number from 1
#   bench_time LABEL CMD...   run CMD (stdout and stderr to /dev/null; stdin
#                             is the caller's) under /usr/bin/time; append
#                             "LABEL<TAB>wall<TAB>rss<TAB>cpu" (seconds,
#                             KiB, user+system seconds of the whole tree)
#                             to $BENCH_RESULTS; fail if CMD fails
#   bench_count LABEL N       LABEL's runs do N units of work instead of the
#                             JOBS given to bench_table (a slow tool run on
#                             less work); its rate and ratio are scaled
#   bench_best LABEL          print LABEL's best (lowest) wall time
#   bench_rss LABEL [min|max] print LABEL's smallest (default) or largest
#                             peak RSS over its runs, KiB
#   bench_speedup A B [JOBS]  how many times the rate of A is B's (work per
#                             second, from each one's best run; JOBS as for
#                             bench_table, needed with bench_count), e.g.
#                             1.07; "-" when a best time is 0 (under 0.01s)
#   bench_table [JOBS [UNIT]] per label, in first-run order: best wall time,
#                             rate (JOBS / wall, column UNIT, default
#                             jobs/s) when JOBS is given, ratio to the first
#                             label, CPU time and peak RSS of that best run
#   bench_target TEXT VALUE OP LIMIT
#                             print "TEXT: VALUE (target OP LIMIT) PASS|FAIL"
#                             (OP is >=, <= or <) and add it to the summary;
#                             a FAIL sets BENCH_MISSED=1
#   bench_summary LINE        print LINE and add it to the summary that
#                             t/bench/run prints at the end ($BENCH_SUMMARY)
#   bench_make_files DIR MB N write N files DIR/000... holding MB MiB of
#                             /dev/urandom in all, then read them once
#
# Peak RSS is GNU time's %M: the largest single process of the command's tree
# (not a sum), so it is mostly the tool itself. CPU time (user + system, of
# the tool and every process it started) is shown because it suffers less
# than wall time from other work on a shared machine.

# shellcheck disable=SC2034 # read by the scripts that source this file
BENCH_MISSED=0

bench_require_time() {
  if [[ ! -x /usr/bin/time ]]; then
    echo "bench: /usr/bin/time not found; install the Debian package 'time' (apt-get install time)" >&2
    exit 1
  fi
}

bench_weft() {
  WEFT=${WEFT:-bin/weft}
  [[ $WEFT == /* ]] || WEFT=$PWD/$WEFT
  if [[ ! -x $WEFT ]]; then
    echo "bench: $WEFT is not an executable; build it first (make)" >&2
    exit 1
  fi
}

bench_posint() {
  local v
  for v in "$@"; do
    if [[ ! ${!v} =~ ^[1-9][0-9]*$ ]]; then
      echo "bench: $v must be a positive whole number, not '${!v}'" >&2
      exit 1
    fi
  done
}

bench_time() {
  local label=$1 rc=0 wall rss user sys
  shift
  /usr/bin/time -f '%e %M %U %S' -o "$BENCH_RESULTS.time" "$@" >/dev/null 2>&1 || rc=$?
  if ((rc != 0)); then
    echo "bench: '$label' failed (exit $rc): $*" >&2
    return 1
  fi
  read -r wall rss user sys <"$BENCH_RESULTS.time"
  printf '%s\t%s\t%s\t%s\n' "$label" "$wall" "$rss" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" >>"$BENCH_RESULTS"
}

bench_count() {
  printf '%s\t%s\n' "$1" "$2" >>"$BENCH_RESULTS.count"
}

bench_best() {
  awk -F'\t' -v label="$1" '
    $1 == label && (best == "" || $2 + 0 < best + 0) { best = $2 }
    END { print best }' "$BENCH_RESULTS"
}

bench_rss() {
  awk -F'\t' -v label="$1" -v how="${2:-min}" '
    $1 == label && (r == "" || (how == "max" ? $3 + 0 > r + 0 : $3 + 0 < r + 0)) { r = $3 }
    END { print r }' "$BENCH_RESULTS"
}

# Work done by one run of LABEL: its bench_count, else DEFAULT.
bench__count() {
  local n=""
  [[ -f $BENCH_RESULTS.count ]] &&
    n=$(awk -F'\t' -v label="$1" '$1 == label { n = $2 } END { print n }' "$BENCH_RESULTS.count")
  echo "${n:-$2}"
}

bench_speedup() {
  awk -v a="$(bench_best "$1")" -v b="$(bench_best "$2")" \
    -v na="$(bench__count "$1" "${3:-1}")" -v nb="$(bench__count "$2" "${3:-1}")" '
    BEGIN { if (a > 0 && b > 0) printf "%.2f\n", (na / a) / (nb / b); else print "-" }'
}

bench_table() {
  local counts=/dev/null
  [[ -f $BENCH_RESULTS.count ]] && counts=$BENCH_RESULTS.count
  awk -F'\t' -v jobs="${1:-}" -v unit="${2:-jobs/s}" '
    FILENAME != ARGV[ARGC - 1] { count[$1] = $2; next }
    !($1 in best) { order[n++] = $1; best[$1] = $2; rss[$1] = $3; cpu[$1] = $4 }
    $2 + 0 < best[$1] + 0 { best[$1] = $2; rss[$1] = $3; cpu[$1] = $4 }
    END {
      # per-unit time: wall / work, so that scaled tools compare fairly
      for (i = 0; i < n; i++) {
        l = order[i]; work[l] = (l in count) ? count[l] : (jobs != "" ? jobs : 1)
        per[l] = best[l] / work[l]
      }
      base = per[order[0]]
      printf "%-26s %8s", "tool", "wall s"
      if (jobs != "") printf " %9s", unit
      printf " %7s %7s %8s\n", "ratio", "CPU s", "RSS MiB"
      for (i = 0; i < n; i++) {
        l = order[i]; w = best[l] + 0
        printf "%-26s %8.2f", l, w
        if (jobs != "") printf " %9s", (w > 0 ? sprintf("%.0f", work[l] / w) : "-")
        printf " %7s %7.2f %8.1f\n", (base > 0 ? sprintf("%.2f", per[l] / base) : "-"), cpu[l], rss[l] / 1024
      }
      printf "(ratio: wall time / %s wall time, per unit of work; above 1 means %s is faster)\n",
        order[0], order[0]
      for (i = 0; i < n; i++) {
        l = order[i]
        if ((l in count) && jobs != "" && count[l] != jobs)
          printf "(%s ran %s instead of %s; its wall time is for that, its rate and ratio are scaled)\n", l, count[l], jobs
      }
    }' "$counts" "$BENCH_RESULTS"
}

bench_summary() {
  echo "$1"
  if [[ -n ${BENCH_SUMMARY:-} ]]; then
    echo "$1" >>"$BENCH_SUMMARY"
  fi
}

bench_target() {
  local text=$1 value=$2 op=$3 limit=$4 verdict
  verdict=$(awk -v v="$value" -v op="$op" -v l="$limit" 'BEGIN {
    if (v == "-" || v == "") { print "FAIL"; exit }
    ok = (op == ">=") ? v + 0 >= l + 0 : (op == "<=") ? v + 0 <= l + 0 : v + 0 < l + 0
    print ok ? "PASS" : "FAIL" }')
  # shellcheck disable=SC2034
  [[ $verdict == PASS ]] || BENCH_MISSED=1
  bench_summary "$text: $value (target $op $limit) $verdict"
}

bench_make_files() {
  local dir=$1 mb=$2 n=$3
  mkdir -p "$dir"
  head -c $((mb * 1048576)) /dev/urandom |
    split -b $((mb * 1048576 / n)) -d -a ${#n} - "$dir/"
  cat "$dir"/* >/dev/null
}

# bench_have_parallel: prints true when GNU parallel (not moreutils') is here.
bench_have_parallel() {
  if command -v parallel >/dev/null && parallel --version 2>/dev/null | grep -q 'GNU parallel'; then
    echo true
  else
    echo false
  fi
}

# bench_workdir: a scratch directory as the current one, removed at exit,
# with BENCH_RESULTS in it.
bench_workdir() {
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cd "$work" || exit 1
  export BENCH_RESULTS=$work/results
}
