#!/usr/bin/env bats
# --events: the run's event stream as JSON Lines, for recipes and weft exec
# alike: every line an object, ids unique, each job queued, then started and
# finished (or skipped), in that order, and run-end's counts the summary's.
load helpers/common

setup() { common_setup; }

WIRE="$BATS_TEST_DIRNAME/../build/t/wire-test"

# lifecycles FILE: for each job id, its events in file order, joined by
# spaces; one line per distinct lifecycle, sorted.
lifecycles() {
	jq -rs 'reduce (.[] | select(.id and (.event | IN("queued", "started", "finished", "skipped")))) as $e
		({}; .[$e.id | tostring] += [$e.event]) | .[] | join(" ")' "$1" | sort -u
}

# jqf FILE FILTER: the filter over the whole file as one array, raw output.
jqf() { jq -rs "$2" "$1"; }

@test "a recipe run: failing, skipped, foreach and up-to-date jobs, each queued then started and finished, or skipped" {
	recipe '[all]
deps = fresh items bad after
[fresh]
sources = src.txt
run = cat src.txt > out.txt
[items]
foreach = x y z
run = echo item {}
[bad]
run = echo failing; exit 3
[after]
deps = bad
run = touch ran-after'
	echo hello > src.txt
	run -0 "$WEFT" fresh
	run -1 --separate-stderr "$WEFT" -k -j 2 --events=ev.jsonl
	[ ! -e ran-after ]
	# Every line is one JSON object with a known event.
	run -0 jq -c 'select(.event | IN("run-start", "queued", "started", "output", "finished", "skipped", "message", "run-end") | not)' ev.jsonl
	assert_output ''
	[ "$(jq -c . ev.jsonl | wc -l)" -eq "$(wc -l < ev.jsonl)" ]
	[ "$(head -n 1 ev.jsonl | jq -r .event)" = run-start ]
	[ "$(tail -n 1 ev.jsonl | jq -r .event)" = run-end ]
	run -0 jqf ev.jsonl '.[0] | "\(.schema) \(.jobs) \(.argv | join(" "))"'
	assert_output "1 2 $WEFT -k -j 2 --events=ev.jsonl"
	# Ids: unique among queued jobs, and every job event has a queued one.
	run -0 jqf ev.jsonl '[.[] | select(.event == "queued") | .id] | (length == (unique | length))'
	assert_output true
	run -0 jqf ev.jsonl '([.[] | select(.event == "queued") | .id]) as $q | [.[] | select(.id) | .id] - $q | length'
	assert_output 0
	run -0 lifecycles ev.jsonl
	assert_output 'queued skipped
queued started finished'
	# Names as the summary gives them; items carry their task and item.
	run -0 jqf ev.jsonl '[.[] | select(.event == "queued") | .name] | sort | join(" ")'
	assert_output 'after all bad fresh items[x] items[y] items[z]'
	run -0 jqf ev.jsonl '.[] | select(.event == "queued" and .item) | "\(.task) \(.item) \(.seq)"'
	assert_output 'items x 1
items y 2
items z 3'
	run -0 jqf ev.jsonl '(map(select(.event == "queued")) | map({(.id | tostring): .name}) | add) as $n
		| .[] | select(.event == "finished") | "\($n[.id | tostring]) \(.result) \(.exit // "-") \(.up_to_date // false)"'
	assert_output --partial 'bad exit 3 false'
	assert_output --partial 'fresh ok - true'
	assert_output --partial 'items[y] ok - false'
	run -0 jqf ev.jsonl '(map(select(.event == "queued")) | map({(.id | tostring): .name}) | add) as $n
		| [.[] | select(.event == "skipped") | "\($n[.id | tostring]): \(.why)"] | sort | join(", ")'
	assert_output 'after: dependency failed, all: dependency failed'
	# run-end counts are the summary's.
	[[ $stderr =~ weft:\ ([0-9]+)\ done,\ ([0-9]+)\ failed,\ ([0-9]+)\ not\ started ]]
	local summary="${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"
	assert_equal "$summary" "4 1 2"
	run -0 jqf ev.jsonl '.[-1] | "\(.ok) \(.failed) \(.skipped) \(.up_to_date) \(.queued) \(.exit) \(.signal)"'
	assert_output "$summary 1 7 1 0"
	# Without --events-output, no output events; the terminal output is as ever.
	run -0 jqf ev.jsonl '[.[] | select(.event == "output")] | length'
	assert_output 0
}

