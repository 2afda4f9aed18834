//! Reading and writing HDF5 attributes, with errors that name the object and attribute.

use ::hdf5::types::{FixedAscii, FixedUnicode, VarLenAscii, VarLenUnicode};
use ::hdf5::{H5Type, Location as H5Location};
use pqe_core::{Error, Location, Result};
use std::path::Path;
use std::str::FromStr;

/// Writes attributes on one HDF5 object of one file.
pub(crate) struct AttrWriter<'a> {
    pub path: &'a Path,
    pub object: &'a str,
    pub target: &'a H5Location,
}

impl AttrWriter<'_> {
    /// A scalar number.
    pub fn scalar<T: H5Type>(&self, name: &str, value: T) -> Result<()> {
        self.target
            .new_attr::<T>()
            .shape(())
            .create(name)
            .and_then(|a| a.write_scalar(&value))
            .map_err(|e| self.error(name, e))
    }

    /// A UTF-8 string.
    pub fn string(&self, name: &str, value: &str) -> Result<()> {
        let v = self.vlen(name, value)?;
        self.scalar(name, v)
    }

    /// A 1-D array of numbers.
    pub fn array<T: H5Type>(&self, name: &str, values: &[T]) -> Result<()> {
        self.target
            .new_attr::<T>()
            .shape([values.len()])
            .create(name)
            .and_then(|a| a.write_raw(values))
            .map_err(|e| self.error(name, e))
    }

    /// A 1-D array of UTF-8 strings.
    pub fn strings<'s>(&self, name: &str, values: impl Iterator<Item = &'s str>) -> Result<()> {
        let v = values
            .map(|s| self.vlen(name, s))
            .collect::<Result<Vec<_>>>()?;
        self.array(name, &v)
    }

    fn vlen(&self, name: &str, value: &str) -> Result<VarLenUnicode> {
        VarLenUnicode::from_str(value).map_err(|e| {
            Error::io(
                self.path,
                std::io::Error::other(format!(
                    "{} attribute {name}: cannot store '{value}': {e}",
                    self.object
                )),
            )
        })
    }

    fn error(&self, name: &str, e: ::hdf5::Error) -> Error {
        Error::io(
            self.path,
            std::io::Error::other(format!("{} attribute {name}: {e}", self.object)),
        )
    }
}

/// Reads attributes of one HDF5 object of one file.
pub(crate) struct AttrReader<'a> {
    pub path: &'a Path,
    pub object: &'a str,
    pub source: &'a H5Location,
    pub names: Vec<String>,
}

impl<'a> AttrReader<'a> {
    /// A reader for the attributes of `source`, called `object` in messages.
    pub fn new(path: &'a Path, object: &'a str, source: &'a H5Location) -> Result<Self> {
        let names = source.attr_names().map_err(|e| {
            Error::format(
                Location::file(path).field(object),
                format!("cannot list attributes: {e}"),
            )
        })?;
        Ok(AttrReader {
            path,
            object,
            source,
            names,
        })
    }

    /// Whether the attribute exists.
    pub fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// The location of attribute `name`, for messages.
    pub fn at(&self, name: &str) -> Location {
        Location::file(self.path).field(format!("{} attribute {name}", self.object))
    }

    /// The error for a required attribute that is absent.
    pub fn missing(&self, name: &str) -> Error {
        Error::format(self.at(name), "missing")
    }

    /// A scalar number, `None` when absent.
    pub fn scalar<T: H5Type>(&self, name: &str) -> Result<Option<T>> {
        if !self.has(name) {
            return Ok(None);
        }
        self.source
            .attr(name)
            .and_then(|a| a.read_scalar::<T>())
            .map(Some)
            .map_err(|e| Error::format(self.at(name), format!("not a number: {e}")))
    }

    /// A string, `None` when absent.
    pub fn string(&self, name: &str) -> Result<Option<String>> {
        if !self.has(name) {
            return Ok(None);
        }
        let attr = self
            .source
            .attr(name)
            .map_err(|e| Error::format(self.at(name), e.to_string()))?;
        let text = attr
            .read_scalar::<VarLenUnicode>()
            .map(|s| s.as_str().to_string())
            .or_else(|_| attr.read_scalar::<VarLenAscii>().map(|s| s.as_str().into()))
            .or_else(|_| {
                attr.read_scalar::<FixedUnicode<1024>>()
                    .map(|s| s.as_str().into())
            })
            .or_else(|_| {
                attr.read_scalar::<FixedAscii<1024>>()
                    .map(|s| s.as_str().into())
            })
            .map_err(|e| Error::format(self.at(name), format!("not a string: {e}")))?;
        Ok(Some(text))
    }

    /// A 1-D array of `n` numbers, `None` when absent.
    pub fn array<T: H5Type>(&self, name: &str, n: usize) -> Result<Option<Vec<T>>> {
        let values = self.vector(name)?;
        if let Some(v) = &values {
            self.check_len(name, v.len(), n)?;
        }
        Ok(values)
    }

    /// A 1-D array of numbers of any length, `None` when absent.
    pub fn vector<T: H5Type>(&self, name: &str) -> Result<Option<Vec<T>>> {
        if !self.has(name) {
            return Ok(None);
        }
        self.source
            .attr(name)
            .and_then(|a| a.read_raw::<T>())
            .map(Some)
            .map_err(|e| Error::format(self.at(name), format!("not an array of numbers: {e}")))
    }

    /// A 1-D array of `n` strings, `None` when absent.
    pub fn strings(&self, name: &str, n: usize) -> Result<Option<Vec<String>>> {
        if !self.has(name) {
            return Ok(None);
        }
        let attr = self
            .source
            .attr(name)
            .map_err(|e| Error::format(self.at(name), e.to_string()))?;
        let texts: Vec<String> = attr
            .read_raw::<VarLenUnicode>()
            .map(|v| v.iter().map(|s| s.as_str().to_string()).collect())
            .or_else(|_| {
                attr.read_raw::<VarLenAscii>()
                    .map(|v| v.iter().map(|s| s.as_str().to_string()).collect())
            })
            .or_else(|_| {
                attr.read_raw::<FixedUnicode<1024>>()
                    .map(|v| v.iter().map(|s| s.as_str().to_string()).collect())
            })
            .or_else(|_| {
                attr.read_raw::<FixedAscii<1024>>()
                    .map(|v| v.iter().map(|s| s.as_str().to_string()).collect())
            })
            .map_err(|e| Error::format(self.at(name), format!("not an array of strings: {e}")))?;
        self.check_len(name, texts.len(), n)?;
        Ok(Some(texts))
    }

    fn check_len(&self, name: &str, len: usize, n: usize) -> Result<()> {
        if len == n {
            Ok(())
        } else {
            Err(Error::format(
                self.at(name),
                format!("{len} values for {n} channels"),
            ))
        }
    }
}
