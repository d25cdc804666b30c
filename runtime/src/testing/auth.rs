//! [`TestAuth`]: a key, the verifier that trusts it, and tokens of every
//! kind a test needs, minted by the library's own [`Issuer`].

use std::fmt;
use std::time::Duration;

use actix_web::http::header::{HeaderName, AUTHORIZATION};
use actix_web::web;

use crate::claims::SubjectFormat;
use crate::issue::Issuer;
use crate::jose::{ConfigError, SigningKey, VerificationKey};
use crate::policy::{TokenType, Vocabulary};
use crate::verify::{Verifier, VerifierBuilder};

use super::mint::Mint;

/// Airflow's audience, which [`TestAuth`] uses unless told otherwise.
pub const DEFAULT_AUDIENCE: &str = "urn:airflow.apache.org:task";

/// Bytes of a random secret: 512 bits, the full strength of HS512.
const RANDOM_SECRET_BYTES: usize = 64;

/// Everything a test of protected routes needs: a random HS512 key, the
/// [`Verifier`] to register as app data, and tokens of every kind, minted
/// with Airflow's claim set by the library's own [`Issuer`].
///
/// ```
/// use actix_web::{test, App, HttpResponse};
/// use scopegate::testing::TestAuth;
/// use scopegate::{route, TiToken};
///
/// #[route(put, "/task-instances/<task_instance_id>/heartbeat", scopes = ["ti:self"])]
/// async fn heartbeat(_token: TiToken) -> HttpResponse {
///     HttpResponse::NoContent().finish()
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// let auth = TestAuth::new();
/// let app = test::init_service(App::new().app_data(auth.verifier()).service(heartbeat)).await;
/// let ti = uuid::Uuid::new_v4();
/// let req = test::TestRequest::put()
///     .uri(&format!("/task-instances/{ti}/heartbeat"))
///     .insert_header(auth.bearer(&auth.execution(ti)))
///     .to_request();
/// assert_eq!(test::call_service(&app, req).await.status(), 204);
/// # });
/// ```
///
/// Every token method panics, with a message that says why, when asked
/// for a type that is not in the kit's vocabulary: a test helper fails the
/// test rather than hand it an error to unwrap.
#[derive(Clone, Debug)]
pub struct TestAuth {
    issuer: Issuer,
    forger: Issuer,
    key: VerificationKey,
    audiences: Vec<String>,
    iss: Option<String>,
    subject: SubjectFormat,
}

/// Builds a [`TestAuth`] that matches a service's own configuration; see
/// [`TestAuth::builder`].
#[derive(Debug)]
#[must_use]
pub struct TestAuthBuilder {
    secret: Option<Vec<u8>>,
    audiences: Vec<String>,
    iss: Option<String>,
    vocabulary: &'static Vocabulary,
    /// Set by [`subject`](Self::subject); else the vocabulary's.
    subject: Option<SubjectFormat>,
    ttls: Vec<(TokenType, Duration)>,
}

impl TestAuthBuilder {
    /// Signs with this HMAC secret (HS512: at least 64 bytes) instead of a
    /// random one: for a test that runs the service's own app factory,
    /// whose verifier reads a test secret from its configuration.
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.secret = Some(secret.as_ref().to_vec());
        self
    }

    /// Adds an audience (the first replaces Airflow's default). Tokens name
    /// them all; the verifier accepts any of them.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Writes `iss` in every token and makes the verifier require it.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.iss = Some(issuer.into());
        self
    }

    /// Mints the types of `vocabulary`, in its claim, and accepts the
    /// subjects it declares (`[token] subject = "any"`: any non-empty
    /// string) (default: Airflow's). A crate with its own `scopegate.toml`
    /// passes `&VOCABULARY`, from
    /// `const VOCABULARY: Vocabulary = scopegate::vocabulary!();`.
    pub fn vocabulary(mut self, vocabulary: &'static Vocabulary) -> Self {
        self.vocabulary = vocabulary;
        self
    }

    /// What the verifier accepts as `sub`, whatever the vocabulary says
    /// (default: the vocabulary's format, a UUID in Airflow's).
    /// [`SubjectFormat::Any`] for a service whose subjects are names.
    pub fn subject(mut self, format: SubjectFormat) -> Self {
        self.subject = Some(format);
        self
    }

    /// The lifetime of tokens of type `ty`, as
    /// [`IssuerBuilder::ttl`](crate::IssuerBuilder::ttl): 600 s by default,
    /// 24 h for `workload`.
    pub fn ttl(mut self, ty: TokenType, ttl: Duration) -> Self {
        self.ttls.push((ty, ttl));
        self
    }

    /// The kit. Fails for a secret shorter than 64 bytes (HS512's hash, RFC
    /// 7518 §3.2), as a verifier does.
    pub fn build(self) -> Result<TestAuth, ConfigError> {
        let secret = match self.secret {
            Some(secret) => secret,
            None => random_secret(),
        };
        let mut audiences = self.audiences;
        if audiences.is_empty() {
            audiences.push(DEFAULT_AUDIENCE.to_owned());
        }
        let issuer = |key: SigningKey| {
            let mut builder = Issuer::builder(key).vocabulary(self.vocabulary);
            for audience in &audiences {
                builder = builder.audience(audience.clone());
            }
            if let Some(iss) = &self.iss {
                builder = builder.issuer(iss.clone());
            }
            for (ty, ttl) in &self.ttls {
                builder = builder.ttl(*ty, *ttl);
            }
            builder.build()
        };
        let signing = SigningKey::secret(&secret)?;
        let key = VerificationKey::from_signing_key(&signing)?;
        Ok(TestAuth {
            issuer: issuer(signing)?,
            forger: issuer(SigningKey::secret(random_secret())?)?,
            key,
            audiences,
            iss: self.iss,
            subject: self.subject.unwrap_or(self.vocabulary.subject()),
        })
    }
}

