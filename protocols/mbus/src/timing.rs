//! Link-layer timing of the wired M-Bus (EN 13757-2, link layer, "communication process"
//! timing; the same figures as the M-Bus documentation rev. 4.8 section 5.4, from which
//! EN 13757-2 took them).
//!
//! - A character is 11 bit times: start bit, 8 data bits, even parity, stop bit (8E1).
//! - After the last character of a request the slave waits at least 11 bit times and
//!   answers within 330 bit times + 50 ms; after that the master regards the request as
//!   unanswered and may repeat it (EN 13757-2 link layer; M-Bus doc. 5.4).

use std::time::Duration;

/// Bits per character on the M-Bus (8E1).
pub const BITS_PER_CHAR: u32 = 11;
/// Minimum pause of the slave before its answer, in bit times.
pub const RESPONSE_MIN_BITS: u32 = 11;
/// Maximum delay of the slave's answer: this many bit times…
pub const RESPONSE_MAX_BITS: u32 = 330;
/// …plus this fixed time.
pub const RESPONSE_MAX_EXTRA: Duration = Duration::from_millis(50);
/// Longest frame: 68h L L 68h + 255 bytes + CS 16h.
pub const MAX_FRAME_BYTES: u32 = 261;

/// Duration of `bits` bit times at `baud`.
pub fn bits(baud: u32, bits: u32) -> Duration {
    Duration::from_secs_f64(bits as f64 / baud.max(1) as f64)
}

/// Time to send `bytes` characters at `baud`.
pub fn chars(baud: u32, bytes: u32) -> Duration {
    bits(baud, bytes * BITS_PER_CHAR)
}

/// The earliest a slave may start answering after the request's last character.
pub fn response_min(baud: u32) -> Duration {
    bits(baud, RESPONSE_MIN_BITS)
}

/// The latest a slave may start answering after the request's last character.
pub fn response_max(baud: u32) -> Duration {
    bits(baud, RESPONSE_MAX_BITS) + RESPONSE_MAX_EXTRA
}

/// A deadline for a whole answer of up to `max_bytes` characters: the response window plus
/// the transmission time (a transport's read deadline; nothing waits longer).
pub fn answer_deadline(baud: u32, max_bytes: u32) -> Duration {
    response_max(baud) + chars(baud, max_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn window_at_2400_baud() {
        // 330 bit times at 2400 Bd = 137.5 ms, + 50 ms.
        assert_eq!(response_max(2400), Duration::from_micros(187_500));
        assert_eq!(response_min(2400).as_micros(), 4583);
    }
}
