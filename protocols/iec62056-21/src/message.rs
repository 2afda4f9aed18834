//! Sans-IO IEC 62056-21:2002 messages (§6.3): sign-on request, identification,
//! acknowledgement/option select, data and programming command messages, the
//! block check character, and the data sets of a readout.

use std::fmt;

/// Start of header.
pub const SOH: u8 = 0x01;
/// Start of text.
pub const STX: u8 = 0x02;
/// End of text (last block).
pub const ETX: u8 = 0x03;
/// End of a partial block.
pub const EOT: u8 = 0x04;
/// Acknowledge.
pub const ACK: u8 = 0x06;
/// Negative acknowledge (repeat).
pub const NAK: u8 = 0x15;

/// The block check character: XOR of the 7-bit characters after the first SOH
/// or STX up to and including ETX or EOT (§6.3, "block check character").
pub fn bcc(after_start: &[u8]) -> u8 {
    after_start.iter().fold(0u8, |x, b| x ^ (b & 0x7f))
}

/// The request message `/?ADDRESS!CRLF` (§6.3.1); the address is at most 32
/// characters of digits, letters and spaces (none of `/?!`).
pub fn sign_on(address: &str) -> Result<Vec<u8>, String> {
    if address.len() > 32 {
        return Err(format!(
            "device address of {} characters: at most 32 (§6.3.1)",
            address.len()
        ));
    }
    if let Some(c) = address
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == ' '))
    {
        return Err(format!(
            "device address character {c:?}: only letters, digits and spaces (§6.3.1)"
        ));
    }
    Ok(format!("/?{address}!\r\n").into_bytes())
}

/// Protocol modes (§6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Mode A: readout at 300 baud, no switch-over.
    A,
    /// Mode B: readout at the baud the identification names, no acknowledgement.
    B,
    /// Mode C: option select, readout or programming, baud switch-over.
    C,
    /// Mode D: readout at 2400 baud.
    D,
    /// Mode E: as C, with the binary (HDLC) option.
    E,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "A" | "a" => Ok(Mode::A),
            "B" | "b" => Ok(Mode::B),
            "C" | "c" => Ok(Mode::C),
            "D" | "d" => Ok(Mode::D),
            "E" | "e" => Ok(Mode::E),
            _ => Err(format!("mode '{s}' (expected A, B, C, D or E)")),
        }
    }
}

/// The baud rate the identification's character Z names (§6.3.2, "baud rate
/// identification"): `0`..`6` = 300..19200 in modes C and E, `A`..`I` in mode B.
pub fn baud_for(mode: Mode, z: u8) -> Option<u32> {
    const C: [u32; 7] = [300, 600, 1200, 2400, 4800, 9600, 19200];
    match mode {
        Mode::C | Mode::E => (b'0'..=b'6').contains(&z).then(|| C[(z - b'0') as usize]),
        Mode::B => (b'A'..=b'F')
            .contains(&z)
            .then(|| C[(z - b'A' + 1) as usize]),
        Mode::A => Some(300),
        Mode::D => Some(2400),
    }
}

/// The identification message `/XXXZ[\W]Ident CRLF` (§6.3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identification {
    /// Manufacturer's three letters; a lower-case third letter means the meter
    /// answers after 20 ms instead of 200 ms.
    pub manufacturer: String,
    /// Baud rate character Z.
    pub baud_char: u8,
    /// Enhanced capability `\W` characters (e.g. `2` = mode E capable).
    pub enhanced: Vec<u8>,
    /// The identification (at most 16 characters).
    pub ident: String,
}

impl Identification {
    /// Whether the meter allows the 20 ms reaction time.
    pub fn short_reaction(&self) -> bool {
        self.manufacturer
            .as_bytes()
            .get(2)
            .is_some_and(u8::is_ascii_lowercase)
    }

    /// Whether the meter offers mode E (`\2`).
    pub fn mode_e(&self) -> bool {
        self.enhanced.contains(&b'2')
    }
}

impl fmt::Display for Identification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} baud '{}' {}",
            self.manufacturer, self.baud_char as char, self.ident
        )?;
        if self.mode_e() {
            f.write_str(" (mode E)")?;
        }
        Ok(())
    }
}