/// 64 bytes from the operating system's generator.
///
/// # Panics
///
/// When the OS has no random source: no test could trust its keys then.
fn random_secret() -> Vec<u8> {
    let mut secret = vec![0; RANDOM_SECRET_BYTES];
    if let Err(err) = getrandom::fill(&mut secret) {
        panic!("scopegate::testing: the OS random number generator failed: {err}");
    }
    secret
}

impl Default for TestAuth {
    fn default() -> Self {
        TestAuth::new()
    }
}

impl TestAuth {
    /// A random 64-byte HS512 secret, Airflow's audience and vocabulary,
    /// UUID subjects.
    ///
    /// ```
    /// let auth = scopegate::testing::TestAuth::new();
    /// let claims = auth.verifier().verify(&auth.workload(uuid::Uuid::new_v4())).unwrap();
    /// assert_eq!(claims.extra["scope"], "workload");
    /// ```
    pub fn new() -> TestAuth {
        match TestAuth::builder().build() {
            Ok(auth) => auth,
            // A 64-byte secret and an audience: nothing can be refused.
            Err(err) => unreachable!("the default test kit is always valid: {err}"),
        }
    }

    /// A kit configured like a service's own verifier and issuer.
    ///
    /// ```
    /// use scopegate::testing::TestAuth;
    /// use scopegate::{SubjectFormat, Vocabulary};
    ///
    /// // In your crate: `const LEDGER: Vocabulary = scopegate::vocabulary!();`
    /// // with `subject = "any"` under `[token]` in its scopegate.toml.
    /// const LEDGER: Vocabulary =
    ///     Vocabulary::new("role", &["clerk", "auditor"], 0).with_subject(SubjectFormat::Any);
    /// let auth = TestAuth::builder()
    ///     .vocabulary(&LEDGER)
    ///     .audience("urn:example:ledger")
    ///     .issuer("ledger-api")
    ///     .build()?;
    /// let claims = auth.verifier().verify(&auth.token("alice", "auditor")).unwrap();
    /// assert_eq!((claims.sub.as_str(), &claims.extra["role"]), ("alice", &"auditor".into()));
    /// assert_eq!(claims.iss.as_deref(), Some("ledger-api"));
    /// # Ok::<(), scopegate::ConfigError>(())
    /// ```
    pub fn builder() -> TestAuthBuilder {
        TestAuthBuilder {
            secret: None,
            audiences: Vec::new(),
            iss: None,
            vocabulary: &Vocabulary::AIRFLOW,
            subject: None,
            ttls: Vec::new(),
        }
    }

