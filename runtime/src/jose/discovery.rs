//! OpenID Connect discovery (OpenID Connect Discovery 1.0 §4): an identity
//! provider's issuer URL leads to its configuration document, which names
//! its JWKS. The document's `issuer` must be the configured issuer exactly
//! (§4.3), and both URLs must be `https` unless they are on a loopback
//! address or the caller opted in to plain `http`.

use serde::Deserialize;

use super::error::{ConfigError, KeySetError};
use super::fetch::Transport;
use super::jws::nesting_exceeds;

/// Largest discovery document accepted (real ones are a few KiB).
pub(crate) const MAX_DISCOVERY_BYTES: u64 = 256 * 1024;

/// Where an identity provider publishes its configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Discovery {
    /// The issuer, exactly as configured: tokens' `iss` and the document's
    /// `issuer` must equal it.
    pub issuer: String,
    /// `<issuer without a trailing slash>/.well-known/openid-configuration`.
    pub url: String,
    pub transport: Transport,
}

impl Discovery {
    /// Checks the issuer URL (absolute, `https` unless on loopback or with
    /// `insecure_http`, no query or fragment, as §2 of OpenID Connect
    /// Discovery requires of an issuer).
    pub fn new(issuer: &str, insecure_http: bool) -> Result<Discovery, ConfigError> {
        let transport = if insecure_http {
            Transport::AnyScheme
        } else {
            Transport::HttpsOrLoopback
        };
        let invalid = |reason: String| ConfigError::InvalidIssuerUrl {
            issuer: issuer.to_owned(),
            reason,
        };
        transport.check(issuer).map_err(invalid)?;
        if issuer.contains(['?', '#']) {
            return Err(invalid("an issuer has no query or fragment".into()));
        }
        Ok(Discovery {
            issuer: issuer.to_owned(),
            url: format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            ),
            transport,
        })
    }

    /// The `jwks_uri` of a fetched configuration `document`, after checking
    /// that it names this issuer exactly and that the URI may be fetched.
    pub fn jwks_uri(&self, document: &[u8]) -> Result<String, KeySetError> {
        #[derive(Deserialize)]
        struct Configuration {
            issuer: String,
            jwks_uri: String,
        }
        let invalid = |why: String| KeySetError::Discovery {
            url: self.url.clone(),
            error: why,
        };
        if nesting_exceeds(document, 32) {
            return Err(invalid("nested too deeply".into()));
        }
        let config: Configuration = serde_json::from_slice(document)
            .map_err(|e| invalid(format!("not a discovery document: {e}")))?;
        if config.issuer != self.issuer {
            return Err(KeySetError::IssuerMismatch {
                configured: self.issuer.clone(),
                found: config.issuer,
            });
        }
        self.transport
            .check(&config.jwks_uri)
            .map_err(|e| KeySetError::InsecureJwksUri {
                url: config.jwks_uri.clone(),
                error: e,
            })?;
        Ok(config.jwks_uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_discovery_url_drops_one_trailing_slash_the_issuer_keeps_it() {
        let d = Discovery::new("https://idp.example.com/realms/x/", false).unwrap();
        assert_eq!(
            d.url,
            "https://idp.example.com/realms/x/.well-known/openid-configuration"
        );
        assert_eq!(d.issuer, "https://idp.example.com/realms/x/");
        let d = Discovery::new("http://127.0.0.1:9000", false).unwrap();
        assert_eq!(
            d.url,
            "http://127.0.0.1:9000/.well-known/openid-configuration"
        );
    }

    #[test]
    fn issuer_urls() {
        assert!(Discovery::new("http://idp.example.com", false).is_err());
        assert!(Discovery::new("http://idp.example.com", true).is_ok());
        assert!(Discovery::new("https://idp.example.com?x=1", false).is_err());
        assert!(Discovery::new("https://idp.example.com#x", false).is_err());
        assert!(Discovery::new("idp.example.com", false).is_err());
    }

    #[test]
    fn documents() {
        let d = Discovery::new("https://idp.example.com", false).unwrap();
        let doc = |iss: &str, jwks: &str| {
            serde_json::to_vec(&serde_json::json!({"issuer": iss, "jwks_uri": jwks, "x": [1]}))
                .unwrap()
        };
        assert_eq!(
            d.jwks_uri(&doc(
                "https://idp.example.com",
                "https://idp.example.com/keys"
            ))
            .unwrap(),
            "https://idp.example.com/keys"
        );
        for iss in [
            "https://idp.example.com/",
            "https://IDP.example.com",
            "https://evil",
        ] {
            assert!(matches!(
                d.jwks_uri(&doc(iss, "https://idp.example.com/keys")),
                Err(KeySetError::IssuerMismatch { .. })
            ));
        }
        assert!(matches!(
            d.jwks_uri(&doc(
                "https://idp.example.com",
                "http://idp.example.com/keys"
            )),
            Err(KeySetError::InsecureJwksUri { .. })
        ));
        assert!(d.jwks_uri(b"[]").is_err());
        assert!(d
            .jwks_uri(br#"{"issuer": "https://idp.example.com"}"#)
            .is_err());
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(d.jwks_uri(deep.as_bytes()).is_err());
    }
}
