#!/usr/bin/env bash
# Runs every go test -fuzz target in the module for FUZZTIME each (60s by
# default), one after the other, and prints a summary line per target:
# executions, corpus size and whether it stayed clean. New crashers land in
# the package's testdata/fuzz/<Target>/ as go test writes them.
# Settings: FUZZTIME (60s), PARALLEL (go test -parallel, 1), GO (go),
# MINIMIZE (-fuzzminimizetime, 2000x: go's default of 60s can spend a whole
# short run shrinking one new input).
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-60s}
PARALLEL=${PARALLEL:-1}
MINIMIZE=${MINIMIZE:-2000x}
status=0
while read -r file target; do
	pkg=./$(dirname "$file")
	log=$(mktemp)
	if $GO test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -parallel "$PARALLEL" -fuzzminimizetime "$MINIMIZE" >"$log" 2>&1; then
		result=clean
	else
		result=FAILED
		status=1
	fi
	# the last progress line: "fuzz: elapsed: 1m0s, execs: N (r/sec), new interesting: K (total: T)"
	last=$(grep -o 'execs: [0-9]*.*' "$log" | tail -1)
	printf '%-8s %-22s %-24s %s\n' "$result" "$target" "$pkg" "$last"
	[ "$result" = clean ] || tail -20 "$log"
	rm -f "$log"
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | sed 's/:func / /; s|^\./||' | sort)
exit $status
