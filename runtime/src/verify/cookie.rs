//! A token cookie, for browser front-ends: the cookie's name and the
//! origins allowed to send it on unsafe methods. Declared on the
//! [`Verifier`](crate::Verifier); the web layer reads the cookie.

use crate::jose::ConfigError;

/// The verifier's token cookie.
#[derive(Clone, Debug)]
pub(crate) struct CookieSource {
    pub name: Box<str>,
    /// Origins allowed for a cookie token on an unsafe method, as browsers
    /// send them (`scheme://host[:port]`, lower case).
    pub origins: Box<[Box<str>]>,
}

impl CookieSource {
    /// Checks the name (an RFC 6265 cookie-name: a token) and the origins.
    pub fn new(name: String, origins: Vec<String>) -> Result<CookieSource, ConfigError> {
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(ConfigError::InvalidCookieName(name));
        }
        let origins = origins
            .into_iter()
            .map(|o| normalize_origin(&o).ok_or(ConfigError::InvalidOrigin(o)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CookieSource {
            name: name.into(),
            origins: origins.into(),
        })
    }

    /// Whether `origin`, the request's `Origin` header, is allowed: equal,
    /// ignoring ASCII case, to one of the configured origins.
    pub fn allows(&self, origin: &[u8]) -> bool {
        self.origins
            .iter()
            .any(|allowed| allowed.as_bytes().eq_ignore_ascii_case(origin))
    }
}

/// RFC 7230 `tchar`, which RFC 6265's `cookie-name` is made of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `scheme://host[:port]`, lower-cased, without a trailing slash; `None`
/// for anything with a path, query, user information or another scheme.
fn normalize_origin(origin: &str) -> Option<Box<str>> {
    let origin = origin.strip_suffix('/').unwrap_or(origin);
    let (scheme, rest) = origin.split_once("://")?;
    if !matches!(scheme, "http" | "https")
        || rest.is_empty()
        || rest.contains(['/', '?', '#', '@'])
        || !rest.is_ascii()
        || rest
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return None;
    }
    Some(origin.to_ascii_lowercase().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_origins() {
        let c = CookieSource::new(
            "__Host-token".into(),
            vec![
                "https://App.Example.com/".into(),
                "http://localhost:3000".into(),
            ],
        )
        .unwrap();
        assert!(c.allows(b"https://app.example.com"));
        assert!(c.allows(b"HTTPS://APP.EXAMPLE.COM"));
        assert!(c.allows(b"http://localhost:3000"));
        assert!(!c.allows(b"https://app.example.com.evil"));
        assert!(!c.allows(b"null"));
        assert!(!c.allows(b""));
        for bad in ["", "a b", "a;b", "a=b", "tök"] {
            assert!(CookieSource::new(bad.into(), vec![]).is_err(), "{bad}");
        }
        for bad in [
            "app.example.com",
            "https://a/b",
            "ftp://a",
            "https://",
            "null",
            "https://u@a",
        ] {
            assert!(
                CookieSource::new("t".into(), vec![bad.into()]).is_err(),
                "{bad}"
            );
        }
    }
}
