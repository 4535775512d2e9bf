#!/usr/bin/env bash
# run.sh - runs every test suite (cmocka unit and BPF tests, fuzz targets,
# netns scripts) and ends with one line: "N passed, N failed, N skipped".
# cmocka programs report through TAP; scripts exit 0 (pass), 4 (skip, with a
# reason on their output) or anything else (fail).
# Usage: selftests/run.sh [PATTERN]   (runs only tests whose name matches)
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-.output}
export OUTPUT
PATTERN=${1:-}
LOGDIR=$OUTPUT/test-logs
mkdir -p "$LOGDIR"
pass=0 fail=0 skip=0
failed=()

note() { printf '%-7s %s\n' "$1" "$2"; }

# run_tap NAME CMD...: one result per TAP line.
run_tap() {
	local name=$1 log=$LOGDIR/$1.log rc
	shift
	CMOCKA_MESSAGE_OUTPUT=TAP timeout 600 "$@" >"$log" 2>&1
	rc=$?
	local p f s
	p=$(grep -cE '^ok [0-9]+' "$log")
	s=$(grep -cE '^not ok [0-9]+ # SKIP' "$log")
	f=$(grep -E '^not ok [0-9]+' "$log" | grep -cv '# SKIP')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed or timed out before reporting
		echo "# exited with status $rc" >>"$log"
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	if [ "$f" -gt 0 ]; then
		note FAIL "$name ($p passed, $f failed, $s skipped; log: $log)"
		grep -E '^not ok|^# ' "$log" | grep -v SKIP | head -20 | sed 's/^/        /'
		failed+=("$name")
	else
		note ok "$name ($p passed, $s skipped)"
		grep -E '^not ok [0-9]+ # SKIP' "$log" | head -5 | sed 's/^/        /'
	fi
}

run_script() {
	local name=$1 log=$LOGDIR/$1.log rc
	shift
	timeout 900 "$@" >"$log" 2>&1
	rc=$?
	case $rc in
	0) pass=$((pass + 1)); note PASS "$name" ;;
	4) skip=$((skip + 1)); note SKIP "$name: $(grep -m1 -i 'skip' "$log")" ;;
	*) fail=$((fail + 1)); failed+=("$name")
	   note FAIL "$name (exit $rc; log: $log)"; tail -15 "$log" | sed 's/^/        /' ;;
	esac
}

want() { [ -z "$PATTERN" ] || [[ $1 == *$PATTERN* ]]; }

for t in "$OUTPUT"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	want "$name" && run_tap "$name" "$t"
done
for t in "$OUTPUT"/tests/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	want "$name" && run_tap "$name" "$t"
done
for t in selftests/net/test_*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	want "$name" && run_script "$name" bash "$t"
done

[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
