#!/usr/bin/env bash
# Runs the same workloads against Pyro4 4.82's pyro4-ns (thread and multiplex
# server types), our name server and the echo floor, all on 127.0.0.1, and
# rewrites the "compare" section of docs/bench.md from the results.
#
# Settings (environment): DUR (per run, 5s), WARMUP (1s), NAMES (10000),
# OUT (docs/bench.md), RESULTS (cmd/pyro4-bench/out/compare.jsonl), PYRO4_NS
# (/usr/bin/pyro4-ns), OURS: "bench" runs our server as `pyro4-bench serve` (the
# nameserver package in a process of its own), "binary" runs `pyro4 ns`
# built from this tree, "auto" (default) tries the binary and falls back.
# REPEAT (1): run every workload this many times, interleaved; the report
# shows the best throughput of each. QUIET_TIMEOUT (3m): before each run, wait up to this long for the machine
# to be nearly idle (0 skips the wait); runs that shared the machine anyway
# are listed in the report.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
DUR=${DUR:-5s}
WARMUP=${WARMUP:-1s}
NAMES=${NAMES:-10000}
OUT=${OUT:-docs/bench.md}
RESULTS=${RESULTS:-cmd/pyro4-bench/out/compare.jsonl}
PYRO4_NS=${PYRO4_NS:-/usr/bin/pyro4-ns}
OURS=${OURS:-auto}
QUIET_TIMEOUT=${QUIET_TIMEOUT:-3m}
REPEAT=${REPEAT:-1}

work=$(mktemp -d)
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$PYRO4_NS" ] || { echo "compare: $PYRO4_NS not found (apt-get install pyro4)" >&2; exit 1; }
$GO build -o "$work/pyro4-bench" ./cmd/pyro4-bench
bench=$work/pyro4-bench
mkdir -p "$(dirname "$RESULTS")" "$(dirname "$OUT")"
: >"$RESULTS"

# start NAME CMD...: starts a server on a free port; sets addr_NAME and pid_NAME.
start() {
	local name=$1 port pid
	shift
	port=$("$bench" freeport)
	"$@" -n 127.0.0.1 -p "$port" >"$work/$name.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	if ! "$bench" wait -addr "127.0.0.1:$port" -pid "$pid" -timeout 15s; then
		echo "compare: $name did not come up:" >&2
		cat "$work/$name.log" >&2
		return 1
	fi
	printf -v "addr_${name//-/_}" '%s' "127.0.0.1:$port"
	printf -v "pid_${name//-/_}" '%s' "$pid"
}

PYRO_SERVERTYPE=thread start python-thread "$PYRO4_NS" -x
PYRO_SERVERTYPE=multiplex start python-multiplex "$PYRO4_NS" -x
ours_how="pyro4-bench serve (the nameserver package, memory store, in a process of its own)"
if [ "$OURS" != bench ] && $GO build -o "$work/pyro4" . && start ours "$work/pyro4" ns -x 2>/dev/null; then
	ours_how="pyro4 ns built from this tree (memory store)"
elif [ "$OURS" = binary ]; then
	echo "compare: OURS=binary but \`pyro4 ns\` did not start" >&2
	exit 1
else
	start ours "$bench" serve
fi
start echo "$bench" serve -echo

"$bench" machine -o "$RESULTS" -note "Python: $(/usr/bin/python3 --version 2>&1), Pyro4 $(/usr/bin/python3 -c 'import Pyro4; print(Pyro4.__version__)'). Ours: $ours_how"

# run LABEL MODE FLAGS...
run() {
	local label=$1 mode=$2 var
	shift 2
	var=${label//-/_}
	local addr_var="addr_$var" pid_var="pid_$var"
	"$bench" quiet -timeout "$QUIET_TIMEOUT" || echo "compare: running $label $mode $* anyway" >&2
	"$bench" "$mode" -addr "${!addr_var}" -server-pid "${!pid_var}" -label "$label" \
		-d "$DUR" -warmup "$WARMUP" -names "$NAMES" -o "$RESULTS" -q "$@"
}

servers=(python-thread python-multiplex ours)
for _ in $(seq "$REPEAT"); do
	for c in 1 64; do
		for s in "${servers[@]}"; do run "$s" lookup -c "$c"; done
		run echo echo -c "$c"
	done
	for s in "${servers[@]}"; do run "$s" churn -c 8; done
	run echo echo-churn -c 8
	for m in 100 1000; do
		for s in "${servers[@]}"; do run "$s" list -c 8 -match "$m"; done
	done
	for s in "${servers[@]}"; do run "$s" register -c 16; done
done

"$bench" report -section compare -in "$RESULTS" -out "$OUT"
echo "compare: results in $RESULTS, table in $OUT"
