//! The issuers a [`Verifier`](crate::Verifier) trusts: each with its own key
//! source (a secret, a PEM key, a JWKS, or an identity provider found by
//! OpenID Connect discovery), its own audiences, and optionally the token
//! types it may grant. A token's `iss` selects its issuer; its `kid` is
//! looked up among that issuer's keys only, and the algorithm comes from
//! the key.

use std::sync::Arc;
use std::time::Duration;

use crate::claims::Claims;
use crate::jose::jwks::{Jwks, Origin};
use crate::jose::{InvalidReason, JwksSource, VerificationKey};
use crate::policy::{ClaimSource, MalformedClaim, PermissionSet, StringClaim, TokenTypes};

/// One issuer a [`Verifier`](crate::Verifier) trusts, for a verifier of
/// several ([`VerifierBuilder::trust`](crate::VerifierBuilder::trust)) or
/// of one identity provider ([`Verifier::oidc`](crate::Verifier::oidc)).
///
/// Unset options take the verifier builder's (its audiences, refresh
/// intervals, fetch timeout), and then the defaults; an identity provider's
/// defaults are [`DEFAULT_OIDC_REFRESH`](crate::DEFAULT_OIDC_REFRESH) and a
/// finite maximum stale age,
/// [`DEFAULT_OIDC_MAX_STALE`](crate::DEFAULT_OIDC_MAX_STALE).
///
/// ```
/// use scopegate::{TrustedIssuer, VerificationKey, Verifier};
///
/// let verifier = Verifier::oidc("https://keycloak.example.com/realms/ops")
///     .trust(TrustedIssuer::oidc("https://example.eu.auth0.com/"))
///     .trust(TrustedIssuer::new(
///         "urn:example:ledger",
///         VerificationKey::secret("a-random-secret-of-64-bytes-or-more-as-rfc-7518-asks-for-hs512!!")?,
///     ))
///     .audience("urn:example:ledger")
///     .build()?;
/// # Ok::<(), scopegate::ConfigError>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct TrustedIssuer {
    pub(crate) iss: Option<String>,
    pub(crate) keys: Keys,
    pub(crate) audiences: Vec<String>,
    pub(crate) grants: Option<TokenTypes>,
    pub(crate) grants_permissions: Option<PermissionSet>,
    pub(crate) refresh: Option<Duration>,
    pub(crate) min_retry: Option<Duration>,
    pub(crate) max_stale: Option<Duration>,
    pub(crate) fetch_timeout: Option<Duration>,
    pub(crate) insecure_http: bool,
    pub(crate) allow_short_secret: bool,
}

/// Where a trusted issuer's keys come from.
#[derive(Debug)]
pub(crate) enum Keys {
    Source(KeySource),
    /// OpenID Connect discovery at this issuer URL.
    Discovery(String),
}

impl TrustedIssuer {
    /// Tokens whose `iss` is `iss`, signed with `keys`: a
    /// [`VerificationKey`] (a secret or a PEM public key) or a
    /// [`JwksSource`](crate::JwksSource).
    pub fn new(iss: impl Into<String>, keys: impl Into<KeySource>) -> Self {
        Self::with_keys(Some(iss.into()), Keys::Source(keys.into()))
    }

    /// An identity provider (Keycloak, Auth0, Entra ID, Dex, ...) found by
    /// OpenID Connect discovery: its keys come from
    /// `<issuer>/.well-known/openid-configuration`, whose `issuer` must be
    /// `issuer` exactly, as must every token's `iss`. `https` only, except
    /// on a loopback address or with
    /// [`insecure_http`](Self::insecure_http).
    pub fn oidc(issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        Self::with_keys(Some(issuer.clone()), Keys::Discovery(issuer))
    }

    pub(crate) fn with_keys(iss: Option<String>, keys: Keys) -> Self {
        TrustedIssuer {
            iss,
            keys,
            audiences: Vec::new(),
            grants: None,
            grants_permissions: None,
            refresh: None,
            min_retry: None,
            max_stale: None,
            fetch_timeout: None,
            insecure_http: false,
            allow_short_secret: false,
        }
    }

    /// Accepts this issuer's tokens whose `aud` names `audience` (instead
    /// of the verifier builder's audiences). Call again to accept several.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Limits this issuer to the token types in `types`: a token of
    /// another type (by `types`'s vocabulary: its claim, and its default
    /// type when the claim is absent) is refused with 401 `token type not
    /// granted by its issuer`, however a route's policy would have
    /// judged it. For an identity provider that may speak for some of a
    /// service's callers only.
    pub fn grants(mut self, types: TokenTypes) -> Self {
        self.grants = Some(types);
        self
    }

    /// Limits this issuer to the permissions in `allowed` (names of a
    /// vocabulary's `[permissions]`, e.g. `PERMISSIONS.set_of(&["reports:read"])`):
    /// a token whose permissions claim holds another of that vocabulary's
    /// permissions is refused with 401 `permission not granted by its
    /// issuer`, and one whose claim has the wrong shape with 401 `malformed
    /// <claim> claim`, however a route's policy would have judged it. Names
    /// the vocabulary does not declare (an identity provider's `openid`,
    /// `profile`) are not permissions and are let through. For an identity
    /// provider that may speak for some of a service's permissions only.
    pub fn grants_permissions(mut self, allowed: PermissionSet) -> Self {
        self.grants_permissions = Some(allowed);
        self
    }

    /// Interval between scheduled refreshes of this issuer's JWKS (or
    /// discoveries).
    pub fn jwks_refresh(mut self, interval: Duration) -> Self {
        self.refresh = Some(interval);
        self
    }

