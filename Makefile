# The two commands of the README are `make demo` and `make test`; the rest are their steps.
# Targets stay thin: the logic lives in cargo, e2e/local-env and e2e/demo.

CARGO ?= cargo
# Integration tests mostly wait on the API server and the emulator: run more of them at once
# than there are cores.
TEST_THREADS ?= 8

.PHONY: tools helm-lint image kind-load bench bench-scale faults plugin test fmt-check clippy crds crds-check unit emulator-test integration env-up env-down env-status demo

## test: everything CI checks, in order (format, lints, CRDs up to date, unit, the emulator's own
## tests, integration/e2e)
test: fmt-check clippy crds-check unit emulator-test integration

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --all-targets -- -D warnings

CHART := charts/ecs-operator
IMAGE ?= ghcr.io/ecs-operator/ecs-operator
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
KIND_CLUSTER ?= ecs-operator

## crds: regenerate crds/*.yaml and the chart's copy from the API types
crds:
	mkdir -p crds && rm -f crds/*.yaml
	$(CARGO) run --quiet -- crds --output-dir crds
	rm -f $(CHART)/crds/*.yaml && cp crds/*.yaml $(CHART)/crds/

## crds-check: fail when crds/ differs from what the API types generate
crds-check:
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	$(CARGO) run --quiet -- crds --output-dir "$$tmp" && \
	if ! diff -ru crds "$$tmp"; then \
	  echo "crds/ is stale: run 'make crds' and commit the result" >&2; exit 1; \
	fi
	@diff -ru crds $(CHART)/crds || { echo "$(CHART)/crds is stale: run 'make crds'" >&2; exit 1; }

## unit: unit tests (library, binary, doc tests); no environment needed
unit:
	$(CARGO) test --lib --bins
	$(CARGO) test --doc

## emulator-test: the ECS emulator's own tests (pytest, each behaviour against its ECS source)
emulator-test:
	e2e/local-env emulator-test

## integration: the tests in tests/ against the local environment (started if needed)
integration: env-up tools
	$(CARGO) test --test '*' -- --test-threads=$(TEST_THREADS)

env-up:
	e2e/local-env up

env-down:
	e2e/local-env down

env-status:
	e2e/local-env status

## demo: starts the local environment, installs the CRDs, runs the operator and applies the examples
demo:
	e2e/demo

## bench: print how long the pure reconcile steps take (figures, not a pass/fail check)
bench:
	$(CARGO) bench --bench mapping

## plugin: the kubectl plugin, target/release/kubectl-ecs (put it on the PATH: `kubectl ecs`)
plugin:
	$(CARGO) build --release --bin kubectl-ecs

## faults: the fault suite alone (crashes, a bad or hung ECS, restarts, failover; part of `test`)
faults: env-up
	$(CARGO) test --test faults -- --test-threads=$(TEST_THREADS)

## bench-scale: the operator at N = 100 and 1,000 services against the emulator with ECS's
## throttling on (figures, not pass/fail; resets the emulator: run it alone; BENCH_SIZES=100)
bench-scale: env-up
	$(CARGO) build --release --bin ecs-operator
	$(CARGO) bench --bench scale

## tools: build helm and kubectl from their Go modules (cached by version)
tools:
	e2e/tools helm
	e2e/tools kubectl

## helm-lint: lint the chart
helm-lint:
	"$$(e2e/tools helm)" lint --strict $(CHART)

## image: build the container image (needs Docker; not part of make test)
image:
	docker build -t $(IMAGE):$(VERSION) .

## kind-load: load the image into a kind cluster
kind-load: image
	kind load docker-image $(IMAGE):$(VERSION) --name $(KIND_CLUSTER)