@test "weft exec: each input a job named by its command, numbered by its input, counts as the exit status" {
	run -1 --separate-stderr "$WEFT" exec -j 2 --events=ev.jsonl sh -c \''echo in {}; exit {}'\' ::: 0 2 0
	assert_output --partial 'in 2'
	run -0 lifecycles ev.jsonl
	assert_output 'queued started finished'
	run -0 jqf ev.jsonl '[.[] | select(.event == "queued") | "\(.seq) \(.name)"] | sort | join(", ")'
	assert_output "1 sh -c 'echo in 0; exit 0', 2 sh -c 'echo in 2; exit 2', 3 sh -c 'echo in 0; exit 0'"
	run -0 jqf ev.jsonl '.[] | select(.event == "started") | (.pid > 0 and (.slot | IN(1, 2)))'
	assert_output 'true
true
true'
	run -0 jqf ev.jsonl '.[-1] | "\(.queued) \(.ok) \(.failed) \(.skipped) \(.exit)"'
	assert_output '3 2 1 0 1'
}

@test "weft exec --tag: the name is the tag; retries start the same id again" {
	run -1 "$WEFT" exec --tag --retries 2 --events=ev.jsonl false ::: a
	run -0 lifecycles ev.jsonl
	assert_output 'queued started finished started finished'
	run -0 jqf ev.jsonl '[.[] | select(.event == "finished") | .retry // false] | map(tostring) | join(" ")'
	assert_output 'true false'
	run -0 jqf ev.jsonl '.[] | select(.event == "queued") | .name'
	assert_output 'a'
}

@test "--events=- owns stdout: only events there; --events-output carries every byte, bytes that are not UTF-8 too" {
	printf '[a]\nrun = printf "hi\\\\377\\\\n"; echo oops >&2\n' > weft.ini
	"$WEFT" --events=- > plain.jsonl 2> err
	run -0 jq -r .event plain.jsonl
	assert_output 'run-start
queued
started
finished
run-end'
	run -0 grep -c '^weft: 1 task done in' err
	"$WEFT" --events=- --events-output > out.jsonl 2> err
	run -0 jqf out.jsonl '[.[] | select(.event == "output") | .stream] | sort | join(" ")'
	assert_output '1 2'
	run -0 grep -c '"stream":1,"data":"hi\\u00ff\\n"}$' out.jsonl
	assert_output 1
	run -0 grep -c '"stream":2,"data":"oops\\n"}$' out.jsonl
	assert_output 1
	# weft's own reader gives the same bytes back: decoding and encoding
	# again changes nothing.
	run -0 "$WIRE" reencode < out.jsonl
	assert_output "$(cat out.jsonl)"
}

@test "events survive decoding: every event of a run, and hostile bytes in every field" {
	recipe '[all]
deps = s
foreach = a "b c" d\\e
run = printf "%s\n" {} ; echo done >&2
[s]
run = exit 4'
	run -1 "$WEFT" -k --events=ev.jsonl --events-output
	run -0 "$WIRE" reencode < ev.jsonl
	assert_output "$(cat ev.jsonl)"
	run -0 "$WIRE" roundtrip
	assert_output --regexp '^[0-9]+ events, 0 differences$'
}

@test "messages are events: --explain reasons, warnings and listing errors, each with its level" {
	recipe '[fresh]
sources = src.txt
run = true
[list]
foreach = lines:missing.txt
run = echo {}'
	echo x > src.txt
	run -1 --separate-stderr "$WEFT" -q -k --explain --events=ev.jsonl fresh list
	# The two tasks go at once: their lines may come in either order.
	run -0 sort <<< "$stderr"
	assert_output --regexp "^weft: 1 done, 1 failed, 0 not started in [0-9.]+s
weft: cannot read the items of task 'list': No such file or directory
weft: task 'fresh' runs: never ran
weft: task 'list' failed \(exit 1\)$"
	run -0 jqf ev.jsonl '[.[] | select(.event == "message") | "\(.level): \(.text)"] | sort | join("\n")'
	assert_output "error: cannot read the items of task 'list': No such file or directory
info: task 'fresh' runs: never ran"
	run -0 jqf ev.jsonl '(map(select(.event == "queued")) | map({(.id | tostring): .name}) | add) as $n
		| [.[] | select(.event == "finished") | "\($n[.id | tostring]) \(.result)"] | sort | join(", ")'
	assert_output 'fresh ok, list exit'
}

@test "--events: an unwritable file stops the run before anything starts; bad values are usage errors" {
	recipe '[a]
run = touch ran-a'
	run -2 --separate-stderr "$WEFT" --events=nodir/ev.jsonl
	assert_equal "$stderr" "weft: cannot write the events to '$PWD/nodir/ev.jsonl': No such file or directory"
	[ ! -e ran-a ]
	run -2 --separate-stderr "$WEFT" --events-output
	assert_equal "${stderr%%$'\n'*}" "weft: --events-output needs --events=FILE"
	run -1 --separate-stderr "$WEFT" --events=/dev/full
	assert_equal "${stderr%%$'\n'*}" "weft: cannot write the events: No space left on device; starting no more jobs"
	[ ! -e ran-a ]
	run -255 --separate-stderr "$WEFT" exec --events=/dev/full touch ::: ran-b
	[ ! -e ran-b ]
}
