//! Route paths. Parameters are written `<name>` (canonical) or, as actix
//! does, `{name}`; a [`RoutePath`] renders both spellings.

use std::fmt;

/// One piece of a path: literal text or a parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    Text(String),
    Param(String),
}

/// A parsed path (or prefix, or the two joined).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RoutePath {
    segments: Vec<Segment>,
}

/// Why a path literal was refused. `Display` is the whole diagnostic,
/// including what to write instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PathError {
    /// Does not start with `/`; holds the path as written.
    NoLeadingSlash(String),
    /// A `<` or `{` with no closer before the next `/` or the end; holds
    /// the opener and the name written after it.
    Unclosed { open: char, name: String },
    /// `<>` or `{}`.
    EmptyParam { open: char },
    /// A parameter name that is not an identifier.
    NotIdent { open: char, name: String },
    /// A `>` or `}` with no opener.
    Unmatched(char),
    /// The same parameter twice in one path.
    DuplicateParam(String),
    /// A group prefix that ends with `/`; holds the prefix as written.
    PrefixTrailingSlash(String),
}

fn closer(open: char) -> char {
    if open == '<' {
        '>'
    } else {
        '}'
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::NoLeadingSlash(path) => {
                write!(f, "path must start with `/`: write \"/{path}\"")
            }
            PathError::Unclosed { open, name } if is_ident(name) => {
                let close = closer(*open);
                write!(f, "unclosed `{open}{name}` in path: write `{open}{name}{close}`")
            }
            PathError::Unclosed { open, .. } => write!(
                f,
                "unclosed `{open}` in path: write a parameter as `<name>`, e.g. `<task_instance_id>`"
            ),
            PathError::EmptyParam { open } => {
                let close = closer(*open);
                write!(
                    f,
                    "empty path parameter `{open}{close}`: name it, e.g. `<task_instance_id>`"
                )
            }
            PathError::NotIdent { open, name } => {
                let close = closer(*open);
                let fixed: String = name
                    .trim()
                    .chars()
                    .map(|c| if c == '-' || c == ' ' { '_' } else { c })
                    .collect();
                if is_ident(&fixed) {
                    write!(
                        f,
                        "path parameter `{open}{name}{close}` is not an identifier: write `{open}{fixed}{close}`"
                    )
                } else {
                    write!(
                        f,
                        "path parameter `{open}{name}{close}` is not an identifier: use letters, \
                         digits and `_`, e.g. `<task_instance_id>`"
                    )
                }
            }
            PathError::Unmatched(close) => write!(
                f,
                "unmatched `{close}` in path: write a parameter as `<name>`, e.g. `<task_instance_id>`"
            ),
            PathError::DuplicateParam(name) => write!(
                f,
                "path parameter `<{name}>` appears twice: give each parameter its own name"
            ),
            PathError::PrefixTrailingSlash(prefix) => {
                let trimmed = prefix.trim_end_matches('/');
                if trimmed.is_empty() {
                    write!(f, "prefix must not end with `/`: remove `prefix`")
                } else {
                    write!(f, "prefix must not end with `/`: write \"{trimmed}\"")
                }
            }
        }
    }
}

