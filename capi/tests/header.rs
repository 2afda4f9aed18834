//! The committed header `include/pqe.h` must be what cbindgen generates from the crate.
//! On a difference the test fails and prints a unified diff; `PQE_BLESS=1` rewrites the
//! committed header instead.

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn committed_header_matches_cbindgen() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let committed = crate_dir.join("include").join("pqe.h");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("capi/cbindgen.toml is readable");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let generated = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pqe.generated.h");
    bindings.write_to_file(&generated);
    if std::env::var_os("PQE_BLESS").is_some() {
        std::fs::copy(&generated, &committed).expect("include/pqe.h is writable");
        return;
    }
    let want = std::fs::read_to_string(&generated).expect("generated header");
    let have = std::fs::read_to_string(&committed).unwrap_or_default();
    if want != have {
        let diff = Command::new("diff")
            .arg("-u")
            .arg(&committed)
            .arg(&generated)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_else(|e| format!("(diff not runnable: {e})"));
        panic!(
            "capi/include/pqe.h is out of date with the crate; regenerate it with \
             `PQE_BLESS=1 cargo test -p pqe-capi --test header`.\n{diff}"
        );
    }
}