/// Parses an identification message (with its CR LF).
pub fn parse_identification(m: &[u8]) -> Result<Identification, String> {
    let body = m
        .strip_prefix(b"/")
        .ok_or("identification does not start with '/' (§6.3.2)")?
        .strip_suffix(b"\r\n")
        .ok_or("identification does not end with CR LF (§6.3.2)")?;
    if body.len() < 5 {
        return Err(format!(
            "identification of {} characters is too short (§6.3.2)",
            body.len()
        ));
    }
    if !body[..3].iter().all(u8::is_ascii_alphabetic) {
        return Err(format!(
            "manufacturer '{}' is not three letters (§6.3.2)",
            String::from_utf8_lossy(&body[..3])
        ));
    }
    if !body.iter().all(|b| (0x20..0x7f).contains(b)) {
        return Err("identification holds non-printable characters (§6.3.2)".into());
    }
    let baud_char = body[3];
    let mut rest = &body[4..];
    let mut enhanced = Vec::new();
    while let [b'\\', w, tail @ ..] = rest {
        enhanced.push(*w);
        rest = tail;
    }
    if rest.is_empty() || rest.len() > 16 {
        return Err(format!(
            "identification text of {} characters: 1..16 (§6.3.2)",
            rest.len()
        ));
    }
    Ok(Identification {
        manufacturer: String::from_utf8_lossy(&body[..3]).into_owned(),
        baud_char,
        enhanced,
        ident: String::from_utf8_lossy(rest).into_owned(),
    })
}

/// What the client asks for in the option select (Y, §6.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeControl {
    /// `0`: data readout.
    Readout,
    /// `1`: programming mode.
    Programming,
    /// `2`: binary mode (mode E, HDLC).
    Binary,
}

/// The acknowledgement/option select message `ACK V Z Y CR LF` (§6.3.3), V = 0 (normal protocol).
pub fn option_select(baud_char: u8, y: ModeControl) -> Vec<u8> {
    let y = match y {
        ModeControl::Readout => b'0',
        ModeControl::Programming => b'1',
        ModeControl::Binary => b'2',
    };
    vec![ACK, b'0', baud_char, y, b'\r', b'\n']
}

/// A programming command message `SOH C D STX data ETX BCC`, or
/// `SOH B0 ETX BCC` for the break (§6.3.6).
pub fn command(cmd: &[u8; 2], data: Option<&[u8]>) -> Vec<u8> {
    let mut m = vec![SOH, cmd[0], cmd[1]];
    if let Some(d) = data {
        m.push(STX);
        m.extend_from_slice(d);
    }
    m.push(ETX);
    let c = bcc(&m[1..]);
    m.push(c);
    m
}

/// A block `STX data ETX|EOT BCC` (data and answer messages, §6.3.4, §6.3.5).
pub fn data_block(data: &[u8], last: bool) -> Vec<u8> {
    let mut m = vec![STX];
    m.extend_from_slice(data);
    m.push(if last { ETX } else { EOT });
    let c = bcc(&m[1..]);
    m.push(c);
    m
}

/// A message as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// `/…CRLF`: an identification.
    Identification(Vec<u8>),
    /// A lone ACK.
    Ack,
    /// A lone NAK.
    Nak,
    /// `SOH|STX … ETX|EOT BCC`.
    Block {
        /// The first byte (SOH or STX).
        start: u8,
        /// Bytes between the start byte and the end byte.
        body: Vec<u8>,
        /// ETX (last block) or EOT (partial block).
        end: u8,
        /// Whether the BCC checks.
        bcc_ok: bool,
    },
}

/// Where the first message in `bytes` ends: `Ok(Some((len, msg)))`, `Ok(None)`
/// when more bytes are needed, `Err(n)` when `n` leading bytes are noise.
pub fn split(bytes: &[u8]) -> Result<Option<(usize, Incoming)>, usize> {
    match bytes.first() {
        None => Ok(None),
        Some(&ACK) => Ok(Some((1, Incoming::Ack))),
        Some(&NAK) => Ok(Some((1, Incoming::Nak))),
        Some(b'/') => Ok(bytes
            .windows(2)
            .position(|w| w == b"\r\n")
            .map(|p| (p + 2, Incoming::Identification(bytes[..p + 2].to_vec())))),
        Some(&s) if s == SOH || s == STX => {
            let Some(p) = bytes[1..].iter().position(|&b| b == ETX || b == EOT) else {
                return Ok(None);
            };
            let end_at = 1 + p;
            if bytes.len() < end_at + 2 {
                return Ok(None);
            }
            let ok = bcc(&bytes[1..=end_at]) == bytes[end_at + 1];
            Ok(Some((
                end_at + 2,
                Incoming::Block {
                    start: s,
                    body: bytes[1..end_at].to_vec(),
                    end: bytes[end_at],
                    bcc_ok: ok,
                },
            )))
        }
        Some(_) => Err(bytes
            .iter()
            .position(|&b| matches!(b, ACK | NAK | SOH | STX | b'/'))
            .unwrap_or(bytes.len())),
    }
}

