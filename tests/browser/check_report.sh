#!/usr/bin/env bash
# Render the report of synthetic data in headless Chromium and check the screenshot:
#   - the page is not blank (ink in most horizontal bands, coloured chart pixels),
#   - Chromium logged no console errors and fetched nothing from the network.
# Needs Debian's `chromium` and python3 (no Python packages).
#
# usage: tests/browser/check_report.sh [OUT_DIR]   (default: target/browser-check)
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-target/browser-check}"
mkdir -p "$out"
abs="$(cd "$out" && pwd)"

browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
  echo "check_report: chromium not found (apt-get install -y chromium)" >&2
  exit 1
fi

# Three pages: the whole report (its top 4000 px: header, trends, flicker, spectra), the
# same data without trends and spectra (events, phasors, compliance, empty-section notes),
# the header with the supraharmonics section alone (spectrograms, CENELEC band table), and
# the header with the meter quantities alone (energy, demand, alarms, derating charts).
cargo run -q -p pqe-report --example render_report -- "$out/report.html" 24 3
cargo run -q -p pqe-report --example render_report -- "$out/report-lower.html" 24 3 --lower
cargo run -q -p pqe-report --example render_report -- "$out/report-supraharmonics.html" 1 3 \
  --supraharmonics
cargo run -q -p pqe-report --example render_report -- "$out/report-metering.html" 1 3 --metering

shoot() { # shoot NAME [HEIGHT]: render $out/NAME.html into $out/NAME.png and check it
  local name="$1" html="$abs/$1.html" png="$abs/$1.png" log="$abs/$1.chromium.log"
  local height="${2:-4000}"
  local profile
  profile="$(mktemp -d)"
  rm -f "$png"
  # A timeout guards against a browser that hangs; nothing to wait for (no scripts, no
  # network), so the screenshot is taken once the page has loaded.
  if ! timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync \
      --user-data-dir="$profile" --hide-scrollbars --window-size=1280,"$height" \
      --enable-logging=stderr --v=0 \
      --screenshot="$png" "file://$html" >"$log" 2>&1; then
    rm -rf "$profile"
    echo "check_report: chromium failed on $name; its log:" >&2
    cat "$log" >&2
    return 1
  fi
  rm -rf "$profile"
  [ -s "$png" ] || { echo "check_report: no screenshot of $name" >&2; cat "$log" >&2; return 1; }
  # Console messages from the page are logged as CONSOLE(...); failed loads as net::ERR_*.
  # Neither may appear for a self-contained page.
  if grep -E "CONSOLE|Uncaught|net::ERR_|Failed to load resource" "$log" >/dev/null; then
    echo "check_report: $name logged errors:" >&2
    grep -E "CONSOLE|Uncaught|net::ERR_|Failed to load resource" "$log" >&2
    return 1
  fi
  python3 tests/browser/png_check.py "$png"
}

shoot report
shoot report-lower
shoot report-supraharmonics
shoot report-metering

# The meter-test report (pqe metertest run): the example plan on the simulated bench with a
# reversed current I2. Check in the rendered DOM that the phasor diagram and the wiring
# warning are there, then screenshot its top 1600 px (a short page).
cargo run -q -p pqe-metertest --example render_metertest_report -- "$out/metertest.html"
dom_profile="$(mktemp -d)"
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
  --disable-background-networking --user-data-dir="$dom_profile" \
  --dump-dom "file://$abs/metertest.html" >"$abs/metertest.dom.html" 2>/dev/null
rm -rf "$dom_profile"
for want in 'id="phasors"' 'data-name="I2"' 'data-kind="reversed"'; do
  grep -q "$want" "$abs/metertest.dom.html" \
    || { echo "check_report: the metertest report lacks $want" >&2; exit 1; }
