//! `modbus-tcp://HOST:PORT?unit=N` and `modbus-rtu:///dev/…?serial=9600/8N1&unit=N`
//! as a [`MeterLink`]. Parameters: `unit` (1..247, default 1), `word_order`
//! (`big`, `little`), `base` (0: selector addresses are PDU addresses, the
//! contract's default; 1: they are 1-based register numbers), `map`
//! (a built-in register map or a file), `timeout_ms`, `retries`, `echo`, `serial`.

use crate::client::{Framing, ModbusClient};
use crate::map::{plan_reads, MapEntry, RegisterMap};
use crate::values::{decode, encode, WordOrder};
use pqe_link::{
    LineSettings, LinkError, MeterLink, OpenRequest, Reading, RegisterRef, RegisterTable, Result,
    Selector, Value,
};
use std::collections::HashMap;
use std::time::Duration;

/// A Modbus meter.
pub struct ModbusLink {
    client: ModbusClient,
    word_order: WordOrder,
    base: u16,
    map: Option<RegisterMap>,
}

/// Opens a `modbus-tcp` or `modbus-rtu` URI.
pub fn open(req: &OpenRequest<'_>) -> Result<Box<dyn MeterLink>> {
    let uri = req.uri;
    uri.check_params(&["unit", "word_order", "base", "map"])?;
    let framing = if uri.scheme == "modbus-tcp" {
        Framing::Tcp
    } else {
        Framing::Rtu
    };
    let unit: u8 = uri.param_or("unit", 1)?;
    if framing == Framing::Rtu && !(1..=247).contains(&unit) {
        return Err(LinkError::Config(format!(
            "{}: unit={unit} must be 1..247 (Modbus over Serial Line §2.2)",
            uri.scheme
        )));
    }
    let base: u16 = uri.param_or("base", 0)?;
    if base > 1 {
        return Err(LinkError::Config(format!(
            "{}: base={base} must be 0 or 1",
            uri.scheme
        )));
    }
    let map = match req.map.or(uri.param("map")) {
        Some(m) => Some(RegisterMap::load(m)?),
        None => None,
    };
    let word_order = match uri.param("word_order") {
        Some(w) => w
            .parse()
            .map_err(|e: String| LinkError::Config(format!("{}: {e}", uri.scheme)))?,
        None => map.as_ref().map(|m| m.word_order).unwrap_or_default(),
    };
    let opts = uri.options(Duration::from_millis(1000))?;
    // Modbus over Serial Line §2.5.1: 8E1 is the default frame (8N2 and 8N1 are common too).
    let t = req.transport(
        LineSettings {
            parity: pqe_link::Parity::Even,
            ..LineSettings::new_8n1(19200)
        },
        opts.timeout,
    )?;
    Ok(Box::new(ModbusLink {
        client: ModbusClient::new(t, framing, unit, opts.timeout, opts.retries),
        word_order,
        base,
        map,
    }))
}

impl ModbusLink {
    /// A link over an existing client (tests, other fronts).
    pub fn new(client: ModbusClient, word_order: WordOrder, map: Option<RegisterMap>) -> Self {
        ModbusLink {
            client,
            word_order,
            base: 0,
            map,
        }
    }

    fn pdu_address(&self, r: RegisterRef) -> Result<RegisterRef> {
        if self.base == 1 {
            let address = r.address.checked_sub(1).ok_or_else(|| {
                LinkError::Config(format!(
                    "register {r}: with base=1 register numbers start at 1"
                ))
            })?;
            Ok(RegisterRef { address, ..r })
        } else {
            Ok(r)
        }
    }

    /// Reads `regs` with as few requests as the registers' layout allows and
    /// returns each one's words.
    fn read_words(&mut self, regs: &[RegisterRef]) -> Result<HashMap<(RegisterTable, u16), u16>> {
        let mut words = HashMap::new();
        for (table, address, count) in plan_reads(regs) {
            let got = self.client.read_registers(table, address, count)?;
            for (k, w) in got.into_iter().enumerate() {
                words.insert((table, address + k as u16), w);
            }
        }
        Ok(words)
    }

