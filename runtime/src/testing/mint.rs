//! [`Mint`]: one token of a [`TestAuth`](super::TestAuth), with the options
//! a test combines (type, extra claims, lifetime, expiry, key).

use std::time::Duration;

use serde_json::{Map, Value};

use crate::claims::{now, MAX_LEEWAY};
use crate::issue::{Issuer, TypeClaim};
use crate::policy::{PermissionFormat, Vocabulary};
use crate::web::reissue::MIN_REFRESH_WINDOW_SECS;

/// How long ago [`Mint::expired`] tokens expired: past the largest leeway
/// a verifier allows, by a minute.
const EXPIRED_AGO: Duration = Duration::from_secs(MAX_LEEWAY.as_secs() + 60);

/// What goes in the type claim.
#[derive(Clone, Debug)]
enum Kind {
    /// The vocabulary's default type.
    Default,
    /// A type of the vocabulary, by name.
    Named(String),
    /// Any value, checked against nothing.
    Raw(Value),
    /// No type claim.
    Absent,
}

/// When the token expires.
#[derive(Clone, Copy, Debug)]
enum Expiry {
    /// One lifetime from now.
    Fresh,
    /// This long from now.
    In(Duration),
    /// This long ago.
    Ago(Duration),
    /// Half-way through the refresh window.
    InWindow,
}

/// One token of a [`TestAuth`](super::TestAuth), built from
/// [`TestAuth::mint`](super::TestAuth::mint): by default
/// a valid token of the vocabulary's default type, fresh, signed with the
/// kit's key. [`sign`](Self::sign) mints it with the library's
/// [`Issuer`](crate::Issuer), so it has the claim set every token of the
/// library has: `jti`, `aud`, `nbf`, `iat`, `exp`, `sub`, the type claim,
/// `iss` when configured, the refresh chain's id (`sid`), and the extra
/// claims.
///
/// ```
/// use std::time::Duration;
/// use scopegate::testing::TestAuth;
/// use scopegate::{SubjectFormat, Vocabulary};
///
/// const LEDGER: Vocabulary = Vocabulary::new("role", &["clerk", "auditor"], 0);
/// let auth = TestAuth::builder().vocabulary(&LEDGER).subject(SubjectFormat::Any).build()?;
/// // A clerk of account a-1 whose token is about to be refreshed.
/// let token = auth.mint("alice").claim("acct", "a-1").near_expiry().sign();
/// let claims = auth.verifier().verify(&token).unwrap();
/// assert_eq!((&claims.extra["role"], &claims.extra["acct"]), (&"clerk".into(), &"a-1".into()));
/// # Ok::<(), scopegate::ConfigError>(())
/// ```
#[derive(Debug)]
#[must_use = "a Mint does nothing until `.sign()`"]
pub struct Mint<'a> {
    /// The kit's issuer, and the one with another key that forges.
    issuer: &'a Issuer,
    forger: &'a Issuer,
    sub: String,
    kind: Kind,
    extra: Map<String, Value>,
    lifetime: Option<Duration>,
    expiry: Expiry,
    forged: bool,
}

