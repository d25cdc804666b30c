//! Claims: what a signature-checked token says. The registered claims,
//! parsed strictly and checked against the clock, audiences, issuer and
//! subject format ([`registered`]); the check of a subject's format
//! ([`subject`]); a token's permissions, parsed once and kept with its
//! claims ([`permissions`]); the one clock (`clock`); and
//! [`LogSafe`](log_safe::LogSafe), which writes a claim, or any other value
//! from a request, into a log line without letting it start another. Above
//! JOSE and the policy
//! layer, whose [`ClaimSource`](crate::policy::ClaimSource) it implements,
//! so a route policy reads claims without knowing this type.

pub(crate) mod clock;
pub(crate) mod log_safe;
pub(crate) mod permissions;
pub(crate) mod registered;
pub(crate) mod subject;

pub use crate::policy::SubjectFormat;
pub(crate) use clock::now;
pub use clock::MAX_LEEWAY;
pub use log_safe::LogSafe;
pub(crate) use registered::peek_issuer;
pub(crate) use registered::ClaimRules;
pub use registered::{Audience, Claims, CHAIN_CLAIM, SESSION_START_CLAIM};
