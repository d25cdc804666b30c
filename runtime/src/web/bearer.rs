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
