//! Fetching a key source's documents over http(s): a JWKS, an OpenID
//! Connect discovery document. Every fetch is capped in size and time, and
//! follows at most [`MAX_REDIRECTS`] redirects, none of which may change
//! the scheme (an `https` source is never downgraded to `http`, nor an
//! `http` one silently moved). Which URLs may be plain `http` is the
//! caller's rule ([`Transport`]).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ureq::http::Uri;

use super::error::KeySetError;

/// Most redirects followed by one fetch.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// Which URLs a fetch may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    /// `https`, or `http` to any host (a JWKS URL, as configured).
    AnyScheme,
    /// `https`, or `http` to a loopback address only (an identity
    /// provider's issuer and `jwks_uri`).
    HttpsOrLoopback,
}

impl Transport {
    /// Whether `url` may be fetched: an absolute `http(s)` URL without user
    /// information, plain `http` only where this transport allows it.
    pub(crate) fn check(self, url: &str) -> Result<(), String> {
        let uri: Uri = url.parse().map_err(|_| "not a URL".to_owned())?;
        let Some(authority) = uri.authority() else {
            return Err("not an absolute URL".into());
        };
        if authority.as_str().contains('@') {
            return Err("a URL with user information".into());
        }
        match uri.scheme_str() {
            Some("https") => Ok(()),
            Some("http") if self == Transport::AnyScheme || is_loopback(authority.host()) => {
                Ok(())
            }
            Some("http") => Err(
                "plain http to a host that is not a loopback address: use https, or opt in explicitly"
                    .into(),
            ),
            _ => Err("not an http(s) URL".into()),
        }
    }
}

/// Whether `host` (as `Uri::host` gives it, IPv6 in brackets) is
/// `localhost` or a loopback address.
pub(crate) fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// How one document is fetched.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// The whole fetch, redirects included.
    pub timeout: Duration,
    /// Largest body accepted.
    pub max_bytes: u64,
    pub transport: Transport,
}

/// GETs `url` (blocking: call it on the blocking pool) and returns its body.
/// A status other than 2xx, a body over the limit, the time limit, a
/// redirect to another scheme or to a URL the transport refuses, or more
/// than [`MAX_REDIRECTS`] redirects, is an error naming the URL.
pub(crate) fn get(url: &str, limits: &Limits) -> Result<Vec<u8>, KeySetError> {
    let deadline = Instant::now() + limits.timeout;
    let http = |url: &str, error: String| KeySetError::Http {
        url: url.to_owned(),
        error,
    };
    limits.transport.check(url).map_err(|e| http(url, e))?;
    let scheme = url.split_once(':').map_or("", |(s, _)| s).to_owned();
    let agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut current = url.to_owned();
    for _ in 0..=MAX_REDIRECTS {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(http(&current, "timed out".into()));
        }
        let mut response = agent
            .get(&current)
            .config()
            .timeout_global(Some(remaining))
            .build()
            .call()
            .map_err(|e| http(&current, e.to_string()))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| http(&current, format!("{status} without a Location")))?;
            let next = resolve(&current, location)
                .ok_or_else(|| http(&current, "a redirect to an unusable Location".into()))?;
            if next.split_once(':').map(|(s, _)| s) != Some(scheme.as_str()) {
                return Err(http(
                    &current,
                    format!("a redirect may not change the scheme ({scheme}): refused {next}"),
                ));
            }
            limits
                .transport
                .check(&next)
                .map_err(|e| http(&next, format!("redirected here: {e}")))?;
            current = next;
            continue;
        }
        if !status.is_success() {
            return Err(http(&current, format!("status {status}")));
        }
        return response
            .body_mut()
            .with_config()
            .limit(limits.max_bytes)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => KeySetError::TooLarge {
                    source_name: current.clone(),
                    limit: limits.max_bytes,
                },
                e => http(&current, e.to_string()),
            });
    }
    Err(http(url, format!("more than {MAX_REDIRECTS} redirects")))
}

/// The absolute URL a `Location` names from `base`: an absolute URL as
/// is, an absolute path on `base`'s scheme and authority; `None` for any
/// other form (relative paths, scheme-relative `//host` URLs).
fn resolve(base: &str, location: &str) -> Option<String> {
    if location.starts_with("https://") || location.starts_with("http://") {
        return Some(location.to_owned());
    }
    if location.starts_with('/') && !location.starts_with("//") {
        let uri: Uri = base.parse().ok()?;
        return Some(format!(
            "{}://{}{location}",
            uri.scheme_str()?,
            uri.authority()?
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.8.9.10",
            "[::1]",
            "::1",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "example.com",
            "10.0.0.1",
            "[::2]",
            "localhost.example.com",
            "0.0.0.0",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn transports() {
        let strict = Transport::HttpsOrLoopback;
        assert!(strict.check("https://idp.example.com/realms/x").is_ok());
        assert!(strict.check("http://127.0.0.1:8080").is_ok());
        assert!(strict.check("http://localhost:8080/x").is_ok());
        assert!(strict.check("http://[::1]:8080/x").is_ok());
        assert!(strict.check("http://idp.example.com").is_err());
        assert!(strict.check("ftp://idp.example.com").is_err());
        assert!(strict.check("https://user:pw@idp.example.com").is_err());
        assert!(strict.check("/relative").is_err());
        assert!(Transport::AnyScheme.check("http://idp.example.com").is_ok());
    }

    #[test]
    fn redirect_locations() {
        let base = "https://idp.example.com/a/b?x=1";
        assert_eq!(
            resolve(base, "/c").as_deref(),
            Some("https://idp.example.com/c")
        );
        assert_eq!(
            resolve(base, "http://other/c").as_deref(),
            Some("http://other/c")
        );
        assert_eq!(resolve(base, "//other/c"), None);
        assert_eq!(resolve(base, "c"), None);
    }
}
