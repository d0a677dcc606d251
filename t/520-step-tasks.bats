#!/usr/bin/env bats
# Built-in steps as recipe tasks: step = NAME ARGS..., on the worker pool,
# alone or fanned out with foreach; errors at load time and at run time.
load helpers/common

setup() { common_setup; }

weft_files() { "$WEFT" "$@" > out 2> err; }

@test "a hash task prints what sha256sum prints" {
	printf 'hello\n' > a
	head -c 100000 /dev/urandom > 'b c'
	cat > weft.ini <<'EOF2'
[sum]
step = hash a 'b c'
EOF2
	run -0 weft_files sum
	sha256sum a 'b c' > want
	cmp out want
}

@test "a grep task prints what grep -n prints; no match is a failure (exit 1)" {
	printf 'one\ntwo\nthree\n' > f
	cat > weft.ini <<'EOF2'
[g]
step = grep "t[wh]" f

[none]
step = grep zzz f
EOF2
	run -0 weft_files g
	grep -n 't[wh]' f > want
	cmp out want
	run -1 weft_files none
	grep -qx "weft: task 'none' failed (exit 1)" err
}

@test "foreach fans a step out over the pool: one hash file per item, sha256sum -c accepts each" {
	mkdir d
	for i in 1 2 3 4 5; do head -c 20000 /dev/urandom > "d/f$i"; done
	cat > weft.ini <<'EOF2'
[sums]
foreach = d/*
step = hash --output={}.sha256 {}
EOF2
	run -0 weft_files -j2 sums
	for i in 1 2 3 4 5; do sha256sum -c "d/f$i.sha256"; done
	[[ "$(tail -n 1 err)" =~ ^weft:\ 5\ tasks\ done\ in ]]
}

@test "a step reading a missing file fails its task with a message naming the file" {
	cat > weft.ini <<'EOF2'
[sum]
step = hash nope

[after]
deps = sum
run = touch after-ran
EOF2
	run -1 weft_files after
	grep -qx "weft: hash: cannot read 'nope': No such file or directory" err
	grep -qx "weft: task 'sum' failed (exit 2)" err
	[ ! -e after-ran ]
}

@test "step errors are recipe errors with file:line, and nothing runs" {
	cat > weft.ini <<'EOF2'
[a]
step = grep 'a(' f

[b]
step = hahs x

[c]
step = hash x
run = touch ran

[d]
step = grep 'unterminated
run = touch ran
EOF2
	run -2 --separate-stderr "$WEFT" a b c d
	[ "$stderr" = "weft.ini:2: step 'grep': invalid regex 'a(': missing closing parenthesis at offset 2
weft.ini:5: unknown step 'hahs' (did you mean 'hash'?)
weft.ini:7: task 'c' has both 'run' and 'step'
weft.ini:12: unterminated quote in 'step'" ]
	[ ! -e ran ]
}

@test "-n shows a step as the command it imitates" {
	cat > weft.ini <<'EOF2'
[all]
deps = sum find
[sum]
step = hash --algo=xxh128 a 'b c'
[find]
dir = d
step = grep -ci --output=n.txt 'x y' a
EOF2
	run -0 "$WEFT" -n all
	assert_output "set -e
xxhsum -H2 -- a 'b c'
(cd d && LC_ALL=C grep -P -nci -- 'x y' a > n.txt)"
}

@test "SIGTERM during a long step cancels it; weft dies of the signal" {
	mkfifo never
	cat > weft.ini <<'EOF2'
[slow]
step = hash never
EOF2
	"$WEFT" slow > out 2> err &
	pid=$!
	# Opening a fifo blocks until both ends are open, so "opened" appears
	# only once the step holds the fifo. The writer never stops, so the
	# step can only end by being cancelled; the writer dies of SIGPIPE
	# once the step's end is closed.
	sh -c 'exec 3> never; touch opened; exec cat /dev/zero >&3' &
	writer=$!
	wait_for opened
	kill -TERM "$pid"
	timeout 20 tail --pid="$pid" -f /dev/null || kill -KILL "$pid"
	status=0
	wait "$pid" || status=$?
	kill "$writer" 2> /dev/null || true
	wait "$writer" || true
	[ "$status" -eq 143 ]
}
