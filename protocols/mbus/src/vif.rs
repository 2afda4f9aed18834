//! Value information: what a data record measures, in which unit and with which decimal
//! exponent (EN 13757-3:2018 clause 6.4, tables 10–14 "primary VIF-codes", "main VIFE-code
//! extension table" following FDh, "alternate VIFE-code extension table" following FBh,
//! "combinable (orthogonal) VIFE-code extension table").

/// The quantity a value information block names.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    /// The quantity's name, e.g. "Energy", "Volume flow", or the plain-text VIF's string.
    pub name: String,
    /// The unit symbol after scaling, e.g. "Wh", "m^3/h", "°C"; "" for none.
    pub unit: &'static str,
    /// Multiply the raw value by this to get a value in `unit`.
    pub factor: f64,
}

fn q(name: &str, unit: &'static str, factor: f64) -> Option<Quantity> {
    Some(Quantity {
        name: name.to_string(),
        unit,
        factor,
    })
}

fn p10(n: i32) -> f64 {
    10f64.powi(n)
}

/// Time units of the `nn` bits: seconds, minutes, hours, days.
fn time_unit(nn: u8) -> f64 {
    [1.0, 60.0, 3600.0, 86400.0][(nn & 3) as usize]
}

/// Primary VIF (extension bit cleared), EN 13757-3 table 10.
pub fn primary(vif: u8) -> Option<Quantity> {
    let v = vif & 0x7F;
    let n = (v & 0x07) as i32;
    match v {
        0x00..=0x07 => q("Energy", "Wh", p10(n - 3)),
        0x08..=0x0F => q("Energy", "J", p10(n)),
        0x10..=0x17 => q("Volume", "m^3", p10(n - 6)),
        0x18..=0x1F => q("Mass", "kg", p10(n - 3)),
        0x20..=0x23 => q("On time", "s", time_unit(v)),
        0x24..=0x27 => q("Operating time", "s", time_unit(v)),
        0x28..=0x2F => q("Power", "W", p10(n - 3)),
        0x30..=0x37 => q("Power", "J/h", p10(n)),
        0x38..=0x3F => q("Volume flow", "m^3/h", p10(n - 6)),
        0x40..=0x47 => q("Volume flow", "m^3/min", p10(n - 7)),
        0x48..=0x4F => q("Volume flow", "m^3/s", p10(n - 9)),
        0x50..=0x57 => q("Mass flow", "kg/h", p10(n - 3)),
        0x58..=0x5B => q("Flow temperature", "°C", p10((v & 3) as i32 - 3)),
        0x5C..=0x5F => q("Return temperature", "°C", p10((v & 3) as i32 - 3)),
        0x60..=0x63 => q("Temperature difference", "K", p10((v & 3) as i32 - 3)),
        0x64..=0x67 => q("External temperature", "°C", p10((v & 3) as i32 - 3)),
        0x68..=0x6B => q("Pressure", "bar", p10((v & 3) as i32 - 3)),
        0x6C => q("Time point (date)", "-", 1.0),
        0x6D => q("Time point (date & time)", "-", 1.0),
        0x6E => q("H.C.A.", "Units for H.C.A.", 1.0),
        0x6F => q("Reserved", "Reserved", 1.0),
        0x70..=0x73 => q("Averaging Duration", "s", time_unit(v)),
        0x74..=0x77 => q("Actuality Duration", "s", time_unit(v)),
        0x78 => q("Fabrication No", "", 1.0),
        0x79 => q("(Enhanced) Identification", "", 1.0),
        0x7A => q("Bus Address", "", 1.0),
        0x7E => q("Any VIF", "", 1.0),
        0x7F => q("Manufacturer specific", "", 1.0),
        _ => None,
    }
}

