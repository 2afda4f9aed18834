//! `iec62056-21:///dev/…?mode=C[&address=…][&secret=env:VAR][&level=P1|P2]` and
//! `iec62056-21+tcp://HOST:PORT?…` as a [`MeterLink`].
//!
//! Without a secret, values come from the data readout. With a secret, the link
//! enters programming mode with the password (P1, or P2 with `level=P2`) and
//! reads each selected register with R1; writes use W1.
//!
//! Values: a data set with a unit or a decimal point whose value parses as a
//! number is a number; anything else (serial numbers, dates, status words) is
//! text as the meter wrote it, so leading zeros survive.

use crate::client::{IecClient, PasswordLevel, Readout};
use crate::message::{DataSet, Mode};
use pqe_link::{
    LinkError, MeterLink, ObisCode, OpenRequest, Reading, Result, Secret, Selector, Value,
};
use std::time::Duration;

/// An IEC 62056-21 meter.
pub struct IecLink {
    client: IecClient,
    password: Option<Secret>,
    level: PasswordLevel,
    in_programming: bool,
}

/// Opens an `iec62056-21` or `iec62056-21+tcp` URI.
pub fn open(req: &OpenRequest<'_>) -> Result<Box<dyn MeterLink>> {
    let uri = req.uri;
    uri.check_params(&["mode", "address", "secret", "level"])?;
    let mode: Mode = uri
        .param("mode")
        .unwrap_or("C")
        .parse()
        .map_err(|e: String| LinkError::Config(format!("{}: {e}", uri.scheme)))?;
    let level = match uri.param("level").unwrap_or("P1") {
        "P1" => PasswordLevel::P1,
        "P2" => PasswordLevel::P2,
        l => {
            return Err(LinkError::Config(format!(
                "{}: level={l} (expected P1 or P2)",
                uri.scheme
            )))
        }
    };
    let password = uri.secret()?.map(|r| r.resolve()).transpose()?;
    let opts = uri.options(Duration::from_millis(2000))?;
    let t = req.transport(crate::client::sign_on_line(), opts.timeout)?;
    let client = IecClient::new(
        t,
        mode,
        uri.param("address").unwrap_or(""),
        opts.timeout,
        opts.retries,
    )?;
    Ok(Box::new(IecLink {
        client,
        password,
        level,
        in_programming: false,
    }))
}

/// The value of a data set (see the module notes).
pub fn value_of(id: String, d: &DataSet) -> Value {
    let numeric = (!d.unit.is_empty() || d.value.contains('.')) && !d.value.is_empty();
    match d.value.parse::<f64>() {
        Ok(x) if numeric && x.is_finite() => Value::number(id, x, d.unit.clone()),
        _ => Value::text(id, d.value.clone(), d.unit.clone()),
    }
}

fn matches(d: &DataSet, code: &ObisCode) -> bool {
    d.address.parse::<ObisCode>().is_ok_and(|c| &c == code)
}

impl IecLink {
    fn enter_programming(&mut self) -> Result<()> {
        if !self.in_programming {
            self.client
                .programming(self.password.as_ref(), self.level)?;
            self.in_programming = true;
        }
        Ok(())
    }

    fn address_of(sel: &Selector) -> Result<String> {
        match sel {
            Selector::Obis(o) => Ok(o.short()),
            Selector::Name(n) => Ok(n.clone()),
            Selector::Register(r) => Err(LinkError::Config(format!(
                "{r}: IEC 62056-21 names values by OBIS code, not Modbus registers"
            ))),
        }
    }
}

impl MeterLink for IecLink {
    fn read_all(&mut self) -> Result<Vec<Value>> {
        let Readout { data_sets, .. } = self.client.readout()?;
        Ok(data_sets
            .iter()
            .map(|d| value_of(d.address.clone(), d))
            .collect())
    }

    fn read(&mut self, selectors: &[Selector]) -> Result<Vec<Value>> {
        if self.password.is_some() {
            self.enter_programming()?;
            let mut out = Vec::new();
            for s in selectors {
                let addr = Self::address_of(s)?;
                let d = self.client.read_register(&addr)?;
                out.push(value_of(s.to_string(), &d));
            }
            return Ok(out);
        }
        let r = self.client.readout()?;
        selectors
            .iter()
            .map(|s| {
                let found = match s {
                    Selector::Obis(o) => r.data_sets.iter().find(|d| matches(d, o)),
                    Selector::Name(n) => r.data_sets.iter().find(|d| &d.address == n),
                    Selector::Register(_) => None,
                };
                found.map(|d| value_of(s.to_string(), d)).ok_or_else(|| {
                    let have: Vec<&str> = r.data_sets.iter().map(|d| d.address.as_str()).collect();
                    LinkError::Config(format!(
                        "{s} is not in the meter's readout (it has: {})",
                        have.join(", ")
                    ))
                })
            })
            .collect()
    }

    fn write(&mut self, selector: &Selector, value: &Reading) -> Result<()> {
        if self.password.is_none() {
            return Err(LinkError::Config(
                "writing needs programming mode: give secret=env:VAR or keystore:NAME".into(),
            ));
        }
        self.enter_programming()?;
        let addr = Self::address_of(selector)?;
        self.client.write_register(&addr, &value.to_string())
    }

    fn close(&mut self) -> Result<()> {
        if self.in_programming {
            self.in_programming = false;
            self.client.break_session()?;
        }
        Ok(())
    }
}

impl Drop for IecLink {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
