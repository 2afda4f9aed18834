//! CSV recordings: a `t` column, then one column per analog channel, then one per digital
//! channel, with an optional JSON sidecar for what a CSV header cannot hold.
//!
//! # Layout
//!
//! ```text
//! t,U_A,U_B,U_C,I_A,TRIP
//! 0.0,325.1,-162.5,-162.6,10.2,0
//! 0.000078125,325.0,-160.1,-164.9,,0
//! ```
//!
//! - The header row names the columns: `t` first, then each channel's name exactly as in
//!   [`RecordingInfo::channels`], then the digital channels' names. `pandas.read_csv(path)`
//!   therefore gives columns named after the channels.
//! - `t` is seconds from the recording's start (the first sample is at `t = 0` in files PQE
//!   writes). Analog values are in the channel's unit, written as the shortest decimal that
//!   reads back to the same `f64` ([`crate::decimal`]). A missing value (NaN) is an empty cell. Digital
//!   states are `0` or `1`.
//! - The writer also writes `<file>.csv.json` (see [`sidecar_path`]): the channels' units,
//!   kinds, phases, transformer ratios, which columns are digital, the sample rate and the
//!   absolute start time. The layout of that file is documented in `docs/formats.md` and on
//!   [`CsvWriter`].
//!
//! # Reading
//!
//! [`CsvReader`] streams: it holds one block and a short look-ahead (at most
//! [`LOOKAHEAD_ROWS`] rows) in memory, never the file. It accepts `,` or `;` as separator
//! (with `;`, a decimal comma in numbers is accepted too), CRLF or LF line ends, a UTF-8 byte
//! order mark and quoted cells. An empty cell reads as NaN, never as zero.
//!
//! The time column may also be absolute, as pandas (`df.to_csv()` of a frame with a
//! datetime column), spreadsheets and loggers write it: a first column named `time`,
//! `timestamp`, `datetime`, `date_time`, `date`, `utc`, `epoch`, … (case, spaces, `_` and
//! `-` aside) holding ISO 8601 date-times (`2024-03-01 12:00:00.000100`, with `T`, `Z` or an
//! offset `+01:00`), Unix times (seconds, ms, µs or ns, told apart by magnitude from 1e8 s
//! on) or, for smaller numbers, seconds from the start. The first row's time is then the
//! recording's start, and an offset it states becomes the COMTRADE-style `time_code`. An
//! unnamed column before the time column (pandas' index, written without `index=False`) is
//! skipped.
//!
//! The spacing is checked row by row: irregular spacing is an error naming the line;
//! rows missing from a uniform column (the time jumps by whole sample periods) are an error
//! too, unless the file is opened leniently ([`CsvReader::open_with`], `pqe_io::open_source`):
//! then they are a gap, handed out before the line that resumes the data and named in it,
//! never joined to the rows around it.
//!
//! Without a sidecar the reader infers what it needs: the sample rate from the `t` column
//! (which must then be uniform), the start time as 1970-01-01T00:00:00, and each channel's
//! kind, phase and unit from its name (`U_A`, `V_A`, `UA` → voltage in V on phase A; `I_A`,
//! `IA`, `I_N` → current in A; `U_AB` → line-to-line voltage; a unit in brackets, `U_A [kV]`,
//! overrides the default unit). Every column is then analog.
//!
//! Every error names the file, the 1-based line and the column at fault.

mod infer;
mod reader;
mod sidecar;
mod writer;

pub use reader::{CsvReader, LOOKAHEAD_ROWS};
pub use sidecar::{sidecar_path, SIDECAR_FORMAT};
pub use writer::CsvWriter;

#[cfg(doc)]
use pqe_core::RecordingInfo;
