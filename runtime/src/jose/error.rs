//! The errors the JOSE layer raises, which the layers above raise too:
//! why a token is invalid ([`InvalidReason`]), why a key, key set or
//! builder cannot be used ([`ConfigError`]), and why a JWKS could not be
//! loaded ([`KeySetError`]).

use jsonwebtoken::Algorithm;

/// The shortest HMAC secret any verifier or issuer accepts without
/// `allow_short_secret()`: 32 bytes, HS256's minimum. Since the minimum
/// depends on the algorithm (64 bytes for HS512, the default), use
/// [`min_secret_bytes`].
#[deprecated(
    since = "0.1.0",
    note = "the minimum depends on the algorithm (RFC 7518 §3.2): use `min_secret_bytes(algorithm)`, \
            64 bytes for HS512"
)]
pub const MIN_SECRET_BYTES: usize = 32;

/// The shortest HMAC secret a verifier or issuer accepts for `algorithm`
/// without `allow_short_secret()`: the hash's size, as RFC 7518 §3.2 asks
/// ("a key of the same size as the hash output or larger MUST be used"):
/// 32 bytes for HS256, 48 for HS384, 64 for HS512 (the default, as
/// Airflow's). `None` for an algorithm that takes no secret.
///
/// ```
/// use scopegate::{min_secret_bytes, Algorithm};
/// assert_eq!(min_secret_bytes(Algorithm::HS512), Some(64));
/// assert_eq!(min_secret_bytes(Algorithm::RS256), None);
/// ```
pub const fn min_secret_bytes(algorithm: Algorithm) -> Option<usize> {
    match algorithm {
        Algorithm::HS256 => Some(32),
        Algorithm::HS384 => Some(48),
        Algorithm::HS512 => Some(64),
        _ => None,
    }
}

