//! A request's token: `Authorization: Bearer <token>` (RFC 6750 §2.1), or,
//! without that header, the verifier's token cookie, which an unsafe
//! method may only send from an allowed origin (CSRF). Never the query
//! string.

use actix_web::http::header::{HeaderMap, AUTHORIZATION, COOKIE, ORIGIN};
use actix_web::http::Method;

use crate::jose::InvalidReason;
use crate::verify::cookie::CookieSource;

use super::error::AuthError;

/// Where a request's token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenSource {
    /// `Authorization: Bearer`.
    Header,
    /// The verifier's token cookie: never refreshed through a response
    /// header.
    Cookie,
}

/// The request's token bytes, every refusal but the `b64token` check made
/// (see [`bearer_bytes`]): the bearer header when the request has an
/// `Authorization` header (a cookie is then ignored, valid or not), else,
/// when the verifier declares a `cookie`, that cookie's token, refused on
/// an unsafe method unless `Origin` is allowed.
#[inline]
pub(crate) fn request_token<'a>(
    headers: &'a HeaderMap,
    method: &Method,
    cookie: Option<&CookieSource>,
    max_len: usize,
) -> (Result<&'a [u8], AuthError>, TokenSource) {
    match cookie {
        Some(cookie) if !headers.contains_key(AUTHORIZATION) => (
            cookie_token(headers, method, cookie, max_len),
            TokenSource::Cookie,
        ),
        _ => (bearer_bytes(headers, max_len), TokenSource::Header),
    }
}

/// The token in the cookie `cookie.name`: missing or empty is a missing
/// token, twice (cookie tossing) an invalid one; on an unsafe method
/// (anything but GET, HEAD, OPTIONS) the request's one `Origin` must be
/// allowed, otherwise [`AuthError::CrossOrigin`].
fn cookie_token<'a>(
    headers: &'a HeaderMap,
    method: &Method,
    cookie: &CookieSource,
    max_len: usize,
) -> Result<&'a [u8], AuthError> {
    let mut found = None;
    for header in headers.get_all(COOKIE) {
        for pair in header.as_bytes().split(|&b| b == b';') {
            let Some((name, value)) = split_pair(pair) else {
                continue;
            };
            if name == cookie.name.as_bytes() && found.replace(value).is_some() {
                return Err(AuthError::InvalidToken(InvalidReason::MultipleCookies));
            }
        }
    }
    let token = found.ok_or(AuthError::MissingToken)?;
    if token.is_empty() {
        return Err(AuthError::MissingToken);
    }
    if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let mut origins = headers.get_all(ORIGIN);
        let allowed = match (origins.next(), origins.next()) {
            (Some(origin), None) => cookie.allows(origin.as_bytes()),
            _ => false,
        };
        if !allowed {
            return Err(AuthError::CrossOrigin);
        }
    }
    if token.len() > max_len {
        return Err(AuthError::TokenTooLarge);
    }
    Ok(token)
}

/// One `name=value` of a `Cookie` header, both trimmed, the value without
/// the double quotes RFC 6265 allows around it.
fn split_pair(pair: &[u8]) -> Option<(&[u8], &[u8])> {
    let eq = pair.iter().position(|&b| b == b'=')?;
    let name = pair[..eq].trim_ascii();
    let value = pair[eq + 1..].trim_ascii();
    let value = match value {
        [b'"', inner @ .., b'"'] => inner,
        value => value,
    };
    Some((name, value))
}

/// Extracts the bearer token from `headers`.
///
/// The scheme is case-insensitive. A missing header, another scheme or an
/// empty token is [`AuthError::MissingToken`]; more than one `Authorization`
/// header, or a token with bytes outside RFC 6750's `b64token` alphabet, is an
/// invalid token; a token longer than `max_len` bytes is
/// [`AuthError::TokenTooLarge`]. Never allocates.
pub fn bearer_token(headers: &HeaderMap, max_len: usize) -> Result<&str, AuthError> {
    b64token(bearer_bytes(headers, max_len)?)
}

