//! What a token's `sub` must look like: part of a service's words
//! ([`Vocabulary::subject`](super::Vocabulary::subject)), checked by the
//! verifier (the claims layer holds the check).

/// What a verifier accepts as a token's `sub`: a crate says it in
/// `scopegate.toml` (`[token] subject = "uuid"` or `"any"`), and a verifier
/// ([`VerifierBuilder::vocabulary`](crate::VerifierBuilder::vocabulary)) or
/// a testing kit built from that vocabulary follows it;
/// [`VerifierBuilder::subject`](crate::VerifierBuilder::subject) sets it
/// directly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SubjectFormat {
    /// A hyphenated UUID, in either case, as Airflow's task instance ids:
    /// anything else is `401 Invalid auth token: sub must be a UUID`. The
    /// default (`subject = "uuid"`).
    #[default]
    Uuid,
    /// Any non-empty string (user names, account ids): for a service whose
    /// subjects are not UUIDs (`subject = "any"`). Owners then compare them
    /// with `compare = "exact"`.
    Any,
}