    /// Minimum gap between two fetches of this issuer's keys.
    pub fn jwks_min_retry(mut self, gap: Duration) -> Self {
        self.min_retry = Some(gap);
        self
    }

    /// Drops this issuer's keys when no fetch has succeeded for `age`.
    pub fn jwks_max_stale(mut self, age: Duration) -> Self {
        self.max_stale = Some(age);
        self
    }

    /// Time limit of one fetch of this issuer's JWKS or discovery document
    /// (default [`DEFAULT_FETCH_TIMEOUT`](crate::DEFAULT_FETCH_TIMEOUT)).
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = Some(timeout);
        self
    }

    /// Allows an identity provider's issuer and `jwks_uri` to be plain
    /// `http` to a host that is not a loopback address (a sidecar on a
    /// private network, a test). Redirects still may not change the scheme.
    pub fn insecure_http(mut self) -> Self {
        self.insecure_http = true;
        self
    }

    /// Accepts an HMAC secret shorter than
    /// [`MIN_SECRET_BYTES`](crate::MIN_SECRET_BYTES) for this issuer.
    pub fn allow_short_secret(mut self) -> Self {
        self.allow_short_secret = true;
        self
    }
}

/// What a [`Verifier`](crate::Verifier) checks signatures with: one key, or a JWKS whose
/// keys are selected by the token's `kid`. (An identity provider's keys:
/// [`Verifier::oidc`](crate::Verifier::oidc), [`TrustedIssuer::oidc`].)
#[derive(Debug)]
pub enum KeySource {
    /// One key; a `kid` in the token is ignored (Airflow's secret-signed
    /// tokens carry `"kid": "not-used"`).
    Key(VerificationKey),
    /// A JWKS file or URL; `kid` is required.
    Jwks(JwksSource),
}

impl From<VerificationKey> for KeySource {
    fn from(key: VerificationKey) -> Self {
        KeySource::Key(key)
    }
}

impl From<JwksSource> for KeySource {
    fn from(source: JwksSource) -> Self {
        KeySource::Jwks(source)
    }
}

/// A trusted issuer, built: what verification reads.
pub(crate) struct Trusted {
    /// Tokens' `iss` must equal it; `None` only for a verifier of one
    /// issuer configured without one (then `iss` is not checked).
    pub iss: Option<String>,
    pub keys: KeyStore,
    pub audiences: Vec<String>,
    pub grants: Option<TokenTypes>,
    pub grants_permissions: Option<PermissionSet>,
}

impl std::fmt::Debug for Trusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedIssuer")
            .field("iss", &self.iss)
            .field("keys", &self.keys)
            .field("audiences", &self.audiences)
            .field("grants", &self.grants.map(|t| t.to_string()))
            .field(
                "grants_permissions",
                &self.grants_permissions.map(|p| p.to_string()),
            )
            .finish()
    }
}

pub(crate) enum KeyStore {
    Key(VerificationKey),
    /// A JWKS, or an identity provider's: shared with its scheduled
    /// refresh task (which holds a `Weak`).
    Jwks(Arc<Jwks>),
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyStore::Key(key) => key.fmt(f),
            KeyStore::Jwks(jwks) => f
                .debug_struct("Jwks")
                .field("origin", jwks.origin())
                .field("schedule", &jwks.schedule)
                .finish_non_exhaustive(),
        }
    }
}

impl KeyStore {
    /// The generation of the current key set: fixed for a single key,
    /// bumped by every change of a JWKS.
    #[inline]
    pub fn generation(&self) -> u64 {
        match self {
            KeyStore::Key(_) => 0,
            KeyStore::Jwks(jwks) => jwks.generation(),
        }
    }

    pub fn jwks(&self) -> Option<&Arc<Jwks>> {
        match self {
            KeyStore::Jwks(jwks) => Some(jwks),
            KeyStore::Key(_) => None,
        }
    }
}

impl Trusted {
    /// Whether this issuer is an identity provider found by discovery:
    /// another party, whose tokens this service never re-mints.
    pub fn is_identity_provider(&self) -> bool {
        self.keys
            .jwks()
            .is_some_and(|jwks| matches!(jwks.origin(), Origin::Discovery(_)))
    }

    /// With [`TrustedIssuer::grants`], refuses a token whose type is not
    /// one this issuer may grant (an unknown or malformed type included);
    /// with [`TrustedIssuer::grants_permissions`], one that holds a
    /// permission this issuer may not grant.
    pub fn check_grants(&self, claims: &Claims) -> Result<(), InvalidReason> {
        if let Some(allowed) = self.grants_permissions {
            let permissions = allowed.permissions();
            let held = claims
                .permission_bits(permissions)
                .map_err(|MalformedClaim| InvalidReason::MalformedClaim(permissions.claim()))?;
            if held & !allowed.bits() != 0 {
                return Err(InvalidReason::PermissionNotGranted);
            }
        }
        let Some(types) = self.grants else {
            return Ok(());
        };
        let vocabulary = types.vocabulary();
        let granted = match claims.string_claim(vocabulary.claim()) {
            StringClaim::Absent => types.contains(vocabulary.default_type()),
            StringClaim::Str(name) => vocabulary
                .token_type(name)
                .is_some_and(|ty| types.contains(ty)),
            StringClaim::NotAString => false,
        };
        if granted {
            Ok(())
        } else {
            Err(InvalidReason::TypeNotGranted)
        }
    }
}
