//! Decode an SML byte stream (a capture file, or `-` for standard input) and print one
//! JSON object per line: a telegram with its entries, or a transport error.
//!
//! `cargo run -p pqe-sml --example sml_decode -- FILE [--crc x25|kermit|either]
//! [--quirk NAME ...]`

use pqe_sml::{decode_all, entry_json, CrcMode, Quirk, ReaderEvent};
use serde_json::json;
use std::io::Read;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut mode = CrcMode::Either;
    let mut quirks = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--crc" => {
                mode = match args.next().as_deref() {
                    Some("x25") => CrcMode::X25,
                    Some("kermit") => CrcMode::Kermit,
                    Some("either") => CrcMode::Either,
                    other => fail(&format!("--crc {other:?}: x25, kermit or either")),
                }
            }
            "--quirk" => {
                let n = args.next().unwrap_or_default();
                quirks.push(
                    Quirk::from_name(&n).unwrap_or_else(|| fail(&format!("unknown quirk {n:?}"))),
                );
            }
            _ => path = Some(a),
        }
    }
    let path = path.unwrap_or_else(|| {
        fail("usage: sml_decode FILE|- [--crc x25|kermit|either] [--quirk NAME]")
    });
    let mut bytes = Vec::new();
    let res = if path == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(&path).map(|b| bytes = b)
    };
    if let Err(e) = res {
        fail(&format!("{path}: {e}"));
    }
    for ev in decode_all(&bytes, mode, &quirks) {
        let line = match ev {
            ReaderEvent::Telegram(t) => json!({
                "offset": t.frame.offset,
                "crc": t.frame.crc.name(),
                "padding": t.frame.padding,
                "error": t.messages.as_ref().err().map(|e| e.to_string()),
                "message_crc_ok": t.messages.as_ref().map(|m| m.iter().all(|m| m.crc_ok)).unwrap_or(false),
                "entries": t.entries().into_iter().map(entry_json).collect::<Vec<_>>(),
                "findings": t.findings(),
            }),
            ReaderEvent::Error(e) => json!({ "transport_error": e.to_string() }),
        };
        println!("{line}");
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("sml_decode: {msg}");
    std::process::exit(2)
}
