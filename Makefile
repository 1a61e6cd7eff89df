# Parley — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
BIN := bin/parley
PKGS := ./...
GOTESTFLAGS ?=
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: all build run test test-go test-browser test-short lint bench fuzz vault-dev vault-dev-stop e2e clean tools evidence-sample \
	load-tool load-throughput load-latency load-idle load-signin-storm load-audit load-nodes load-baseline \
	faults fault-pg-restart fault-vault-restart fault-node-kill fault-slow-db

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/parley

## run: the demo on the embedded default (SQLite + local dev key provider) in ./data. It prints the
## path to a first chat: open the setup link, sign in, click "Create a demo site", then open the
## visitor page and the workspace side by side.
run: build
	@mkdir -p data && chmod 700 data
	PARLEY_DATA_DIR=$${PARLEY_DATA_DIR:-./data} ./$(BIN) serve --migrate

## test: the whole suite. With PARLEY_TEST_POSTGRES_URL and VAULT_ADDR/VAULT_TOKEN set it also runs
## against PostgreSQL and Vault; PARLEY_TEST_REQUIRE_SERVICES=1 makes a missing service a failure.
test: test-go test-browser

test-go:
	$(GO) vet $(PKGS)
	PARLEY_STRICT_TENANT_SCOPE=1 $(GO) test -count=1 -timeout 25m $(GOTESTFLAGS) $(PKGS)

## test-browser: the widget and console clients' unit tests and the browser tests (Debian's
## Chromium driven by playwright-core against a real `parley serve`). Without Chromium they are
## skipped with a notice, unless PARLEY_TEST_REQUIRE_SERVICES=1 (as in CI), which fails.
CHROMIUM ?= $(or $(PARLEY_TEST_CHROMIUM),/usr/bin/chromium)
test-browser: build
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$PARLEY_TEST_REQUIRE_SERVICES" = 1 ]; then echo "browser tests: Chromium not found at $(CHROMIUM) (apt-get install -y chromium)"; exit 1; fi; \
	  echo "browser tests skipped: Chromium not found at $(CHROMIUM) (apt-get install -y chromium)"; exit 0; \
	fi; \
	command -v node >/dev/null || { echo "browser tests: node is required"; exit 1; }; \
	cd web/e2e && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error; } && \
	PARLEY_TEST_CHROMIUM=$(CHROMIUM) PARLEY_BIN=$(CURDIR)/$(BIN) npm test --silent

test-short:
	$(GO) test -count=1 -short $(PKGS)

# The linters at the versions the code is kept clean for: a different version (another rule set)
# installed on the machine is replaced, not trusted.
STATICCHECK_VERSION := v0.8.2
GOSEC_VERSION := v2.22.4
tools:
	@bin=$$($(GO) env GOPATH)/bin; \
	[ "$$($(GO) version -m $$bin/staticcheck 2>/dev/null | awk '$$1=="mod"{print $$3}')" = $(STATICCHECK_VERSION) ] || \
	  $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); \
	[ "$$($(GO) version -m $$bin/gosec 2>/dev/null | awk '$$1=="mod"{print $$3}')" = $(GOSEC_VERSION) ] || \
	  $(GO) install github.com/securego/gosec/v2/cmd/gosec@$(GOSEC_VERSION)

## lint: go.mod and go.sum tidy, go vet, staticcheck and gosec; each exception is justified
## where it is made. `go mod tidy -diff` changes nothing: it prints what tidy would change and fails.
lint: tools
	$(GO) mod tidy -diff
	$(GO) vet $(PKGS)
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck $(PKGS)
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" gosec -quiet -exclude-generated -exclude-dir=web/e2e $(PKGS)

## bench: every Go benchmark once, with allocations.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1s $(PKGS)

## fuzz: a short run of every fuzz target (FUZZTIME each).
FUZZTIME ?= 15s
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## vault-dev: start a Vault dev server on 127.0.0.1 (built once from source, cached) and print
## VAULT_ADDR=… and VAULT_TOKEN=… lines; use with: eval "$$(make -s vault-dev)"; export VAULT_ADDR VAULT_TOKEN
# The sample evidence reports (PCI DSS and HIPAA, HTML and PDF) of a demo organisation, committed
# under docs/evidence so a buyer can see one; a test keeps them current.
evidence-sample:
	$(GO) run ./cmd/evidence-sample docs/evidence

vault-dev:
	@scripts/vault-dev start

