# orderflow: `make run` runs the whole system locally, `make test` runs every test.
SHELL := /bin/bash
BIN   := $(CURDIR)/.bin
SERVICES := api bridge order-worker shipping-worker projector
# Test timeout per package; the whole run stays well under 15 minutes.
TEST_TIMEOUT ?= 10m
TEST_FLAGS ?=

# Static binaries everywhere: the same files run on the host and in the
# FROM scratch images, so one build serves both.
export CGO_ENABLED := 0
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
GOBUILD  := go build -trimpath -ldflags '-s -w -X github.com/orderflow/orderflow/shared/app.Version=$(VERSION)'

# Image names are settings: elsewhere point the infrastructure ones at the
# official images (postgres:15, nats:2.15, temporalio/temporal) and `make
# images` builds only the orderflow/ ones. Tests read the same variables.
IMAGE_PREFIX   ?= orderflow/
IMAGE_TAG      ?= local
POSTGRES_IMAGE ?= orderflow/postgres:15
NATS_IMAGE     ?= orderflow/nats:$(NATS_VERSION)
TEMPORAL_IMAGE ?= orderflow/temporal:$(TEMPORAL_CLI_VERSION)
NATS_VERSION          = $(shell cd shared && go list -m -f '{{.Version}}' github.com/nats-io/nats-server/v2)
TEMPORAL_CLI_VERSION  = $(shell cd deploy/tools && GOWORK=off go list -m -f '{{.Version}}' github.com/temporalio/cli)
export ORDERFLOW_IMAGE_PREFIX = $(IMAGE_PREFIX)
export ORDERFLOW_IMAGE_TAG    = $(IMAGE_TAG)
export POSTGRES_IMAGE NATS_IMAGE TEMPORAL_IMAGE
# testcontainers' reaper image cannot be pulled here; testenv cleans up.
export TESTCONTAINERS_RYUK_DISABLED ?= true

.PHONY: run run-prod prod-tools test-prod build tools helm test systemtest vet lint fmt check-fmt workflowcheck vulncheck clean images image-services image-infra

run: build
	$(BIN)/devstack

## run-prod: the production profile (README "Production profile"): a Temporal
## server on PostgreSQL, its UI, a 3-node NATS cluster, two replicas of each service
run-prod: build prod-tools
	$(BIN)/prodstack

## prod-tools: the real Temporal server, its SQL tool and UI, and nats-server,
## pinned in deploy/temporal-server/go.mod and shared/go.mod
prod-tools: $(BIN)/temporal-server $(BIN)/temporal-sql-tool $(BIN)/temporal-ui $(BIN)/nats-server

TEMPORAL_SERVER_BUILD := cd deploy/temporal-server && GOWORK=off go build -trimpath -ldflags '-s -w'

$(BIN)/temporal-server: deploy/temporal-server/go.mod
	$(TEMPORAL_SERVER_BUILD) -o $@ go.temporal.io/server/cmd/server

$(BIN)/temporal-sql-tool: deploy/temporal-server/go.mod
	$(TEMPORAL_SERVER_BUILD) -o $@ go.temporal.io/server/cmd/tools/sql

$(BIN)/temporal-ui: deploy/temporal-server/go.mod
	$(TEMPORAL_SERVER_BUILD) -o $@ github.com/temporalio/ui-server/v2/cmd/server

## build: every service binary, the operator CLI, the run commands and the dev server into .bin/
build: $(BIN)/temporal
	@for s in $(SERVICES); do echo "go build $$s"; $(GOBUILD) -o $(BIN)/$$s ./services/$$s/cmd/$$s || exit 1; done
	$(GOBUILD) -o $(BIN)/orderflow ./cmd/orderflow
	$(GOBUILD) -o $(BIN)/migrate ./shared/cmd/migrate
	go build -o $(BIN)/devstack ./deploy/devstack
	go build -o $(BIN)/prodstack ./deploy/prodstack

