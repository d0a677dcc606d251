# Running weft in the background in a test: started with only fds 0, 1
# and 2 open and stdin from /dev/null, SIGINT and SIGQUIT reset to their
# defaults (bash ignores them in the background jobs of a script); every
# wait is bounded. Load after helpers/common.

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# start_weft [--setsid] ARGS: starts weft ARGS, stdout in ./out, stderr in
# ./err, its pid in $pid. --setsid: weft leads a session and process group
# of its own (pgid = pid).
start_weft() {
	local setsid=no
	if [ "$1" = --setsid ]; then
		setsid=yes
		shift
	fi
	"$PY" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGQUIT, signal.SIG_DFL)
os.closerange(3, 65536)
if sys.argv[1] == "yes":
    os.setsid()
os.execv(sys.argv[2], sys.argv[2:])' "$setsid" "$WEFT" "$@" < /dev/null > out 2> err &
	pid=$!
}

# wait_weft [SECONDS]: waits up to SECONDS (default 20) for the weft in
# $pid to end, SIGKILLs it after that; its exit status in $status.
wait_weft() {
	local i
	for ((i = 0; i < ${1:-20} * 50; i++)); do
		kill -0 "$pid" 2> /dev/null || break
		sleep 0.02
	done
	if kill -0 "$pid" 2> /dev/null; then
		echo "weft still running after ${1:-20}s" >&2
		kill -KILL "$pid"
	fi
	wait "$pid" && status=0 || status=$?
}
