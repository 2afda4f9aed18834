#!/usr/bin/env bash
# Check the PQE C interface end to end, loudly:
#  1. build pqe-capi in release (libpqe.so, libpqe.a);
#  2. regenerate the header with cbindgen into a temp file and diff it against the
#     committed capi/include/pqe.h (tests/header.rs; fails with the diff);
#  3. build examples/example.c with -std=c11 -Wall -Wextra -Werror -pedantic against the
#     shared library (through the staged pqe.pc and pkg-config) and the static one;
#  4. run both on a COMTRADE recording, and the shared one under
#     valgrind --leak-check=full --error-exitcode=1; the shared runs also write the output
#     folder of `pqe analyze` through pqe_analysis_* (its worker thread included).
# valgrind.supp suppresses only the FFT planner cache pqe-dsp keeps for the process, and
# the thread handle the standard library gives the C caller's thread when it first blocks.
# Needs: cc, make, pkg-config, valgrind, diff (Debian: build-essential pkg-config valgrind
# diffutils; ldd from libc-bin). Set PQE_CAPI_SKIP_VALGRIND=1 to skip step 4's valgrind run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
# The PNNL fault recording: 2.4 kV phase voltage, 60 Hz (its .cfg says 50), 0.4 s at 100 kHz.
recording="${1:-../tests/data/comtrade/pnnl/f1_1b274run.cfg}"
demo="../datasets/demo/demo-3v3i-50hz.cfg"

step() { printf '\n== capi: %s\n' "$*"; }
fail() { printf '\ncapi check FAILED: %s\n' "$*" >&2; exit 1; }

for tool in cc make pkg-config diff; do
    command -v "$tool" >/dev/null || fail "'$tool' is not installed"
done

step "cargo build --release -p pqe-capi"
cargo build --release -p pqe-capi || fail "release build"

step "libpqe.so links no libhdf5 (ldd)"
so="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/libpqe.so"
command -v ldd >/dev/null || fail "'ldd' is not installed"
ldd "$so" | sed 's/^/    /'
if ldd "$so" | grep -qi 'hdf5'; then fail "$so links libhdf5 (pqe-io's hdf5 feature reached pqe-capi)"; fi

step "header: regenerate with cbindgen and diff against include/pqe.h"
cargo test -q -p pqe-capi --test header || fail "include/pqe.h differs from what cbindgen generates (diff above)"

step "example: shared (pkg-config) and static builds with -Wall -Wextra -Werror -pedantic"
make --no-print-directory example || fail "building examples/example.c"
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
ex="$target_dir/capi-example"

step "run example-shared on $recording"
rm -rf "$ex/folder-shared" "$ex/folder-valgrind"
"$ex/example-shared" "$recording" 2400 60 "$ex/folder-shared" > "$ex/shared.out" || { cat "$ex/shared.out"; fail "example-shared"; }
tail -n 25 "$ex/shared.out"
step "run example-static on $demo"
"$ex/example-static" "$demo" 230 > "$ex/static.out" || { cat "$ex/static.out"; fail "example-static"; }
grep -E '^(event|frequency|[0-9]+ samples|all checks)' "$ex/static.out" | tail -n 12

if [ "${PQE_CAPI_SKIP_VALGRIND:-0}" = 1 ]; then
    echo "valgrind run skipped (PQE_CAPI_SKIP_VALGRIND=1)"
else
    command -v valgrind >/dev/null || fail "'valgrind' is not installed (apt-get install -y valgrind)"
    step "valgrind --leak-check=full --error-exitcode=1 example-shared $recording"
    # valgrind's own report goes to valgrind.log (the example's output to valgrind.out), so
    # a failure shows what valgrind found, with whole call stacks (--num-callers).
    status=0
    valgrind --quiet --leak-check=full --error-exitcode=1 --suppressions=valgrind.supp \
        --num-callers=64 --log-file="$ex/valgrind.log" \
        "$ex/example-shared" "$recording" 2400 60 "$ex/folder-valgrind" > "$ex/valgrind.out" \
        || status=$?
    if [ "$status" != 0 ]; then
        printf -- '-- the example (exit status %s), last lines:\n' "$status"
        tail -n 15 "$ex/valgrind.out"
        printf -- '-- valgrind (%s):\n' "$ex/valgrind.log"
        head -c 20000 "$ex/valgrind.log"
        fail "valgrind reported errors or leaks, or the example failed under it (exit status $status)"
    fi
    tail -n 1 "$ex/valgrind.out"
fi
printf '\ncapi check passed\n'
