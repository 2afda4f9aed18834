# PQE — the two commands a newcomer runs:
#   make demo   set up, build, and analyse the demo recording of datasets/ (one hour of a
#               three-phase supply with harmonics, flicker, dips, a swell and an interruption)
#   make test   set up, then run every check CI runs (format, lint, Rust and Python tests,
#               the report in headless Chromium)

CARGO ?= cargo
PQE := target/release/pqe
# The hour is synthesised from its bundled scenario on first use (740 MB, not committed);
# datasets/demo/demo-3v3i-50hz.cfg is the 30-s recording committed for quick looks.
DEMO_SCENARIO ?= datasets/scenarios/demo-hour.toml
DEMO_INPUT ?= datasets/demo/demo-hour.cfg
DEMO_OUT ?= demo-out
PYTEST := .venv/bin/python -m pytest

.PHONY: setup build python wheel-check capi-lib sml-decode demo demo-quick demo-plc test lint rust-test py-test browser-test capi-test fuzz-smoke bench clean

setup:
	@scripts/setup.sh

build: setup
	$(CARGO) build --release -p pqe-cli

demo: build
	@test -f $(DEMO_INPUT) || $(PQE) generate $(DEMO_SCENARIO) $(DEMO_INPUT) --comtrade-format binary
	$(PQE) inspect $(DEMO_INPUT)
	$(PQE) analyze $(DEMO_INPUT) --out $(DEMO_OUT) --nominal-voltage 230 --nominal-frequency 50
	@echo "results in $(DEMO_OUT)/ (open $(DEMO_OUT)/report.html in a browser):" && ls $(DEMO_OUT)

demo-quick: build
	$(PQE) analyze datasets/demo/demo-3v3i-50hz.cfg --out $(DEMO_OUT)-30s
	@echo "results in $(DEMO_OUT)-30s/"

# Supraharmonics (2–150 kHz) need ≥ 300 kHz sampling: 2 s at 500 kHz with G3-PLC, S-FSK and
# converter emission, generated from its scenario (24 MB, not committed).
demo-plc: build
	@test -f target/plc/plc-500khz.cfg || $(PQE) generate datasets/scenarios/plc-500khz.toml target/plc/plc-500khz.cfg
	$(PQE) analyze target/plc/plc-500khz.cfg --out $(DEMO_OUT)-plc
	@echo "results in $(DEMO_OUT)-plc/ (supraharmonics_*.csv; report.html, section Supraharmonics)"

lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# PQE_DLMS_METER_BIN: the DLMS/COSEM test peer scripts/setup.sh installs.
rust-test: setup
	PQE_DLMS_METER_BIN=$(CURDIR)/target/peers/dlms-cosem-rs/bin/meter $(CARGO) test --workspace

# The Python package pqengine (python/), built into .venv by maturin, with HDF5 (the
# tests read .h5 files; the wheel leaves it out, see wheel-check).
python: setup
	VIRTUAL_ENV=$(CURDIR)/.venv .venv/bin/maturin develop --release -q -m python/Cargo.toml --features hdf5

# The pqengine wheel as users get it: built twice in a row (the same files), no bundled or
# needed library beyond libc (no libhdf5), installed into a fresh venv, imported and used.
wheel-check: setup
	python/check_wheel.sh

# The SML decoder example the smllib cross-check runs (tests/python/test_sml_smllib.py).
SML_DECODE := target/release/examples/sml_decode

sml-decode: setup
	$(CARGO) build --release -p pqe-sml --example sml_decode

# libpqe.so, which tests/python/test_fronts.py drives through ctypes.
capi-lib: setup
	$(CARGO) build --release -p pqe-capi

py-test: build python sml-decode capi-lib
	PQE_BIN=$(CURDIR)/$(PQE) PQE_SML_DECODE=$(CURDIR)/$(SML_DECODE) \
	PQE_CAPI_LIB=$(CURDIR)/target/release/libpqe.so $(PYTEST) -q tests/python

browser-test: build
	tests/browser/check_report.sh

# The C ABI: header up to date, example built with -Wall -Wextra -Werror against the .so
# (pkg-config) and the .a, run, and run under valgrind.
capi-test: setup
	capi/check.sh

# Every cargo-fuzz target (fuzz/, */fuzz, protocols/*/fuzz) for a few seconds each
# (FUZZ_SECONDS, default 20); longer runs: scripts/fuzz.sh 600.
fuzz-smoke: setup
	FUZZ_SECONDS=$${FUZZ_SECONDS:-10} scripts/fuzz.sh

test: lint rust-test py-test wheel-check browser-test capi-test fuzz-smoke

bench: setup
	$(CARGO) bench -p pqe-benches

clean:
	$(CARGO) clean
	rm -rf $(DEMO_OUT) .venv
