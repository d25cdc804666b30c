//! The matcher of a group's table: a trie over whole path segments that
//! finds, in one walk, every route whose pattern matches a path, and so the
//! first-declared one, exactly as actix's router would find it by trying
//! the routes one after the other.
//!
//! Patterns are actix's (`/variables/{variable_key}`), matched against
//! actix's re-quoted path, so `%2F` never splits a segment. A literal
//! segment matches itself; a segment that is one parameter, `{name}`,
//! matches any non-empty segment (actix's `[^/]+`). From the first segment
//! that is anything else (text and parameters mixed, `{name:regex}`, a tail
//! `{key:.+}` that takes slashes), the rest of the pattern is matched by
//! actix's own [`ResourceDef`] against the rest of the path, so its meaning
//! is actix's by construction.

use actix_web::dev::ResourceDef;

use super::methods::Methods;

/// Index of a route in its group's table, in declaration order.
pub(crate) type RouteIndex = u16;

/// What a path is to a group's routes, for one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Found {
    /// The first-declared route whose pattern matches the path, whatever
    /// its method.
    pub first: Option<RouteIndex>,
    /// The first-declared route whose pattern matches the path and whose
    /// method is the request's: the route actix would serve.
    pub serve: Option<RouteIndex>,
    /// The methods of every route whose pattern matches the path.
    pub allow: Methods,
}

#[derive(Debug, Default)]
struct Node {
    /// Children by literal segment, sorted by [`by_length`].
    literals: Vec<(&'static str, u32)>,
    /// The child for a segment that is one parameter.
    param: Option<u32>,
    /// Routes whose pattern ends here, in declaration order.
    ends: Vec<RouteIndex>,
    /// Routes whose pattern continues from here with a segment the trie
    /// does not take apart, with that rest of the pattern, in declaration
    /// order.
    rests: Vec<(RouteIndex, ResourceDef)>,
}

/// A trie over a group's patterns.
#[derive(Debug)]
pub(crate) struct Trie {
    nodes: Vec<Node>,
    /// Each route's method.
    methods: Vec<Methods>,
}

/// One segment of a pattern, as the trie takes it.
enum Piece<'a> {
    Literal(&'a str),
    Param,
}

/// The order literal segments are kept in: by length, then by bytes, so
/// that most comparisons of a lookup stop at the length.
fn by_length(a: &str, b: &str) -> std::cmp::Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

/// The piece a pattern segment is, or `None` when the trie leaves it (and
/// the rest of the pattern) to actix's matcher.
fn piece(segment: &str) -> Option<Piece<'_>> {
    if !segment.contains(['{', '}']) {
        return Some(Piece::Literal(segment));
    }
    let name = segment.strip_prefix('{')?.strip_suffix('}')?;
    let plain = !name.is_empty() && !name.contains(['{', '}', ':']);
    plain.then_some(Piece::Param)
}

