# The README's two commands are `make run` and `make test`.
GO ?= go

.PHONY: run test test-deps lint build

# Build and run the name server on the embedded default (in-memory store, localhost:9090).
run:
	$(GO) run . ns

# The whole test suite, with its prerequisites (Python Pyro4 peer, Go modules).
test: test-deps lint
	$(GO) test -race -count=1 -timeout 20m ./...

test-deps:
	./scripts/test-deps.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o pyro4 .