## faults: the fault scenarios (app/faults), each on private PostgreSQL and Vault servers it may
## stop and start: PostgreSQL restarted under load, Vault stopped and started, one of three nodes
## killed, a slow database. `make fault-pg-restart` (and the others) runs one, verbosely.
## A missing service (PostgreSQL's server programs, the Vault binary of `make vault-dev`, NATS)
## fails the scenario rather than skipping it.
FAULT_ENV := PARLEY_TEST_FAULTS=1 PARLEY_STRICT_TENANT_SCOPE=1 PARLEY_TEST_REQUIRE_SERVICES=1 \
	PARLEY_TEST_NATS_URL=$${PARLEY_TEST_NATS_URL:-nats://127.0.0.1:4222}
faults:
	$(FAULT_ENV) $(GO) test -count=1 -p 1 -timeout 10m -v -run '^TestFault' ./app/faults/
fault-pg-restart:
	$(FAULT_ENV) $(GO) test -count=1 -timeout 5m -v -run '^TestFaultPostgresRestart$$' ./app/faults/
fault-vault-restart:
	$(FAULT_ENV) $(GO) test -count=1 -timeout 5m -v -run '^TestFaultVaultRestart$$' ./app/faults/
fault-node-kill:
	$(FAULT_ENV) $(GO) test -count=1 -timeout 5m -v -run '^TestFaultNodeKilled$$' ./app/faults/
fault-slow-db:
	$(FAULT_ENV) $(GO) test -count=1 -timeout 5m -v -run '^TestFaultSlowDatabase$$' ./app/faults/

vault-dev-stop:
	@scripts/vault-dev stop

## Load scenarios (docs/BENCHMARKS.md): each builds bin/parley and bin/parley-load, starts the
## server itself with a fresh data directory (and a fresh PostgreSQL database, dropped after),
## prints the figures and writes data/load/NAME.json and NAME.svg. Nothing is left running.
## PostgreSQL: LOAD_PG (a superuser URL). Vault: export VAULT_ADDR and VAULT_TOKEN first
## (eval "$$(make -s vault-dev)"; export VAULT_ADDR VAULT_TOKEN), else the local dev key provider.
LOAD := bin/parley-load
LOAD_PG ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
LOAD_FLAGS ?=
LOAD_RUN = $(LOAD) -pg-admin '$(LOAD_PG)' $(LOAD_FLAGS)
LOAD_IDLE_VISITORS ?= 10000

load-tool: build
	$(GO) build -trimpath -o $(LOAD) ./cmd/parley-load

## The throughput scenarios send faster than a person types: their servers allow each visitor
## LOAD_FAST (messages per minute and burst) instead of the installation's 60 and 10.
LOAD_FAST = -visitor-messages-per-minute 60000 -visitor-message-burst 1000

## load-throughput: one node, PostgreSQL: 400 conversations × 50 messages, 8 in flight, 4 agents.
load-throughput: load-tool
	$(LOAD_RUN) -name throughput -db postgres -visitors 400 -agents 4 -messages 50 -in-flight 8 $(LOAD_FAST)

## load-latency: below saturation, 100 senders with one message in flight each.
load-latency: load-tool
	$(LOAD_RUN) -name latency -db postgres -visitors 100 -agents 4 -messages 10 -in-flight 1 -rate 1

## load-idle: idle connection density: LOAD_IDLE_VISITORS visitors in open chats, every socket
## idle for 15 s, then the server's RSS per visitor socket.
load-idle: load-tool
	$(LOAD_RUN) -name idle -db postgres -visitors $(LOAD_IDLE_VISITORS) -agents 8 -messages 1 -hold 15s -setup-concurrency 32

## load-signin-storm: 300 sign-ins (and sign-outs), 8 at once, while 100 visitors chat.
load-signin-storm: load-tool
	$(LOAD_RUN) -name signin-storm -db postgres -visitors 100 -agents 4 -messages 30 -rate 1 -in-flight 1 -sign-ins 300 -sign-in-concurrency 8

## load-audit: the audit append rate: 1,000 chats started and accepted and 200 sign-ins, every
## chain verified before and after.
load-audit: load-tool
	$(LOAD_RUN) -name audit -db postgres -visitors 1000 -agents 4 -messages 0 -sign-ins 200 -setup-concurrency 32 -audit

## load-nodes: 2 and then 3 nodes on one PostgreSQL behind nginx (LISTEN/NOTIFY fan-out).
load-nodes: load-tool
	$(LOAD_RUN) -name nodes-2 -db postgres -nodes 2 -visitors 400 -agents 4 -messages 50 -in-flight 8 $(LOAD_FAST)
	$(LOAD_RUN) -name nodes-3 -db postgres -nodes 3 -visitors 400 -agents 6 -messages 50 -in-flight 8 $(LOAD_FAST)

## load-baseline: the throughput scenario and, in the same invocation, the bare WebSocket fan-out
## baseline (no persistence) under the same load: the ratio Parley ÷ baseline.
load-baseline: load-tool
	$(LOAD_RUN) -name baseline -db postgres -visitors 400 -agents 4 -messages 50 -in-flight 8 $(LOAD_FAST) -baseline

clean:
	rm -rf bin
