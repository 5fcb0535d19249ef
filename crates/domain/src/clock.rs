//! Time as the domain sees it: Unix milliseconds in storage, RFC 3339 at the
//! edges, read through a [`Clock`] that tests can move forward instead of
//! sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since the Unix epoch, the unit every `*_at` column uses.
pub type Millis = i64;

/// Where the services read the time: expiry of sessions, links, codes and
/// keys, cache freshness, login back-off and usage minutes.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now_ms(&self) -> Millis;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        now_ms()
    }
}

/// The wall clock plus an offset that only grows: tests call
/// [`ManualClock::advance`] to let sessions, links and back-offs expire at once.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    offset_ms: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        self.offset_ms.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        now_ms() + self.offset_ms.load(Ordering::SeqCst)
    }
}

/// The current wall-clock time in Unix milliseconds; services use their
/// [`Clock`] instead.
pub fn now_ms() -> Millis {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as Millis
}

/// Formats Unix milliseconds as an RFC 3339 UTC timestamp (second precision).
pub fn rfc3339(ms: Millis) -> String {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_seconds() {
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn a_manual_clock_moves_only_forward_when_told() {
        let clock = ManualClock::default();
        let before = clock.now_ms();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now_ms() >= before + 3_600_000);
    }
}
