//! Text handling shared by the `.cfg`, `.cff` and ASCII `.dat` readers: decoding, line
//! splitting and the end-of-file padding some platforms leave behind.

/// The SUB control character (0x1A) that DOS-era tools append to text files as an end-of-file
/// marker; COMTRADE files in the wild carry it after the last line.
pub(crate) const SUB: char = '\u{1a}';

/// Decode text the way COMTRADE files are met in practice: UTF-8 when the bytes are valid
/// UTF-8 (a leading byte-order mark is dropped), otherwise ISO 8859-1 (latin-1), where every
/// byte is one character. C37.111-2013 asks for ASCII text with UTF-8 allowed for
/// names; older devices write latin-1.
pub(crate) fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Split text into lines, accepting CR LF, LF and lone CR line ends, with SUB padding removed.
/// Line `i` of the result is line `i + 1` of the file.
pub(crate) fn lines(text: &str) -> Vec<String> {
    let cleaned: String = text.chars().filter(|&c| c != SUB).collect();
    let mut out: Vec<String> = cleaned
        .split('\n')
        .flat_map(|l| {
            let l = l.strip_suffix('\r').unwrap_or(l);
            // A lone CR (classic Mac OS) ends a line too.
            l.split('\r').map(str::to_owned).collect::<Vec<_>>()
        })
        .collect();
    // A final line end does not start another line.
    if out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out
}

/// Split a line into comma-separated fields, each with surrounding blanks removed
/// (C37.111: fields are separated by commas; readers must tolerate a leading
/// blank).
pub(crate) fn fields(line: &str) -> Vec<&str> {
    line.split(',').map(str::trim).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_else_latin1() {
        assert_eq!(decode("Esta\u{e7}\u{e3}o".as_bytes()), "Esta\u{e7}\u{e3}o");
        assert_eq!(decode(b"Esta\xe7\xe3o"), "Esta\u{e7}\u{e3}o");
        assert_eq!(decode(b"\xEF\xBB\xBFabc"), "abc");
    }

    #[test]
    fn splits_any_line_end_and_drops_sub_padding() {
        assert_eq!(lines("a\r\nb\nc\rd\r\n\u{1a}\u{1a}"), ["a", "b", "c", "d"]);
        assert_eq!(lines("a,b\u{1a}\u{1a}"), ["a,b"]);
        assert_eq!(fields(" 1, IA ,,"), ["1", "IA", "", ""]);
    }
}
