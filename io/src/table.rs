//! Result tables as Apache Parquet files: named columns of numbers (NaN written as null),
//! integers or text, one row group. What `pqe batch` writes beside its CSV summary, for
//! pandas, polars, DuckDB and Spark users.

use crate::Result;
use parquet::basic::{ConvertedType, Repetition, Type as PhysicalType};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use pqe_core::{Error, Location};
use std::path::Path;
use std::sync::Arc;

/// One column of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum TableColumn {
    /// Numbers; NaN is written as null.
    F64(Vec<f64>),
    /// Integers.
    I64(Vec<i64>),
    /// Text (UTF-8); `None` is null.
    Text(Vec<Option<String>>),
}

impl TableColumn {
    fn len(&self) -> usize {
        match self {
            TableColumn::F64(v) => v.len(),
            TableColumn::I64(v) => v.len(),
            TableColumn::Text(v) => v.len(),
        }
    }
}

/// Write `columns` (name, values; all of one length) to a Parquet file at `path`.
pub fn write_parquet(path: &Path, columns: &[(String, TableColumn)]) -> Result<()> {
    let fail =
        |e: parquet::errors::ParquetError| Error::format(Location::file(path), e.to_string());
    let rows = columns.first().map_or(0, |(_, c)| c.len());
    if let Some((name, c)) = columns.iter().find(|(_, c)| c.len() != rows) {
        return Err(Error::Config(format!(
            "{}: column {name} has {} rows where the first has {rows}",
            path.display(),
            c.len()
        )));
    }
    let fields = columns
        .iter()
        .map(|(name, c)| {
            let t = match c {
                TableColumn::F64(_) => Type::primitive_type_builder(name, PhysicalType::DOUBLE)
                    .with_repetition(Repetition::OPTIONAL),
                TableColumn::I64(_) => Type::primitive_type_builder(name, PhysicalType::INT64)
                    .with_repetition(Repetition::REQUIRED),
                TableColumn::Text(_) => {
                    Type::primitive_type_builder(name, PhysicalType::BYTE_ARRAY)
                        .with_converted_type(ConvertedType::UTF8)
                        .with_repetition(Repetition::OPTIONAL)
                }
            };
            t.build().map(Arc::new)
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(fail)?;
    let schema = Arc::new(
        Type::group_type_builder("pqe_table")
            .with_fields(fields)
            .build()
            .map_err(fail)?,
    );
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let props = Arc::new(WriterProperties::builder().build());
    let mut writer = SerializedFileWriter::new(file, schema, props).map_err(fail)?;
    let mut group = writer.next_row_group().map_err(fail)?;
    let mut index = 0;
    while let Some(mut col) = group.next_column().map_err(fail)? {
        match &columns[index].1 {
            TableColumn::F64(v) => {
                let present: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
                let levels: Vec<i16> = v.iter().map(|x| i16::from(!x.is_nan())).collect();
                col.typed::<DoubleType>()
                    .write_batch(&present, Some(&levels), None)
                    .map_err(fail)?;
            }
            TableColumn::I64(v) => {
                col.typed::<Int64Type>()
                    .write_batch(v, None, None)
                    .map_err(fail)?;
            }
            TableColumn::Text(v) => {
                let present: Vec<ByteArray> = v
                    .iter()
                    .flatten()
                    .map(|s| ByteArray::from(s.as_str()))
                    .collect();
                let levels: Vec<i16> = v.iter().map(|x| i16::from(x.is_some())).collect();
                col.typed::<ByteArrayType>()
                    .write_batch(&present, Some(&levels), None)
                    .map_err(fail)?;
            }
        }
        col.close().map_err(fail)?;
        index += 1;
    }
    group.close().map_err(fail)?;
    writer.close().map_err(fail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    #[test]
    fn writes_numbers_integers_text_and_nulls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let columns = vec![
            (
                "file".to_string(),
                TableColumn::Text(vec![Some("a.cfg".into()), None]),
            ),
            ("rms".to_string(), TableColumn::F64(vec![230.5, f64::NAN])),
            ("events".to_string(), TableColumn::I64(vec![3, 0])),
        ];
        write_parquet(&path, &columns).unwrap();
        let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 2);
        let rows: Vec<_> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let first: Vec<_> = rows[0].get_column_iter().map(|(_, f)| f.clone()).collect();
        assert_eq!(
            first,
            vec![
                Field::Str("a.cfg".into()),
                Field::Double(230.5),
                Field::Long(3)
            ]
        );
        let second: Vec<_> = rows[1].get_column_iter().map(|(_, f)| f.clone()).collect();
        assert_eq!(second, vec![Field::Null, Field::Null, Field::Long(0)]);
    }

    #[test]
    fn unequal_columns_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let columns = vec![
            ("a".to_string(), TableColumn::F64(vec![1.0])),
            ("b".to_string(), TableColumn::F64(vec![])),
        ];
        let e = write_parquet(&dir.path().join("x.parquet"), &columns).unwrap_err();
        assert!(e.to_string().contains("column b"), "{e}");
    }
}