    /// [`TestAuth::new`] with another vocabulary: its types, in its claim,
    /// and subjects in its format (UUIDs unless its `scopegate.toml` says
    /// `subject = "any"`).
    ///
    /// ```
    /// use scopegate::testing::TestAuth;
    /// use scopegate::Vocabulary;
    ///
    /// const LEDGER: Vocabulary = Vocabulary::new("role", &["clerk", "auditor"], 0);
    /// let auth = TestAuth::for_vocabulary(&LEDGER);
    /// let claims = auth.verifier().verify(&auth.token(uuid::Uuid::new_v4(), "clerk")).unwrap();
    /// assert_eq!(claims.extra["role"], "clerk");
    /// ```
    pub fn for_vocabulary(vocabulary: &'static Vocabulary) -> TestAuth {
        match TestAuth::builder().vocabulary(vocabulary).build() {
            Ok(auth) => auth,
            Err(err) => unreachable!("a vocabulary cannot make the test kit invalid: {err}"),
        }
    }

    /// A new [`Verifier`] that accepts this kit's tokens, as app data:
    /// `App::new().app_data(auth.verifier())`. Each call builds a new one
    /// (its own cache and [`verifications`](Verifier::verifications)
    /// count), so apps built in one test never share state.
    ///
    /// ```
    /// let auth = scopegate::testing::TestAuth::new();
    /// let verifier = auth.verifier();
    /// assert!(verifier.verify(&auth.forged(uuid::Uuid::new_v4())).is_err());
    /// assert_eq!(verifier.verifications(), 1);
    /// ```
    pub fn verifier(&self) -> web::Data<Verifier> {
        match self.verifier_builder().build() {
            Ok(verifier) => web::Data::new(verifier),
            // The key and audiences were accepted when the kit was built.
            Err(err) => unreachable!("the test kit's verifier is always valid: {err}"),
        }
    }

    /// The builder behind [`verifier`](Self::verifier) (this kit's key,
    /// audiences, issuer and subject format), to add what a service's own
    /// verifier has: a deny-list, a leeway, cache settings.
    ///
    /// ```
    /// use scopegate::{InvalidReason, MemoryDenyList};
    /// use std::sync::Arc;
    ///
    /// let auth = scopegate::testing::TestAuth::new();
    /// let revoked = Arc::new(MemoryDenyList::new());
    /// let verifier = auth
    ///     .verifier_builder()
    ///     .deny_list(revoked.clone())
    ///     .max_session_age(std::time::Duration::from_secs(24 * 3600))
    ///     .build()?;
    /// let token = auth.execution(uuid::Uuid::new_v4());
    /// let claims = verifier.verify(&token).unwrap();
    /// revoked.revoke_claims(&claims);
    /// assert_eq!(verifier.verify(&token).unwrap_err(), InvalidReason::Revoked);
    /// # Ok::<(), scopegate::ConfigError>(())
    /// ```
    pub fn verifier_builder(&self) -> VerifierBuilder {
        let mut builder = Verifier::builder(self.key.clone()).subject(self.subject);
        for audience in &self.audiences {
            builder = builder.audience(audience.clone());
        }
        if let Some(iss) = &self.iss {
            builder = builder.issuer(iss.clone());
        }
        builder
    }

