# The README's two commands are `make run` and `make test`.
GO ?= go

.PHONY: run test test-deps lint build release-check release-snapshot release-test

# Build and run the name server on the embedded default (in-memory store, localhost:9090).
run:
	$(GO) run . ns

# The whole test suite, with its prerequisites (Python Pyro4 peer, Go modules).
test: test-deps lint
	$(GO) test -race -count=1 -timeout 20m ./...
	# Allocation budgets need a build without the race detector, whose
	# sync.Pool drops items at random.
	$(GO) test -count=1 -run AllocBudget ./wire/... ./nameserver

test-deps:
	./scripts/test-deps.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o pyro4 .

# Releases are built by GoReleaser v2 from .goreleaser.yaml. It is installed
# on first use (a few minutes); GORELEASER=/path/to/goreleaser uses another.
GORELEASER_VERSION ?= v2.16.0
GORELEASER ?= $(or $(shell command -v goreleaser 2>/dev/null),$(shell $(GO) env GOPATH)/bin/goreleaser)

$(GORELEASER):
	GOBIN=$(dir $(GORELEASER)) $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)

# Validate .goreleaser.yaml.
release-check: $(GORELEASER)
	$(GORELEASER) check

# Build every archive and package into dist/ from the working tree, publishing nothing.
release-snapshot: $(GORELEASER)
	$(GORELEASER) release --snapshot --clean --skip=publish,sign

# Build a snapshot from a clone of HEAD and check its archives, binaries and packages.
release-test: $(GORELEASER)
	PYRO4_RELEASE_TEST=1 GORELEASER=$(GORELEASER) $(GO) test -count=1 -timeout 20m -v ./release/

# The reliability suite's heavy runs (attack/, docs/reliability.md): the
# built binary attacked on loopback, a 1 GiB body among them (the server
# peaks near 1.5 GiB). The fast variants run in make test.
.PHONY: attack
attack:
	PYRO4_ATTACK_HEAVY=1 $(GO) test -count=1 -v -timeout 30m ./attack/

# Every fuzz target for FUZZTIME (60s) each, one after the other (about
# 13 minutes); a summary line per target. Not part of make test.
.PHONY: fuzz
FUZZTIME ?= 60s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

# Load tool (cmd/pyro4-bench): our server's lookups at 64 clients beside the
# echo floor, the physical limit of this machine. BENCH_ARGS runs any other
# mode instead, e.g. make bench BENCH_ARGS="churn -addr 127.0.0.1:9090 -c 8".
.PHONY: bench bench-compare bench-scale
BENCH_ARGS ?=
bench:
ifeq ($(strip $(BENCH_ARGS)),)
	$(GO) run ./cmd/pyro4-bench lookup -spawn -c 64 -d 5s
	$(GO) run ./cmd/pyro4-bench echo -spawn -c 64 -d 5s
else
	$(GO) run ./cmd/pyro4-bench $(BENCH_ARGS)
endif

# Our server against Pyro4's pyro4-ns (thread and multiplex) and the echo
# floor; rewrites the comparison section of docs/bench.md (a few minutes).
bench-compare:
	GO=$(GO) ./scripts/bench-compare.sh

# 10,000 connections, a million names, start-up from bolt, durable
# registrations; rewrites the scale section of docs/bench.md.
bench-scale:
	GO=$(GO) ./scripts/bench-scale.sh
