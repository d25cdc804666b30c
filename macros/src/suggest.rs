//! "Did you mean" hints for misspelt scopes, methods, options and
//! `scopegate.toml` keys.

/// The candidates `input` most plausibly meant, best first; empty when none
/// is close.
///
/// In order of preference: the same word in another case; candidates that
/// start with `input` (`token:` suggests every `token:*`); candidates whose
/// part after `:` is `input` (`workload` suggests `token:workload`); and the
/// candidates at the smallest edit distance, if that distance is small for
/// the input's length.
pub(crate) fn near_misses<'a>(input: &str, candidates: &[&'a str]) -> Vec<&'a str> {
    let lower = input.to_lowercase();
    let same_case: Vec<_> = candidates.iter().copied().filter(|c| *c == lower).collect();
    if !same_case.is_empty() {
        return same_case;
    }
    if !lower.is_empty() {
        let prefixed: Vec<_> = candidates
            .iter()
            .copied()
            .filter(|c| c.starts_with(&lower))
            .collect();
        if !prefixed.is_empty() {
            return prefixed;
        }
        let suffixed: Vec<_> = candidates
            .iter()
            .copied()
            .filter(|c| c.split_once(':').is_some_and(|(_, rest)| rest == lower))
            .collect();
        if !suffixed.is_empty() {
            return suffixed;
        }
    }
    let limit = (lower.chars().count() / 4).max(1);
    let scored: Vec<_> = candidates
        .iter()
        .map(|c| (edit_distance(&lower, c), *c))
        .filter(|(d, _)| *d <= limit)
        .collect();
    let Some(best) = scored.iter().map(|(d, _)| *d).min() else {
        return Vec::new();
    };
    scored
        .into_iter()
        .filter(|(d, _)| *d == best)
        .map(|(_, c)| c)
        .collect()
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions
/// and swaps of two neighbours each cost one.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (i, row) in d.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in d.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

/// `` `a` ``, `` `a` or `b` ``, `` one of `a`, `b`, `c` ``.
pub(crate) fn alternatives(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => format!("`{one}`"),
        [a, b] => format!("`{a}` or `{b}`"),
        many => format!("one of {}", list(many)),
    }
}

/// `` `a`, `b`, `c` ``.
pub(crate) fn list(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| format!("`{w}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("patch", "patch"), 0);
        assert_eq!(edit_distance("pacth", "patch"), 1);
        assert_eq!(edit_distance("ti:selff", "ti:self"), 1);
        assert_eq!(edit_distance("ti:self", "ct:self"), 2);
    }

    #[test]
    fn hints() {
        const METHODS: &[&str] = &["get", "post", "put", "patch"];
        assert_eq!(near_misses("GET", METHODS), ["get"]);
        assert_eq!(near_misses("pacth", METHODS), ["patch"]);
        assert_eq!(near_misses("p", METHODS), ["post", "put", "patch"]);
        assert!(near_misses("fetch", METHODS).is_empty());
        assert!(near_misses("", METHODS).is_empty());
        assert_eq!(alternatives(&["a", "b", "c"]), "one of `a`, `b`, `c`");
    }
}