/// Main VIFE-code extension table (after VIF = FDh), EN 13757-3 table 12.
pub fn extension_fd(vife: u8) -> Option<Quantity> {
    let v = vife & 0x7F;
    let nn = (v & 3) as i32;
    match v {
        0x00..=0x03 => q("Credit", "Currency units", p10(nn - 3)),
        0x04..=0x07 => q("Debit", "Currency units", p10(nn - 3)),
        0x08 => q("Access Number (transmission count)", "", 1.0),
        0x09 => q("Medium", "", 1.0),
        0x0A => q("Manufacturer", "", 1.0),
        0x0B => q("Parameter set identification", "", 1.0),
        0x0C => q("Model / Version", "", 1.0),
        0x0D => q("Hardware version", "", 1.0),
        0x0E => q("Firmware version", "", 1.0),
        0x0F => q("Software version", "", 1.0),
        0x10 => q("Customer location", "", 1.0),
        0x11 => q("Customer", "", 1.0),
        0x12 => q("Access Code User", "", 1.0),
        0x13 => q("Access Code Operator", "", 1.0),
        0x14 => q("Access Code System Operator", "", 1.0),
        0x15 => q("Access Code Developer", "", 1.0),
        0x16 => q("Password", "", 1.0),
        0x17 => q("Error flags", "", 1.0),
        0x18 => q("Error mask", "", 1.0),
        0x1A => q("Digital Output", "", 1.0),
        0x1B => q("Digital Input", "", 1.0),
        0x1C => q("Baudrate", "Baud", 1.0),
        0x1D => q("Response delay time", "Bittimes", 1.0),
        0x1E => q("Retry", "", 1.0),
        0x20 => q("First storage # for cyclic storage", "", 1.0),
        0x21 => q("Last storage # for cyclic storage", "", 1.0),
        0x22 => q("Size of storage block", "", 1.0),
        0x24..=0x27 => q("Storage interval", "s", time_unit(v)),
        0x28 => q("Storage interval", "month(s)", 1.0),
        0x29 => q("Storage interval", "year(s)", 1.0),
        0x2C..=0x2F => q("Duration since last readout", "s", time_unit(v)),
        0x30 => q("Start of tariff", "-", 1.0),
        0x31..=0x33 => q("Duration of tariff", "s", time_unit(v)),
        0x34..=0x37 => q("Period of tariff", "s", time_unit(v)),
        0x38 => q("Period of tariff", "month(s)", 1.0),
        0x39 => q("Period of tariff", "year(s)", 1.0),
        0x3A => q("Dimensionless", "", 1.0),
        0x40..=0x4F => q("Voltage", "V", p10((v & 0x0F) as i32 - 9)),
        0x50..=0x5F => q("Current", "A", p10((v & 0x0F) as i32 - 12)),
        0x60 => q("Reset counter", "", 1.0),
        0x61 => q("Cumulation counter", "", 1.0),
        0x62 => q("Control signal", "", 1.0),
        0x63 => q("Day of week", "", 1.0),
        0x64 => q("Week number", "", 1.0),
        0x65 => q("Time point of day change", "", 1.0),
        0x66 => q("State of parameter activation", "", 1.0),
        0x67 => q("Special supplier information", "", 1.0),
        0x68..=0x6B => q(
            "Duration since last cumulation",
            ["h", "d", "month(s)", "year(s)"][(v & 3) as usize],
            1.0,
        ),
        0x6C..=0x6F => q(
            "Operating time battery",
            ["h", "d", "month(s)", "year(s)"][(v & 3) as usize],
            1.0,
        ),
        0x70 => q("Date and time of battery change", "-", 1.0),
        _ => q("Reserved", "Reserved", 1.0),
    }
}

/// Alternate VIFE-code extension table (after VIF = FBh), EN 13757-3 table 14.
pub fn extension_fb(vife: u8) -> Option<Quantity> {
    let v = vife & 0x7F;
    let n1 = (v & 1) as i32;
    let nn = (v & 3) as i32;
    match v {
        0x00 | 0x01 => q("Energy", "Wh", p10(n1 + 5)),
        0x08 | 0x09 => q("Energy", "J", p10(n1 + 8)),
        0x10 | 0x11 => q("Volume", "m^3", p10(n1 + 2)),
        0x18 | 0x19 => q("Mass", "kg", p10(n1 + 5)),
        0x21 => q("Volume", "feet^3", 0.1),
        0x22 | 0x23 => q("Volume", "American gallon", p10(n1 - 1)),
        0x24 => q("Volume flow", "American gallon/min", 1e-3),
        0x25 => q("Volume flow", "American gallon/min", 1.0),
        0x26 => q("Volume flow", "American gallon/h", 1.0),
        0x28 | 0x29 => q("Power", "W", p10(n1 + 5)),
        0x30 | 0x31 => q("Power", "J/h", p10(n1 + 8)),
        0x58..=0x5B => q("Flow temperature", "°F", p10(nn - 3)),
        0x5C..=0x5F => q("Return temperature", "°F", p10(nn - 3)),
        0x60..=0x63 => q("Temperature difference", "°F", p10(nn - 3)),
        0x64..=0x67 => q("External temperature", "°F", p10(nn - 3)),
        0x70..=0x73 => q("Cold / Warm Temperature Limit", "°F", p10(nn - 3)),
        0x74..=0x77 => q("Cold / Warm Temperature Limit", "°C", p10(nn - 3)),
        0x78..=0x7F => q("Cumul count max power", "W", p10((v & 7) as i32 - 3)),
        _ => q("Reserved", "Reserved", 1.0),
    }
}