/// Whether `name` is a plain identifier (ASCII letters, digits and `_`,
/// not starting with a digit, not `_` alone).
pub(crate) fn is_ident(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    name != "_" && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl RoutePath {
    /// Parses a route path: it must start with `/`, and every parameter
    /// must be a closed, non-empty identifier that appears once.
    pub(crate) fn parse(path: &str) -> Result<RoutePath, PathError> {
        if !path.starts_with('/') {
            return Err(PathError::NoLeadingSlash(path.to_owned()));
        }
        let mut segments = Vec::new();
        let mut text = String::new();
        let mut chars = path.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '<' | '{' => {
                    let close = closer(c);
                    let mut name = String::new();
                    loop {
                        match chars.peek() {
                            Some(&n) if n == close => {
                                chars.next();
                                break;
                            }
                            None | Some('/' | '<' | '>' | '{' | '}') => {
                                return Err(PathError::Unclosed { open: c, name });
                            }
                            Some(&n) => {
                                name.push(n);
                                chars.next();
                            }
                        }
                    }
                    if name.is_empty() {
                        return Err(PathError::EmptyParam { open: c });
                    }
                    if !is_ident(&name) {
                        return Err(PathError::NotIdent { open: c, name });
                    }
                    if segments
                        .iter()
                        .any(|s| matches!(s, Segment::Param(p) if *p == name))
                    {
                        return Err(PathError::DuplicateParam(name));
                    }
                    if !text.is_empty() {
                        segments.push(Segment::Text(std::mem::take(&mut text)));
                    }
                    segments.push(Segment::Param(name));
                }
                '>' | '}' => return Err(PathError::Unmatched(c)),
                _ => text.push(c),
            }
        }
        if !text.is_empty() {
            segments.push(Segment::Text(text));
        }
        Ok(RoutePath { segments })
    }

    /// Parses a group prefix: a path that does not end with `/`.
    pub(crate) fn parse_prefix(prefix: &str) -> Result<RoutePath, PathError> {
        let path = RoutePath::parse(prefix)?;
        if prefix.ends_with('/') {
            return Err(PathError::PrefixTrailingSlash(prefix.to_owned()));
        }
        Ok(path)
    }

    /// The parameter names, in order.
    pub(crate) fn params(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param(p) => Some(p.as_str()),
            Segment::Text(_) => None,
        })
    }

    /// Whether `name` is one of the parameters.
    pub(crate) fn has_param(&self, name: &str) -> bool {
        self.params().any(|p| p == name)
    }

    /// `self` followed by `rest`.
    pub(crate) fn join(&self, rest: &RoutePath) -> RoutePath {
        let mut segments = self.segments.clone();
        segments.extend(rest.segments.iter().cloned());
        RoutePath { segments }
    }

    fn render(&self, open: &str, close: &str, names: bool) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(t) => out.push_str(t),
                Segment::Param(p) => {
                    out.push_str(open);
                    if names {
                        out.push_str(p);
                    }
                    out.push_str(close);
                }
            }
        }
        out
    }

    /// The canonical spelling, `/a/<name>`.
    pub(crate) fn canonical(&self) -> String {
        self.render("<", ">", true)
    }

    /// The spelling actix's router takes, `/a/{name}`.
    pub(crate) fn actix(&self) -> String {
        self.render("{", "}", true)
    }

    /// The path with parameter names erased, `/a/<>`: two paths with the
    /// same shape match the same requests.
    pub(crate) fn shape(&self) -> String {
        self.render("<", ">", false)
    }

    /// How many parameters the path has.
    pub(crate) fn param_count(&self) -> usize {
        self.params().count()
    }

    /// Whether every request path that `other` matches is matched by `self`
    /// too, as far as whole segments tell: the same segments, except that
    /// a segment that is one parameter in `self` may be literal text in
    /// `other` (`/items/<>` covers `/items/search`). Segments that mix text
    /// and parameters only cover their exact equal.
    pub(crate) fn covers(&self, other: &RoutePath) -> bool {
        let (mine, theirs) = (self.shape(), other.shape());
        let (mine, theirs): (Vec<&str>, Vec<&str>) =
            (mine.split('/').collect(), theirs.split('/').collect());
        mine.len() == theirs.len()
            && mine
                .iter()
                .zip(&theirs)
                .all(|(m, t)| m == t || (*m == "<>" && !t.is_empty() && !t.contains('<')))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(path: &str) -> String {
        RoutePath::parse(path).unwrap_err().to_string()
    }

    #[test]
    fn both_spellings_parse_to_the_same_path() {
        let a = RoutePath::parse("/task-instances/<task_instance_id>/run").unwrap();
        let b = RoutePath::parse("/task-instances/{task_instance_id}/run").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.canonical(), "/task-instances/<task_instance_id>/run");
        assert_eq!(a.actix(), "/task-instances/{task_instance_id}/run");
        assert_eq!(a.shape(), "/task-instances/<>/run");
        assert_eq!(a.params().collect::<Vec<_>>(), ["task_instance_id"]);
        assert!(a.has_param("task_instance_id"));
        assert!(!a.has_param("task"));
    }

    #[test]
    fn params_may_share_a_segment_with_text() {
        let p = RoutePath::parse("/files/<name>.<ext>").unwrap();
        assert_eq!(p.actix(), "/files/{name}.{ext}");
        assert_eq!(p.params().collect::<Vec<_>>(), ["name", "ext"]);
        assert_eq!(RoutePath::parse("/").unwrap().canonical(), "/");
    }

    #[test]
    fn joining_prefix_and_path() {
        let prefix = RoutePath::parse_prefix("/task-instances").unwrap();
        let path = RoutePath::parse("/<task_instance_id>/run").unwrap();
        let full = prefix.join(&path);
        assert_eq!(full.canonical(), "/task-instances/<task_instance_id>/run");
        assert_eq!(
            RoutePath::default().join(&path).canonical(),
            "/<task_instance_id>/run"
        );
    }

    #[test]
    fn malformed_paths_say_what_to_write() {
        assert_eq!(err("health"), "path must start with `/`: write \"/health\"");
        assert_eq!(err(""), "path must start with `/`: write \"/\"");
        assert_eq!(
            err("/<task_instance_id/run"),
            "unclosed `<task_instance_id` in path: write `<task_instance_id>`"
        );
        assert_eq!(
            err("/{task_instance_id"),
            "unclosed `{task_instance_id` in path: write `{task_instance_id}`"
        );
        assert_eq!(err("/<id}"), "unclosed `<id` in path: write `<id>`");
        assert_eq!(
            err("/<>/run"),
            "empty path parameter `<>`: name it, e.g. `<task_instance_id>`"
        );
        assert_eq!(
            err("/{}"),
            "empty path parameter `{}`: name it, e.g. `<task_instance_id>`"
        );
        assert_eq!(
            err("/<task-instance-id>"),
            "path parameter `<task-instance-id>` is not an identifier: write `<task_instance_id>`"
        );
        assert!(err("/{id:\\d+}").starts_with("path parameter `{id:\\d+}` is not an identifier"));
        assert!(err("/<1st>").starts_with("path parameter `<1st>` is not an identifier"));
        assert!(err("/a>").starts_with("unmatched `>` in path"));
        assert!(err("/a}").starts_with("unmatched `}` in path"));
        assert_eq!(
            err("/<id>/x/{id}"),
            "path parameter `<id>` appears twice: give each parameter its own name"
        );
    }

    #[test]
    fn prefixes_must_not_end_with_a_slash() {
        assert_eq!(
            RoutePath::parse_prefix("/task-instances/")
                .unwrap_err()
                .to_string(),
            "prefix must not end with `/`: write \"/task-instances\""
        );
        assert_eq!(
            RoutePath::parse_prefix("/").unwrap_err().to_string(),
            "prefix must not end with `/`: remove `prefix`"
        );
    }

    #[test]
    fn a_parameter_segment_covers_literal_text() {
        let p = |s: &str| RoutePath::parse(s).unwrap();
        assert!(p("/items/<id>").covers(&p("/items/{other}")));
        assert!(p("/items/<id>").covers(&p("/items/search")));
        assert!(!p("/items/search").covers(&p("/items/<id>")));
        assert!(p("/<a>/<b>").covers(&p("/items/search")));
        assert!(!p("/items/<id>").covers(&p("/items/<id>/tags")));
        assert!(!p("/items/<id>").covers(&p("/items/")));
        assert!(!p("/items/<id>").covers(&p("/items")));
        assert!(p("/files/<n>.<e>").covers(&p("/files/{a}.{b}")));
        assert!(!p("/files/<n>.<e>").covers(&p("/files/a.b")));
        assert!(!p("/files/<n>").covers(&p("/files/<n>.<e>")));
        assert_eq!(p("/a/<b>/c/<d>").param_count(), 2);
    }

    #[test]
    fn identifiers() {
        assert!(is_ident("task_instance_id"));
        assert!(is_ident("_x"));
        assert!(!is_ident("_"));
        assert!(!is_ident("9a"));
        assert!(!is_ident("a b"));
        assert!(!is_ident(""));
    }
}
