//! The registered claims of a token: parsed strictly from a
//! signature-checked payload and checked against the clock, the audience,
//! the issuer and the subject format. The token type is not one of them: it
//! belongs to a vocabulary, and a route's policy reads it.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::jose::jws::json_object;
use crate::jose::InvalidReason;
use crate::policy::{ClaimSource, MalformedClaim, PermissionClaim, Permissions, StringClaim};

use super::permissions::PermissionCache;
use crate::policy::SubjectFormat;

/// Largest accepted timestamp: 9999-12-31T23:59:59Z. Anything beyond is a
/// hostile or broken token, not a long-lived one.
const MAX_TIMESTAMP: i64 = 253_402_300_799;

/// The claims of a verified token.
///
/// Registered claims are typed; everything else is kept in
/// [`extra`](Claims::extra) so a refreshed token can carry it on.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Claims {
    /// The subject: in Airflow, the task instance (or connection test) this
    /// token is for. A hyphenated UUID unless the verifier accepts any
    /// subject ([`SubjectFormat`]).
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued-at, seconds since the epoch.
    pub iat: i64,
    /// Not-before, seconds since the epoch, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// The issuer, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The token id, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The audience, as the token wrote it (one string or a list); one of
    /// them is the verifier's.
    pub aud: Audience,
    /// Every claim that is not one of the above, the token type's claim
    /// (Airflow's `scope`) and the permissions claim included.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The token's permissions, parsed once per declaration of them and
    /// kept with the claims (and so in the verified-token cache).
    #[serde(skip)]
    permissions: PermissionCache,
}

/// A token's `aud`: one string or a list of strings, kept in the token's own
/// form so a refreshed token carries it on unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Audience {
    /// `"aud": "urn:..."`.
    One(String),
    /// `"aud": ["urn:...", ...]`.
    Many(Vec<String>),
}

impl Audience {
    /// Every audience named.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let (one, many): (Option<&String>, &[String]) = match self {
            Audience::One(one) => (Some(one), &[]),
            Audience::Many(many) => (None, many),
        };
        one.into_iter().chain(many).map(String::as_str)
    }

    /// Whether `audience` is one of them.
    pub fn contains(&self, audience: &str) -> bool {
        self.iter().any(|a| a == audience)
    }
}

/// The claim that carries when a token's refresh chain started (seconds
/// since the epoch): `auth_time`, which OpenID Connect uses the same way
/// (a refreshed ID token keeps the time of the original authentication).
/// [`Reissue`](crate::Reissue) writes it into every refreshed token and
/// stops refreshing past its optional maximum session age.
pub const SESSION_START_CLAIM: &str = "auth_time";

/// The claim that carries a token's refresh chain id: `sid`, the "Session
/// ID" of the IANA JWT claims registry, which OpenID Connect uses the same
/// way (one id for every token of one session). [`Issuer`](crate::Issuer)
/// writes a fresh 128-bit random id into every token it mints (an id in
/// the caller's extra claims is ignored), and
/// [`Issuer::reissue`](crate::Issuer::reissue) carries it into every
/// refreshed or swapped token, so revoking one token of a chain can revoke
/// them all ([`DenyList`](crate::DenyList)).
pub const CHAIN_CLAIM: &str = "sid";

