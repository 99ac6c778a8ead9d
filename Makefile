# acksim: the two commands a newcomer needs are `make run` and `make test`.
GO ?= go
BIN := bin/acksim

.PHONY: all build install run test bench fmt clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/acksim

# Put acksim on your PATH ($(go env GOPATH)/bin), so the README's commands
# run as typed.
install:
	$(GO) install ./cmd/acksim

# Build, then run the embedded default sweep; results go to ./out.
run: build
	./$(BIN) sweep --out out

# Everything CI runs: formatting, vet, the whole test suite, and the race
# detector on the kernel and on the sweep (the one package that runs
# trials on several goroutines).
test:
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test ./...
	$(GO) test -race -short ./sim/... ./scenarios/sweep/...

# The project's benchmarks, with their figures.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

fmt:
	gofmt -w .

clean:
	rm -rf bin out
