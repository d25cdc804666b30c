//! [`LogSafe`]: a value taken from a request (a claim such as `sub`, a path
//! segment, a body field), written so that it stays inside its own log
//! line. Claims are the first request-derived values the layers above log.

use std::fmt::{self, Write as _};

/// Displays a string that came from a request so that it cannot forge a log
/// line: every character a log viewer or terminal could take as a line
/// break, a control sequence or a reordering is escaped, Rust-style.
///
/// - `\n`, `\r` and `\t` as `\n`, `\r`, `\t`; `\` and `"` as `\\` and `\"`,
///   so an escape in the output always came from the escaper;
/// - every other C0 control character, DEL and every C1 control character
///   (U+0080 to U+009F, NEL among them) as `\u{..}`;
/// - the line and paragraph separators U+2028 and U+2029;
/// - the bidirectional controls (U+061C, U+200E, U+200F, U+202A to U+202E,
///   U+2066 to U+2069), which make a line read differently from what it
///   holds.
///
/// Everything else is written as it is, and a string with nothing to escape
/// is written in one piece, without allocating. `Display` writes the
/// escaped text; `Debug` writes it between double quotes, as `tracing`'s
/// text output shows a `&str` field.
///
/// ```
/// use scopegate::LogSafe;
/// let sub = "alice\nINFO scopegate: outcome=\"allowed\"";
/// assert_eq!(
///     LogSafe(sub).to_string(),
///     r#"alice\nINFO scopegate: outcome=\"allowed\""#
/// );
/// assert_eq!(format!("{:?}", LogSafe("a b")), r#""a b""#);
/// // With tracing: `tracing::info!(sub = %LogSafe(&claims.sub), ...)`.
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LogSafe<'a>(pub &'a str);

/// Whether `c` is written escaped.
#[inline]
fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '"' | '\\' | '\u{7f}'..='\u{9f}'
        | '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

impl LogSafe<'_> {
    fn write_escaped(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        let mut start = 0;
        for (i, c) in s.char_indices() {
            if !needs_escape(c) {
                continue;
            }
            f.write_str(&s[start..i])?;
            match c {
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c => write!(f, "\\u{{{:x}}}", c as u32)?,
            }
            start = i + c.len_utf8();
        }
        f.write_str(&s[start..])
    }
}

impl fmt::Display for LogSafe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_escaped(f)
    }
}

impl fmt::Debug for LogSafe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        self.write_escaped(f)?;
        f.write_char('"')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_written_as_it_is() {
        for s in [
            "",
            "alice",
            "0190b6a6-7f3e-7c1a-9d2b-3c4d5e6f7a8b",
            "été 東京 👍",
            "a b=c",
        ] {
            assert_eq!(LogSafe(s).to_string(), s);
            assert_eq!(format!("{:?}", LogSafe(s)), format!("\"{s}\""));
        }
    }

    #[test]
    fn line_breaks_controls_and_bidi_overrides_are_escaped() {
        let cases = [
            ("a\nb", r"a\nb"),
            ("a\r\nb", r"a\r\nb"),
            ("\t", r"\t"),
            ("\u{0}\u{1b}[2K\u{7f}", r"\u{0}\u{1b}[2K\u{7f}"),
            ("\u{85}\u{9f}\u{a0}", "\\u{85}\\u{9f}\u{a0}"),
            ("\u{2028}\u{2029}", r"\u{2028}\u{2029}"),
            (
                "\u{202a}\u{202b}\u{202c}\u{202d}\u{202e}",
                r"\u{202a}\u{202b}\u{202c}\u{202d}\u{202e}",
            ),
            (
                "\u{2066}\u{2067}\u{2068}\u{2069}\u{200e}\u{200f}\u{61c}",
                r"\u{2066}\u{2067}\u{2068}\u{2069}\u{200e}\u{200f}\u{61c}",
            ),
            (r#"say "hi" \n"#, r#"say \"hi\" \\n"#),
        ];
        for (raw, escaped) in cases {
            assert_eq!(LogSafe(raw).to_string(), escaped, "{raw:?}");
        }
    }

    #[test]
    fn no_forbidden_character_survives() {
        // Every character below U+3000 (the ranges the rules name, and
        // their neighbours), one at a time, between text.
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            let out = LogSafe(&format!("a{c}b")).to_string();
            for o in out.chars() {
                assert!(
                    !needs_escape(o) || o == '\\' || o == '"',
                    "{c:?} wrote {o:?} through: {out:?}"
                );
            }
            assert!(!out.contains(['\n', '\r']), "{c:?}");
        }
    }
}