/// Why a token failed verification. Its `Display` is the `<reason>` in
/// `Invalid auth token: <reason>` and in `error_description`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidReason {
    /// Not three base64url segments of JSON objects, or bad characters.
    #[error("malformed token")]
    Malformed,
    /// More than one `Authorization` header.
    #[error("multiple Authorization headers")]
    MultipleHeaders,
    /// More than one cookie of the verifier's token cookie name (cookie
    /// tossing from a sibling domain).
    #[error("multiple token cookies")]
    MultipleCookies,
    /// The header's `alg` is not the one the key is pinned to.
    #[error("algorithm not allowed")]
    AlgorithmNotAllowed,
    /// The signature does not match.
    #[error("invalid signature")]
    InvalidSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `aud` does not name this service.
    #[error("invalid audience")]
    InvalidAudience,
    /// `iss` is not the configured issuer.
    #[error("invalid issuer")]
    InvalidIssuer,
    /// `iss` names none of the issuers a verifier of several trusts.
    #[error("untrusted issuer")]
    UntrustedIssuer,
    /// The token's type is not one its issuer may grant (see
    /// [`TrustedIssuer::grants`](crate::TrustedIssuer::grants)).
    #[error("token type not granted by its issuer")]
    TypeNotGranted,
    /// The token's permissions claim holds a permission its issuer may not
    /// grant (see
    /// [`TrustedIssuer::grants_permissions`](crate::TrustedIssuer::grants_permissions)).
    #[error("permission not granted by its issuer")]
    PermissionNotGranted,
    /// The token's issuer has no keys yet (its discovery or JWKS has not
    /// loaded) or no longer has any (its source stayed unreachable past the
    /// maximum stale age, or named another issuer).
    #[error("signing keys unavailable")]
    KeysUnavailable,
    /// A required claim is absent.
    #[error("missing required claim '{0}'")]
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type or an out-of-range value.
    #[error("invalid claim '{0}'")]
    InvalidClaim(&'static str),
    /// `sub` is not a hyphenated UUID (see
    /// [`SubjectFormat`](crate::SubjectFormat)).
    #[error("sub must be a UUID")]
    InvalidSubject,
    /// The `scope` claim (the type claim of Airflow's vocabulary, and of
    /// any other in `scope`) holds no type of the route's vocabulary.
    #[error("unknown token scope")]
    UnknownScope,
    /// The type claim named here holds no type of the route's vocabulary.
    #[error("unknown token type in '{0}'")]
    UnknownTokenType(&'static str),
    /// The header carries a `crit` extension this verifier does not implement.
    #[error("unsupported critical header")]
    UnsupportedCritical,
    /// The token's `kid` names no key in the key set.
    #[error("unknown key id")]
    UnknownKey,
    /// A key set is configured but the token's header has no `kid`.
    #[error("missing key id")]
    MissingKeyId,
    /// The token is longer than the verifier's maximum (for a direct
    /// [`Verifier::verify`](crate::Verifier::verify); a request gets
    /// [`AuthError::TokenTooLarge`](crate::AuthError::TokenTooLarge) first).
    #[error("token too large")]
    TooLarge,
    /// The token's `jti`, or its refresh chain, is on the verifier's
    /// [`DenyList`](crate::DenyList).
    #[error("token revoked")]
    Revoked,
    /// The permissions claim named here has the wrong shape for the
    /// route's vocabulary (a number, an array where a string is declared,
    /// ...).
    #[error("malformed {0} claim")]
    MalformedClaim(&'static str),
    /// The token's refresh chain started longer ago than the verifier's
    /// maximum session age.
    #[error("session expired")]
    SessionExpired,
    /// Not the token's fault: the verifier's deny-list has never loaded
    /// the revocations (a replica that started while the store was down),
    /// so no token can be told apart from a revoked one yet. A request
    /// gets `503`
    /// ([`AuthError::RevocationsNotLoaded`](crate::AuthError::RevocationsNotLoaded)),
    /// not a 401.
    #[error("the revocation list is not loaded yet")]
    RevocationsNotLoaded,
}

/// A key that cannot be used, or a builder that is missing something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An HMAC secret must not be empty.
    #[error("the shared secret is empty")]
    EmptySecret,
    /// The PEM could not be parsed as a key of the expected kind.
    #[error("invalid {kind} key: {source}")]
    InvalidKey {
        /// What kind of key was expected (`"RSA public"`, ...).
        kind: &'static str,
        /// The parser's error.
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    /// The algorithm does not belong to the key's family (for example HS256
    /// with an RSA key).
    #[error("algorithm {algorithm:?} cannot be used with a {family} key")]
    AlgorithmMismatch {
        /// The requested algorithm.
        algorithm: Algorithm,
        /// The key's family.
        family: &'static str,
    },
    /// A verifier or issuer needs at least one audience.
    #[error("no audience configured: call .audience(..) on the builder; tokens must name their service in `aud`")]
    NoAudience,
    /// An HMAC secret shorter than its algorithm's hash
    /// ([`min_secret_bytes`]), without the builder's explicit
    /// `allow_short_secret()`.
    #[error(
        "the HMAC secret is {len} bytes; {algorithm:?} needs at least {min} bytes \
         (RFC 7518 §3.2: a key at least as long as the hash): use a random secret of \
         {min} bytes or more, or, to keep an existing shorter secret, call \
         allow_short_secret() on the builder"
    )]
    ShortSecret {
        /// The secret's length in bytes.
        len: usize,
        /// The least its algorithm needs, in bytes.
        min: usize,
        /// The algorithm the key is pinned to.
        algorithm: Algorithm,
    },
    /// A clock-skew leeway above [`MAX_LEEWAY`](crate::MAX_LEEWAY).
    #[error("a leeway of {secs} s is more than the maximum of {max} s")]
    LeewayTooLarge {
        /// The leeway asked for, in seconds.
        secs: u64,
        /// The maximum, in seconds.
        max: u64,
    },
    /// A JWK that cannot be used to verify signatures.
    #[error("unusable JWK: {reason}")]
    InvalidJwk {
        /// Why.
        reason: &'static str,
    },
    /// `jwks_max_stale` is shorter than the refresh interval: the keys would
    /// be dropped between two scheduled fetches.
    #[error("jwks_max_stale must be at least the JWKS refresh interval (jwks_refresh)")]
    JwksMaxStale,
    /// A deny-list without a maximum session age: a refresh chain could
    /// live for ever, and so would the revocation of one.
    #[error(
        "a verifier with a deny-list needs a maximum session age: call .max_session_age(..) on \
         the builder, so that every refresh chain, and so the revocation of one, ends"
    )]
    DenyListWithoutSessionAge,
    /// The JWKS could not be loaded at start-up, or an identity provider's
    /// discovery found a misconfiguration (its document names another
    /// issuer, or an `http` JWKS).
    #[error("could not load the keys: {0}")]
    KeySet(#[from] KeySetError),
    /// An identity provider's issuer URL that cannot be used: not an
    /// absolute `http(s)` URL, plain `http` to a host that is not a
    /// loopback address (without the explicit opt-in), or with a query or
    /// fragment.
    #[error("cannot use the issuer URL {issuer}: {reason}")]
    InvalidIssuerUrl {
        /// The issuer URL.
        issuer: String,
        /// Why.
        reason: String,
    },
    /// A verifier that trusts several issuers needs each one's `iss`.
    #[error("a verifier that trusts several issuers needs the `iss` of each: call .issuer(..) on the builder")]
    IssuerRequired,
    /// Two trusted issuers with the same `iss`: a token could not say which
    /// keys are its issuer's.
    #[error("the issuer {0} is trusted twice")]
    DuplicateIssuer(String),
    /// A token cookie name that is not an RFC 6265 token.
    #[error("invalid cookie name {0:?}: use letters, digits and -_ only, ideally with the __Host- prefix")]
    InvalidCookieName(String),
    /// An allowed origin that is not `scheme://host[:port]`.
    #[error(
        "invalid origin {0:?}: write it as scheme://host[:port], as a browser sends it in Origin"
    )]
    InvalidOrigin(String),
    /// Allowed origins without a token cookie: they apply to cookie tokens
    /// only, so they would mean nothing.
    #[error("allowed origins apply to a token cookie: declare one with .cookie(..)")]
    OriginsWithoutCookie,
}

