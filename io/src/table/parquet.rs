//! Result tables as Apache Parquet files, for pandas, polars, DuckDB and Spark users:
//! [`ParquetTable`] streams typed rows in row groups of bounded size.

use super::{check_row, ColumnType, Schema, TableWriter, Value, ROW_GROUP_VALUES};
use crate::Result;
use parquet::basic::{
    Compression, ConvertedType, Encoding, Repetition, Type as PhysicalType, ZstdLevel,
};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, FloatType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{ColumnPath, Type};
use pqe_core::{Error, Location};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A Parquet table written row by row, one row group per [`ROW_GROUP_VALUES`] cells (see the
/// [module documentation](super) for the column types).
pub struct ParquetTable {
    path: PathBuf,
    schema: Schema,
    writer: Option<SerializedFileWriter<File>>,
    columns: Vec<Buffer>,
    buffered: usize,
    rows: u64,
}

/// The values of one column waiting for the next row group.
enum Buffer {
    F64 {
        values: Vec<f64>,
        levels: Vec<i16>,
    },
    F32 {
        values: Vec<f32>,
        levels: Vec<i16>,
    },
    Bool(Vec<bool>),
    I64(Vec<i64>),
    Text {
        values: Vec<ByteArray>,
        levels: Vec<i16>,
    },
}

impl ParquetTable {
    /// Create `path` for a table with `schema`.
    pub fn create(path: &Path, schema: Schema) -> Result<Self> {
        let fail = |e: parquet::errors::ParquetError| {
            Error::format(Location::file(path), format!("writing Parquet: {e}"))
        };
        let fields = schema
            .iter()
            .map(|(name, t)| {
                let b = match t {
                    ColumnType::F64 => Type::primitive_type_builder(name, PhysicalType::DOUBLE)
                        .with_repetition(Repetition::OPTIONAL),
                    ColumnType::F32 => Type::primitive_type_builder(name, PhysicalType::FLOAT)
                        .with_repetition(Repetition::OPTIONAL),
                    ColumnType::Bool => Type::primitive_type_builder(name, PhysicalType::BOOLEAN)
                        .with_repetition(Repetition::REQUIRED),
                    ColumnType::I64 => Type::primitive_type_builder(name, PhysicalType::INT64)
                        .with_repetition(Repetition::REQUIRED),
                    ColumnType::Text => {
                        Type::primitive_type_builder(name, PhysicalType::BYTE_ARRAY)
                            .with_converted_type(ConvertedType::UTF8)
                            .with_repetition(Repetition::OPTIONAL)
                    }
                };
                b.build().map(Arc::new)
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(fail)?;
        let root = Arc::new(
            Type::group_type_builder("pqe_table")
                .with_fields(fields)
                .build()
                .map_err(fail)?,
        );
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        // Measured values are unique doubles: a dictionary never pays, and splitting their
        // bytes into streams (exponents apart from mantissas) lets Zstandard find what
        // repeats (see the module documentation of `table`).
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_dictionary_enabled(false);
        for (name, t) in &schema {
            if matches!(t, ColumnType::F64 | ColumnType::F32) {
                props = props.set_column_encoding(
                    ColumnPath::from(name.as_str()),
                    Encoding::BYTE_STREAM_SPLIT,
                );
            }
        }
        let props = Arc::new(props.build());
        let writer = SerializedFileWriter::new(file, root, props).map_err(fail)?;
        let columns = schema
            .iter()
            .map(|(_, t)| match t {
                ColumnType::F64 => Buffer::F64 {
                    values: Vec::new(),
                    levels: Vec::new(),
                },
                ColumnType::F32 => Buffer::F32 {
                    values: Vec::new(),
                    levels: Vec::new(),
                },
                ColumnType::Bool => Buffer::Bool(Vec::new()),
                ColumnType::I64 => Buffer::I64(Vec::new()),
                ColumnType::Text => Buffer::Text {
                    values: Vec::new(),
                    levels: Vec::new(),
                },
            })
            .collect();
        Ok(ParquetTable {
            path: path.to_path_buf(),
            schema,
            writer: Some(writer),
            columns,
            buffered: 0,
            rows: 0,
        })
    }

    /// Write the buffered rows as one row group.
    fn flush_group(&mut self) -> Result<()> {
        if self.buffered == 0 {
            return Ok(());
        }
        let path = self.path.clone();
        let fail = |e: parquet::errors::ParquetError| {
            Error::format(Location::file(&path), format!("writing Parquet: {e}"))
        };
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| Error::Config(format!("{}: the table is closed", path.display())))?;
        let mut group = writer.next_row_group().map_err(fail)?;
        let mut index = 0;
        while let Some(mut col) = group.next_column().map_err(fail)? {
            match &mut self.columns[index] {
                Buffer::F64 { values, levels } => {
                    col.typed::<DoubleType>()
                        .write_batch(values, Some(levels), None)
                        .map_err(fail)?;
                    values.clear();
                    levels.clear();
                }
                Buffer::F32 { values, levels } => {
                    col.typed::<FloatType>()
                        .write_batch(values, Some(levels), None)
                        .map_err(fail)?;
                    values.clear();
                    levels.clear();
                }
                Buffer::Bool(values) => {
                    col.typed::<BoolType>()
                        .write_batch(values, None, None)
                        .map_err(fail)?;
                    values.clear();
                }
                Buffer::I64(values) => {
                    col.typed::<Int64Type>()
                        .write_batch(values, None, None)
                        .map_err(fail)?;
                    values.clear();
                }
                Buffer::Text { values, levels } => {
                    col.typed::<ByteArrayType>()
                        .write_batch(values, Some(levels), None)
                        .map_err(fail)?;
                    values.clear();
                    levels.clear();
                }
            }
            col.close().map_err(fail)?;
            index += 1;
        }
        group.close().map_err(fail)?;
        self.buffered = 0;
        Ok(())
    }
}

impl TableWriter for ParquetTable {
    fn write_row(&mut self, row: &[Value<'_>]) -> Result<()> {
        check_row(&self.path, &self.schema, row, self.rows)?;
        for (buffer, value) in self.columns.iter_mut().zip(row) {
            match (buffer, value) {
                (Buffer::F64 { values, levels }, Value::F64(x)) => {
                    levels.push(i16::from(!x.is_nan()));
                    if !x.is_nan() {
                        values.push(*x);
                    }
                }
                (Buffer::F32 { values, levels }, Value::F64(x)) => {
                    levels.push(i16::from(!x.is_nan()));
                    if !x.is_nan() {
                        values.push(*x as f32);
                    }
                }
                (Buffer::Bool(values), Value::Bool(b)) => values.push(*b),
                (Buffer::I64(values), Value::I64(n)) => values.push(*n),
                (Buffer::Text { values, levels }, Value::Text(s)) => {
                    levels.push(1);
                    values.push(ByteArray::from(*s));
                }
                (Buffer::Text { levels, .. }, Value::Null) => levels.push(0),
                _ => unreachable!("check_row matched the types"),
            }
        }
        self.buffered += 1;
        self.rows += 1;
        if self.buffered * self.schema.len() >= ROW_GROUP_VALUES {
            self.flush_group()?;
        }
        Ok(())
    }
    fn rows(&self) -> u64 {
        self.rows
    }
    fn finish(mut self: Box<Self>) -> Result<u64> {
        self.flush_group()?;
        let path = self.path.clone();
        if let Some(w) = self.writer.take() {
            w.close().map_err(|e| {
                Error::format(Location::file(&path), format!("writing Parquet: {e}"))
            })?;
        }
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{create_table, TableFormat};
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    #[test]
    fn streams_typed_columns_in_row_groups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("intervals.parquet");
        let schema = vec![
            ("t".to_string(), ColumnType::F64),
            ("flagged".to_string(), ColumnType::Bool),
            ("kind".to_string(), ColumnType::Text),
            ("n".to_string(), ColumnType::I64),
        ];
        let mut t = create_table(&path, schema, TableFormat::Parquet).unwrap();
        let group_rows = ROW_GROUP_VALUES / 4;
        let n = group_rows + 10;
        for i in 0..n {
            let x = if i % 7 == 0 { f64::NAN } else { i as f64 * 0.2 };
            let kind = if i % 3 == 0 {
                Value::Null
            } else {
                Value::Text("dip")
            };
            t.write_row(&[
                Value::F64(x),
                Value::Bool(i % 2 == 1),
                kind,
                Value::I64(i as i64),
            ])
            .unwrap();
        }
        assert!(t.write_row(&[Value::F64(0.0)]).is_err());
        assert_eq!(t.finish().unwrap(), n as u64);
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 2);
        assert_eq!(reader.metadata().file_metadata().num_rows(), n as i64);
        let rows: Vec<_> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let row = |i: usize| -> Vec<Field> {
            rows[i].get_column_iter().map(|(_, f)| f.clone()).collect()
        };
        assert_eq!(
            row(0),
            vec![Field::Null, Field::Bool(false), Field::Null, Field::Long(0)]
        );
        assert_eq!(
            row(group_rows + 1),
            vec![
                Field::Double((group_rows + 1) as f64 * 0.2),
                Field::Bool(true),
                Field::Str("dip".into()),
                Field::Long((group_rows + 1) as i64)
            ]
        );
    }

    #[test]
    fn single_precision_columns_hold_the_values_rounded_to_f32() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.parquet");
        let schema = vec![
            ("t".to_string(), ColumnType::F64),
            ("H1".to_string(), ColumnType::F32),
        ];
        let mut t = create_table(&path, schema, TableFormat::Parquet).unwrap();
        t.write_row(&[Value::F64(0.2), Value::F64(229.876_543_21)])
            .unwrap();
        t.write_row(&[Value::F64(0.4), Value::F64(f64::NAN)])
            .unwrap();
        t.finish().unwrap();
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let rows: Vec<Vec<Field>> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| {
                r.unwrap()
                    .get_column_iter()
                    .map(|(_, f)| f.clone())
                    .collect()
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                vec![Field::Double(0.2), Field::Float(229.876_543_21_f64 as f32)],
                vec![Field::Double(0.4), Field::Null],
            ]
        );
    }
}