/// A data set `address(value*unit)`, possibly with more bracketed values
/// (e.g. a timestamp) after the first (§6.5 "data set").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSet {
    /// The address as the meter writes it (an OBIS code in its short form, mostly).
    pub address: String,
    /// The first value.
    pub value: String,
    /// Its unit ("" where none).
    pub unit: String,
    /// Further bracketed values as written.
    pub more: Vec<String>,
    /// Byte offset of the data set in the data it was parsed from.
    pub offset: usize,
}

/// Parses the data sets of a readout or answer block body (STX to ETX, the
/// partial blocks joined). The end `!` line and line ends are skipped; an
/// unbalanced bracket or a value with forbidden characters is an error naming
/// its byte offset.
pub fn parse_data_sets(data: &[u8]) -> Result<Vec<DataSet>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\r' | b'\n' => i += 1,
            b'!' => {
                // The end of the readout: only line ends may follow.
                if let Some(k) = data[i + 1..]
                    .iter()
                    .position(|b| !matches!(b, b'\r' | b'\n'))
                {
                    return Err(format!("byte {}: data after the end mark '!'", i + 1 + k));
                }
                break;
            }
            _ => {
                let start = i;
                let open = data[i..]
                    .iter()
                    .position(|&b| b == b'(')
                    .map(|p| i + p)
                    .ok_or_else(|| format!("byte {start}: address without a '(' value"))?;
                let address = &data[start..open];
                if address.len() > 16
                    || address
                        .iter()
                        .any(|&b| matches!(b, b'(' | b')' | b'/' | b'!' | b'\r' | b'\n'))
                {
                    return Err(format!(
                        "byte {start}: address '{}' is not valid (§6.5)",
                        String::from_utf8_lossy(address)
                    ));
                }
                let mut values = Vec::new();
                i = open;
                while data.get(i) == Some(&b'(') {
                    let close = data[i..]
                        .iter()
                        .position(|&b| b == b')')
                        .map(|p| i + p)
                        .ok_or_else(|| format!("byte {i}: '(' without ')'"))?;
                    let v = &data[i + 1..close];
                    if v.iter().any(|&b| {
                        matches!(b, b'(' | b'/' | b'!' | b'\r' | b'\n')
                            || !(0x20..0x7f).contains(&b)
                    }) {
                        return Err(format!(
                            "byte {}: value '{}' holds a forbidden character (§6.5)",
                            i + 1,
                            String::from_utf8_lossy(v)
                        ));
                    }
                    values.push(String::from_utf8_lossy(v).into_owned());
                    i = close + 1;
                }
                let first = values.remove(0);
                let (value, unit) = match first.split_once('*') {
                    Some((v, u)) => (v.to_string(), u.to_string()),
                    None => (first, String::new()),
                };
                out.push(DataSet {
                    address: String::from_utf8_lossy(address).into_owned(),
                    value,
                    unit,
                    more: values,
                    offset: start,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identification_and_bauds() {
        let id = parse_identification(b"/Els6\\2EK280\r\n").unwrap();
        assert_eq!(
            (id.manufacturer.as_str(), id.baud_char, id.ident.as_str()),
            ("Els", b'6', "EK280")
        );
        assert!(id.short_reaction() && id.mode_e());
        assert_eq!(baud_for(Mode::C, id.baud_char), Some(19200));
        assert_eq!(baud_for(Mode::B, b'E'), Some(9600));
        assert_eq!(baud_for(Mode::C, b'9'), None);
        assert!(parse_identification(b"/12A5X\r\n")
            .unwrap_err()
            .contains("three letters"));
    }

    #[test]
    fn data_sets() {
        let d = parse_data_sets(b"1.8.0(0012345.678*kWh)\r\n32.7.0(230.1*V)52.7.0(231.2*V)\r\n1.6.0(2.5*kW)(2412011200)\r\nF.F(00)\r\n!\r\n").unwrap();
        assert_eq!(d.len(), 5);
        assert_eq!(
            (
                d[0].address.as_str(),
                d[0].value.as_str(),
                d[0].unit.as_str()
            ),
            ("1.8.0", "0012345.678", "kWh")
        );
        assert_eq!(d[2].address, "52.7.0");
        assert_eq!(d[3].more, ["2412011200"]);
        assert!(parse_data_sets(b"1.8.0(12")
            .unwrap_err()
            .contains("byte 5: '(' without ')'"));
        assert!(parse_data_sets(b"1.8.0\r\n")
            .unwrap_err()
            .contains("byte 0"));
        assert!(parse_data_sets(b"!\r\nx")
            .unwrap_err()
            .contains("after the end mark"));
    }
}
