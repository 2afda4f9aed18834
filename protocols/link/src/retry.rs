//! Bounded retries.

use crate::error::{LinkError, Result};

/// The most repetitions any link allows, whatever a URI asks.
pub const MAX_RETRIES: u32 = 10;

/// Runs `attempt` once and repeats it at most `retries` more times (capped at
/// [`MAX_RETRIES`]) while it fails with a retryable error (timeout, damaged
/// frame, bad echo). Refusals and configuration errors return at once. The
/// attempt number (0-based) is passed in.
pub fn with_retries<T>(retries: u32, mut attempt: impl FnMut(u32) -> Result<T>) -> Result<T> {
    let retries = retries.min(MAX_RETRIES);
    let mut n = 0;
    loop {
        match attempt(n) {
            Ok(v) => return Ok(v),
            Err(e) if e.is_retryable() && n < retries => n += 1,
            Err(e) if n > 0 && e.is_retryable() => {
                return Err(match e {
                    LinkError::Timeout { what, waited } => LinkError::Timeout {
                        what: format!("{what}; {} attempts", n + 1),
                        waited,
                    },
                    LinkError::Frame { frame, message } => LinkError::Frame {
                        frame,
                        message: format!("{message}; {} attempts", n + 1),
                    },
                    e => e,
                })
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retries_are_bounded_and_refusals_not_repeated() {
        let mut calls = 0;
        let r: Result<()> = with_retries(2, |_| {
            calls += 1;
            Err(LinkError::Timeout {
                what: "x".into(),
                waited: Duration::ZERO,
            })
        });
        assert_eq!(calls, 3);
        assert!(r.unwrap_err().to_string().contains("3 attempts"));
        let mut calls = 0;
        let _ = with_retries::<()>(1000, |_| {
            calls += 1;
            Err(LinkError::frame("f", "crc"))
        });
        assert_eq!(calls, 11);
        let mut calls = 0;
        let _ = with_retries::<()>(5, |_| {
            calls += 1;
            Err(LinkError::Refused {
                request: "r".into(),
                reason: "no".into(),
            })
        });
        assert_eq!(calls, 1);
        assert_eq!(
            with_retries(3, |n| if n < 2 {
                Err(LinkError::frame("f", "crc"))
            } else {
                Ok(n)
            })
            .unwrap(),
            2
        );
    }
}
