#!/usr/bin/env bash
# Scale runs of our name server, each against a server the load tool starts
# as a child process and stops by its pid: 10,000 idle connections beside 64
# active clients, a million registrations, start-up from a million-name bolt
# store, and durable (bolt) registrations at 1 and 16 clients (and at 16
# with the server in the tool's process, for writes per commit). Rewrites the
# "scale" section of docs/bench.md.
#
# Settings (environment): DUR (5s), IDLE (10000), NAMES (1000000),
# STORE (cmd/pyro4-bench/out/ns-1m.bolt, built on first use and kept),
# OUT (docs/bench.md), RESULTS (cmd/pyro4-bench/out/scale.jsonl), QUIET_TIMEOUT (3m):
# wait up to this long for a nearly idle machine before each run. OURS:
# "binary" (default) runs `pyro4 ns` built from this tree, "bench" runs
# `pyro4-bench serve` (the nameserver package alone).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
DUR=${DUR:-5s}
IDLE=${IDLE:-10000}
NAMES=${NAMES:-1000000}
STORE=${STORE:-cmd/pyro4-bench/out/ns-1m.bolt}
OUT=${OUT:-docs/bench.md}
RESULTS=${RESULTS:-cmd/pyro4-bench/out/scale.jsonl}
QUIET_TIMEOUT=${QUIET_TIMEOUT:-3m}
OURS=${OURS:-binary}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

$GO build -o "$work/pyro4-bench" ./cmd/pyro4-bench
bench=$work/pyro4-bench
mkdir -p "$(dirname "$RESULTS")" "$(dirname "$OUT")" "$(dirname "$STORE")"
: >"$RESULTS"

# The idle connections need 10,000 descriptors in each process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

quiet() { "$bench" quiet -timeout "$QUIET_TIMEOUT" || echo "scale: running anyway" >&2; }

ours=()
ours_how="pyro4-bench serve (the nameserver package)"
if [ "$OURS" = binary ]; then
	$GO build -o "$work/pyro4" .
	ours=(-pyro4 "$work/pyro4")
	ours_how="pyro4 ns built from this tree"
fi

"$bench" machine -o "$RESULTS" -note "Ours: $ours_how, a child process of the load tool"
quiet
"$bench" scale-conns "${ours[@]}" -idle "$IDLE" -c 64 -d "$DUR" -o "$RESULTS"
quiet
"$bench" scale-names "${ours[@]}" -names "$NAMES" -match 1000 -d "$DUR" -o "$RESULTS"
quiet
"$bench" scale-startup "${ours[@]}" -s "bolt:$STORE" -names "$NAMES" -match 1000 -o "$RESULTS"
for c in 1 16; do
	quiet
	"$bench" register -spawn "${ours[@]}" -s "bolt:$work/durable-$c.bolt" -c "$c" -d "$DUR" -label ours-bolt -o "$RESULTS" -q
done
# The same, with the server in the load tool's process: the store reports
# how many writes shared each commit.
quiet
"$bench" register -inproc -s "bolt:$work/durable-inproc.bolt" -c 16 -d "$DUR" -label ours-bolt-inproc -o "$RESULTS" -q

"$bench" report -section scale -in "$RESULTS" -out "$OUT"
echo "scale: results in $RESULTS, table in $OUT"