    fn value_of(&self, r: RegisterRef, words: &HashMap<(RegisterTable, u16), u16>) -> f64 {
        let w: Vec<u16> = (0..r.kind.words())
            .map(|k| words[&(r.table, r.address + k)])
            .collect();
        decode(r.kind, &w, self.word_order)
    }

    fn map_entry(&self, sel: &Selector) -> Result<Option<MapEntry>> {
        let find = |pred: &dyn Fn(&MapEntry) -> bool| {
            self.map
                .as_ref()
                .and_then(|m| m.entries.iter().find(|e| pred(e)).cloned())
        };
        match sel {
            Selector::Register(_) => Ok(None),
            Selector::Name(n) => find(&|e| &e.name == n).map(Some).ok_or_else(|| {
                LinkError::Config(format!(
                    "'{n}' is not in the register map{}",
                    self.map_hint()
                ))
            }),
            Selector::Obis(o) => find(&|e| e.obis == Some(*o)).map(Some).ok_or_else(|| {
                LinkError::Config(format!(
                    "OBIS {} is not in the register map{}",
                    o.short(),
                    self.map_hint()
                ))
            }),
        }
    }

    fn map_hint(&self) -> String {
        match &self.map {
            None => {
                " (no map: give --map or map=, or select registers with --register TABLE:ADDR:TYPE)"
                    .into()
            }
            Some(m) => format!(" of {}", m.name),
        }
    }
}

fn scaled(raw: f64, scale: f64) -> f64 {
    if scale == 1.0 {
        raw
    } else {
        // Shortest decimal of the product (0.1 × 2301 → 230.1, not 230.10000000000002).
        let x = raw * scale;
        format!("{x:.12e}").parse().unwrap_or(x)
    }
}

impl MeterLink for ModbusLink {
    fn read_all(&mut self) -> Result<Vec<Value>> {
        let entries = match &self.map {
            Some(m) => m.entries.clone(),
            None => {
                return Err(LinkError::Config(
                    "a Modbus meter has no \"everything\": give a register map (--map NAME|FILE, built in: sdm630) or --register selectors".into(),
                ))
            }
        };
        let sels: Vec<Selector> = entries
            .iter()
            .map(|e| Selector::Name(e.name.clone()))
            .collect();
        self.read(&sels)
    }

    fn read(&mut self, selectors: &[Selector]) -> Result<Vec<Value>> {
        // (id, register, scale, unit) per selector, in order.
        let mut wanted = Vec::with_capacity(selectors.len());
        for s in selectors {
            match self.map_entry(s)? {
                Some(e) => wanted.push((e.name.clone(), e.register, e.scale, e.unit.clone())),
                None => {
                    let Selector::Register(r) = s else {
                        unreachable!("map_entry handles names and OBIS codes")
                    };
                    wanted.push((r.to_string(), self.pdu_address(*r)?, 1.0, String::new()));
                }
            }
        }
        let regs: Vec<RegisterRef> = wanted.iter().map(|w| w.1).collect();
        let words = self.read_words(&regs)?;
        Ok(wanted
            .into_iter()
            .map(|(id, r, scale, unit)| {
                Value::number(id, scaled(self.value_of(r, &words), scale), unit)
            })
            .collect())
    }

    fn write(&mut self, selector: &Selector, value: &Reading) -> Result<()> {
        let (r, scale) = match self.map_entry(selector)? {
            Some(e) => (e.register, e.scale),
            None => match selector {
                Selector::Register(r) => (self.pdu_address(*r)?, 1.0),
                _ => unreachable!("map_entry handles names and OBIS codes"),
            },
        };
        if r.table != RegisterTable::Holding {
            return Err(LinkError::Config(format!(
                "{selector}: input registers are read-only (MAP §4.3)"
            )));
        }
        let Reading::Number(x) = value else {
            return Err(LinkError::Config(format!(
                "{selector}: a Modbus register takes a number"
            )));
        };
        let words = encode(r.kind, x / scale, self.word_order)
            .map_err(|e| LinkError::Config(format!("{selector}: {e}")))?;
        self.client.write_registers(r.address, &words)
    }
}
