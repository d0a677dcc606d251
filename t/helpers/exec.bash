# Helpers for the `weft exec` tests (t/4[2-4]0-exec*.bats): running weft
# exec with its output in files, in the background, and the small job
# scripts the tests share. Load after helpers/common. Every wait is bounded.

# shellcheck source=background.bash
. "${BASH_SOURCE[0]%/*}/background.bash"

# wx ARGS: runs `weft exec ARGS`, stdout in ./out, stderr in ./err.
wx() { "$WEFT" exec "$@" > out 2> err; }

# wx_within SECONDS ARGS: as wx, but weft is stopped (SIGTERM) after
# SECONDS; exit status 124 then.
wx_within() { timeout "$1" "$WEFT" exec "${@:2}" > out 2> err; }

# start_wx ARGS: starts `weft exec ARGS` in the background (stdin from
# /dev/null), stdout in ./out, stderr in ./err, its pid in $pid.
start_wx() {
	"$WEFT" exec "$@" < /dev/null > out 2> err &
	pid=$!
}

# wait_wx [SECONDS]: waits up to SECONDS (default 20) for the weft started
# by start_wx to end (SIGKILLs it after that); its exit status in $status.
wait_wx() { wait_weft "$@"; }

# err_is TEXT, out_is TEXT: ./err or ./out is exactly TEXT and a newline.
err_is() { file_is err "$1"; }
out_is() { file_is out "$1"; }

# barrier.sh ME OTHER [TRIES]: creates ME.ready, then waits (TRIES x 20 ms,
# default 10 s) for OTHER.ready; exits 9 when the other never came.
write_barrier() {
	cat > barrier.sh << 'EOF'
touch "$1.ready"
i=0
while [ ! -e "$2.ready" ]; do
	i=$((i + 1))
	[ "$i" -lt "${3:-500}" ] || exit 9
	sleep 0.02
done
touch "$1.done"
EOF
}

# await.sh FILE... : waits (bounded, 10 s each) until every FILE exists;
# exits 9 when one never came.
write_await() {
	cat > await.sh << 'EOF'
for f in "$@"; do
	i=0
	while [ ! -e "$f" ]; do
		i=$((i + 1))
		[ "$i" -lt 500 ] || exit 9
		sleep 0.02
	done
done
EOF
}

# slot.sh NAME GOAL: registers NAME in slots/, records how many are
# registered (to "seen") until GOAL were seen at once by anyone (bounded:
# up to 10 s), at least a few times, then unregisters.
write_slot() {
	cat > slot.sh << 'EOF'
mkdir -p slots
: > "slots/$1"
me=$1 goal=$2
i=0
while :; do
	# Counted by the shell's glob: no process per look.
	set -- slots/*
	n=$#
	echo "$n" >> seen
	[ "$n" -lt "$goal" ] || : > reached
	i=$((i + 1))
	if [ "$i" -ge 5 ] && [ -e reached ]; then break; fi
	[ "$i" -lt 500 ] || break
	sleep 0.02
done
rm "slots/$me"
EOF
}

max_seen() { sort -n seen | tail -n 1; }

# save.sh VALUE N: writes VALUE, byte for byte, to got/N.
write_save() {
	mkdir -p got
	printf '%s\n' 'printf "%s" "$1" > "got/$2"' > save.sh
}

# file_is FILE TEXT: FILE holds exactly TEXT and a newline (nothing at all
# when TEXT is empty); shows both when not.
file_is() {
	local want=$BATS_TEST_TMPDIR/.want
	if [ -n "$2" ]; then printf '%s\n' "$2" > "$want"; else : > "$want"; fi
	if ! cmp -s "$want" "$1"; then
		echo "$1 differs from what was expected (-expected +got):" >&2
		diff -u "$want" "$1" | tail -n +3 | cat -A >&2
		return 1
	fi
}
