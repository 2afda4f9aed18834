#!/usr/bin/env bash
# The pqengine wheel as a user builds and installs it, checked loudly:
#  1. `maturin build --release` twice in a row (the second run must succeed and give the
#     same wheel, byte for byte: nothing of the first run's packaging is rewritten in
#     place, and no random SBOM serial number), reusing the workspace's build cache;
#  2. the wheel bundles no shared library and its extension needs none beyond the C
#     runtime (no libhdf5, curl, OpenSSL or Kerberos: HDF5 is the cargo feature `hdf5`,
#     off in the wheel), so it installs on a machine without libhdf5-dev;
#  3. it installs into a fresh virtual environment (numpy is its only dependency) and
#     imports, reads and analyses the committed demo recording there, and says plainly
#     that HDF5 is not in this build.
# Needs the .venv of scripts/setup.sh (maturin), python3 -m venv, readelf (binutils) and
# unzip or python3's zipfile. Run by `make wheel-check` (part of `make test`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
fail() { printf '\nwheel check FAILED: %s\n' "$*" >&2; exit 1; }
step() { printf '\n== wheel: %s\n' "$*"; }

maturin="$root/.venv/bin/maturin"
[ -x "$maturin" ] || fail "no $maturin: run scripts/setup.sh"
command -v readelf >/dev/null || fail "'readelf' is not installed (apt-get install -y binutils)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for run in 1 2; do
    step "maturin build --release (run $run of 2)"
    "$maturin" build --release --quiet -m python/Cargo.toml -o "$work/wheels$run" \
        || fail "maturin build, run $run"
done
w1="$(ls "$work"/wheels1/*.whl)"
w2="$(ls "$work"/wheels2/*.whl)"
[ "$(basename "$w1")" = "$(basename "$w2")" ] || fail "the two runs named their wheels differently: $(basename "$w1") vs $(basename "$w2")"
echo "wheel: $(basename "$w2") ($(du -k "$w2" | cut -f1) KiB)"

step "contents: the same in both runs, no bundled library"
python3 - "$w1" "$w2" "$work/unpacked" <<'EOF' || fail "wheel contents (above)"
import hashlib, sys, zipfile
a, b, dest = sys.argv[1:]
def digest(path):
    with zipfile.ZipFile(path) as z:
        return {n: hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()}
da, db = digest(a), digest(b)
if da != db:
    diff = sorted(n for n in set(da) | set(db) if da.get(n) != db.get(n))
    sys.exit(f"the second build's wheel differs from the first's in: {diff}")
bundled = [n for n in db if ".libs/" in n or (".so" in n.rsplit("/", 1)[-1] and "_pqengine" not in n)]
if bundled:
    sys.exit(f"the wheel bundles shared libraries: {bundled}")
with zipfile.ZipFile(b) as z:
    z.extractall(dest)
print(f"{len(db)} files, identical in both runs, no bundled library")
EOF
cmp -s "$w1" "$w2" || fail "the two wheels hold the same files but differ as zip files (timestamps or order)"
echo "the two wheels are the same bytes: $(sha256sum "$w2" | cut -c1-16)…"
ext="$(ls "$work"/unpacked/pqengine/_pqengine*.so)"
needed="$(readelf -d "$ext" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
echo "the extension needs: $needed"
for lib in $needed; do
    case "$lib" in
        libc.so.*|libm.so.*|libgcc_s.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*) ;;
        *) fail "the extension needs $lib, which a machine without it cannot load" ;;
    esac
done

step "install into a fresh virtual environment and import"
python3 -m venv "$work/venv" || fail "python3 -m venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$w2" \
    || fail "pip install $(basename "$w2")"
(cd "$work" && "$work/venv/bin/python" - "$root/datasets/demo/demo-3v3i-50hz.cfg" <<'EOF') || fail "using the installed wheel (above)"
import sys
import pqengine as pq
rec = pq.read(sys.argv[1])
a = pq.analyze(sys.argv[1])
assert a.intervals.rows > 100 and a.events.rows > 0, a
assert a.intervals["flagged"].dtype == bool
open("recording.h5", "wb").write(b"\x89HDF\r\n\x1a\n" + bytes(504))
try:
    pq.read("recording.h5")
except pq.PqeError as e:
    print(f"HDF5 in this build: {e}")
    assert "hdf5" in str(e).lower(), e
else:
    raise AssertionError("reading .h5 did not fail")
print(f"pqengine {pq.__version__} from {pq.__file__}: {a}")
EOF
printf '\nwheel check passed\n'