/// [`bearer_token`] without the `b64token` check: the token's bytes, every
/// other refusal made. A request's token is looked up in the verified-token
/// cache as these bytes, and checked with [`b64token`] only on a miss,
/// before it is verified: a cached token is byte for byte one that was
/// verified, and a verified token is base64url segments joined by `.`, all
/// of them `b64token` bytes, so a token that fails the check can never be
/// a hit.
pub(crate) fn bearer_bytes(headers: &HeaderMap, max_len: usize) -> Result<&[u8], AuthError> {
    let mut values = headers.get_all(AUTHORIZATION);
    let value = values.next().ok_or(AuthError::MissingToken)?;
    if values.next().is_some() {
        return Err(AuthError::InvalidToken(InvalidReason::MultipleHeaders));
    }
    // The scheme is everything before the first space: `Bearer`, in any
    // case, then the space.
    let rest = match value.as_bytes().split_at_checked(7) {
        Some((scheme, rest)) if is_bearer_and_space(scheme) => rest,
        _ => return Err(AuthError::MissingToken),
    };
    let token = rest.trim_ascii();
    if token.is_empty() {
        return Err(AuthError::MissingToken);
    }
    if token.len() > max_len {
        return Err(AuthError::TokenTooLarge);
    }
    Ok(token)
}

/// Whether `head` (7 bytes) is `bearer`, in any case, then a space. One
/// comparison of a word: setting bit 5 of a byte lowercases an ASCII upper
/// case letter, and turns no other byte into a lower case letter.
fn is_bearer_and_space(head: &[u8]) -> bool {
    let Ok(head) = <[u8; 7]>::try_from(head) else {
        return false;
    };
    let [b, e, a, r, e2, r2, space] = head;
    let word = u64::from_le_bytes([b, e, a, r, e2, r2, space, 0]);
    // Bit 5 of the six letters, not of the space.
    const LOWER: u64 = 0x0000_2020_2020_2020;
    word | LOWER == u64::from_le_bytes(*b"bearer \0")
}

/// The token as a string if every byte is in RFC 6750's `b64token`
/// alphabet; otherwise an invalid token.
pub(crate) fn b64token(token: &[u8]) -> Result<&str, AuthError> {
    // No early exit: a table lookup per byte folds into a tight loop.
    if !token
        .iter()
        .fold(true, |ok, &b| ok & B64TOKEN[usize::from(b)])
    {
        return Err(AuthError::InvalidToken(InvalidReason::Malformed));
    }
    // Every byte is ASCII, checked above.
    std::str::from_utf8(token).map_err(|_| AuthError::InvalidToken(InvalidReason::Malformed))
}