## tools: the Temporal dev server, staticcheck and workflowcheck, pinned in
## deploy/tools/go.mod; helm, pinned in deploy/helm/tools/go.mod
tools: $(BIN)/temporal $(BIN)/workflowcheck $(BIN)/staticcheck $(BIN)/helm

$(BIN)/temporal: deploy/tools/go.mod
	cd deploy/tools && GOWORK=off go build -trimpath -ldflags '-s -w' -o $(BIN)/temporal github.com/temporalio/cli/cmd/temporal

## nats-server: static, from the version shared/go.mod pins (for its image)
$(BIN)/nats-server: shared/go.mod
	cd shared && go build -trimpath -ldflags '-s -w' -o $(BIN)/nats-server github.com/nats-io/nats-server/v2

$(BIN)/staticcheck: deploy/tools/go.mod
	cd deploy/tools && GOWORK=off go build -o $(BIN)/staticcheck honnef.co/go/tools/cmd/staticcheck

$(BIN)/workflowcheck: deploy/tools/go.mod
	cd deploy/tools && GOWORK=off go build -o $(BIN)/workflowcheck go.temporal.io/sdk/contrib/tools/workflowcheck

## helm: for the chart's test (lint and template); its own module, so the
## Kubernetes libraries stay out of the others' dependency graphs. Stamped
## as helm's own Makefile does: its version, and the Kubernetes version it
## assumes (from its client-go; unstamped it assumes v1.20).
HELM_MOD    = $(shell cd deploy/helm/tools && GOWORK=off go list -m -f '{{.Version}}' $(1))
HELM_K8S    = $(word 2,$(subst ., ,$(call HELM_MOD,k8s.io/client-go)))
HELM_LDFLAGS = -s -w -X helm.sh/helm/v3/internal/version.version=$(call HELM_MOD,helm.sh/helm/v3) \
	$(foreach p,pkg/chartutil pkg/lint/rules,-X helm.sh/helm/v3/$(p).k8sVersionMajor=1 -X helm.sh/helm/v3/$(p).k8sVersionMinor=$(HELM_K8S))
helm: $(BIN)/helm
$(BIN)/helm: deploy/helm/tools/go.mod
	cd deploy/helm/tools && GOWORK=off go build -trimpath -ldflags '$(HELM_LDFLAGS)' -o $(BIN)/helm helm.sh/helm/v3/cmd/helm

test: build $(BIN)/helm $(BIN)/nats-server check-fmt vet lint workflowcheck vulncheck
	TEMPORAL_BIN=$(BIN)/temporal HELM_BIN=$(BIN)/helm go test -count=1 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) work

## images: one FROM scratch image per service plus migrate and the operator
## CLI orderflow (the chart's streams Job runs it), and the
## infrastructure images (see deploy/docker/README section in README.md)
images: image-services image-infra

image-services: build
	@for s in $(SERVICES) migrate orderflow; do \
	  ctx=$(BIN)/image-context/$$s; rm -rf $$ctx; mkdir -p $$ctx && ln -f $(BIN)/$$s $$ctx/app && \
	  echo "docker build $(IMAGE_PREFIX)$$s:$(IMAGE_TAG)" && \
	  deploy/docker/docker-build.sh -f deploy/docker/service.Dockerfile --build-arg NAME=$$s --build-arg VERSION=$(VERSION) \
	    --build-arg REVISION=$(REVISION) -t $(IMAGE_PREFIX)$$s:$(IMAGE_TAG) $$ctx || exit 1; \
	done

