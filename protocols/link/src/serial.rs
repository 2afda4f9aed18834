//! Serial transport through the `serialport` crate, and line settings written the
//! sigrok way: `9600/8E1` (baud / data bits, parity N|E|O, stop bits).

use crate::error::{LinkError, Result};
use crate::transport::{remaining, timeout_error, Transport};
use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// Parity of a serial character frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parity {
    /// No parity bit.
    None,
    /// Even parity (IEC 62056-21 7E1, M-Bus 8E1, Modbus RTU default 8E1).
    Even,
    /// Odd parity.
    Odd,
}

/// Serial line settings: baud rate and character frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSettings {
    /// Bits per second.
    pub baud: u32,
    /// Data bits per character: 7 or 8.
    pub data_bits: u8,
    /// Parity.
    pub parity: Parity,
    /// Stop bits: 1 or 2.
    pub stop_bits: u8,
}

impl LineSettings {
    /// `baud` with 8 data bits, no parity, one stop bit.
    pub fn new_8n1(baud: u32) -> Self {
        LineSettings {
            baud,
            data_bits: 8,
            parity: Parity::None,
            stop_bits: 1,
        }
    }

    /// Bits on the wire per character: start + data + parity + stop.
    pub fn bits_per_char(&self) -> u32 {
        1 + self.data_bits as u32 + u32::from(self.parity != Parity::None) + self.stop_bits as u32
    }

    /// Time one character takes on the wire.
    pub fn char_time(&self) -> Duration {
        Duration::from_secs_f64(self.bits_per_char() as f64 / self.baud as f64)
    }

    /// The same frame at another baud rate.
    pub fn with_baud(self, baud: u32) -> Self {
        LineSettings { baud, ..self }
    }
}

impl fmt::Display for LineSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = match self.parity {
            Parity::None => 'N',
            Parity::Even => 'E',
            Parity::Odd => 'O',
        };
        write!(f, "{}/{}{}{}", self.baud, self.data_bits, p, self.stop_bits)
    }
}

impl FromStr for LineSettings {
    type Err = LinkError;
    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: &str| {
            LinkError::Config(format!(
                "serial settings '{s}': {why} (expected e.g. 9600/8E1)"
            ))
        };
        let (baud, frame) = s.split_once('/').ok_or_else(|| bad("no '/'"))?;
        let baud: u32 = baud
            .parse()
            .map_err(|_| bad("baud rate is not a whole number"))?;
        if baud == 0 {
            return Err(bad("baud rate 0"));
        }
        let f = frame.as_bytes();
        if f.len() != 3 {
            return Err(bad("frame must be three characters"));
        }
        let data_bits = match f[0] {
            b'7' => 7,
            b'8' => 8,
            _ => return Err(bad("data bits must be 7 or 8")),
        };
        let parity = match f[1].to_ascii_uppercase() {
            b'N' => Parity::None,
            b'E' => Parity::Even,
            b'O' => Parity::Odd,
            _ => return Err(bad("parity must be N, E or O")),
        };
        let stop_bits = match f[2] {
            b'1' => 1,
            b'2' => 2,
            _ => return Err(bad("stop bits must be 1 or 2")),
        };
        Ok(LineSettings {
            baud,
            data_bits,
            parity,
            stop_bits,
        })
    }
}

/// A serial port (RS-232, RS-485 converter, optical head, or a pty in tests).
pub struct SerialTransport {
    port: Box<dyn serialport::SerialPort>,
    path: String,
    line: LineSettings,
}

fn apply(
    builder: serialport::SerialPortBuilder,
    l: &LineSettings,
) -> serialport::SerialPortBuilder {
    builder
        .data_bits(if l.data_bits == 7 {
            serialport::DataBits::Seven
        } else {
            serialport::DataBits::Eight
        })
        .parity(match l.parity {
            Parity::None => serialport::Parity::None,
            Parity::Even => serialport::Parity::Even,
            Parity::Odd => serialport::Parity::Odd,
        })
        .stop_bits(if l.stop_bits == 2 {
            serialport::StopBits::Two
        } else {
            serialport::StopBits::One
        })
        .flow_control(serialport::FlowControl::None)
}

impl SerialTransport {
    /// Opens `path` with `line`.
    pub fn open(path: &str, line: LineSettings) -> Result<Self> {
        let port = apply(serialport::new(path, line.baud), &line)
            .timeout(Duration::from_millis(10))
            .open()
            .map_err(|e| LinkError::io(path, std::io::Error::other(e.to_string())))?;
        Ok(SerialTransport {
            port,
            path: path.to_string(),
            line,
        })
    }
}

impl Transport for SerialTransport {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.port
            .write_all(bytes)
            .map_err(|e| LinkError::io(&self.path, e))?;
        self.port.flush().map_err(|e| LinkError::io(&self.path, e))
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize> {
        let start = Instant::now();
        loop {
            let left = remaining(deadline).max(Duration::from_millis(1));
            self.port
                .set_timeout(left)
                .map_err(|e| LinkError::io(&self.path, std::io::Error::other(e.to_string())))?;
            match self.port.read(buf) {
                Ok(0) => {
                    if Instant::now() >= deadline {
                        return Err(timeout_error(format!("data from {}", self.path), start));
                    }
                }
                Ok(n) => return Ok(n),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if Instant::now() >= deadline {
                        return Err(timeout_error(format!("data from {}", self.path), start));
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(LinkError::io(&self.path, e)),
            }
        }
    }

    fn discard_input(&mut self) -> Result<()> {
        self.port
            .clear(serialport::ClearBuffer::Input)
            .map_err(|e| LinkError::io(&self.path, std::io::Error::other(e.to_string())))
    }

    fn set_line(&mut self, settings: LineSettings) -> Result<()> {
        let err =
            |e: serialport::Error| LinkError::io(&self.path, std::io::Error::other(e.to_string()));
        self.port.set_baud_rate(settings.baud).map_err(err)?;
        self.port
            .set_data_bits(if settings.data_bits == 7 {
                serialport::DataBits::Seven
            } else {
                serialport::DataBits::Eight
            })
            .map_err(err)?;
        self.port
            .set_parity(match settings.parity {
                Parity::None => serialport::Parity::None,
                Parity::Even => serialport::Parity::Even,
                Parity::Odd => serialport::Parity::Odd,
            })
            .map_err(err)?;
        self.port
            .set_stop_bits(if settings.stop_bits == 2 {
                serialport::StopBits::Two
            } else {
                serialport::StopBits::One
            })
            .map_err(err)?;
        self.line = settings;
        Ok(())
    }

    fn line(&self) -> Option<LineSettings> {
        Some(self.line)
    }

    fn describe(&self) -> String {
        self.path.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sigrok_style_settings() {
        let l: LineSettings = "9600/8E1".parse().unwrap();
        assert_eq!(
            l,
            LineSettings {
                baud: 9600,
                data_bits: 8,
                parity: Parity::Even,
                stop_bits: 1
            }
        );
        assert_eq!(l.bits_per_char(), 11);
        assert_eq!(l.to_string(), "9600/8E1");
        let l: LineSettings = "300/7e1".parse().unwrap();
        assert_eq!((l.data_bits, l.parity), (7, Parity::Even));
        assert_eq!("2400/8N2".parse::<LineSettings>().unwrap().stop_bits, 2);
        for bad in [
            "9600", "9600/9N1", "9600/8X1", "x/8N1", "9600/8N3", "0/8N1", "9600/8N",
        ] {
            let e = bad.parse::<LineSettings>().unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }
}
