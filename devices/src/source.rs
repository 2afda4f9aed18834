//! What a live device delivers, and the bookkeeping that turns numbered, timed packets
//! into blocks and flagged gaps.

use crate::error::{DeviceError, Fault};
use pqe_core::{Block, ChannelKind, ChannelSpec, Phase, RecordingInfo, Timestamp};

/// A span of samples that did not arrive. The blocks on either side are never joined: the
/// block after a gap starts at its own time, so the analysis flags what spans it.
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    /// Where the missing span starts (the time the next sample was due).
    pub from: Timestamp,
    /// Where data resumes, when known.
    pub to: Option<Timestamp>,
    /// Why: the driver's name and the fault, or "packets 12 to 14 lost".
    pub reason: String,
}

/// One step of a live source.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// The next run of samples.
    Block(Block),
    /// Samples are missing before the next block.
    Gap(Gap),
    /// The source has ended (a recording played to its end, a stream's last packet).
    End,
}

/// A live acquisition source: a device opened through its driver.
///
/// Every call of [`LiveSource::next`] returns within the source's deadline: data, a gap, the
/// end, or an error naming the driver and the fault.
pub trait LiveSource: Send {
    /// The channels, rate and start time (known once the device is opened).
    fn info(&self) -> &RecordingInfo;
    /// The driver's name (with where a plugin was loaded from).
    fn driver(&self) -> &str;
    /// The next block, gap or the end.
    fn next(&mut self) -> Result<Delivery, DeviceError>;
    /// Stop acquiring (the source ends; later calls return [`Delivery::End`]).
    fn stop(&mut self) {}
}

/// Channel descriptions from names written the IEC way (`U_A`, `U_AB`, `I_N`, `U1`, `I3`):
/// a leading `U` is a voltage in V, `I` a current in A, the rest names the phase.
pub fn channels_from_names(names: &[&str]) -> Vec<ChannelSpec> {
    names
        .iter()
        .map(|n| {
            let (kind, unit) = match n.chars().next().map(|c| c.to_ascii_uppercase()) {
                Some('U') | Some('V') => (ChannelKind::Voltage, "V"),
                Some('I') => (ChannelKind::Current, "A"),
                _ => (ChannelKind::Other, ""),
            };
            let mut spec = ChannelSpec::new(*n, unit).with_kind(kind);
            let suffix = n.get(1..).unwrap_or("").trim_start_matches('_');
            let phase = match suffix {
                "1" => Some(Phase::A),
                "2" => Some(Phase::B),
                "3" => Some(Phase::C),
                s => Phase::parse_lenient(s),
            };
            if let Some(p) = phase {
                spec = spec.with_phase(p);
            }
            spec
        })
        .collect()
}

/// Default channel names for `n` channels: a three-phase set `U_A, U_B, U_C, I_A, I_B,
/// I_C` for the first six, then `CH7`, `CH8`, ….
pub fn default_channel_names(n: usize) -> Vec<String> {
    const NAMES: [&str; 6] = ["U_A", "U_B", "U_C", "I_A", "I_B", "I_C"];
    (0..n)
        .map(|i| match NAMES.get(i) {
            Some(s) if n >= 3 || i < 1 => s.to_string(),
            _ => format!("CH{}", i + 1),
        })
        .collect()
}

/// What the [`Sequencer`] makes of a packet.
#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    /// It continues the stream: its block starts at `start`.
    Continues {
        /// Start time of its block (computed from the stream's first time, exact).
        start: Timestamp,
    },
    /// Samples are missing before it; its block starts at its own time.
    AfterGap(Gap),
    /// It arrived late, duplicated or overlapping what was delivered: dropped.
    Dropped(String),
}

/// Places numbered, timed packets of a constant-rate stream: consecutive packets are
/// joined exactly; a sequence jump or a time jump of more than half a sample is a gap; a
/// packet whose sequence number or time was already passed is dropped (never re-ordered
/// into data already delivered, never joined across a gap).
#[derive(Debug, Clone)]
pub struct Sequencer {
    rate: f64,
    /// Start of the current contiguous segment and samples delivered since.
    segment: Option<(i64, u64)>,
    next_sequence: u64,
    /// Packets dropped as late or overlapping.
    pub dropped: u64,
    /// Gaps found.
    pub gaps: u64,
}

impl Sequencer {
    /// A sequencer for a stream of `rate` samples per second.
    pub fn new(rate: f64) -> Self {
        Sequencer {
            rate,
            segment: None,
            next_sequence: 0,
            dropped: 0,
            gaps: 0,
        }
    }

    /// The time the next sample is due, once a packet has been placed.
    pub fn expected_time(&self) -> Option<Timestamp> {
        self.segment
            .map(|(t0, n)| Timestamp(t0 + (n as f64 * 1e9 / self.rate).round() as i64))
    }

