//! Product names of known meters, from the manufacturer code, version and medium of the
//! fixed header (the table the libmbus decoder prints as `ProductName`; facts about
//! products, not part of EN 13757-3).

use crate::data::Header;

/// The product name of a known meter, or "" when unknown.
pub fn product_name(h: &Header) -> &'static str {
    let m = h.manufacturer_code();
    let v = h.version;
    let electricity = h.medium == 0x02;
    match m.as_str() {
        "ABB" => match v {
            0x02 => "ABB Delta-Meter",
            0x20 => "ABB B21 113-100",
            _ => "",
        },
        "ACW" => match v {
            0x09 => "Itron CF Echo 2",
            0x0A => "Itron CF 51",
            0x0B => "Itron CF 55",
            0x0E => "Itron BM +m",
            0x0F => "Itron CF 800",
            0x14 => "Itron CYBLE M-Bus 1.4",
            _ => "",
        },
        "AMT" => match v {
            0xC0.. => "Aquametro CALEC ST",
            0x80.. => "Aquametro CALEC MB",
            0x40.. => "Aquametro SAPHIR",
            _ => "Aquametro AMTRON",
        },
        "BEC" if electricity => match v {
            0x00 => "Berg DCMi",
            0x07 => "Berg BLMi",
            _ => "",
        },
        "BEC" if h.medium == 0x0F => match v {
            0x71 => "Berg BMB-10S0",
            _ => "",
        },
        "EFE" => match v {
            0x00 if h.medium == 0x06 => "Engelmann WaterStar",
            0x00 => "Engelmann / Elster SensoStar 2",
            0x01 => "Engelmann SensoStar 2C",
            _ => "",
        },
        "ELS" => match v {
            0x02 => "Elster TMP-A",
            0x0A => "Elster Falcon",
            0x2F => "Elster F96 Plus",
            _ => "",
        },
        "ELV" => match v {
            0x14..=0x1D => "Elvaco CMa10",
            0x32..=0x3B => "Elvaco CMa11",
            _ => "",
        },
        "EMH" if v == 0x00 => "EMH DIZ",
        "EMU" if electricity && v == 0x10 => "EMU Professional 3/75 M-Bus",
        "GAV" if electricity => match v {
            0x2D..=0x30 => "Carlo Gavazzi EM24",
            0x39 | 0x3A => "Carlo Gavazzi EM21",
            0x40 => "Carlo Gavazzi EM33",
            _ => "",
        },
        "GMC" if v == 0xE6 => "GMC-I A230 EMMOD 206",
        "KAM" => match v {
            0x01 => "Kamstrup 382 (6850-005)",
            0x08 => "Kamstrup Multical 601",
            _ => "",
        },
        "SLB" => match v {
            0x02 => "Allmess Megacontrol CF-50",
            0x06 => "CF Compact / Integral MK MaXX",
            _ => "",
        },
        "HYD" => match v {
            0x28 => "ABB F95 Typ US770",
            0x2F => "Hydrometer Sharky 775",
            _ => "",
        },
        "JAN" if electricity && v == 0x09 => "Janitza UMG 96S",
        "LUG" => match v {
            0x02 => "Landis & Gyr Ultraheat 2WR5",
            0x03 => "Landis & Gyr Ultraheat 2WR6",
            0x04 => "Landis & Gyr Ultraheat UH50",
            0x07 => "Landis & Gyr Ultraheat T230",
            _ => "",
        },
        "LSE" if v == 0x99 => "Siemens WFH21",
        "NZR" => match v {
            0x01 => "NZR DHZ 5/63",
            0x50 => "NZR IC-M2",
            _ => "",
        },
        "RAM" if v == 0x03 => "Rossweiner ETK/ETW Modularis",
        "REL" => match v {
            0x08 => "Relay PadPuls M1",
            0x12 => "Relay PadPuls M4",
            0x20 => "Relay Padin 4",
            0x30 => "Relay AnDi 4",
            0x40 => "Relay PadPuls M2",
            _ => "",
        },
        "RKE" if v == 0x69 => "Ista sensonic II mbus",
        // Saia-Burgess: the product is in the highest ID byte.
        "SBC" => match h.id_bytes[3] {
            0x10 | 0x19 => "Saia-Burgess ALE3",
            0x11 => "Saia-Burgess AWD3",
            _ => "",
        },
        "SEN" => match v {
            0x08 | 0x19 => "Sensus PolluCom E",
            0x0B => "Sensus PolluTherm",
            0x0E => "Sensus PolluStat E",
            _ => "",
        },
        "SON" if v == 0x0D => "Sontex Supercal 531",
        "SPX" if v == 0x31 || v == 0x34 => "Sensus PolluTherm",
        "SVM" => match v {
            0x08 => "Elster F2 / Deltamess F2",
            0x09 => "Elster F4 / Kamstrup SVM F22",
            _ => "",
        },
        "TCH" => match v {
            0x26 => "Techem m-bus S",
            0x40 => "Techem ultra S3",
            _ => "",
        },
        "WZG" if v == 0x03 => "Modularis ETW-EAX",
        "ZRM" => match v {
            0x81 => "Minol Minocal C2",
            0x82 => "Minol Minocal WR3",
            _ => "",
        },
        _ => "",
    }
}