impl Claims {
    /// The claim names that are typed fields; everything else is an extra
    /// claim.
    pub const REGISTERED: [&'static str; 7] = ["sub", "exp", "iat", "nbf", "iss", "jti", "aud"];

    /// The claim named `name` as JSON: a typed field or an extra claim.
    pub fn get(&self, name: &str) -> Option<Value> {
        Some(match name {
            "sub" => Value::String(self.sub.clone()),
            "exp" => self.exp.into(),
            "iat" => self.iat.into(),
            "nbf" => self.nbf?.into(),
            "iss" => Value::String(self.iss.clone()?),
            "jti" => Value::String(self.jti.clone()?),
            "aud" => serde_json::to_value(&self.aud).ok()?,
            _ => self.extra.get(name)?.clone(),
        })
    }

    /// The token's whole lifetime, `exp - iat`, in seconds.
    pub fn lifetime(&self) -> i64 {
        self.exp.saturating_sub(self.iat)
    }

    /// When this token's refresh chain started: its
    /// [`SESSION_START_CLAIM`] (never later than `iat`), or `iat` for the
    /// first token of a chain. `None` when the claim is not a valid
    /// NumericDate: such a token is not refreshed.
    pub fn session_start(&self) -> Option<i64> {
        match self.extra.get(SESSION_START_CLAIM) {
            None => Some(self.iat),
            Some(Value::Number(n)) => n
                .as_i64()
                .filter(|t| (0..=MAX_TIMESTAMP).contains(t))
                .map(|t| t.min(self.iat)),
            Some(_) => None,
        }
    }

    /// The id of this token's refresh chain: its [`CHAIN_CLAIM`] (a
    /// non-empty string), or, for a token minted without one (by Airflow,
    /// or by an earlier scopegate), its own `jti`, which a token refreshed
    /// from it carries as its chain id. `None` when it has neither.
    pub fn chain(&self) -> Option<&str> {
        match self.extra.get(CHAIN_CLAIM) {
            Some(Value::String(chain)) if !chain.is_empty() => Some(chain),
            _ => self.jti.as_deref(),
        }
    }

    /// Parses and checks a signature-checked JSON payload: required claims
    /// present, NumericDates integers in range, `exp`/`nbf`/`iat` against the
    /// clock with the leeway, `iss` and `aud` against the rules, `sub` in the
    /// subject format, and no key twice.
    pub(crate) fn parse(payload: &[u8], rules: &ClaimRules<'_>) -> Result<Claims, InvalidReason> {
        let raw: RawClaims = json_object(payload)?;
        raw.check(rules)
    }
}

impl ClaimSource for Claims {
    /// The claim's string value, without allocating: `sub`, `iss` and `jti`
    /// from their fields, anything else from the extra claims.
    fn string_claim(&self, name: &str) -> StringClaim<'_> {
        let value = match name {
            "sub" => return StringClaim::Str(&self.sub),
            "iss" | "jti" => {
                let field = if name == "iss" { &self.iss } else { &self.jti };
                return field
                    .as_deref()
                    .map_or(StringClaim::Absent, StringClaim::Str);
            }
            "exp" | "iat" | "nbf" | "aud" => return StringClaim::NotAString,
            _ => self.extra.get(name),
        };
        match value {
            None => StringClaim::Absent,
            Some(Value::String(s)) => StringClaim::Str(s),
            Some(_) => StringClaim::NotAString,
        }
    }

    /// The claim as a string or an array, from the extra claims (a
    /// registered claim is never a permissions claim: `scopegate.toml`
    /// refuses their names).
    fn permission_claim(&self, name: &str) -> PermissionClaim<'_> {
        match self.extra.get(name) {
            None => PermissionClaim::Absent,
            Some(Value::String(s)) => PermissionClaim::Str(s),
            Some(Value::Array(items)) => PermissionClaim::List(items),
            Some(_) => PermissionClaim::Other,
        }
    }

    /// Parsed on the first call for `permissions` (the first route check of
    /// this token, right after its verification), then read back as bits.
    #[inline]
    fn permission_bits(&self, permissions: &Permissions) -> Result<u64, MalformedClaim> {
        self.permissions.get_or_parse(permissions.key(), || {
            permissions.parse(self.permission_claim(permissions.claim()))
        })
    }
}

/// The `iss` of a payload whose signature is not checked yet: only to pick
/// the keys to check it with, among the issuers a verifier trusts. The
/// claims are parsed (and `iss` compared) again after the signature. A
/// payload with `iss` twice is malformed, here as there.
pub(crate) fn peek_issuer(payload: &[u8]) -> Result<String, InvalidReason> {
    #[derive(Deserialize)]
    struct Issuer {
        #[serde(default)]
        iss: Option<Value>,
    }
    let Issuer { iss } = json_object(payload)?;
    match iss {
        None => Err(InvalidReason::MissingClaim("iss")),
        Some(Value::String(iss)) => Ok(iss),
        Some(_) => Err(InvalidReason::InvalidClaim("iss")),
    }
}

/// What [`Claims::parse`] checks registered claims against.
pub(crate) struct ClaimRules<'a> {
    pub now: i64,
    pub leeway: i64,
    pub audiences: &'a [String],
    pub issuer: Option<&'a str>,
    pub subject: SubjectFormat,
}

/// The payload as JSON values, registered claims in their own slots.
#[derive(Default)]
struct RawClaims {
    sub: Option<Value>,
    exp: Option<Value>,
    iat: Option<Value>,
    nbf: Option<Value>,
    iss: Option<Value>,
    jti: Option<Value>,
    aud: Option<Value>,
    extra: Map<String, Value>,
}

impl RawClaims {
    fn slot(&mut self, key: &str) -> Option<&mut Option<Value>> {
        Some(match key {
            "sub" => &mut self.sub,
            "exp" => &mut self.exp,
            "iat" => &mut self.iat,
            "nbf" => &mut self.nbf,
            "iss" => &mut self.iss,
            "jti" => &mut self.jti,
            "aud" => &mut self.aud,
            _ => return None,
        })
    }