/// The bytes of RFC 6750's
/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
static B64TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=');
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn with(values: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
        }
        h
    }

    #[test]
    fn parses_bearer_in_any_case() {
        assert_eq!(bearer_token(&with(&[b"Bearer a.b.c"]), 100), Ok("a.b.c"));
        assert_eq!(
            bearer_token(&with(&[b"bEaReR   a.b.c  "]), 100),
            Ok("a.b.c")
        );
    }

    #[test]
    fn the_scheme_is_bearer_in_any_case_then_a_space() {
        for ok in ["bearer ", "Bearer ", "BEARER ", "bEaReR "] {
            assert!(is_bearer_and_space(ok.as_bytes()), "{ok}");
        }
        // Every byte that is not the letter (in either case) or the space
        // is refused at every position.
        for i in 0..7 {
            for b in 0..=255u8 {
                let mut head = *b"bearer ";
                let want = head[i];
                head[i] = b;
                let same = if i == 6 {
                    b == b' '
                } else {
                    b.eq_ignore_ascii_case(&want)
                };
                assert_eq!(is_bearer_and_space(&head), same, "{i} {b}");
            }
        }
        assert!(!is_bearer_and_space(b"bearer"));
        assert!(!is_bearer_and_space(b"bearer  x"));
    }

    fn cookies(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(
                actix_web::http::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        h
    }

    #[test]
    fn cookie_tokens() {
        let source =
            CookieSource::new("__Host-t".into(), vec!["https://app.example".into()]).unwrap();
        fn with<'a>(
            source: &CookieSource,
        ) -> impl Fn(&'a HeaderMap, &Method) -> (Result<&'a [u8], AuthError>, TokenSource) + '_
        {
            move |h, m| request_token(h, m, Some(source), 100)
        }
        let get = with(&source);
        // Found among other cookies, quoted or not, in one header or several.
        for h in [
            cookies(&[("cookie", "a=1; __Host-t=x.y.z; b=2")]),
            cookies(&[("cookie", "a=1"), ("cookie", "__Host-t=\"x.y.z\"")]),
        ] {
            assert_eq!(
                get(&h, &Method::GET),
                (Ok(&b"x.y.z"[..]), TokenSource::Cookie)
            );
        }
        // A header wins, valid or not; the cookie is not even looked at.
        let h = cookies(&[("cookie", "__Host-t=x.y.z"), ("authorization", "Basic abc")]);
        assert_eq!(
            get(&h, &Method::GET),
            (Err(AuthError::MissingToken), TokenSource::Header)
        );
        // Missing, empty, a prefix of the name, twice.
        for (value, err) in [
            ("t=x.y.z", AuthError::MissingToken),
            ("__Host-t=", AuthError::MissingToken),
            ("__Host-tt=x.y.z", AuthError::MissingToken),
            (
                "__Host-t=x.y.z; __Host-t=a.b.c",
                AuthError::InvalidToken(InvalidReason::MultipleCookies),
            ),
        ] {
            assert_eq!(
                get(&cookies(&[("cookie", value)]), &Method::GET).0,
                Err(err),
                "{value}"
            );
        }
        // Unsafe methods: only from an allowed Origin, exactly one.
        let from = |origin: Option<&str>| {
            let mut pairs = vec![("cookie", "__Host-t=x.y.z")];
            pairs.extend(origin.map(|o| ("origin", o)));
            cookies(&pairs)
        };
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert_eq!(
                get(&from(Some("https://app.example")), &m).0,
                Ok(&b"x.y.z"[..])
            );
            for bad in [None, Some("https://evil.example"), Some("null")] {
                assert_eq!(
                    get(&from(bad), &m).0,
                    Err(AuthError::CrossOrigin),
                    "{m} {bad:?}"
                );
            }
        }
        let two = cookies(&[
            ("cookie", "__Host-t=x.y.z"),
            ("origin", "https://app.example"),
            ("origin", "https://evil.example"),
        ]);
        assert_eq!(get(&two, &Method::POST).0, Err(AuthError::CrossOrigin));
        for m in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert_eq!(
                get(&from(Some("https://evil.example")), &m).0,
                Ok(&b"x.y.z"[..])
            );
        }
        // Without a declared cookie, cookies are never read.
        let h = cookies(&[("cookie", "__Host-t=x.y.z")]);
        assert_eq!(
            request_token(&h, &Method::GET, None, 100),
            (Err(AuthError::MissingToken), TokenSource::Header)
        );
        // The size limit applies.
        assert_eq!(
            request_token(&h, &Method::GET, Some(&source), 3).0,
            Err(AuthError::TokenTooLarge)
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(bearer_token(&with(&[]), 100), Err(AuthError::MissingToken));
        assert_eq!(
            bearer_token(&with(&[b"Basic a.b.c"]), 100),
            Err(AuthError::MissingToken)
        );
        assert_eq!(
            bearer_token(&with(&[b"Bearer"]), 100),
            Err(AuthError::MissingToken)
        );
        assert_eq!(
            bearer_token(&with(&[b"Bearer   "]), 100),
            Err(AuthError::MissingToken)
        );
        assert_eq!(
            bearer_token(&with(&[b"Bearer abcdef"]), 5),
            Err(AuthError::TokenTooLarge)
        );
        assert_eq!(
            bearer_token(&with(&[b"Bearer a.b\tc"]), 100),
            Err(AuthError::InvalidToken(InvalidReason::Malformed))
        );
        assert_eq!(
            bearer_token(&with(&[b"Bearer a.b.\xc3\xa9"]), 100),
            Err(AuthError::InvalidToken(InvalidReason::Malformed))
        );
        assert_eq!(
            bearer_token(&with(&[b"Bearer a.b.c", b"Bearer a.b.c"]), 100),
            Err(AuthError::InvalidToken(InvalidReason::MultipleHeaders))
        );
    }
}
