#!/bin/sh
# fuzz.sh FUZZ_BUILD SECONDS NAME... - run each libFuzzer target
# FUZZ_BUILD/fuzz_NAME for SECONDS seconds (`make fuzz` builds them and
# calls this). Each starts from its seed corpus tests/fuzz/corpus/NAME/
# and its kept crashers tests/fuzz/regress/NAME/; inputs it finds go to
# FUZZ_BUILD/corpus/NAME/ (kept between runs, never committed), crashes,
# leaks, timeouts and out-of-memory inputs to tests/fuzz/regress/NAME/.
# Extra libFuzzer flags come from $FUZZ_OPTS. Prints each target's
# statistics and exits 1 if any target found something.
set -u

if [ $# -lt 3 ]; then
	echo "usage: $0 FUZZ_BUILD SECONDS NAME..." >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
build=$1
secs=$2
shift 2

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

status=0
for name in "$@"; do
	bin=$build/fuzz_$name
	log=$build/fuzz_$name.log
	work=$build/corpus/$name
	regress=$here/regress/$name
	mkdir -p "$work" "$regress"
	dict=
	[ -f "$here/$name.dict" ] && dict=-dict=$here/$name.dict
	before=$(ls "$regress" | wc -l)
	echo "fuzz: fuzz_$name for $secs s (log: $log)"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$regress/" $dict \
	    ${FUZZ_OPTS:-} "$work" "$here/corpus/$name" "$regress" \
	    >"$log" 2>&1
	rc=$?
	after=$(ls "$regress" | wc -l)
	stats='number_of_executed_units|average_exec_per_sec|new_units_added'
	grep -E "^(#[0-9]+[[:space:]]+DONE|stat::($stats|peak_rss_mb))" \
	    "$log" | sed 's/^/  /'
	echo "  corpus: $(ls "$here/corpus/$name" | wc -l) seeds," \
	    "$(ls "$work" | wc -l) in $work"
	if [ $rc -ne 0 ] || [ "$after" -ne "$before" ]; then
		status=1
		echo "  FOUND: exit status $rc; new in $regress:"
		ls -t "$regress" | head -n $((after - before)) | sed 's/^/    /'
		grep -E '^(==[0-9]+==ERROR|SUMMARY)|runtime error|check failed' \
		    "$log" | head -n 5 | sed 's/^/  /'
	fi
done
exit $status