done
shoot metertest 1600
# The live monitor (pqe monitor): a generated supply with a dip, paced in real time by
# synth:. First the page is loaded while the data flows and its DOM dumped when the stream
# ends: it must have followed the stream (many states shown), listed the dip, and show the
# analysis' last interval (U_A as intervals.csv has it). Then a monitor that has finished
# and keeps serving is screenshot.
pqe_bin="${PQE_BIN:-target/release/pqe}"
[ -x "$pqe_bin" ] || cargo build -q --release -p pqe-cli
cat >"$abs/monitor.toml" <<'TOML'
name = "monitor-check"
sample_rate = 6400
duration = 30.0
channels = ["U_A", "U_B", "U_C", "I_A", "I_B", "I_C"]
[current]
magnitude = [16.0, 15.0, 17.0]
power_factor = 0.9
[[voltage.harmonics]]
order = 5
magnitude = 4.0
[[current.harmonics]]
order = 5
magnitude = 20.0
[[events]]
kind = "dip"
start = 3.0
duration = 0.2
residual = 60.0
phases = ["A"]
TOML
monitor() { # monitor LOG DURATION [FLAGS...]: start pqe monitor, wait for its address
  local log="$1" duration="$2"
  shift 2
  rm -rf "$abs/monitor-out"
  "$pqe_bin" monitor --source "synth:$abs/monitor.toml?speed=1&block=640" --duration "$duration" \
    --listen 127.0.0.1:0 --out "$abs/monitor-out" "$@" 2>"$log" &
  monitor_pid=$!
  for _ in $(seq 100); do
    address="$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1 || true)"
    [ -n "$address" ] && return 0
    sleep 0.1
  done
  echo "check_report: pqe monitor did not start:" >&2
  cat "$log" >&2
  return 1
}
monitor "$abs/monitor.log" 8 --exit-when-done
dom_profile="$(mktemp -d)"
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
  --disable-background-networking --user-data-dir="$dom_profile" --virtual-time-budget=20000 \
  --dump-dom "$address/" >"$abs/monitor.dom.html" 2>/dev/null
rm -rf "$dom_profile"
wait "$monitor_pid"
python3 - "$abs/monitor.dom.html" "$abs/monitor-out/intervals.csv" <<'PY'
import csv, re, sys
dom = open(sys.argv[1]).read()
updates = int(re.search(r'data-updates="(\d+)"', dom).group(1))
assert updates >= 10, f"the page showed {updates} states"
assert 'data-kind="dip"' in dom, "the dip is not in the event list"
assert 'data-status="finished"' in dom, "the page did not see the end"
shown = float(re.search(r'data-q="U_A" data-value="([^"]+)"', dom).group(1))
rows = list(csv.DictReader(open(sys.argv[2])))
expected = float(rows[-1]["U_A"])
assert abs(shown - expected) <= 1e-9 * expected, (shown, expected)
print(f"check_report: monitor page followed {updates} states, listed the dip, U_A {shown:.3f} V")
PY
monitor "$abs/monitor-serve.log" 4
for _ in $(seq 100); do grep -q "stays up" "$abs/monitor-serve.log" && break; sleep 0.1; done
shot_profile="$(mktemp -d)"
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
  --disable-background-networking --user-data-dir="$shot_profile" --hide-scrollbars \
  --window-size=1280,1100 --timeout=3000 --enable-logging=stderr --v=0 \
  --screenshot="$abs/monitor.png" "$address/" >"$abs/monitor.chromium.log" 2>&1
rm -rf "$shot_profile"
kill -TERM "$monitor_pid"
wait "$monitor_pid" || true
if grep -E "CONSOLE|Uncaught|Failed to load resource" "$abs/monitor.chromium.log" >/dev/null; then
  echo "check_report: the monitor page logged errors:" >&2
  grep -E "CONSOLE|Uncaught|Failed to load resource" "$abs/monitor.chromium.log" >&2
  exit 1
fi
python3 tests/browser/png_check.py "$abs/monitor.png"

echo "check_report: ok ($abs/report.png, $abs/report-lower.png, $abs/report-supraharmonics.png, $abs/report-metering.png, $abs/metertest.png, $abs/monitor.png)"
