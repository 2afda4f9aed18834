//! The disturbance direction of each event (`pqe_standards::direction`), from the
//! waveforms the capture recorder still holds when the event ends.

use crate::capture::CaptureRecorder;
use pqe_core::record::{DirectionEstimate, EventKind, EventRecord};
use pqe_core::{ChannelSpec, Phase, Wiring};
use pqe_standards::direction::{assess, undetermined, EventWaveforms, SPAN_CYCLES};
use pqe_standards::iec61000_4_30::roles::Roles;

/// Which channels the direction is judged on, and the constants it needs.
#[derive(Debug, Clone)]
pub struct DirectionAssessor {
    /// Voltage channels, then current channels (three each, or one each).
    voltages: Vec<usize>,
    currents: Vec<usize>,
    line_to_line: bool,
    sample_rate: f64,
    nominal_frequency: f64,
    rated_current: Option<f64>,
}

impl DirectionAssessor {
    /// The assessor for a recording's channels: the three phase voltages (line-to-line
    /// for delta wiring) and the three line currents; failing those, the first phase with
    /// both a voltage and a current. `None` when no phase has both.
    pub fn new(
        channels: &[ChannelSpec],
        wiring: Wiring,
        sample_rate: f64,
        nominal_frequency: f64,
        rated_current: Option<f64>,
    ) -> Option<Self> {
        let (_, roles) = Roles::assign(channels);
        let abc = [Phase::A, Phase::B, Phase::C];
        let currents: Option<Vec<usize>> = abc.iter().map(|&p| roles.current(p)).collect();
        let phase_v: Option<Vec<usize>> = abc.iter().map(|&p| roles.voltage(p)).collect();
        let line_v: Option<Vec<usize>> = [Phase::AB, Phase::BC, Phase::CA]
            .iter()
            .map(|&p| roles.voltage(p))
            .collect();
        let (voltages, currents, line_to_line) = match (currents, phase_v, line_v, wiring) {
            (Some(i), _, Some(v), Wiring::Delta) => (v, i, true),
            (Some(i), Some(v), _, _) => (v, i, false),
            (Some(i), None, Some(v), _) => (v, i, true),
            _ => {
                let p = abc
                    .iter()
                    .find(|&&p| roles.voltage(p).is_some() && roles.current(p).is_some())?;
                (vec![roles.voltage(*p)?], vec![roles.current(*p)?], false)
            }
        };
        Some(DirectionAssessor {
            voltages,
            currents,
            line_to_line,
            sample_rate,
            nominal_frequency,
            rated_current,
        })
    }

    /// Samples of the window needed before and after an event's start.
    pub fn span_seconds(&self) -> (f64, f64) {
        (
            SPAN_CYCLES.0 / self.nominal_frequency,
            SPAN_CYCLES.1 / self.nominal_frequency,
        )
    }

    /// The direction of `event` from the samples `captures` holds.
    pub fn assess(&self, event: &EventRecord, captures: &CaptureRecorder) -> DirectionEstimate {
        let (before, after) = self.span_seconds();
        let start = event.start_sample;
        let from = (start - before * self.sample_rate).floor();
        if from < 0.0 {
            return undetermined(format!(
                "the recording starts less than {:.0} cycles before the event",
                SPAN_CYCLES.0
            ));
        }
        // A rapid voltage change is a step to a new steady state: its end (IEC 61000-4-30
        // 5.5) is where that state begins, so the changed cycles lie after it.
        let end = match event.kind {
            EventKind::Rvc => start + after * self.sample_rate,
            _ => event.end_sample,
        };
        let to = end.min(start + after * self.sample_rate).ceil();
        let channels: Vec<usize> = self
            .voltages
            .iter()
            .chain(&self.currents)
            .copied()
            .collect();
        let samples = match captures.samples(from as u64, to as u64, &channels) {
            Ok(s) => s,
            Err(why) => return undetermined(why),
        };
        let (v, i) = samples.split_at(self.voltages.len());
        let v: Vec<&[f64]> = v.iter().map(Vec::as_slice).collect();
        let i: Vec<&[f64]> = i.iter().map(Vec::as_slice).collect();
        assess(&EventWaveforms {
            sample_rate: self.sample_rate,
            nominal_frequency: self.nominal_frequency,
            voltages: &v,
            line_to_line: self.line_to_line,
            currents: &i,
            start: start - from,
            end: end - from,
            rated_current: self.rated_current,
        })
    }
}
