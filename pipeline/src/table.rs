//! The result tables of an analysis, in the format the settings ask for (CSV or Parquet,
//! through [`pqe_io::table`]). A table knows its columns once, when it is created; each row
//! after that is values only, in column order, so writing a row costs no column-name
//! strings.
//!
//! Column types: `flagged`, `incomplete` and `rising` are truth values (BOOLEAN in Parquet,
//! `1`/`0` in CSV); every other numeric column is a number (DOUBLE, NaN as null in Parquet;
//! the shortest round-trip decimal, empty when missing, in CSV). The harmonic spectra
//! ([`ResultTable::spectrum`]) are FLOAT in Parquet (see [`pqe_io::table`]).

use anyhow::{bail, Context, Result};
use pqe_io::table::{create_table, ColumnType, Schema, TableFormat, TableWriter, Value};
use std::path::{Path, PathBuf};

/// Whether a numeric column named `name` holds truth values.
pub fn is_flag_column(name: &str) -> bool {
    matches!(name, "flagged" | "incomplete" | "rising")
}

/// The schema of `columns`, each typed by `type_of`.
fn schema_of(columns: &[String], type_of: impl Fn(&str) -> ColumnType) -> Schema {
    columns.iter().map(|c| (c.clone(), type_of(c))).collect()
}

/// A result table being written row by row.
pub struct ResultTable {
    path: PathBuf,
    file_name: String,
    schema: Schema,
    writer: Box<dyn TableWriter>,
    row: Vec<Value<'static>>,
}

impl ResultTable {
    /// Create the table `stem` (`intervals`, `harmonics_U_A`, …) in `dir` with numeric
    /// `columns` (flag columns typed as truth values, see [`is_flag_column`]).
    pub fn numeric(
        dir: &Path,
        stem: &str,
        columns: &[String],
        format: TableFormat,
    ) -> Result<Self> {
        let type_of = |c: &str| {
            if is_flag_column(c) {
                ColumnType::Bool
            } else {
                ColumnType::F64
            }
        };
        Self::typed(dir, stem, schema_of(columns, type_of), format)
    }

    /// Create a spectrum table `stem` in `dir`: `t` then `columns` of magnitudes, stored
    /// with single precision in Parquet (seven significant digits, far below the
    /// uncertainty of IEC 61000-4-7 Class I) and in full in CSV.
    pub fn spectrum(
        dir: &Path,
        stem: &str,
        columns: &[String],
        format: TableFormat,
    ) -> Result<Self> {
        let type_of = |c: &str| {
            if c == "t" {
                ColumnType::F64
            } else {
                ColumnType::F32
            }
        };
        Self::typed(dir, stem, schema_of(columns, type_of), format)
    }

    /// Create the table `stem` in `dir` with the column types of `schema`.
    pub fn typed(dir: &Path, stem: &str, schema: Schema, format: TableFormat) -> Result<Self> {
        let file_name = format!("{stem}.{}", format.extension());
        let path = dir.join(&file_name);
        let writer = create_table(&path, schema.clone(), format)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(ResultTable {
            path,
            file_name,
            schema,
            writer,
            row: Vec::new(),
        })
    }

    /// The file's name in the output folder (`intervals.csv`).
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// Append a row of numbers, one per column in column order (a flag column takes 1 for
    /// true and 0 for false). A row of the wrong length is refused before anything of it
    /// is written.
    pub fn write_numbers(&mut self, values: impl IntoIterator<Item = f64>) -> Result<()> {
        self.row.clear();
        let schema = &self.schema;
        self.row.extend(
            values
                .into_iter()
                .enumerate()
                .map(|(i, v)| match schema.get(i) {
                    Some((_, ColumnType::Bool)) => Value::Bool(v != 0.0),
                    _ => Value::F64(v),
                }),
        );
        self.writer
            .write_row(&self.row)
            .with_context(|| format!("writing {}", self.path.display()))
    }

    /// Append a row of (column, value) pairs whose names must be the header's, in order:
    /// for rows whose columns are built with their values and may change.
    pub fn write_named(&mut self, row: &[(String, f64)]) -> Result<()> {
        if row.len() != self.schema.len()
            || row.iter().zip(&self.schema).any(|((a, _), (b, _))| a != b)
        {
            bail!(
                "{}: a row's columns differ from the header (row {})",
                self.path.display(),
                self.writer.rows() + 1
            );
        }
        self.write_numbers(row.iter().map(|(_, v)| *v))
    }

    /// Append a row of typed cells.
    pub fn write_row(&mut self, row: &[Value<'_>]) -> Result<()> {
        self.writer
            .write_row(row)
            .with_context(|| format!("writing {}", self.path.display()))
    }

    /// Write what is buffered and close the file; the number of rows.
    pub fn finish(self) -> Result<u64> {
        let path = self.path;
        self.writer
            .finish()
            .with_context(|| format!("writing {}", path.display()))
    }
}

/// A number as a CSV cell: an integer without a decimal point, otherwise the shortest
/// round-trip decimal; empty when missing.
pub fn cell(x: f64) -> String {
    pqe_io::table::number_cell(x)
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
        assert_eq!(file_safe(" SBUS A  V/node "), "SBUS_A__V_node");
    }

    #[test]
    fn rows_must_match_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let cols = vec!["t".to_string(), "flagged".into(), "f".into()];
        let mut t = ResultTable::numeric(dir.path(), "x", &cols, TableFormat::Csv).unwrap();
        assert_eq!(t.file_name(), "x.csv");
        t.write_numbers([0.0, 1.0, 50.5]).unwrap();
        assert!(t.write_numbers([1.0]).is_err());
        assert!(t
            .write_named(&[("t".into(), 1.0), ("g".into(), 2.0), ("f".into(), 3.0)])
            .is_err());
        t.write_named(&[
            ("t".into(), 2.0),
            ("flagged".into(), 0.0),
            ("f".into(), f64::NAN),
        ])
        .unwrap();
        assert_eq!(t.finish().unwrap(), 2);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("x.csv")).unwrap(),
            "t,flagged,f\n0,1,50.5\n2,0,\n"
        );
    }
}
