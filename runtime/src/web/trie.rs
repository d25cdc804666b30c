//! The matcher of a group's table: a trie over whole path segments that
//! finds, in one walk, every route whose pattern matches a path, and so the
//! first-declared one, exactly as actix's router would find it by trying
//! the routes one after the other.
//!
//! Patterns are actix's (`/variables/{variable_key}`), matched against
//! actix's re-quoted path, so `%2F` never splits a segment. A literal
//! segment matches itself; a segment that is one parameter, `{name}`,
//! matches any non-empty segment (actix's `[^/]+`). A segment that is a
//! tail, `{key:.+}` (scopegate's `<key:path>`), takes one or more
//! characters, slashes included; when only literal segments and one-segment
//! parameters follow it, those are the path's last segments, so the trie
//! checks them from the end and the tail is what lies between, as actix's
//! regex decides. From any other segment (text and parameters mixed,
//! `{name:regex}`, a tail followed by such a segment), the rest of the
//! pattern is matched by actix's own [`ResourceDef`] against the rest of
//! the path, so its meaning is actix's by construction.

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

/// The high bit of each zero byte of `word` (exact: no false positives,
/// unlike the cheaper variant).
const fn zero_bytes(word: u64) -> u64 {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((word & LOW).wrapping_add(LOW)) | word | LOW)
}

/// Whether `bytes` has a `%`, eight bytes at a time.
pub(crate) fn has_percent(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        if zero_bytes(word ^ repeat(b'%')) != 0 {
            return true;
        }
    }
    chunks.remainder().contains(&b'%')
}

/// `byte` in each of a word's eight bytes.
const fn repeat(byte: u8) -> u64 {
    u64::from_le_bytes([byte; 8])
}

/// The index of the first `/` in `bytes` from `from` on, or `bytes.len()`:
/// eight bytes at a time, then byte by byte for the last few.
pub(crate) fn next_slash(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let hits = zero_bytes(word ^ repeat(b'/'));
        if hits != 0 {
            // Little-endian: the lowest set byte is the first `/`.
            return at + (hits.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|b| *b == b'/'))
        .map_or(bytes.len(), |n| at + n)
}

/// The index of the last `/` in `bytes[..end]`, if any: eight bytes at a
/// time from the end, then byte by byte for the first few.
pub(crate) fn prev_slash(bytes: &[u8], end: usize) -> Option<usize> {
    let mut end = end.min(bytes.len());
    while end >= 8 {
        let chunk = &bytes[end - 8..end];
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let hits = zero_bytes(word ^ repeat(b'/'));
        if hits != 0 {
            // Little-endian: the highest set byte is the last `/`.
            return Some(end - 1 - (hits.leading_zeros() / 8) as usize);
        }
        end -= 8;
    }
    bytes[..end].iter().rposition(|b| *b == b'/')
}

/// The most segments whose bounds a walk records: a route with a
/// parameter deeper than that is filled by actix's matcher.
pub(crate) const MAX_SEGMENTS: usize = 32;

/// The bounds of the segments a walk went through: byte offsets, in the
/// walked path, of each segment's text (after its `/`), by depth.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seen {
    bounds: [(u16, u16); MAX_SEGMENTS],
    /// Whether a segment ended too far into the path to record.
    overflow: bool,
}

impl Default for Seen {
    fn default() -> Self {
        Seen {
            bounds: [(0, 0); MAX_SEGMENTS],
            overflow: false,
        }
    }
}

impl Seen {
    fn record(&mut self, depth: usize, start: usize, end: usize) {
        // Deeper segments are not recorded: no route's parameters are
        // read from there (`MAX_SEGMENTS`).
        let Some(slot) = self.bounds.get_mut(depth) else {
            return;
        };
        match u16::try_from(end) {
            Ok(end) => *slot = (start as u16, end),
            Err(_) => self.overflow = true,
        }
    }

    /// The byte bounds of the segment at `depth`, if the walk recorded it.
    pub(crate) fn bounds(&self, depth: usize) -> Option<(usize, usize)> {
        if self.overflow {
            return None;
        }
        let (start, end) = *self.bounds.get(depth)?;
        Some((usize::from(start), usize::from(end)))
    }
}

