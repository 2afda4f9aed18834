//! The combined file format `.cff` (C37.111-2013): the CFG, INF, HDR and DAT files
//! one after another, each under a header line `--- file type: CFG ---`; the DAT header
//! names the data format and, for binary data, its length in bytes:
//! `--- file type: DAT BINARY: 1234 ---`.

use super::DataFormat;
use pqe_core::{Error, Location, Result};
use std::io::BufRead;

/// What precedes the data of a `.cff`.
#[derive(Debug, Clone, Default)]
pub(crate) struct CffHead {
    /// The CFG section's raw text.
    pub cfg: Vec<u8>,
    /// File line number of the CFG section's first line.
    pub cfg_first_line: u64,
    /// The INF section, if any.
    pub inf: Vec<u8>,
    /// The HDR section, if any.
    pub hdr: Vec<u8>,
    /// The data format the DAT header names.
    pub dat_format: Option<DataFormat>,
    /// The byte count the DAT header states.
    pub dat_bytes: Option<u64>,
    /// Offset of the first data byte in the file.
    pub dat_offset: u64,
    /// File line number of the DAT header line.
    pub dat_header_line: u64,
}

/// A section header line, parsed: the section type, the DAT format word, the byte count.
pub(crate) fn parse_header(line: &[u8]) -> Option<(String, Option<String>, Option<String>)> {
    let text = std::str::from_utf8(line).ok()?.trim();
    let inner = text.strip_prefix("---")?.strip_suffix("---")?.trim();
    let (key, rest) = inner.split_once(':')?;
    if !key.trim().eq_ignore_ascii_case("file type") {
        return None;
    }
    let (kind_and_format, count) = match rest.split_once(':') {
        Some((a, b)) => (a, Some(b.trim().to_owned())),
        None => (rest, None),
    };
    let mut words = kind_and_format.split_whitespace();
    let kind = words.next()?.to_ascii_uppercase();
    let format = words.next().map(str::to_ascii_uppercase);
    if words.next().is_some() {
        return None;
    }
    Some((kind, format, count))
}

/// Read the sections before the data, leaving `reader` at the first data byte.
pub(crate) fn read_head(reader: &mut impl BufRead, loc: &Location) -> Result<CffHead> {
    let mut head = CffHead::default();
    let mut line = Vec::new();
    let mut offset = 0u64;
    let mut line_no = 0u64;
    let mut section: Option<String> = None;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io(&loc.file, e))?;
        if n == 0 {
            return Err(Error::format(
                loc.at_line(line_no + 1),
                "the .cff ends without a '--- file type: DAT ... ---' section",
            ));
        }
        offset += n as u64;
        line_no += 1;
        if let Some((kind, format, count)) = parse_header(&line) {
            let here = loc.at_line(line_no);
            match kind.as_str() {
                "CFG" => head.cfg_first_line = line_no + 1,
                "INF" | "HDR" => {}
                "DAT" => {
                    let word = format.ok_or_else(|| {
                        Error::format(here.clone(), "the DAT section header names no data format")
                    })?;
                    head.dat_format = Some(word.parse().map_err(|_| {
                        Error::format(
                            here.clone(),
                            format!(
                                "unknown file type '{word}' (ASCII, BINARY, BINARY32 or FLOAT32)"
                            ),
                        )
                    })?);
                    head.dat_bytes = match count {
                        Some(c) => Some(c.parse::<u64>().map_err(|_| {
                            Error::format(
                                here.clone().field("DAT byte count"),
                                format!("'{c}' is not a byte count"),
                            )
                        })?),
                        None => None,
                    };
                    head.dat_offset = offset;
                    head.dat_header_line = line_no;
                    if head.cfg_first_line == 0 {
                        return Err(Error::format(here, "the .cff has no CFG section"));
                    }
                    return Ok(head);
                }
                other => {
                    return Err(Error::format(
                        here,
                        format!("unknown file type '{other}' in .cff (CFG, INF, HDR or DAT)"),
                    ))
                }
            }
            section = Some(kind);
            continue;
        }
        match section.as_deref() {
            Some("CFG") => head.cfg.extend_from_slice(&line),
            Some("INF") => head.inf.extend_from_slice(&line),
            Some("HDR") => head.hdr.extend_from_slice(&line),
            _ if line.iter().all(|b| b.is_ascii_whitespace()) => {}
            _ => {
                return Err(Error::format(
                    loc.at_line(line_no),
                    "not a .cff: the file must begin with '--- file type: CFG ---'",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse_with_and_without_counts() {
        assert_eq!(
            parse_header(b"--- file type: CFG ---\r\n"),
            Some(("CFG".into(), None, None))
        );
        assert_eq!(
            parse_header(b"--- file type: DAT FLOAT32: 4214 ---\r\n"),
            Some(("DAT".into(), Some("FLOAT32".into()), Some("4214".into())))
        );
        assert_eq!(
            parse_header(b"--- File Type: dat ascii ---"),
            Some(("DAT".into(), Some("ASCII".into()), None))
        );
        assert_eq!(parse_header(b"1,2,3"), None);
    }
}