    fn check(self, rules: &ClaimRules<'_>) -> Result<Claims, InvalidReason> {
        let exp = timestamp(self.exp, "exp")?.ok_or(InvalidReason::MissingClaim("exp"))?;
        let iat = timestamp(self.iat, "iat")?.ok_or(InvalidReason::MissingClaim("iat"))?;
        let nbf = timestamp(self.nbf, "nbf")?;
        let aud = self.aud.ok_or(InvalidReason::MissingClaim("aud"))?;
        let iss = optional_string(self.iss, "iss")?;
        let jti = optional_string(self.jti, "jti")?;
        let (now, leeway) = (rules.now, rules.leeway);
        if exp < now - leeway {
            return Err(InvalidReason::Expired);
        }
        if nbf.is_some_and(|nbf| nbf > now + leeway) {
            return Err(InvalidReason::NotYetValid);
        }
        if iat > now + leeway {
            return Err(InvalidReason::IssuedInFuture);
        }
        if let Some(expected) = rules.issuer {
            match &iss {
                None => return Err(InvalidReason::MissingClaim("iss")),
                Some(iss) if iss != expected => return Err(InvalidReason::InvalidIssuer),
                Some(_) => {}
            }
        }
        let aud = check_audience(aud, rules.audiences)?;
        let sub = match self.sub {
            None => return Err(InvalidReason::MissingClaim("sub")),
            Some(sub) => rules.subject.check(sub)?,
        };
        Ok(Claims {
            sub,
            exp,
            iat,
            nbf,
            iss,
            jti,
            aud,
            extra: self.extra,
            permissions: PermissionCache::default(),
        })
    }
}

impl<'de> Deserialize<'de> for RawClaims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = RawClaims;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of claims")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawClaims, A::Error> {
                let mut raw = RawClaims::default();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let value: Value = map.next_value()?;
                    let duplicate = match raw.slot(&key) {
                        Some(slot) => slot.replace(value).is_some(),
                        None => raw.extra.insert(key.into_owned(), value).is_some(),
                    };
                    if duplicate {
                        return Err(de::Error::custom("duplicate claim"));
                    }
                }
                Ok(raw)
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

/// `aud` is one string or a list of strings, one of which must be ours.
fn check_audience(aud: Value, ours: &[String]) -> Result<Audience, InvalidReason> {
    let aud = match aud {
        Value::String(s) => Audience::One(s),
        Value::Array(list) => Audience::Many(
            list.into_iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s),
                    _ => Err(InvalidReason::InvalidClaim("aud")),
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(InvalidReason::InvalidClaim("aud")),
    };
    if ours.iter().any(|o| aud.contains(o)) {
        Ok(aud)
    } else {
        Err(InvalidReason::InvalidAudience)
    }
}

/// A NumericDate must be a non-negative JSON integer no later than year 9999.
fn timestamp(value: Option<Value>, name: &'static str) -> Result<Option<i64>, InvalidReason> {
    match value {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(t) if (0..=MAX_TIMESTAMP).contains(&t) => Ok(Some(t)),
            _ => Err(InvalidReason::InvalidClaim(name)),
        },
        Some(_) => Err(InvalidReason::InvalidClaim(name)),
    }
}