#[derive(Debug, Default)]
struct Node {
    /// Children by literal segment, sorted by [`by_length`].
    literals: Vec<(&'static str, u32)>,
    /// The child for a segment that is one parameter.
    param: Option<u32>,
    /// Routes whose pattern ends here, in declaration order.
    ends: Vec<RouteIndex>,
    /// Routes whose pattern continues from here with a tail, grouped by
    /// the segments after it, in declaration order.
    tails: Vec<(Vec<Fixed>, Vec<RouteIndex>)>,
    /// Routes whose pattern continues from here with a segment the trie
    /// does not take apart, with that rest of the pattern, in declaration
    /// order.
    rests: Vec<(RouteIndex, ResourceDef)>,
}

/// A segment after a tail: literal text, or a one-segment parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fixed {
    Literal(&'static str),
    Param,
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
    /// `{name:.+}`: one or more characters, slashes included.
    Tail,
}

/// A segment after a tail, if the trie can check it: literal text or a
/// one-segment parameter.
fn fixed(segment: &'static str) -> Option<Fixed> {
    match piece(segment)? {
        Piece::Literal(text) => Some(Fixed::Literal(text)),
        Piece::Param => Some(Fixed::Param),
        Piece::Tail => None,
    }
}

/// Whether `rest` (what is left of the path: empty, or starting with `/`)
/// is a tail followed by segments matching `after`, as actix's regex
/// `(?s)/(?P<tail>.+)` then `/text` or `/(?P<name>[^/]+)` for each decides:
/// `after` takes the path's last segments, and the tail, what lies
/// between, is not empty (actix's `.` matches a newline too).
fn tail_bounds(rest: &str, after: &[Fixed]) -> Option<usize> {
    if !rest.starts_with('/') {
        return None;
    }
    let bytes = rest.as_bytes();
    let mut end = rest.len();
    for fixed in after.iter().rev() {
        let slash = prev_slash(bytes, end)?;
        let segment = &rest[slash + 1..end];
        let ok = match fixed {
            Fixed::Literal(text) => segment == *text,
            Fixed::Param => !segment.is_empty(),
        };
        if !ok {
            return None;
        }
        end = slash;
    }
    (end > 1).then_some(end)
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
    if let Some((name, ".+")) = name.split_once(':') {
        let plain = !name.is_empty() && !name.contains(['{', '}', ':']);
        return plain.then_some(Piece::Tail);
    }
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
                Some(Piece::Tail) => {
                    let after: Option<Vec<Fixed>> = next
                        .map(|next| next.split('/').map(fixed).collect())
                        .unwrap_or(Some(Vec::new()));
                    if let Some(after) = after {
                        let tails = &mut self.nodes[node].tails;
                        match tails.iter_mut().find(|(a, _)| *a == after) {
                            Some((_, routes)) => routes.push(index),
                            None => tails.push((after, vec![index])),
                        }
                        return;
                    }
                    let from = pattern.len() - rest.len() - 1;
                    self.nodes[node]
                        .rests
                        .push((index, ResourceDef::new(&pattern[from..])));
                    return;
                }
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
    #[cfg(test)]
    pub(crate) fn find(&self, method: Methods, path: &str) -> Found {
        self.find_seen(method, path, &mut Seen::default())
    }

    /// [`Trie::find`], recording in `seen` the bounds of the segments it
    /// walked through.
    pub(crate) fn find_seen(&self, method: Methods, path: &str, seen: &mut Seen) -> Found {
        let mut found = Found::default();
        self.walk(0, path, 0, 0, method, &mut found, seen);
        found
    }

    /// Visits `node` with `path[at..]` left to match: empty, or starting
    /// with `/`, `depth` segments down. A loop down the trie, recursing only
    /// where a segment could go both to a literal child and to the
    /// parameter child.
    #[allow(clippy::too_many_arguments)]
    fn walk(
        &self,
        mut node: usize,
        path: &str,
        mut at: usize,
        mut depth: usize,
        method: Methods,
        found: &mut Found,
        seen: &mut Seen,
    ) {
        let bytes = path.as_bytes();
        loop {
            let here = &self.nodes[node];
            for (after, routes) in &here.tails {
                if tail_bounds(&path[at..], after).is_some() {
                    for index in routes {
                        self.candidate(*index, method, found);
                    }
                }
            }
            for (index, def) in &here.rests {
                if def.is_match(&path[at..]) {
                    self.candidate(*index, method, found);
                }
            }
            if bytes.get(at) != Some(&b'/') {
                if at == bytes.len() {
                    for index in &here.ends {
                        self.candidate(*index, method, found);
                    }
                }
                return;
            }
            // The next segment: up to the next `/` (ASCII, so the cut is a
            // char boundary).
            let start = at + 1;
            let end = next_slash(bytes, start);
            seen.record(depth, start, end);
            let segment = &path[start..end];
            let literal = if here.literals.is_empty() {
                None
            } else {
                here.literals
                    .binary_search_by(|(text, _)| by_length(text, segment))
                    .ok()
                    .map(|i| here.literals[i].1 as usize)
            };
            let param = here
                .param
                .filter(|_| start != end)
                .map(|child| child as usize);
            match (literal, param) {
                (Some(literal), Some(param)) => {
                    self.walk(literal, path, end, depth + 1, method, found, seen);
                    node = param;
                }
                (Some(child), None) | (None, Some(child)) => node = child,
                (None, None) => return,
            }
            at = end;
            depth += 1;
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
        (GET, "/xcoms/{d}/{r}/{t}/{key:.+}/item/{offset}"),
        (GET, "/xcoms/{d}/{r}/{t}/{key:.+}"),
        (PUT, "/xcoms/{d}/{r}/{t}/{key:.+}"),
        (GET, "/star/{key:.*}/x"),
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
        "/xcoms/d/r/t//slice",
        "/xcoms/d/r/t/a/b/item/7",
        "/xcoms/d/r/t/a/b/item/",
        "/xcoms/d/r/t/item/7",
        "/xcoms/d/r/t/a/slice/slice",
        "/xcoms/d/r/t/%2F",
        "/xcoms/d/r/t/a%0Ab/item/%0A",
        "/xcoms/d/%0A/t/%0A",
        "/star//x",
        "/star/a/b/x",
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
        let found = trie_first(ROUTES, PUT, "/xcoms/d/r/t/k/item/1");
        assert_eq!((found.first, found.serve), (Some(8), Some(10)));
    }

    #[test]
    fn the_walk_records_the_segments_it_went_through() {
        let trie = Trie::new(ROUTES.iter().copied());
        let path = "/items/search/x";
        let mut seen = Seen::default();
        let found = trie.find_seen(GET, path, &mut seen);
        assert_eq!(found.serve, Some(17), "/{{a}}/{{b}}/{{c}}");
        let segments: Vec<&str> = (0..3)
            .map(|d| {
                let (start, end) = seen.bounds(d).unwrap();
                &path[start..end]
            })
            .collect();
        assert_eq!(segments, ["items", "search", "x"]);
        assert!(has_percent(b"/abcdefgh/%2F"));
        assert!(has_percent(b"/%"));
        assert!(!has_percent(b"/abcdefgh/ijklmnop/qr"));
    }

    #[test]
    fn slashes_are_found_eight_bytes_at_a_time_as_one_by_one() {
        // Every length to 40, slashes at every spacing, and non-ASCII text
        // (whose bytes have the high bit set) around them.
        let texts = [
            "/a/bb/ccc/dddd/eeeee/ffffff/ggggggg/hhhhhhhh/iiiiiiiii",
            "////////////////////////",
            "no slash at all, not one, in these forty bytes",
            "/é/ü/€/\u{10348}/\u{ff}\u{ff}\u{ff}/\u{2f}x/%2F/",
            "\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}/\u{ff}",
        ];
        for text in texts {
            let bytes = text.as_bytes();
            for from in 0..=bytes.len() {
                let want = bytes[from..]
                    .iter()
                    .position(|b| *b == b'/')
                    .map_or(bytes.len(), |n| from + n);
                assert_eq!(next_slash(bytes, from), want, "{text:?} from {from}");
                let want = bytes[..from].iter().rposition(|b| *b == b'/');
                assert_eq!(prev_slash(bytes, from), want, "{text:?} before {from}");
            }
        }
        assert_eq!(next_slash(b"abc", 7), 3, "past the end");
        assert_eq!(prev_slash(b"a/c", 9), Some(1), "past the end");
    }

    #[test]
    fn an_encoded_slash_stays_in_its_segment() {
        let found = trie_first(ROUTES, GET, "/variables/a%2Fb");
        assert_eq!(found.serve, Some(1));
        assert_eq!(trie_first(ROUTES, GET, "/x%2Fy/z").serve, None);
    }
}
