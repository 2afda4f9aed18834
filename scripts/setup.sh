#!/usr/bin/env bash
# Install what PQE needs on a fresh Debian machine, then stop quickly when it is all there:
#   - Debian packages: libhdf5-dev and pkg-config (HDF5 recordings), python3-venv,
#     chromium and fonts-dejavu-core (the report's render check in headless Chromium),
#     build-essential and valgrind (the C ABI example and its memory check), socat and mbpoll
#     (meter-link tests: pty pairs, a second Modbus client)
#   - a Python virtual environment in .venv with the test tools (tests/requirements.txt)
#   - cargo-fuzz (scripts/fuzz.sh, make fuzz-smoke)
# The Rust toolchain (cargo, rustfmt, clippy) is expected from rustup.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
dpkg -s libhdf5-dev >/dev/null 2>&1 || need_apt+=(libhdf5-dev)
dpkg -s pkg-config >/dev/null 2>&1 || command -v pkg-config >/dev/null || need_apt+=(pkg-config)
python3 -m venv --help >/dev/null 2>&1 || need_apt+=(python3-venv)
command -v chromium >/dev/null || need_apt+=(chromium)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need_apt+=(fonts-dejavu-core)
command -v cc >/dev/null && command -v make >/dev/null || need_apt+=(build-essential)
command -v valgrind >/dev/null || need_apt+=(valgrind)
# meter-link tests: socat makes pty pairs (Modbus RTU, IEC 62056-21), mbpoll is a second Modbus client
command -v socat >/dev/null || need_apt+=(socat)
command -v mbpoll >/dev/null || need_apt+=(mbpoll)
if ((${#need_apt[@]})); then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install ${need_apt[*]}" >&2; exit 1; }
    sudo=sudo
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "setup: cargo not found: install Rust with rustup (https://rustup.rs)" >&2; exit 1; }

# cargo-fuzz for the fuzz targets (scripts/fuzz.sh; nightly is used when present, else
# stable with RUSTC_BOOTSTRAP=1).
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "setup: installing cargo-fuzz"
  cargo install -q cargo-fuzz --locked
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.requirements-installed
if [ ! -f "$stamp" ] || [ tests/requirements.txt -nt "$stamp" ]; then
  echo "setup: installing Python test tools into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r tests/requirements.txt
  touch "$stamp"
fi

# The DLMS/COSEM peer of protocols/dlms's tests: the `meter` example of the crate
# dlms-cosem-rs 0.1.0 (MIT/Apache-2.0), built once into target/peers (not committed,
# about 20 s). The Makefile passes its path to the tests in PQE_DLMS_METER_BIN.
dlms_meter=target/peers/dlms-cosem-rs/bin/meter
if [ ! -x "$dlms_meter" ]; then
  echo "setup: building the dlms-cosem-rs meter example (DLMS/COSEM test peer)"
  cargo install -q --locked dlms-cosem-rs --version 0.1.0 --example meter --root target/peers/dlms-cosem-rs
fi
