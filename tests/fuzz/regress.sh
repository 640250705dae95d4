#!/bin/sh
# regress.sh [BUILD] - replay every fuzz target's seed corpus
# (tests/fuzz/corpus/NAME/) and kept crashers (tests/fuzz/regress/NAME/)
# through the driver-linked binaries BUILD/fuzz/fuzz_NAME that `make all`
# builds (default BUILD: $SUNARCHIVE_BUILD, else build). TAP output, one
# test per target; `make fuzz-regress` and tests/run.py run it.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-${SUNARCHIVE_BUILD:-build}}
case $build in
/*) ;;
*) build=$root/$build ;;
esac

n=0
for src in "$here"/fuzz_*.c; do
	n=$((n + 1))
done
echo "1..$n"

n=0
status=0
err=$(mktemp)
trap 'rm -f "$err"' EXIT
for src in "$here"/fuzz_*.c; do
	n=$((n + 1))
	prog=$(basename "$src" .c)
	name=${prog#fuzz_}
	bin=$build/fuzz/$prog
	if [ ! -x "$bin" ]; then
		echo "not ok $n - $prog: $bin is not built (make all)"
		status=1
		continue
	fi
	out=$("$bin" -n "$n" "$here/corpus/$name" "$here/regress/$name" \
	    2>"$err")
	rc=$?
	if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q "^ok $n "; then
		printf '%s\n' "$out"
		continue
	fi
	status=1
	if printf '%s\n' "$out" | grep -q "^not ok $n "; then
		printf '%s\n' "$out" | grep "^not ok $n "
	else
		echo "not ok $n - $prog: exit status $rc"
	fi
	tail -n 40 "$err" | sed 's/^/# /'
done
exit $status