    /// The issuer that mints this kit's tokens, for
    /// [`Reissue`](crate::Reissue) in a test of refreshes:
    /// `.wrap(Reissue::new(auth.issuer().clone()))`.
    ///
    /// ```
    /// let auth = scopegate::testing::TestAuth::new();
    /// let refresh = scopegate::Reissue::new(auth.issuer().clone());
    /// # let _ = refresh;
    /// ```
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// The vocabulary whose types this kit mints.
    ///
    /// ```
    /// let auth = scopegate::testing::TestAuth::new();
    /// assert_eq!(auth.vocabulary().claim(), "scope");
    /// ```
    pub fn vocabulary(&self) -> &'static Vocabulary {
        self.issuer.vocabulary()
    }

    /// A token for `sub` (a UUID, or any string the verifier accepts) with
    /// every option of [`Mint`]: a type, extra claims, a lifetime, an
    /// expiry, another key.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scopegate::testing::TestAuth;
    ///
    /// let auth = TestAuth::new();
    /// let token = auth
    ///     .mint(uuid::Uuid::new_v4())
    ///     .of_type("execution")
    ///     .claim("ti_try", 3)
    ///     .lifetime(Duration::from_secs(100))
    ///     .expires_in(Duration::from_secs(25))
    ///     .sign();
    /// let claims = auth.verifier().verify(&token).unwrap();
    /// assert_eq!((claims.extra["ti_try"].as_i64(), claims.lifetime()), (Some(3), 100));
    /// ```
    pub fn mint(&self, sub: impl fmt::Display) -> Mint<'_> {
        Mint::new(&self.issuer, &self.forger, sub.to_string())
    }

    /// A valid `execution` token for `sub` (Airflow's vocabulary).
    ///
    /// ```
    /// let auth = scopegate::testing::TestAuth::new();
    /// let ti = uuid::Uuid::new_v4();
    /// let claims = auth.verifier().verify(&auth.execution(ti)).unwrap();
    /// assert_eq!((claims.sub.as_str(), claims.lifetime()), (ti.to_string().as_str(), 600));
    /// ```
    ///
    /// # Panics
    ///
    /// When the kit's vocabulary has no `execution` type.
    pub fn execution(&self, sub: impl fmt::Display) -> String {
        self.token(sub, TokenType::EXECUTION.as_str())
    }

    /// A valid `workload` token for `sub` (Airflow's vocabulary).
    ///
    /// ```
    /// let auth = scopegate::testing::TestAuth::new();
    /// let claims = auth.verifier().verify(&auth.workload(uuid::Uuid::new_v4())).unwrap();
    /// assert_eq!(claims.lifetime(), 24 * 3600);
    /// ```
    ///
    /// # Panics
    ///
    /// When the kit's vocabulary has no `workload` type.
    pub fn workload(&self, sub: impl fmt::Display) -> String {
        self.token(sub, TokenType::WORKLOAD.as_str())
    }

    /// A valid token of type `ty` (a type of the kit's vocabulary) for
    /// `sub`.
    ///
    /// ```
    /// let auth = scopegate::testing::TestAuth::new();
    /// let claims = auth.verifier().verify(&auth.token(uuid::Uuid::new_v4(), "workload")).unwrap();
    /// assert_eq!(claims.extra["scope"], "workload");
    /// ```
    ///
    /// # Panics
    ///
    /// When `ty` is not a type of the kit's vocabulary.
    pub fn token(&self, sub: impl fmt::Display, ty: &str) -> String {
        self.mint(sub).of_type(ty).sign()
    }

    /// A token of the vocabulary's default type (Airflow's `execution`)
    /// that expired six minutes ago: later than any leeway a verifier
    /// allows ([`MAX_LEEWAY`](crate::MAX_LEEWAY) is five). A verifier
    /// answers 401 `Invalid auth token: token has expired`.
    ///
    /// ```
    /// use scopegate::InvalidReason;
    /// let auth = scopegate::testing::TestAuth::new();
    /// let err = auth.verifier().verify(&auth.expired(uuid::Uuid::new_v4())).unwrap_err();
    /// assert_eq!(err, InvalidReason::Expired);
    /// ```
    pub fn expired(&self, sub: impl fmt::Display) -> String {
        self.mint(sub).expired().sign()
    }

    /// A token of the vocabulary's default type whose claims are valid but
    /// which is signed with another random key: 401 `Invalid auth token:
    /// invalid signature`.
    ///
    /// ```
    /// use scopegate::InvalidReason;
    /// let auth = scopegate::testing::TestAuth::new();
    /// let err = auth.verifier().verify(&auth.forged(uuid::Uuid::new_v4())).unwrap_err();
    /// assert_eq!(err, InvalidReason::InvalidSignature);
    /// ```
    pub fn forged(&self, sub: impl fmt::Display) -> String {
        self.mint(sub).forged().sign()
    }

    /// A valid token of the vocabulary's default type (Airflow's
    /// `execution`, the type [`Reissue`](crate::Reissue) refreshes) inside
    /// its refresh window: [`Mint::near_expiry`].
    ///
    /// ```
    /// let auth = scopegate::testing::TestAuth::new();
    /// let claims = auth.verifier().verify(&auth.near_expiry(uuid::Uuid::new_v4())).unwrap();
    /// let now = claims.exp - 60; // 60 s of its 600 s left
    /// assert!(scopegate::needs_refresh(&claims, now));
    /// ```
    pub fn near_expiry(&self, sub: impl fmt::Display) -> String {
        self.mint(sub).near_expiry().sign()
    }

    /// The header pair `Authorization: Bearer <token>`, for actix's
    /// `TestRequest::insert_header` (and awc's).
    ///
    /// ```
    /// let auth = scopegate::testing::TestAuth::new();
    /// let (name, value) = auth.bearer("abc");
    /// assert_eq!((name.as_str(), value.as_str()), ("authorization", "Bearer abc"));
    /// ```
    pub fn bearer(&self, token: &str) -> (HeaderName, String) {
        (AUTHORIZATION, format!("Bearer {token}"))
    }
}
