"""Shared fixtures of the Python test suite.

- `pqe_bin`: the `pqe` binary: $PQE_BIN, else target/release/pqe, built with
  `cargo build --release -p pqe-cli` when missing.
- the `slow` marker (registered here and in pytest.ini) for long variants; pytest.ini leaves
  them out by default (`-m "not slow"`), `pytest -m slow` runs them.
"""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running variant, left out by default (run with -m slow)")


def _locate_pqe() -> Path:
    env = os.environ.get("PQE_BIN")
    if env:
        p = Path(env)
        if not p.is_file():
            raise FileNotFoundError(f"PQE_BIN={env} is not a file")
        return p
    p = ROOT / "target" / "release" / "pqe"
    if not p.is_file():
        subprocess.run(["cargo", "build", "--release", "-p", "pqe-cli"], cwd=ROOT, check=True)
    return p


@pytest.fixture(scope="session")
def pqe_bin() -> Path:
    try:
        return _locate_pqe()
    except (FileNotFoundError, subprocess.CalledProcessError, OSError) as e:
        pytest.fail(f"no pqe binary: {e}")


@pytest.fixture(scope="session")
def run_pqe(pqe_bin):
    """Runs `pqe ARGS…`, failing the test with pqe's stderr when it exits non-zero."""

    def run(*args, cwd=ROOT):
        r = subprocess.run([str(pqe_bin), *map(str, args)], cwd=cwd, capture_output=True, text=True)
        if r.returncode != 0:
            pytest.fail(f"pqe {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stderr}")
        return r

    return run
