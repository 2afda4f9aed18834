//! Render the meter-test report of the example plan on the simulated bench, with a reversed
//! current I2 so the wiring warning shows: `render_metertest_report OUT.html` (tests/browser uses it).

use pqe_metertest::bench::open_bench;
use pqe_metertest::plan::Plan;
use pqe_metertest::run::run;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .ok_or("usage: render_metertest_report OUT.html")?;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/metertest");
    let plan = Plan::from_file(&dir.join("class1-direct.toml"))?;
    let mut bench = open_bench("sim:class1-direct-sim.toml?reverse=I2", &dir)?;
    let results = run(&plan, bench.as_mut(), "2026-12-07T07:00:00Z", |_, _| {});
    std::fs::write(&out, pqe_metertest::report::render(&results))?;
    Ok(())
}
