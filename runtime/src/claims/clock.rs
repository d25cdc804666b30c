//! The one clock every claim check, issue, refresh and revocation reads,
//! and the most it may be allowed to be off.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The largest clock-skew leeway a verifier accepts. Clocks of machines
/// that talk to each other are within seconds; a larger leeway mostly
/// extends the life of expired tokens.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