    /// Place a packet of `samples` samples numbered `sequence` whose first sample is at
    /// `time_ns`. `what` names the source in gap reasons.
    pub fn place(&mut self, sequence: u64, time_ns: i64, samples: u64, what: &str) -> Placement {
        let Some(expected) = self.expected_time() else {
            self.segment = Some((time_ns, samples));
            self.next_sequence = sequence.wrapping_add(1);
            return Placement::Continues {
                start: Timestamp(time_ns),
            };
        };
        let half = 0.5e9 / self.rate;
        let late_by = (time_ns - expected.0) as f64;
        if sequence < self.next_sequence || late_by < -half {
            self.dropped += 1;
            return Placement::Dropped(format!(
                "{what}: packet {sequence} (first sample at {}) arrived after packet {} (due at {expected}); dropped, its span stays a gap",
                Timestamp(time_ns),
                self.next_sequence.wrapping_sub(1),
            ));
        }
        if sequence == self.next_sequence && late_by <= half {
            let (t0, n) = self.segment.expect("segment");
            self.segment = Some((t0, n + samples));
            self.next_sequence = sequence.wrapping_add(1);
            return Placement::Continues { start: expected };
        }
        let lost = sequence - self.next_sequence;
        let reason = if lost > 0 {
            format!(
                "{what}: {lost} packet(s) lost (sequence {} to {}), {:.6} s of samples missing",
                self.next_sequence,
                sequence - 1,
                late_by * 1e-9
            )
        } else {
            format!(
                "{what}: packet {sequence} starts {:.6} s after the previous one ended",
                late_by * 1e-9
            )
        };
        self.gaps += 1;
        self.segment = Some((time_ns, samples));
        self.next_sequence = sequence.wrapping_add(1);
        Placement::AfterGap(Gap {
            from: expected,
            to: Some(Timestamp(time_ns)),
            reason,
        })
    }
}

/// A driver fault for `driver` on `device`.
pub fn fault(driver: &str, device: &str, fault: Fault, message: impl Into<String>) -> DeviceError {
    DeviceError::Driver {
        driver: driver.to_string(),
        device: device.to_string(),
        fault,
        message: message.into(),
    }
}

/// Recording description for a live stream.
pub fn live_info(
    device: &str,
    channels: Vec<ChannelSpec>,
    rate: f64,
    start: Timestamp,
) -> RecordingInfo {
    let mut info = RecordingInfo::new(channels, rate, start);
    info.device = device.to_string();
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequencer_joins_consecutive_and_flags_lost_late_and_paused() {
        let rate = 1000.0;
        let mut s = Sequencer::new(rate);
        let t0 = 1_000_000_000;
        assert_eq!(
            s.place(10, t0, 100, "x"),
            Placement::Continues {
                start: Timestamp(t0)
            }
        );
        // consecutive with 0.3-sample jitter in its stamp: joined at the exact time
        assert_eq!(
            s.place(11, t0 + 100_300_000, 100, "x"),
            Placement::Continues {
                start: Timestamp(t0 + 100_000_000)
            }
        );
        // packets 12 and 13 lost
        match s.place(14, t0 + 400_000_000, 100, "x") {
            Placement::AfterGap(g) => {
                assert_eq!(g.from, Timestamp(t0 + 200_000_000));
                assert_eq!(g.to, Some(Timestamp(t0 + 400_000_000)));
                assert!(
                    g.reason.contains("2 packet(s) lost (sequence 12 to 13)"),
                    "{}",
                    g.reason
                );
            }
            p => panic!("{p:?}"),
        }
        // 12 arrives late: dropped, not joined
        assert!(matches!(
            s.place(12, t0 + 200_000_000, 100, "x"),
            Placement::Dropped(_)
        ));
        // consecutive number but the device paused: a gap
        assert!(matches!(
            s.place(15, t0 + 600_000_000, 100, "x"),
            Placement::AfterGap(_)
        ));
        // overlap in time with a fresh number: dropped
        assert!(matches!(
            s.place(16, t0 + 650_000_000, 100, "x"),
            Placement::Dropped(_)
        ));
        assert_eq!((s.gaps, s.dropped), (2, 2));
    }

    #[test]
    fn channel_names_give_kinds_and_phases() {
        let c = channels_from_names(&["U_A", "I_N", "U_BC", "I2", "temp"]);
        assert_eq!(c[0].kind, ChannelKind::Voltage);
        assert_eq!(c[0].phase, Some(Phase::A));
        assert_eq!(c[1].phase, Some(Phase::N));
        assert_eq!(c[2].phase, Some(Phase::BC));
        assert_eq!(c[3].phase, Some(Phase::B));
        assert_eq!(c[3].unit, "A");
        assert_eq!(c[4].kind, ChannelKind::Other);
        assert_eq!(default_channel_names(4), ["U_A", "U_B", "U_C", "I_A"]);
        assert_eq!(default_channel_names(1), ["U_A"]);
        assert_eq!(default_channel_names(2), ["U_A", "CH2"]);
    }
}