/// Why a JWKS could not be loaded. The last good keys stay in use.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeySetError {
    /// Reading the file failed.
    #[error("reading {source_name}: {error}")]
    Io {
        /// The file.
        source_name: String,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The HTTP fetch failed (connection, status or size).
    #[error("fetching {url}: {error}")]
    Http {
        /// The URL.
        url: String,
        /// What went wrong.
        error: String,
    },
    /// The document is not a JWKS, or holds no usable signing key.
    #[error("invalid JWKS: {0}")]
    Invalid(String),
    /// The identity provider's discovery document is not usable.
    #[error("discovery at {url}: {error}")]
    Discovery {
        /// The discovery document's URL.
        url: String,
        /// What is wrong with it.
        error: String,
    },
    /// The discovery document names another issuer than the configured one
    /// (OpenID Connect Discovery §4.3): a misconfiguration, never accepted.
    #[error(
        "the discovery document names the issuer {found:?}, not the configured {configured:?}"
    )]
    IssuerMismatch {
        /// The issuer the verifier was configured with.
        configured: String,
        /// The issuer the document names.
        found: String,
    },
    /// The discovery document's `jwks_uri` may not be fetched: plain
    /// `http` to a host that is not a loopback address.
    #[error("the discovery document's jwks_uri {url} cannot be used: {error}")]
    InsecureJwksUri {
        /// The `jwks_uri`.
        url: String,
        /// Why.
        error: String,
    },
    /// The document is larger than the limit (1 MiB).
    #[error("{source_name} is larger than {limit} bytes")]
    TooLarge {
        /// The file.
        source_name: String,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The blocking task that fetched the keys was cancelled.
    #[error("the fetch task was cancelled")]
    Cancelled,
    /// A JWKS is fetched on the blocking pool of a tokio runtime (actix's
    /// System, `#[tokio::test]`), and there was none.
    #[error("no tokio runtime: load the JWKS inside actix's System or a tokio runtime")]
    NoRuntime,
}

impl KeySetError {
    /// Whether retrying cannot help: the source is misconfigured (its
    /// discovery document names another issuer, or an `http` JWKS), as
    /// opposed to unreachable, slow or broken for now.
    pub fn is_misconfiguration(&self) -> bool {
        matches!(
            self,
            KeySetError::IssuerMismatch { .. } | KeySetError::InsecureJwksUri { .. }
        )
    }
}
