//! `Authorization: Bearer <token>` -> the token string (RFC 6750 §2.1).

use actix_web::http::header::{HeaderMap, AUTHORIZATION};

use crate::jose::InvalidReason;

use super::error::AuthError;

/// Extracts the bearer token from `headers`.
///
/// The scheme is case-insensitive. A missing header, another scheme or an
/// empty token is [`AuthError::MissingToken`]; more than one `Authorization`
/// header, or a token with bytes outside RFC 6750's `b64token` alphabet, is an
/// invalid token; a token longer than `max_len` bytes is
/// [`AuthError::TokenTooLarge`]. Never allocates.
pub fn bearer_token(headers: &HeaderMap, max_len: usize) -> Result<&str, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION);
    let value = values.next().ok_or(AuthError::MissingToken)?;
    if values.next().is_some() {
        return Err(AuthError::InvalidToken(InvalidReason::MultipleHeaders));
    }
    let bytes = value.as_bytes();
    let (scheme, rest) = match bytes.iter().position(|b| *b == b' ') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[][..]),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Err(AuthError::MissingToken);
    }
    let token = rest.trim_ascii();
    if token.is_empty() {
        return Err(AuthError::MissingToken);
    }
    if token.len() > max_len {
        return Err(AuthError::TokenTooLarge);
    }
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