# Each infrastructure image is built only when its name is one of ours.
image-infra: $(BIN)/temporal $(BIN)/nats-server
	@case "$(POSTGRES_IMAGE)" in orderflow/*) deploy/docker/postgres/build.sh $(POSTGRES_IMAGE);; esac
	@case "$(NATS_IMAGE)" in orderflow/*) deploy/docker/build-static.sh nats $(BIN)/nats-server $(NATS_IMAGE) $(NATS_VERSION);; esac
	@case "$(TEMPORAL_IMAGE)" in orderflow/*) deploy/docker/build-static.sh temporal $(BIN)/temporal $(TEMPORAL_IMAGE) $(TEMPORAL_CLI_VERSION);; esac

## test-prod: the production profile's smoke test (real Temporal server, NATS
## cluster, two replicas of each service) and the NATS leader-kill test
test-prod: build prod-tools
	go test -count=1 -timeout 10m -tags prodstack -v ./deploy/prodstack/

## systemtest: the five service images and the infrastructure in containers,
## one order end to end, then the order worker killed under a trickle of orders
systemtest: images
	go test -count=1 -timeout 5m -tags systemtest -run TestContainers -v ./deploy/systemtest/ 2>&1 | \
	  grep -v -e '🐳' -e '✅' -e '🚫' -e '⏳' -e '🔔'; exit $${PIPESTATUS[0]}

vet:
	go vet -tags systemtest,prodstack work
	@# Each module also builds on its own (its go.mod and go.sum complete),
	@# as a user who takes one module out of the workspace builds it.
	@for m in $$(go list -m -f '{{.Dir}}'); do \
	  (cd $$m && GOWORK=off GOFLAGS=-mod=readonly go vet -tags systemtest,prodstack ./...) || { echo "$$m does not build outside the workspace: run GOWORK=off go mod tidy there"; exit 1; }; \
	done

## lint: staticcheck over every module of the workspace
lint: $(BIN)/staticcheck
	$(BIN)/staticcheck -tags systemtest,prodstack $$(go list -m -f '{{.Dir}}/...' | sed "s#^$(CURDIR)/#./#")

check-fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

## workflowcheck: static determinism check of all workflow code
workflowcheck: $(BIN)/workflowcheck
	$(BIN)/workflowcheck ./services/order-worker/... ./services/shipping-worker/...

## vulncheck: govulncheck on every built binary against a vulnerability database
## built offline from golang.org/x/vulndb's OSV files (module proxy, pinned in
## deploy/vulntools/go.mod); a reachable finding not in accepted.txt fails.
VULNTOOLS := deploy/vulntools
VULNDB    := $(BIN)/vulndb

vulncheck: build $(BIN)/govulncheck $(BIN)/vulngate $(VULNDB)/index/db.json
	@set -o pipefail; for b in $(SERVICES) devstack orderflow migrate; do echo "govulncheck $$b"; \
		$(BIN)/govulncheck -db file://$(VULNDB) -mode binary -format json $(BIN)/$$b | \
		$(BIN)/vulngate -accepted $(VULNTOOLS)/accepted.txt || exit 1; done

$(BIN)/govulncheck: $(VULNTOOLS)/go.mod
	cd $(VULNTOOLS) && GOWORK=off go build -o $(BIN)/govulncheck golang.org/x/vuln/cmd/govulncheck

$(BIN)/indexdb: $(VULNTOOLS)/go.mod
	cd $(VULNTOOLS) && GOWORK=off go build -o $(BIN)/indexdb golang.org/x/vulndb/cmd/indexdb

$(BIN)/vulngate: $(VULNTOOLS)/go.mod $(VULNTOOLS)/vulngate/main.go
	cd $(VULNTOOLS) && GOWORK=off go build -o $(BIN)/vulngate ./vulngate

$(VULNDB)/index/db.json: $(BIN)/indexdb $(VULNTOOLS)/go.mod
	rm -rf $(VULNDB)
	cd $(VULNTOOLS) && GOWORK=off go mod download golang.org/x/vulndb
	$(BIN)/indexdb -vulns "$$(cd $(VULNTOOLS) && GOWORK=off go list -m -f '{{.Dir}}' golang.org/x/vulndb)/data/osv" -out $(VULNDB)

clean:
	rm -rf $(BIN)
