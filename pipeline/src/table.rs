//! Result tables written as CSV: a header, then rows of numbers in the same column order.
//! Numbers are shortest round-trip decimals; a missing value (NaN) is an empty cell.

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A CSV table being written row by row.
pub struct CsvTable {
    path: PathBuf,
    columns: Vec<String>,
    out: BufWriter<File>,
    rows: u64,
    row: Vec<f64>,
}

impl CsvTable {
    /// Create `path` with `columns` as its header.
    pub fn create(path: &Path, columns: Vec<String>) -> Result<Self> {
        let file =
            File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        let header: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        writeln!(out, "{}", header.join(","))
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(CsvTable {
            path: path.to_path_buf(),
            columns,
            out,
            rows: 0,
            row: Vec::new(),
        })
    }

    /// Append a row of numbers, one per column. A row of the wrong length is refused
    /// before anything of it is written.
    pub fn write_numbers(&mut self, values: impl IntoIterator<Item = f64>) -> Result<()> {
        self.row.clear();
        self.row.extend(values);
        if self.row.len() != self.columns.len() {
            bail!(
                "{}: row of {} values under a header of {}",
                self.path.display(),
                self.row.len(),
                self.columns.len()
            );
        }
        let mut buf = ryu::Buffer::new();
        for (i, v) in self.row.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            write_cell(&mut self.out, &mut buf, *v)?;
        }
        self.out
            .write_all(b"\n")
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.rows += 1;
        Ok(())
    }

    /// Append a row of (column, value) pairs whose names must be the header's, in order.
    pub fn write_named(&mut self, row: &[(String, f64)]) -> Result<()> {
        if row.len() != self.columns.len()
            || row.iter().zip(&self.columns).any(|((a, _), b)| a != b)
        {
            bail!(
                "{}: a row's columns differ from the header (row {})",
                self.path.display(),
                self.rows + 1
            );
        }
        self.write_numbers(row.iter().map(|(_, v)| *v))
    }

    /// Append a row of text cells (quoted where needed).
    pub fn write_text(&mut self, cells: &[String]) -> Result<()> {
        if cells.len() != self.columns.len() {
            bail!(
                "{}: row of {} cells under a header of {}",
                self.path.display(),
                cells.len(),
                self.columns.len()
            );
        }
        let line: Vec<String> = cells.iter().map(|c| quote(c)).collect();
        writeln!(self.out, "{}", line.join(","))
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.rows += 1;
        Ok(())
    }

    /// Flush to disk.
    pub fn finish(mut self) -> Result<u64> {
        self.out
            .flush()
            .with_context(|| format!("writing {}", self.path.display()))?;
        Ok(self.rows)
    }
}

/// A number as a CSV cell: an integer without a decimal point, otherwise the shortest
/// round-trip decimal; empty when missing.
pub fn cell(x: f64) -> String {
    let mut out = Vec::new();
    write_cell(&mut out, &mut ryu::Buffer::new(), x).expect("writing to a Vec");
    String::from_utf8(out).expect("ASCII")
}

fn write_cell(out: &mut impl Write, buf: &mut ryu::Buffer, x: f64) -> std::io::Result<()> {
    if !x.is_finite() {
        return Ok(());
    }
    if x == x.trunc() && x.abs() < 1e15 {
        write!(out, "{}", x as i64)
    } else {
        out.write_all(buf.format_finite(x).as_bytes())
    }
}

/// Quote a text cell when it holds a separator, a quote or a line break (RFC 4180).
fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A file-name-safe form of a column name (`U_A` stays, `SBUS A V-node` → `SBUS_A_V-node`).
pub fn file_safe(name: &str) -> String {
    let s: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "channel".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_names() {
        assert_eq!(cell(f64::NAN), "");
        assert_eq!(cell(0.1), "0.1");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(file_safe(" SBUS A  V/node "), "SBUS_A__V_node");
    }

    #[test]
    fn rows_must_match_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        let mut t = CsvTable::create(&p, vec!["t".into(), "f".into()]).unwrap();
        t.write_numbers([0.0, 50.0]).unwrap();
        assert!(t.write_numbers([1.0]).is_err());
        assert!(t
            .write_named(&[("t".into(), 1.0), ("g".into(), 2.0)])
            .is_err());
        t.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "t,f\n0,50\n");
    }
}