/// A combinable (orthogonal) VIFE's effect on the value (EN 13757-3 table 15, codes
/// E111 0nnn, E111 10nn, E111 1101).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Correction {
    /// Multiply by this factor (10^(nnn−6), or 10^3 for E111 1101).
    Multiply(f64),
    /// Add this constant, in the unit of the VIF (10^(nn−3)).
    Add(f64),
}

/// The correction a combinable VIFE applies, if it is one.
pub fn correction(vife: u8) -> Option<Correction> {
    let v = vife & 0x7F;
    match v {
        0x70..=0x77 => Some(Correction::Multiply(p10((v & 7) as i32 - 6))),
        0x78..=0x7B => Some(Correction::Add(p10((v & 3) as i32 - 3))),
        0x7D => Some(Correction::Multiply(1e3)),
        _ => None,
    }
}

/// Device type (medium) names of the fixed header, EN 13757-3 table 3 (names as the
/// libmbus decoder prints them, so decodings compare with its vectors).
pub fn medium_name(medium: u8) -> &'static str {
    match medium {
        0x00 => "Other",
        0x01 => "Oil",
        0x02 => "Electricity",
        0x03 => "Gas",
        0x04 => "Heat: Outlet",
        0x05 => "Steam",
        0x06 => "Warm water (30-90°C)",
        0x07 => "Water",
        0x08 => "Heat Cost Allocator",
        0x09 => "Compressed Air",
        0x0A => "Cooling load meter: Outlet",
        0x0B => "Cooling load meter: Inlet",
        0x0C => "Heat: Inlet",
        0x0D => "Heat / Cooling load meter",
        0x0E => "Bus/System",
        0x0F => "Unknown Medium",
        0x14 => "Calorific value",
        0x15 => "Hot water (>90°C)",
        0x16 => "Cold water",
        0x17 => "Dual water",
        0x18 => "Pressure",
        0x19 => "A/D Converter",
        0x1A => "Smoke detector",
        0x1B => "Room sensor",
        0x1C => "Gas detector",
        0x20 => "Breaker: Electricity",
        0x21 => "Valve: Gas or water",
        0x25 => "Customer unit: Display device",
        0x28 => "Waste water",
        0x29 => "Garbage",
        0x2A => "Carbon dioxide",
        0x31 => "Communication controller",
        0x32 => "Unidirectional repeater",
        0x33 => "Bidirectional repeater",
        0x36 => "Radio converter (system side)",
        0x37 => "Radio converter (meter side)",
        _ => "Reserved",
    }
}

/// Units of the fixed data structure's counters (EN 13757-3 annex "fixed data structure",
/// the EN 1434-3 unit table): the symbol includes the decade.
pub fn fixed_unit(code: u8) -> &'static str {
    const UNITS: [&str; 64] = [
        "h,m,s",
        "D,M,Y",
        "Wh",
        "10 Wh",
        "100 Wh",
        "kWh",
        "10 kWh",
        "100 kWh",
        "MWh",
        "10 MWh",
        "100 MWh",
        "kJ",
        "10 kJ",
        "100 kJ",
        "MJ",
        "10 MJ",
        "100 MJ",
        "GJ",
        "10 GJ",
        "100 GJ",
        "W",
        "10 W",
        "100 W",
        "kW",
        "10 kW",
        "100 kW",
        "MW",
        "10 MW",
        "100 MW",
        "kJ/h",
        "10 kJ/h",
        "100 kJ/h",
        "MJ/h",
        "10 MJ/h",
        "100 MJ/h",
        "GJ/h",
        "10 GJ/h",
        "100 GJ/h",
        "ml",
        "10 ml",
        "100 ml",
        "l",
        "10 l",
        "100 l",
        "m^3",
        "10 m^3",
        "100 m^3",
        "ml/h",
        "10 ml/h",
        "100 ml/h",
        "l/h",
        "10 l/h",
        "100 l/h",
        "m^3/h",
        "10 m^3/h",
        "100 m^3/h",
        "1e-3 °C",
        "units for HCA",
        "reserved",
        "reserved",
        "reserved",
        "reserved",
        "same but historic",
        "without units",
    ];
    UNITS[(code & 0x3F) as usize]
}
