# orderflow: `make run` runs the whole system locally, `make test` runs every test.
SHELL := /bin/bash
BIN   := $(CURDIR)/.bin
SERVICES := api bridge order-worker shipping-worker projector
# Test timeout per package; the whole run stays well under 15 minutes.
TEST_TIMEOUT ?= 10m
TEST_FLAGS ?=

.PHONY: run build tools test vet lint fmt check-fmt workflowcheck clean

run: build
	$(BIN)/devstack

## build: every service binary, the operator CLI, the run command and the dev server into .bin/
build: $(BIN)/temporal
	@for s in $(SERVICES); do echo "go build $$s"; go build -o $(BIN)/$$s ./services/$$s/cmd/$$s || exit 1; done
	go build -o $(BIN)/orderflow ./cmd/orderflow
	go build -o $(BIN)/devstack ./deploy/devstack

## tools: the Temporal dev server, staticcheck and workflowcheck, pinned in deploy/tools/go.mod
tools: $(BIN)/temporal $(BIN)/workflowcheck $(BIN)/staticcheck

$(BIN)/temporal: deploy/tools/go.mod
	cd deploy/tools && GOWORK=off go build -o $(BIN)/temporal github.com/temporalio/cli/cmd/temporal

$(BIN)/staticcheck: deploy/tools/go.mod
	cd deploy/tools && GOWORK=off go build -o $(BIN)/staticcheck honnef.co/go/tools/cmd/staticcheck

$(BIN)/workflowcheck: deploy/tools/go.mod
	cd deploy/tools && GOWORK=off go build -o $(BIN)/workflowcheck go.temporal.io/sdk/contrib/tools/workflowcheck

test: build check-fmt vet lint workflowcheck
	TEMPORAL_BIN=$(BIN)/temporal go test -count=1 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) work

vet:
	go vet work

## lint: staticcheck over every module of the workspace
lint: $(BIN)/staticcheck
	$(BIN)/staticcheck $$(go list -m -f '{{.Dir}}/...' | sed "s#^$(CURDIR)/#./#")

check-fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

## workflowcheck: static determinism check of all workflow code
workflowcheck: $(BIN)/workflowcheck
	$(BIN)/workflowcheck ./services/order-worker/... ./services/shipping-worker/...

clean:
	rm -rf $(BIN)
