//! Route paths. Parameters are written `<name>` (canonical) or, as actix
//! does, `{name}`; a [`RoutePath`] renders both spellings, and OpenAPI's.
//!
//! A parameter that takes the rest of the path (SPEC §2) is written
//! `<name:path>` (canonical), `{name:path}` (Airflow's spelling) or
//! `{name:.*}` (actix's): it matches one or more whole segments, slashes
//! included, never an empty value, and literal segments and parameters may
//! follow it (`/<key:path>/item/<offset>`). One path has at most one. actix
//! gets it as `{name:.+}`; OpenAPI shows it as `{name}`, as Airflow's
//! document does.

use std::fmt;

/// One piece of a path: literal text, a parameter (one segment), or a
/// parameter that takes the rest of the path (whole segments).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    Text(String),
    Param(String),
    Tail(String),
}

/// The kinds after `:` that make a parameter take the rest of the path:
/// scopegate's and Airflow's `path`, and actix's regexes for it.
const TAIL_KINDS: [&str; 3] = ["path", ".*", ".+"];

/// The regex actix's router gets for a parameter that takes the rest of
/// the path: one character or more, slashes included, so a key is never
/// empty (Airflow's `min_length=1`). actix matches it against the path with
/// `%2F` still encoded, so an encoded slash stays inside one key.
const TAIL_REGEX: &str = ".+";

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
    /// `<>` or `{}`; `kind` is what follows the missing name (`:path`), or
    /// empty.
    EmptyParam { open: char, kind: String },
    /// A parameter name that is not an identifier; `kind` is what follows
    /// it (`:path`), or empty.
    NotIdent {
        open: char,
        name: String,
        kind: String,
    },
    /// A `>` or `}` with no opener.
    Unmatched(char),
    /// The same parameter twice in one path.
    DuplicateParam(String),
    /// A group prefix that ends with `/`; holds the prefix as written.
    PrefixTrailingSlash(String),
    /// A parameter kind after `:` that is not one of [`TAIL_KINDS`].
    UnknownKind {
        open: char,
        name: String,
        kind: String,
    },
    /// A parameter that takes the rest of the path, not between `/`s.
    TailNotWholeSegments(String),
    /// Two parameters that take the rest of the path: the first and the
    /// second.
    TwoTails(String, String),
    /// A path ending in `*`, actix's own tail syntax; holds the name of
    /// the parameter before it (`{tail}*`), if there is one.
    TrailingStar(Option<String>),
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
            PathError::EmptyParam { open, kind } => {
                let close = closer(*open);
                let example = if kind.is_empty() {
                    "<task_instance_id>"
                } else {
                    "<key:path>"
                };
                write!(
                    f,
                    "empty path parameter `{open}{kind}{close}`: name it, e.g. `{example}`"
                )
            }
            PathError::NotIdent { open, name, kind } => {
                let close = closer(*open);
                let fixed: String = name
                    .trim()
                    .chars()
                    .map(|c| if c == '-' || c == ' ' { '_' } else { c })
                    .collect();
                if is_ident(&fixed) {
                    write!(
                        f,
                        "path parameter `{open}{name}{kind}{close}` is not an identifier: write \
                         `{open}{fixed}{kind}{close}`"
                    )
                } else {
                    write!(
                        f,
                        "path parameter `{open}{name}{kind}{close}` is not an identifier: use \
                         letters, digits and `_`, e.g. `<task_instance_id>`"
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
            PathError::UnknownKind { open, name, kind } => {
                let close = closer(*open);
                write!(
                    f,
                    "path parameter `{open}{name}:{kind}{close}` has an unknown kind `{kind}`: \
                     write `{open}{name}{close}` for one segment, or `{open}{name}:path{close}` \
                     for the rest of the path, slashes included (scopegate takes no regex)"
                )
            }
            PathError::TailNotWholeSegments(name) => write!(
                f,
                "`<{name}:path>` takes whole segments, so it stands between `/`s: write e.g. \
                 \"/variables/<{name}:path>\" or \"/<{name}:path>/item/<offset>\""
            ),
            PathError::TwoTails(first, second) => write!(
                f,
                "`<{first}:path>` and `<{second}:path>` both take the rest of the path, and a \
                 path has at most one: write `<{second}>` for one segment"
            ),
            PathError::TrailingStar(tail) => {
                let fix = match tail {
                    Some(name) => format!("write `{{{name}:path}}` (or actix's `{{{name}:.*}}`)"),
                    None => "write `<name:path>`".to_owned(),
                };
                write!(
                    f,
                    "a path ending in `*` is actix's tail syntax, which scopegate does not take: \
                     {fix} for a parameter that takes the rest of the path, never empty"
                )
            }
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
    /// must be a closed, non-empty identifier that appears once; a
    /// parameter that takes the rest of the path stands between `/`s, and
    /// there is at most one.
    pub(crate) fn parse(path: &str) -> Result<RoutePath, PathError> {
        if !path.starts_with('/') {
            return Err(PathError::NoLeadingSlash(path.to_owned()));
        }
        if let Some(rest) = path.strip_suffix('*') {
            let name = rest
                .strip_suffix('}')
                .and_then(|r| r.rsplit_once('{'))
                .map(|(_, name)| name)
                .filter(|name| is_ident(name));
            return Err(PathError::TrailingStar(name.map(str::to_owned)));
        }
        let mut segments = Vec::new();
        let mut text = String::new();
        let mut chars = path.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '<' | '{' => {
                    let close = closer(c);
                    let mut inner = String::new();
                    loop {
                        match chars.peek() {
                            Some(&n) if n == close => {
                                chars.next();
                                break;
                            }
                            None | Some('/' | '<' | '>' | '{' | '}') => {
                                return Err(PathError::Unclosed {
                                    open: c,
                                    name: inner,
                                });
                            }
                            Some(&n) => {
                                inner.push(n);
                                chars.next();
                            }
                        }
                    }
                    let (name, kind) = match inner.split_once(':') {
                        Some((name, kind)) => (name.to_owned(), Some(kind.to_owned())),
                        None => (inner, None),
                    };
                    if name.is_empty() {
                        let kind = kind.map(|k| format!(":{k}")).unwrap_or_default();
                        return Err(PathError::EmptyParam { open: c, kind });
                    }
                    if !is_ident(&name) {
                        let kind = kind.map(|k| format!(":{k}")).unwrap_or_default();
                        return Err(PathError::NotIdent {
                            open: c,
                            name,
                            kind,
                        });
                    }
                    let tail = match kind {
                        None => false,
                        Some(kind) if TAIL_KINDS.contains(&kind.as_str()) => true,
                        Some(kind) => {
                            return Err(PathError::UnknownKind {
                                open: c,
                                name,
                                kind,
                            })
                        }
                    };
                    if segments.iter().any(|s| Segment::name(s) == Some(&name)) {
                        return Err(PathError::DuplicateParam(name));
                    }
                    if tail {
                        let after = chars.peek().is_none_or(|n| *n == '/');
                        if !text.ends_with('/') || !after {
                            return Err(PathError::TailNotWholeSegments(name));
                        }
                        if let Some(first) = segments.iter().find_map(Segment::tail) {
                            return Err(PathError::TwoTails(first.to_owned(), name));
                        }
                    }
                    if !text.is_empty() {
                        segments.push(Segment::Text(std::mem::take(&mut text)));
                    }
                    segments.push(if tail {
                        Segment::Tail(name)
                    } else {
                        Segment::Param(name)
                    });
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

    /// The parameter names, in order, the one that takes the rest of the
    /// path included.
    pub(crate) fn params(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(Segment::name)
    }

    /// Whether `name` is one of the parameters.
    pub(crate) fn has_param(&self, name: &str) -> bool {
        self.params().any(|p| p == name)
    }

    /// The parameter that takes the rest of the path, if there is one.
    pub(crate) fn tail(&self) -> Option<&str> {
        self.segments.iter().find_map(Segment::tail)
    }

    /// `self` followed by `rest`.
    pub(crate) fn join(&self, rest: &RoutePath) -> RoutePath {
        let mut segments = self.segments.clone();
        segments.extend(rest.segments.iter().cloned());
        RoutePath { segments }
    }

    /// The path with each parameter written by `param` (its name, and
    /// whether it takes the rest of the path).
    fn render(&self, param: impl Fn(&str, bool) -> String) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(t) => out.push_str(t),
                Segment::Param(p) => out.push_str(&param(p, false)),
                Segment::Tail(p) => out.push_str(&param(p, true)),
            }
        }
        out
    }

    /// The canonical spelling, `/a/<name>/<key:path>`.
    pub(crate) fn canonical(&self) -> String {
        self.render(|p, tail| {
            if tail {
                format!("<{p}:path>")
            } else {
                format!("<{p}>")
            }
        })
    }

    /// The spelling actix's router takes, `/a/{name}/{key:.+}`.
    pub(crate) fn actix(&self) -> String {
        self.render(|p, tail| {
            if tail {
                format!("{{{p}:{TAIL_REGEX}}}")
            } else {
                format!("{{{p}}}")
            }
        })
    }

    /// The spelling of OpenAPI's (and Airflow's document), `/a/{name}/{key}`.
    pub(crate) fn openapi(&self) -> String {
        self.render(|p, _| format!("{{{p}}}"))
    }

    /// The path with parameter names erased, `/a/<>/<*>`: two paths with
    /// the same shape match the same requests.
    pub(crate) fn shape(&self) -> String {
        self.render(|_, tail| if tail { "<*>" } else { "<>" }.to_owned())
    }

    /// How many parameters the path has.
    pub(crate) fn param_count(&self) -> usize {
        self.params().count()
    }

    /// Whether every request path that `other` matches is matched by `self`
    /// too, as far as whole segments tell: the same segments, except that
    /// a segment that is one parameter in `self` may be literal text in
    /// `other` (`/items/<>` covers `/items/search`), and a parameter that
    /// takes the rest of the path in `self` may stand for one or more of
    /// `other`'s segments, whatever they are (`/v/<key:path>` covers
    /// `/v/keys` and `/v/<a>/<b>`). Segments that mix text and parameters
    /// only cover their exact equal.
    pub(crate) fn covers(&self, other: &RoutePath) -> bool {
        let (mine, theirs) = (self.shape(), other.shape());
        let (mine, theirs): (Vec<&str>, Vec<&str>) =
            (mine.split('/').collect(), theirs.split('/').collect());
        segments_cover(&mine, &theirs)
    }
}

impl Segment {
    /// The parameter's name, if this is a parameter.
    fn name(&self) -> Option<&str> {
        match self {
            Segment::Param(p) | Segment::Tail(p) => Some(p),
            Segment::Text(_) => None,
        }
    }

    /// The parameter's name, if this parameter takes the rest of the path.
    fn tail(&self) -> Option<&str> {
        match self {
            Segment::Tail(p) => Some(p),
            _ => None,
        }
    }
}

/// [`RoutePath::covers`] on shapes split at `/`: `<>` is one parameter,
/// `<*>` the rest of the path (one or more segments, never empty).
fn segments_cover(mine: &[&str], theirs: &[&str]) -> bool {
    match mine.split_first() {
        None => theirs.is_empty(),
        Some((&"<*>", rest)) => (1..=theirs.len()).any(|taken| {
            let non_empty = taken > 1 || !theirs[0].is_empty();
            non_empty && segments_cover(rest, &theirs[taken..])
        }),
        Some((m, rest)) => match theirs.split_first() {
            Some((t, their_rest)) => {
                let one = m == t || (*m == "<>" && !t.is_empty() && !t.contains('<'));
                one && segments_cover(rest, their_rest)
            }
            None => false,
        },
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
        assert_eq!(
            err("/{id:\\d+}"),
            "path parameter `{id:\\d+}` has an unknown kind `\\d+`: write `{id}` for one segment, \
             or `{id:path}` for the rest of the path, slashes included (scopegate takes no regex)"
        );
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
    fn a_parameter_that_takes_the_rest_of_the_path() {
        for written in [
            "/xcoms/<d>/<key:path>/item/<offset>",
            "/xcoms/{d}/{key:path}/item/{offset}",
            "/xcoms/{d}/{key:.*}/item/{offset}",
            "/xcoms/<d>/<key:.+>/item/<offset>",
        ] {
            let p = RoutePath::parse(written).unwrap();
            assert_eq!(p.canonical(), "/xcoms/<d>/<key:path>/item/<offset>");
            assert_eq!(p.actix(), "/xcoms/{d}/{key:.+}/item/{offset}");
            assert_eq!(p.openapi(), "/xcoms/{d}/{key}/item/{offset}");
            assert_eq!(p.shape(), "/xcoms/<>/<*>/item/<>");
            assert_eq!(p.params().collect::<Vec<_>>(), ["d", "key", "offset"]);
            assert_eq!(p.tail(), Some("key"));
            assert!(p.has_param("key"));
        }
        let p = RoutePath::parse("/variables/<variable_key:path>").unwrap();
        assert_eq!(p.actix(), "/variables/{variable_key:.+}");
        assert_eq!(RoutePath::parse("/<a>").unwrap().tail(), None);
        assert_eq!(
            RoutePath::parse("/a/<k:path>").unwrap().openapi(),
            RoutePath::parse("/a/<k>").unwrap().openapi()
        );
    }

    #[test]
    fn misused_tails_say_what_to_write() {
        assert_eq!(
            err("/<a:path>/<b:path>"),
            "`<a:path>` and `<b:path>` both take the rest of the path, and a path has at most \
             one: write `<b>` for one segment"
        );
        assert_eq!(
            err("/files/<key:path>.txt"),
            "`<key:path>` takes whole segments, so it stands between `/`s: write e.g. \
             \"/variables/<key:path>\" or \"/<key:path>/item/<offset>\""
        );
        assert!(err("/files<key:path>").starts_with("`<key:path>` takes whole segments"));
        assert!(err("/<a><key:path>").starts_with("`<key:path>` takes whole segments"));
        assert_eq!(
            err("/v/<key:paths>"),
            "path parameter `<key:paths>` has an unknown kind `paths`: write `<key>` for one \
             segment, or `<key:path>` for the rest of the path, slashes included (scopegate \
             takes no regex)"
        );
        assert!(err("/v/<key:>").starts_with("path parameter `<key:>` has an unknown kind ``"));
        assert_eq!(
            err("/v/<:path>"),
            "empty path parameter `<:path>`: name it, e.g. `<key:path>`"
        );
        assert_eq!(
            err("/v/<the-key:path>"),
            "path parameter `<the-key:path>` is not an identifier: write `<the_key:path>`"
        );
        assert_eq!(
            err("/v/<key>/<key:path>"),
            "path parameter `<key>` appears twice: give each parameter its own name"
        );
        for star in ["/v/*", "/v*", "/v/{}*", "/v/{a-b}*"] {
            assert_eq!(
                err(star),
                "a path ending in `*` is actix's tail syntax, which scopegate does not take: \
                 write `<name:path>` for a parameter that takes the rest of the path, never empty"
            );
        }
        assert_eq!(
            err("/v/{tail}*"),
            "a path ending in `*` is actix's tail syntax, which scopegate does not take: write \
             `{tail:path}` (or actix's `{tail:.*}`) for a parameter that takes the rest of the \
             path, never empty"
        );
        assert!(RoutePath::parse("/v/*/x").is_ok());
    }

    #[test]
    fn a_tail_covers_one_or_more_segments() {
        let p = |s: &str| RoutePath::parse(s).unwrap();
        let var = p("/v/<key:path>");
        assert!(var.covers(&p("/v/keys")));
        assert!(var.covers(&p("/v/<k>")));
        assert!(var.covers(&p("/v/<a>/b/<c>")));
        assert!(var.covers(&p("/v/<other:path>")));
        assert!(var.covers(&p("/v/<k:path>/slice")));
        assert!(!var.covers(&p("/v")));
        assert!(!var.covers(&p("/v/")));
        assert!(!var.covers(&p("/w/x")));
        assert!(!p("/v/<k>").covers(&var));
        assert!(!p("/v/keys").covers(&var));
        let slice = p("/x/<k:path>/slice");
        assert!(slice.covers(&p("/x/a/b/slice")));
        assert!(slice.covers(&p("/x/<k:path>/<i>/slice")));
        assert!(!slice.covers(&p("/x/<k:path>")));
        assert!(!slice.covers(&p("/x/slice")));
        assert!(!p("/x/<k:path>/item/<o>").covers(&slice));
        assert!(p("/x/<k:path>").covers(&p("/x/<k:path>/item/<o>")));
        assert!(!p("/x/<a>/<k:path>").covers(&p("/x/<k:path>")));
        assert!(p("/x/<k:path>").covers(&p("/x/<a>/<k:path>")));
        assert!(p("/x/<k:path>").covers(&p("/x//b")));
        assert_eq!(p("/x/<a>/<k:path>").param_count(), 2);
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
