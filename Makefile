# PQE — the two commands a newcomer runs:
#   make demo   set up, build, and analyse the recording bundled in datasets/
#   make test   set up, then run every check CI runs (format, lint, Rust and Python tests)

CARGO ?= cargo
PQE := target/release/pqe
DEMO_INPUT ?= datasets/demo/demo-3v3i-50hz.cfg
DEMO_OUT ?= demo-out
PYTEST := .venv/bin/python -m pytest

.PHONY: setup build demo test lint rust-test py-test bench clean

setup:
	@scripts/setup.sh

build: setup
	$(CARGO) build --release -p pqe-cli

demo: build
	$(PQE) inspect $(DEMO_INPUT)
	$(PQE) analyze $(DEMO_INPUT) --out $(DEMO_OUT) --nominal-voltage 230 --nominal-frequency 50
	@echo "results in $(DEMO_OUT)/:" && ls $(DEMO_OUT)

lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

rust-test: setup
	$(CARGO) test --workspace

py-test: build
	PQE_BIN=$(CURDIR)/$(PQE) $(PYTEST) -q tests/python

test: lint rust-test py-test

bench: setup
	$(CARGO) bench -p pqe-benches

clean:
	$(CARGO) clean
	rm -rf $(DEMO_OUT) .venv