fn optional_string(
    value: Option<Value>,
    name: &'static str,
) -> Result<Option<String>, InvalidReason> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(InvalidReason::InvalidClaim(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn rules() -> ClaimRules<'static> {
        static AUD: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        ClaimRules {
            now: NOW,
            leeway: 10,
            audiences: AUD.get_or_init(|| vec!["a".to_owned()]),
            issuer: None,
            subject: SubjectFormat::Uuid,
        }
    }

    fn base() -> Map<String, Value> {
        json!({"sub": "0190b6a6-7f3e-7c1a-9d2b-3c4d5e6f7a8b", "exp": NOW + 600, "iat": NOW, "aud": "a"})
            .as_object()
            .unwrap()
            .clone()
    }

    fn with(key: &str, value: Value) -> Result<Claims, InvalidReason> {
        let mut p = base();
        p.insert(key.to_owned(), value);
        Claims::parse(&serde_json::to_vec(&p).unwrap(), &rules())
    }

    #[test]
    fn extras_are_kept_the_type_claim_among_them() {
        let c = with("ti_try", json!(3)).unwrap();
        assert_eq!(c.extra.get("ti_try"), Some(&json!(3)));
        assert_eq!(c.string_claim("scope"), StringClaim::Absent);
        let c = with("scope", json!("workload")).unwrap();
        assert_eq!(c.string_claim("scope"), StringClaim::Str("workload"));
        assert_eq!(c.get("scope"), Some(json!("workload")));
        assert_eq!(
            c.string_claim("sub"),
            StringClaim::Str("0190b6a6-7f3e-7c1a-9d2b-3c4d5e6f7a8b")
        );
        assert_eq!(c.string_claim("exp"), StringClaim::NotAString);
        assert_eq!(c.get("exp"), Some(json!(NOW + 600)));
        assert_eq!(c.string_claim("jti"), StringClaim::Absent);
        let c = with("jti", json!("j-1")).unwrap();
        assert_eq!(c.string_claim("jti"), StringClaim::Str("j-1"));
        let c = with("scope", json!(["workload"])).unwrap();
        assert_eq!(c.string_claim("scope"), StringClaim::NotAString);
        assert!(!c.extra.contains_key("aud"));
        assert_eq!(c.aud, Audience::One("a".into()));
        assert_eq!(c.lifetime(), 600);
    }

    #[test]
    fn strict_claim_types() {
        assert_eq!(
            with("exp", json!("1800000600")),
            Err(InvalidReason::InvalidClaim("exp"))
        );
        assert_eq!(
            with("exp", json!(1_800_000_600.5)),
            Err(InvalidReason::InvalidClaim("exp"))
        );
        assert_eq!(
            with("iat", json!(-1)),
            Err(InvalidReason::InvalidClaim("iat"))
        );
        assert_eq!(
            with("nbf", json!(u64::MAX)),
            Err(InvalidReason::InvalidClaim("nbf"))
        );
        assert_eq!(
            with("iat", json!(NOW + 60)),
            Err(InvalidReason::IssuedInFuture)
        );
        assert_eq!(with("sub", json!(42)), Err(InvalidReason::InvalidSubject));
        assert_eq!(
            with("sub", json!("{0190b6a6-7f3e-7c1a-9d2b-3c4d5e6f7a8b}")),
            Err(InvalidReason::InvalidSubject)
        );
    }

    #[test]
    fn audience_rules() {
        assert_eq!(
            with("aud", json!(["x", "a"])).unwrap().aud,
            Audience::Many(vec!["x".into(), "a".into()])
        );
        assert_eq!(
            with("aud", json!(["x", "y"])),
            Err(InvalidReason::InvalidAudience)
        );
        assert_eq!(with("aud", json!([])), Err(InvalidReason::InvalidAudience));
        assert_eq!(
            with("aud", json!(["a", 1])),
            Err(InvalidReason::InvalidClaim("aud"))
        );
        assert_eq!(
            with("aud", json!({"a": 1})),
            Err(InvalidReason::InvalidClaim("aud"))
        );
    }

    #[test]
    fn session_start() {
        let c = with("ti_try", json!(1)).unwrap();
        assert_eq!(c.session_start(), Some(NOW));
        let c = with(SESSION_START_CLAIM, json!(NOW - 3600)).unwrap();
        assert_eq!(c.session_start(), Some(NOW - 3600));
        // Never later than the token's own iat.
        let c = with(SESSION_START_CLAIM, json!(NOW + 60)).unwrap();
        assert_eq!(c.session_start(), Some(NOW));
        for bad in [json!("yesterday"), json!(-1), json!(1.5), json!(u64::MAX)] {
            let c = with(SESSION_START_CLAIM, bad.clone()).unwrap();
            assert_eq!(c.session_start(), None, "{bad}");
        }
    }

    #[test]
    fn the_chain_is_the_sid_or_else_the_jti() {
        let c = with("jti", json!("j-1")).unwrap();
        assert_eq!(c.chain(), Some("j-1"));
        let mut p = base();
        p.insert("jti".into(), json!("j-2"));
        p.insert(CHAIN_CLAIM.into(), json!("chain-1"));
        let c = Claims::parse(&serde_json::to_vec(&p).unwrap(), &rules()).unwrap();
        assert_eq!(c.chain(), Some("chain-1"));
        // Not a usable id: the token's own jti.
        for bad in [json!(""), json!(7), json!(null)] {
            p.insert(CHAIN_CLAIM.into(), bad);
            let c = Claims::parse(&serde_json::to_vec(&p).unwrap(), &rules()).unwrap();
            assert_eq!(c.chain(), Some("j-2"));
        }
        assert_eq!(with("x", json!(1)).unwrap().chain(), None);
    }

    #[test]
    fn duplicate_keys_and_non_objects_are_malformed() {
        let dup = br#"{"sub":"0190b6a6-7f3e-7c1a-9d2b-3c4d5e6f7a8b","exp":1800000600,"iat":1800000000,"aud":"a","sub":"0190b6a6-7f3e-7c1a-9d2b-3c4d5e6f7a8c"}"#;
        assert_eq!(Claims::parse(dup, &rules()), Err(InvalidReason::Malformed));
        let dup_extra = br#"{"x":1,"x":2}"#;
        assert_eq!(
            Claims::parse(dup_extra, &rules()),
            Err(InvalidReason::Malformed)
        );
        assert_eq!(
            Claims::parse(b"[1,2]", &rules()),
            Err(InvalidReason::Malformed)
        );
        assert_eq!(
            Claims::parse(b"\"x\"", &rules()),
            Err(InvalidReason::Malformed)
        );
    }
}
