//! The shared IEC 62056-21 vectors (tests/vectors/vectors.txt) round-trip byte for byte:
//! each message is rebuilt by PQE's encoder (sign-on, option select, commands, data blocks)
//! from what PQE's decoder reads out of it, BCC included.

use pqe_iec62056_21::message::{self, Incoming, ModeControl};

/// Decodes a Python-style quoted string ("\x01P0\x02…", "\\", "\r\n", "\"").
fn unquote(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            match b[i + 1] {
                b'x' => {
                    out.push(u8::from_str_radix(&s[i + 2..i + 4], 16).unwrap());
                    i += 4;
                    continue;
                }
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b'\\' => out.push(b'\\'),
                b'"' => out.push(b'"'),
                c => panic!("escape \\{}", c as char),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn vectors() -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    for line in include_str!("vectors/vectors.txt").lines() {
        if let Some(rest) = line.strip_prefix('"') {
            // The message ends at the last quote before the comment column.
            let end = rest.rfind("\" ").or_else(|| rest.rfind('"')).unwrap();
            v.push(unquote(&rest[..end]));
        } else if line.starts_with(|c: char| c.is_ascii_hexdigit()) {
            let hex = line.split("  ").next().unwrap();
            v.push(
                hex.split_whitespace()
                    .map(|h| u8::from_str_radix(h, 16).unwrap())
                    .collect(),
            );
        }
    }
    v
}

/// Rebuilds `m` from its decoding.
fn rebuild(m: &[u8]) -> Vec<u8> {
    if let Some(addr) = m.strip_prefix(b"/?").and_then(|x| x.strip_suffix(b"!\r\n")) {
        return message::sign_on(std::str::from_utf8(addr).unwrap()).unwrap();
    }
    if m.starts_with(b"/") {
        let id = message::parse_identification(m).unwrap();
        let mut out = format!("/{}{}", id.manufacturer, id.baud_char as char).into_bytes();
        for w in &id.enhanced {
            out.extend([b'\\', *w]);
        }
        out.extend(id.ident.as_bytes());
        out.extend(b"\r\n");
        return out;
    }
    if m[0] == message::ACK && m.len() == 6 {
        let y = match m[3] {
            b'0' => ModeControl::Readout,
            b'1' => ModeControl::Programming,
            _ => ModeControl::Binary,
        };
        let mut out = message::option_select(m[2], y);
        out[1] = m[1];
        return out;
    }
    let (n, msg) = message::split(m).unwrap().unwrap();
    assert_eq!(n, m.len());
    match msg {
        Incoming::Block {
            start: message::SOH,
            body,
            bcc_ok: true,
            ..
        } => {
            let cmd = [body[0], body[1]];
            let data = body
                .get(2..)
                .filter(|d| !d.is_empty())
                .map(|d| d.strip_prefix(&[message::STX]).unwrap().to_vec());
            message::command(&cmd, data.as_deref())
        }
        Incoming::Block {
            start: message::STX,
            body,
            end,
            bcc_ok: true,
        } => {
            message::parse_data_sets(&body).unwrap();
            message::data_block(&body, end == message::ETX)
        }
        other => panic!("{other:?} in {m:?}"),
    }
}

#[test]
fn every_vector_round_trips() {
    let v = vectors();
    assert_eq!(v.len(), 12, "{v:?}");
    for m in &v {
        assert_eq!(&rebuild(m), m, "{}", String::from_utf8_lossy(m));
    }
}

#[test]
fn vector_decodings() {
    let v = vectors();
    let id = message::parse_identification(&v[2]).unwrap();
    assert_eq!(
        (id.manufacturer.as_str(), id.ident.as_str()),
        ("Els", "EK280")
    );
    assert!(id.short_reaction() && id.mode_e());
    let (_, Incoming::Block { body, .. }) = message::split(&v[8]).unwrap().unwrap() else {
        panic!()
    };
    let sets = message::parse_data_sets(&body).unwrap();
    assert_eq!(sets.len(), 2);
    assert_eq!(
        (
            sets[1].address.as_str(),
            sets[1].value.as_str(),
            sets[1].unit.as_str()
        ),
        ("4:15", "415", "kWh")
    );
    assert_eq!(message::bcc(&v[9][1..v[9].len() - 1]), 0x1b);
}