impl<'a> Mint<'a> {
    /// A token for `sub` from the kit's `issuer` (or `forger`, once
    /// [`forged`](Self::forged)). It knows the issuers, not the kit, so
    /// `auth` and `mint` import each other in one direction only.
    pub(super) fn new(issuer: &'a Issuer, forger: &'a Issuer, sub: String) -> Mint<'a> {
        Mint {
            issuer,
            forger,
            sub,
            kind: Kind::Default,
            extra: Map::new(),
            lifetime: None,
            expiry: Expiry::Fresh,
            forged: false,
        }
    }

    /// The token's type, a type of the kit's vocabulary (default: its
    /// default type, Airflow's `execution`).
    pub fn of_type(mut self, ty: &str) -> Self {
        self.kind = Kind::Named(ty.to_owned());
        self
    }

    /// Writes `value` in the type claim as it is, checked against nothing:
    /// a type outside the kit's vocabulary (`"admin"`), or a value of the
    /// wrong shape (`42`), for a test of the 401 `unknown token type`.
    ///
    /// ```
    /// use scopegate::testing::TestAuth;
    /// let auth = TestAuth::new();
    /// let token = auth.mint(uuid::Uuid::new_v4()).type_claim("admin").sign();
    /// let claims = auth.verifier().verify(&token).unwrap();
    /// assert_eq!(claims.extra["scope"], "admin"); // a route refuses it: 401
    /// ```
    pub fn type_claim(mut self, value: impl Into<Value>) -> Self {
        self.kind = Kind::Raw(value.into());
        self
    }

    /// Leaves the type claim out: the token is of the vocabulary's default
    /// type, as a verifier reads it (Airflow's `execution`).
    ///
    /// ```
    /// use scopegate::testing::TestAuth;
    /// let auth = TestAuth::new();
    /// let token = auth.mint(uuid::Uuid::new_v4()).without_type_claim().sign();
    /// assert!(!auth.verifier().verify(&token).unwrap().extra.contains_key("scope"));
    /// ```
    pub fn without_type_claim(mut self) -> Self {
        self.kind = Kind::Absent;
        self
    }

    /// Writes the permissions `names` in the permissions claim of the kit's
    /// vocabulary, in its format: `"a b"` for `space`, `["a", "b"]` for
    /// `array`. Names the vocabulary does not declare are written too (a
    /// route ignores them). To write a malformed claim, set it with
    /// [`claim`](Self::claim).
    ///
    /// ```
    /// use scopegate::testing::TestAuth;
    /// use scopegate::{PermissionFormat, Permissions, Vocabulary};
    ///
    /// static LEDGER: Vocabulary = Vocabulary::new("role", &["clerk"], 0).with_permissions(
    ///     Permissions::new("scope", PermissionFormat::Space, &["reports:read", "ledger:admin"]),
    /// );
    /// let auth = TestAuth::for_vocabulary(&LEDGER);
    /// let token = auth.mint(uuid::Uuid::new_v4()).permissions(&["reports:read", "ledger:admin"]).sign();
    /// let claims = auth.verifier().verify(&token).unwrap();
    /// assert_eq!(claims.extra["scope"], "reports:read ledger:admin");
    /// ```
    ///
    /// # Panics
    ///
    /// When the kit's vocabulary declares no permissions.
    pub fn permissions(mut self, names: &[&str]) -> Self {
        let vocabulary = self.issuer.vocabulary();
        let Some(permissions) = vocabulary.permissions() else {
            panic!(
                "TestAuth: the kit's vocabulary declares no permissions; build the kit with \
                 TestAuth::for_vocabulary(&VOCABULARY) of a vocabulary that has `[permissions]`"
            );
        };
        let value = match permissions.format() {
            PermissionFormat::Space => Value::from(names.join(" ")),
            PermissionFormat::Array => Value::from(names.to_vec()),
        };
        self.extra.insert(permissions.claim().to_owned(), value);
        self
    }

    /// An extra claim, such as the claim an owner scope compares (the
    /// ledger's `acct`) or Airflow's `ti_try`. The registered claims are
    /// the issuer's: set here, they are ignored.
    ///
    /// # Panics
    ///
    /// When `name` is the vocabulary's type claim: the type is set with
    /// [`of_type`](Self::of_type) (a type of the vocabulary),
    /// [`type_claim`](Self::type_claim) (any value) or
    /// [`without_type_claim`](Self::without_type_claim), so that a test
    /// never believes it wrote a type the issuer replaced.
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        let vocabulary = self.issuer.vocabulary();
        if vocabulary.is_typed() && name == vocabulary.claim() {
            panic!(
                "TestAuth: `{name}` is the type claim; write the type with .of_type(\"..\") (a \
                 type of the kit's vocabulary), .type_claim(..) (any value) or \
                 .without_type_claim()"
            );
        }
        self.extra.insert(name.to_owned(), value.into());
        self
    }

    /// Extra claims from a JSON object: `json!({"acct": "a-1"})`.
    ///
    /// # Panics
    ///
    /// When `claims` is not a JSON object, or names the type claim (see
    /// [`claim`](Self::claim)).
    pub fn claims(mut self, claims: Value) -> Self {
        match claims {
            Value::Object(claims) => {
                for (name, value) in claims {
                    self = self.claim(&name, value);
                }
            }
            other => panic!("Mint::claims takes a JSON object of claims, not {other}"),
        }
        self
    }

    /// `exp - iat` (default: the issuer's lifetime for the type, 600 s for
    /// `execution`).
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = Some(lifetime);
        self
    }

    /// Expires `left` from now, issued one lifetime before that.
    ///
    /// # Panics
    ///
    /// In [`sign`](Self::sign), when `left` is longer than the lifetime:
    /// the token would be issued in the future.
    pub fn expires_in(mut self, left: Duration) -> Self {
        self.expiry = Expiry::In(left);
        self
    }

    /// Expired `ago` ago. Within the verifier's leeway (10 s by default)
    /// it is still accepted: that is how a test reaches a token that
    /// expires while its request runs.
    pub fn expired_ago(mut self, ago: Duration) -> Self {
        self.expiry = Expiry::Ago(ago);
        self
    }

    /// Expired six minutes ago, past any leeway: every verifier refuses it.
    pub fn expired(self) -> Self {
        self.expired_ago(EXPIRED_AGO)
    }

    /// Inside the refresh window of [`Reissue`](crate::Reissue) (less than
    /// `max(20% of its lifetime, 30 s)` left), half-way through it: 60 s
    /// left of 600. Still valid, with at least 10 s left for any lifetime
    /// of 20 s or more, so a test has time to use it.
    pub fn near_expiry(mut self) -> Self {
        self.expiry = Expiry::InWindow;
        self
    }

    /// Signed with another random key than the kit's: a forgery.
    pub fn forged(mut self) -> Self {
        self.forged = true;
        self
    }

    /// The token.
    ///
    /// # Panics
    ///
    /// When the type named with [`of_type`](Self::of_type) is not in the
    /// kit's vocabulary, or [`expires_in`](Self::expires_in) is longer than
    /// the lifetime.
    pub fn sign(self) -> String {
        let issuer = if self.forged {
            self.forger
        } else {
            self.issuer
        };
        let vocabulary = issuer.vocabulary();
        let ty = match &self.kind {
            Kind::Named(name) => vocabulary
                .token_type(name)
                .unwrap_or_else(|| panic!("{}", not_a_type(vocabulary, name))),
            Kind::Default | Kind::Raw(_) | Kind::Absent => vocabulary.default_type(),
        };
        let type_claim = match self.kind {
            Kind::Default | Kind::Named(_) => TypeClaim::Type(ty),
            Kind::Raw(value) => TypeClaim::Raw(value),
            Kind::Absent => TypeClaim::Absent,
        };
        let lifetime = secs(self.lifetime.unwrap_or_else(|| issuer.ttl(ty)));
        let now = now();
        let exp = match self.expiry {
            Expiry::Fresh => now.saturating_add(lifetime),
            Expiry::In(left) => {
                let left = secs(left);
                assert!(
                    left <= lifetime,
                    "TestAuth: a token of {lifetime} s cannot expire in {left} s: \
                     it would be issued in the future; set a longer .lifetime(..)"
                );
                now + left
            }
            Expiry::Ago(ago) => now.saturating_sub(secs(ago)),
            Expiry::InWindow => now + near_expiry_left(lifetime),
        };
        let iat = exp.saturating_sub(lifetime);
        match issuer.issue_raw(&self.sub, type_claim, &self.extra, iat, exp) {
            Ok(token) => token,
            // The type was checked above; only a broken key fails to sign.
            Err(err) => panic!("TestAuth: could not mint a token: {err}"),
        }
    }
}

