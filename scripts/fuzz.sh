#!/usr/bin/env bash
# Run every cargo-fuzz target of the repository for a bounded time each, and fail when one
# finds a crash (a panic, an abort, a timeout, an out-of-memory).
#
#   scripts/fuzz.sh [SECONDS]          every target, SECONDS each (default: $FUZZ_SECONDS, else 20)
#   FUZZ_TARGETS="csv_sidecar scenario_toml" scripts/fuzz.sh 600    only these targets
#
# Projects: fuzz/ and every */fuzz/ or protocols/*/fuzz/ folder whose Cargo.toml says
# `cargo-fuzz = true` (with FUZZ_TARGETS, only the projects holding one of those targets are
# built). Each target starts from its committed seeds (<project>/seeds/<target>/, else
# <project>/seeds/ when the project keeps one seed folder for all its targets)
# and a working corpus kept in target/fuzz-corpus/<project>/<target>/ (not committed), so
# repeated runs go on where the last stopped. A crash leaves its input in
# target/fuzz-artifacts/<project>/<target>/ and the script prints how to replay it.
#
# Needs cargo-fuzz (installed here with `cargo install cargo-fuzz --locked` when missing) and
# a nightly toolchain for -Zsanitizer; without nightly, stable is used with RUSTC_BOOTSTRAP=1.
# FUZZ_SANITIZER=none|address (default address) picks the sanitizer; FUZZ_JOBS the number of
# targets run at once (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds="${1:-${FUZZ_SECONDS:-20}}"
sanitizer="${FUZZ_SANITIZER:-address}"
only="${FUZZ_TARGETS:-}"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
if cargo +nightly --version >/dev/null 2>&1; then
  toolchain=(+nightly)
else
  echo "fuzz: no nightly toolchain: using stable with RUSTC_BOOTSTRAP=1"
  export RUSTC_BOOTSTRAP=1
  toolchain=()
fi

# One target folder for every fuzz project: they share most dependencies (and PQE's own
# crates), which are then built with the sanitizer once, not once per project.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/fuzz-build}"

projects=()
for manifest in fuzz/Cargo.toml */fuzz/Cargo.toml protocols/*/fuzz/Cargo.toml; do
  [ -f "$manifest" ] || continue
  grep -q 'cargo-fuzz *= *true' "$manifest" || continue
  projects+=("$(dirname "$manifest")")
done
if ((${#projects[@]} == 0)); then
  echo "fuzz: no cargo-fuzz project found" >&2
  exit 1
fi

failed=()
ran=0
for project in "${projects[@]}"; do
  # cargo fuzz works on the project whose fuzz/ folder it is given, from its parent folder.
  parent=$(dirname "$project")
  name=$(echo "$project" | tr '/' '_')
  targets=$(cd "$parent" && cargo "${toolchain[@]}" fuzz list --fuzz-dir "$(basename "$project")")
  if [ -n "$only" ]; then
    wanted=0
    for target in $targets; do [[ " $only " == *" $target "* ]] && wanted=1; done
    ((wanted)) || continue # none of its targets asked for: do not build it
  fi
  echo "fuzz: $project: building $(echo $targets | wc -w) targets (sanitizer $sanitizer)"
  (cd "$parent" && cargo "${toolchain[@]}" fuzz build --fuzz-dir "$(basename "$project")" \
    --sanitizer "$sanitizer" --debug-assertions)
  for target in $targets; do
    if [ -n "$only" ] && ! [[ " $only " == *" $target "* ]]; then
      continue
    fi
    corpus="$root/target/fuzz-corpus/$name/$target"
    artifacts="$root/target/fuzz-artifacts/$name/$target"
    seeds="$root/$project/seeds/$target"
    mkdir -p "$corpus" "$artifacts"
    dirs=("$corpus")
    # Seeds per target (seeds/<target>/), else one seed folder for all the project's targets.
    [ -d "$seeds" ] || seeds="$root/$project/seeds"
    [ -d "$seeds" ] && dirs+=("$seeds")
    echo "fuzz: $project/$target for ${seconds} s"
    log="$artifacts/run.log"
    if (cd "$parent" && cargo "${toolchain[@]}" fuzz run --fuzz-dir "$(basename "$project")" \
      --sanitizer "$sanitizer" --debug-assertions "$target" "${dirs[@]}" -- \
      -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$artifacts/" -print_final_stats=1) >"$log" 2>&1; then
      grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|cov: ' "$log" | tail -3 | sed 's/^/    /'
    else
      echo "fuzz: $project/$target FAILED; the last lines of $log:" >&2
      tail -40 "$log" >&2
      echo "fuzz: replay: (cd $parent && cargo ${toolchain[*]} fuzz run --fuzz-dir $(basename "$project") $target $artifacts/<crash-file>)" >&2
      failed+=("$project/$target")
    fi
    ran=$((ran + 1))
  done
done

if ((${#failed[@]})); then
  echo "fuzz: ${#failed[@]} of $ran targets failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: $ran targets ran ${seconds} s each without a finding"
