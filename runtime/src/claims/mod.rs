//! Claims: what a signature-checked token says. The registered claims,
//! parsed strictly and checked against the clock, audiences, issuer and
//! subject format ([`registered`]); what a subject must look like
//! ([`subject`]); a token's permissions, parsed once and kept with its
//! claims ([`permissions`]); and the one clock (`clock`). Above JOSE and the policy
//! layer, whose [`ClaimSource`](crate::policy::ClaimSource) it implements,
//! so a route policy reads claims without knowing this type.

pub(crate) mod clock;
pub(crate) mod permissions;
pub(crate) mod registered;
pub(crate) mod subject;

pub(crate) use clock::now;
pub use clock::MAX_LEEWAY;
pub(crate) use registered::ClaimRules;
pub use registered::{Audience, Claims, SESSION_START_CLAIM};
pub use subject::SubjectFormat;