impl Trie {
    /// The trie of `routes`, each a method and an actix pattern, in
    /// declaration order.
    pub(crate) fn new(routes: impl IntoIterator<Item = (Methods, &'static str)>) -> Trie {
        let mut trie = Trie {
            nodes: vec![Node::default()],
            methods: Vec::new(),
        };
        for (index, (method, pattern)) in routes.into_iter().enumerate() {
            let index = RouteIndex::try_from(index).expect("at most 65,535 routes in one group");
            trie.insert(index, pattern);
            trie.methods.push(method);
        }
        trie
    }

    fn insert(&mut self, index: RouteIndex, pattern: &'static str) {
        let mut node = 0usize;
        let Some(mut rest) = pattern.strip_prefix('/') else {
            self.nodes[0].rests.push((index, ResourceDef::new(pattern)));
            return;
        };
        loop {
            let (segment, next) = match rest.find('/') {
                Some(at) => (&rest[..at], Some(&rest[at + 1..])),
                None => (rest, None),
            };
            node = match piece(segment) {
                Some(Piece::Literal(text)) => {
                    match self.nodes[node]
                        .literals
                        .binary_search_by(|(t, _)| by_length(t, text))
                    {
                        Ok(at) => self.nodes[node].literals[at].1 as usize,
                        Err(at) => {
                            let child = self.push();
                            self.nodes[node].literals.insert(at, (text, child));
                            child as usize
                        }
                    }
                }
                Some(Piece::Param) => match self.nodes[node].param {
                    Some(child) => child as usize,
                    None => {
                        let child = self.push();
                        self.nodes[node].param = Some(child);
                        child as usize
                    }
                },
                None => {
                    // `rest` starts at this segment; give actix the rest of
                    // the pattern, its leading `/` included.
                    let from = pattern.len() - rest.len() - 1;
                    self.nodes[node]
                        .rests
                        .push((index, ResourceDef::new(&pattern[from..])));
                    return;
                }
            };
            match next {
                Some(next) => rest = next,
                None => break,
            }
        }
        self.nodes[node].ends.push(index);
    }

    fn push(&mut self) -> u32 {
        self.nodes.push(Node::default());
        u32::try_from(self.nodes.len() - 1).expect("trie too large")
    }

    /// The routes whose pattern matches `path` (actix's re-quoted path, or
    /// what is left of it), for a request with `method`.
    pub(crate) fn find(&self, method: Methods, path: &str) -> Found {
        let mut found = Found::default();
        self.walk(0, path, method, &mut found);
        found
    }

    /// Visits `node` with `rest` left to match: empty, or starting with
    /// `/`.
    fn walk(&self, node: usize, rest: &str, method: Methods, found: &mut Found) {
        let here = &self.nodes[node];
        for (index, def) in &here.rests {
            if def.is_match(rest) {
                self.candidate(*index, method, found);
            }
        }
        let bytes = rest.as_bytes();
        if bytes.first() != Some(&b'/') {
            if bytes.is_empty() {
                for index in &here.ends {
                    self.candidate(*index, method, found);
                }
            }
            return;
        }
        // The next segment: up to the next `/` (a byte loop: segments are
        // short, and `/` is ASCII, so the cut is a char boundary).
        let end = bytes[1..]
            .iter()
            .position(|b| *b == b'/')
            .map_or(bytes.len(), |at| at + 1);
        let segment = &rest[1..end];
        let next = &rest[end..];
        if let Ok(at) = here
            .literals
            .binary_search_by(|(text, _)| by_length(text, segment))
        {
            self.walk(here.literals[at].1 as usize, next, method, found);
        }
        if let (Some(child), false) = (here.param, segment.is_empty()) {
            self.walk(child as usize, next, method, found);
        }
    }

    fn candidate(&self, index: RouteIndex, method: Methods, found: &mut Found) {
        let own = self.methods[index as usize];
        found.allow = found.allow.union(own);
        if found.first.is_none_or(|first| index < first) {
            found.first = Some(index);
        }
        if own.intersects(method) && found.serve.is_none_or(|serve| index < serve) {
            found.serve = Some(index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::dev::{Path, Url};
    use actix_web::http::Uri;

    const GET: Methods = Methods::GET;
    const PUT: Methods = Methods::PUT;

    /// The first route actix's router picks: each pattern in turn, with
    /// the method, on the re-quoted path.
    fn actix_first(routes: &[(Methods, &'static str)], method: Methods, uri: &str) -> Found {
        let url = Url::new(uri.parse::<Uri>().unwrap());
        let mut found = Found::default();
        for (index, (m, pattern)) in routes.iter().enumerate() {
            let index = index as RouteIndex;
            let mut path = Path::new(url.clone());
            if ResourceDef::new(*pattern).capture_match_info(&mut path) {
                found.allow = found.allow.union(*m);
                found.first.get_or_insert(index);
                if m.intersects(method) && found.serve.is_none() {
                    found.serve = Some(index);
                }
            }
        }
        found
    }

    fn trie_first(routes: &[(Methods, &'static str)], method: Methods, uri: &str) -> Found {
        let url = Url::new(uri.parse::<Uri>().unwrap());
        Trie::new(routes.iter().copied()).find(method, url.path())
    }

    const ROUTES: &[(Methods, &str)] = &[
        (GET, "/variables/keys"),
        (GET, "/variables/{variable_key}"),
        (PUT, "/variables/{variable_key}"),
        (GET, "/items/{id}"),
        (GET, "/items/search"),
        (GET, "/files/{name}.{ext}"),
        (GET, "/files/{name}"),
        (GET, "/xcoms/{d}/{r}/{t}/{key:.+}/slice"),
        (GET, "/xcoms/{d}/{r}/{t}/{key:.+}"),
        (PUT, "/xcoms/{d}/{r}/{t}/{key:.+}"),
        (GET, "/"),
        (GET, "/a/"),
        (GET, "/a//b"),
        (GET, "/.well-known/jwks.json"),
        (GET, "/tail/{rest}*"),
        (GET, "/{a}/{b}/{c}"),
    ];

    const PATHS: &[&str] = &[
        "/variables/keys",
        "/variables/k",
        "/variables/a%2Fb",
        "/variables/%6Beys",
        "/variables/",
        "/variables",
        "/variables/k/x",
        "/items/search",
        "/items/7",
        "/files/a.b.c",
        "/files/abc",
        "/files/.x",
        "/xcoms/d/r/t/k",
        "/xcoms/d/r/t/k/slice",
        "/xcoms/d/r/t/team/db/password",
        "/xcoms/d/r/t/a%2Fb/slice",
        "/xcoms/d/r/t/slice",
        "/xcoms/d/r/t/",
        "/xcoms/d/r/t",
        "/",
        "//",
        "/a/",
        "/a",
        "/a//b",
        "/a/b/c",
        "/.well-known/jwks.json",
        "/.well-known/jwksXjson",
        "/tail/x/y/z",
        "/tail/",
        "/x/y/z",
        "/x//z",
        "/%41/b/c",
    ];

    #[test]
    fn the_trie_finds_what_actix_finds() {
        for path in PATHS {
            for method in [GET, PUT, Methods::POST] {
                assert_eq!(
                    trie_first(ROUTES, method, path),
                    actix_first(ROUTES, method, path),
                    "{method:?} {path}"
                );
            }
        }
    }

    #[test]
    fn first_declared_wins_where_patterns_overlap() {
        let found = trie_first(ROUTES, PUT, "/variables/keys");
        assert_eq!(
            found.first,
            Some(0),
            "GET /variables/keys is declared first"
        );
        assert_eq!(found.serve, Some(2), "PUT reaches the variable route");
        assert_eq!(trie_first(ROUTES, GET, "/items/search").serve, Some(3));
        let found = trie_first(ROUTES, GET, "/xcoms/d/r/t/k/slice");
        assert_eq!(found.serve, Some(7));
        assert_eq!(found.allow, GET.union(PUT));
    }

    #[test]
    fn an_encoded_slash_stays_in_its_segment() {
        let found = trie_first(ROUTES, GET, "/variables/a%2Fb");
        assert_eq!(found.serve, Some(1));
        assert_eq!(trie_first(ROUTES, GET, "/x%2Fy/z").serve, None);
    }
}