/// Whole seconds, as claims count them.
fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Half the refresh window of a token of `lifetime` seconds, and never
/// more than half its lifetime.
fn near_expiry_left(lifetime: i64) -> i64 {
    let window = (lifetime / 5).max(MIN_REFRESH_WINDOW_SECS);
    (window / 2).min(lifetime / 2)
}

/// The panic message of a kit asked for `name`, which is not a type of its
/// `vocabulary`: what to write instead. Only a kit of Airflow's words (the
/// default) is told to take the crate's vocabulary; one that has it is told
/// its types, and, asked for Airflow's, how to mint its own.
fn not_a_type(vocabulary: &Vocabulary, name: &str) -> String {
    let types = vocabulary.types();
    let airflow = Vocabulary::AIRFLOW;
    let mut message = format!(
        "TestAuth: '{name}' is not a token type of the kit's vocabulary ({})",
        types.join(", ")
    );
    if vocabulary.claim() == airflow.claim() && types == airflow.types() {
        message.push_str(
            ", which is Airflow's, the default: if your crate declares its own types in \
             scopegate.toml, build the kit with them: TestAuth::for_vocabulary(&VOCABULARY) or \
             TestAuth::builder().vocabulary(&VOCABULARY), with \
             `const VOCABULARY: scopegate::Vocabulary = scopegate::vocabulary!();`",
        );
    } else {
        message.push_str(": write one of those");
        if airflow.token_type(name).is_some() {
            let first = types.first().copied().unwrap_or("..");
            message.push_str(&format!(
                "; execution() and workload() mint Airflow's types, so mint this \
                 vocabulary's with token(sub, \"{first}\") or mint(sub).of_type(\"{first}\")"
            ));
        }
    }
    message
        .push_str("; to write a value that is no type (to test the refusal), use .type_claim(..)");
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_expiry_is_inside_the_window_and_outside_the_leeway() {
        assert_eq!(near_expiry_left(600), 60);
        assert_eq!(near_expiry_left(24 * 3600), 8640);
        assert_eq!(near_expiry_left(100), 15);
        assert_eq!(near_expiry_left(20), 10);
        for lifetime in 20..5000 {
            let left = near_expiry_left(lifetime);
            let window = (lifetime / 5).max(MIN_REFRESH_WINDOW_SECS);
            assert!(left < window && left >= 10, "{lifetime}: {left}");
        }
    }
}
