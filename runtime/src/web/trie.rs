//! The matcher of a group's table: a trie over whole path segments that
//! finds, in one walk, the first-declared route whose pattern matches a
//! path (and, when none has the request's method, the methods of all of
//! them), exactly as actix's router would find it by trying the routes one
//! after the other.
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
//!
//! The path is cut at its slashes once, before the walk ([`Segments`]):
//! the walk reads each segment's bounds from the cut, a tail's pieces are
//! the cut's last segments, and the route's parameters are copied off
//! it. A path of more than [`MAX_SEGMENTS`] segments is not
//! cut: each pattern is matched against it in turn by actix's own
//! [`ResourceDef`] ([`Trie::find_each`]), slow, and only for such paths.

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
    /// The methods of every route whose pattern matches the path, for
    /// the `Allow` of a 405: complete when no route serves the request
    /// (`serve` is `None`), the only time it is read. Once a route
    /// serves it, the walk may skip routes declared after that one.
    pub allow: Methods,
}

impl Found {
    /// Adds routes whose patterns match the path: the first-declared of
    /// them, their methods, and the first-declared of them with the
    /// request's method, if any. The earliest route wins either way.
    #[inline]
    fn add(&mut self, first: RouteIndex, allow: Methods, serve: Option<RouteIndex>) {
        self.allow = self.allow.union(allow);
        if self.first.is_none_or(|f| first < f) {
            self.first = Some(first);
        }
        if let Some(serve) = serve {
            if self.serve.is_none_or(|s| serve < s) {
                self.serve = Some(serve);
            }
        }
    }
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

/// The most segments a path may have for the trie to cut it; a deeper path
/// is matched pattern by pattern ([`Trie::find_each`]).
pub(crate) const MAX_SEGMENTS: usize = 64;

/// A path (actix's re-quoted path after a group's prefix) cut into its
/// segments once, before the walk: the byte offset of each segment's `/`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Segments {
    /// `slashes[i]` is the offset of segment `i`'s leading `/`, for `i`
    /// below `count`; `slashes[count]` is the path's length, so that
    /// segment `i` ends at `slashes[i + 1]`.
    slashes: [u16; MAX_SEGMENTS + 1],
    count: u8,
    /// A path that is not empty and does not start with `/`: only patterns
    /// that do not start with `/` either can match it.
    bare: bool,
}

/// Why a path was not cut into [`Segments`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Uncut {
    /// The path has a `%`, and the caller asked to know: actix matches
    /// the re-quoted path.
    Percent,
    /// More than [`MAX_SEGMENTS`] segments, or longer than actix's offsets
    /// (`u16`) reach.
    TooLong,
}

impl Segments {
    /// A path with no segment, to [`Segments::cut_into`].
    pub(crate) const EMPTY: Segments = Segments {
        slashes: [0; MAX_SEGMENTS + 1],
        count: 0,
        bare: false,
    };

    /// Cuts `path` at its slashes, eight bytes at a time. With `percent`,
    /// a `%` anywhere in `path` makes it [`Uncut::Percent`], even in a path
    /// too deep to cut.
    pub(crate) fn cut(path: &str, percent: bool) -> Result<Segments, Uncut> {
        let mut segments = Segments::EMPTY;
        segments.cut_into(path, percent)?;
        Ok(segments)
    }

    /// [`Segments::cut`] into `self`, in place (a guard cuts every request's
    /// path, and a returned `Segments` is copied out).
    #[inline(always)]
    pub(crate) fn cut_into(&mut self, path: &str, percent: bool) -> Result<(), Uncut> {
        match self.cut_words(path, percent) {
            // The words stop at a slash past the limit: a `%` after it
            // still makes the path one actix re-quotes.
            Err(Uncut::TooLong) if percent && has_percent(path.as_bytes()) => Err(Uncut::Percent),
            cut => cut,
        }
    }

    /// [`Segments::cut_into`], but the cut stops at the word of a slash
    /// past [`MAX_SEGMENTS`] ([`Uncut::TooLong`]), so a `%` after that
    /// word is not seen.
    #[inline(always)]
    fn cut_words(&mut self, path: &str, percent: bool) -> Result<(), Uncut> {
        let bytes = path.as_bytes();
        let len = u16::try_from(bytes.len()).map_err(|_| Uncut::TooLong)?;
        if bytes.first().is_some_and(|b| *b != b'/') {
            if percent && bytes.contains(&b'%') {
                return Err(Uncut::Percent);
            }
            self.bare = true;
            self.count = 0;
            self.slashes[0] = len;
            return Ok(());
        }
        self.bare = false;
        let mut count = 0;
        let mut base = 0;
        while let Some(chunk) = bytes.get(base..base + 8) {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            self.scan(word, base, percent, &mut count)?;
            base += 8;
        }
        if base < bytes.len() {
            // The bytes left, first in the word; the zero bytes after them
            // are neither `/` nor `%`.
            let word = match bytes.len().checked_sub(8).and_then(|at| bytes.get(at..)) {
                Some(last) => {
                    let word = u64::from_le_bytes(last.try_into().unwrap_or([0; 8]));
                    word >> (8 * (base + 8 - bytes.len()))
                }
                None => bytes[base..]
                    .iter()
                    .rev()
                    .fold(0, |word, b| word << 8 | u64::from(*b)),
            };
            self.scan(word, base, percent, &mut count)?;
        }
        self.slashes[count] = len;
        self.count = count as u8;
        Ok(())
    }

    /// Records the slashes of the eight bytes at `base`, read as `word`.
    #[inline]
    fn scan(
        &mut self,
        word: u64,
        base: usize,
        percent: bool,
        count: &mut usize,
    ) -> Result<(), Uncut> {
        if percent && zero_bytes(word ^ repeat(b'%')) != 0 {
            return Err(Uncut::Percent);
        }
        let mut hits = zero_bytes(word ^ repeat(b'/'));
        while hits != 0 {
            if *count == MAX_SEGMENTS {
                return Err(Uncut::TooLong);
            }
            // Little-endian: the lowest set byte is the first `/`. The
            // path is no longer than `u16::MAX`.
            self.slashes[*count] = (base + (hits.trailing_zeros() / 8) as usize) as u16;
            *count += 1;
            hits &= hits - 1;
        }
        Ok(())
    }

    /// How many segments the path has.
    pub(crate) fn count(&self) -> usize {
        usize::from(self.count)
    }

    /// The byte bounds of segment `i`'s text (after its `/`), for `i`
    /// below [`Segments::count`].
    #[inline]
    pub(crate) fn segment(&self, i: usize) -> (usize, usize) {
        debug_assert!(i < self.count());
        // `i < count <= MAX_SEGMENTS`, so the mask changes nothing; it lets
        // the compiler see that both reads are in the array.
        let i = i % MAX_SEGMENTS;
        (
            usize::from(self.slashes[i]) + 1,
            usize::from(self.slashes[i + 1]),
        )
    }

    /// The offset of what is left of the path after `depth` segments:
    /// segment `depth`'s `/`, or the path's length.
    #[inline]
    fn at(&self, depth: usize) -> usize {
        debug_assert!(depth <= self.count());
        self.slashes.get(depth).map_or(0, |at| usize::from(*at))
    }

    /// The bounds of a tail (`{key:.+}`) from segment `depth` on, followed
    /// by the path's last `after` segments: from segment `depth`'s text to
    /// the `/` before those. actix's `.+` takes at least one character.
    pub(crate) fn tail(&self, depth: usize, after: usize) -> Option<(usize, usize)> {
        let last = self.count().checked_sub(after)?;
        if last <= depth {
            return None;
        }
        let (start, end) = (self.segment(depth).0, self.segment(last - 1).1);
        (start < end).then_some((start, end))
    }
}

#[derive(Debug, Default)]
struct Node {
    /// Children by literal segment, sorted by [`by_length`].
    literals: Vec<(&'static str, u32)>,
    /// The child for a segment that is one parameter.
    param: Option<u32>,
    /// Routes whose pattern ends here.
    ends: Ends,
    /// Routes whose pattern continues from here with a tail, grouped by
    /// the segments after it, in declaration order.
    tails: Vec<Tails>,
    /// Routes whose pattern continues from here with a segment the trie
    /// does not take apart, with that rest of the pattern, in declaration
    /// order.
    rests: Vec<(RouteIndex, ResourceDef)>,
    /// Whether `tails` or `rests` has any route.
    branches: bool,
    /// How many nodes from this one on only lead on to their parameter
    /// child (no literal child, no route ending or branching there), up
    /// to 255 (a longer chain starts a new run below): the walk checks
    /// that many segments are not empty and goes on from
    /// [`Node::run_to`] at once.
    run: u8,
    /// The node after the run, if `run` is not 0.
    run_to: u32,
    /// The first-declared of the routes that end here or go on through a
    /// child (`RouteIndex::MAX` if none), the tails and rests of this
    /// node left out: once this node's tails and rests are tried, if a
    /// route declared before it serves the request, nothing left of the
    /// walk below here can change what is read.
    below: RouteIndex,
}

impl Node {
    /// The child for the literal `segment`.
    #[inline]
    fn literal(&self, segment: &[u8]) -> Option<u32> {
        if self.literals.len() > LINEAR_LITERALS {
            return self
                .literals
                .binary_search_by(|(text, _)| by_length(text.as_bytes(), segment))
                .ok()
                .map(|at| self.literals[at].1);
        }
        // Few: one after the other, sorted by length, to the first longer.
        for (text, child) in &self.literals {
            if text.len() >= segment.len() {
                if text.len() > segment.len() {
                    return None;
                }
                // The first byte before the call to compare them all.
                if text.as_bytes().first() == segment.first() && text.as_bytes() == segment {
                    return Some(*child);
                }
            }
        }
        None
    }
}

/// Up to how many literal children a node searches one after the other;
/// past that, by halves, so that a node with hundreds of them (`/g0` to
/// `/g999`) costs a few comparisons, not hundreds.
const LINEAR_LITERALS: usize = 32;

/// Routes whose patterns match the same paths, in declaration order, with
/// the union of their methods.
#[derive(Debug, Default)]
struct Ends {
    routes: Vec<(RouteIndex, Methods)>,
    allow: Methods,
}

impl Ends {
    fn push(&mut self, index: RouteIndex, method: Methods) {
        self.routes.push((index, method));
        self.allow = self.allow.union(method);
    }

    /// Adds these routes to what was `found` for a request with `method`.
    #[inline]
    fn offer(&self, method: Methods, found: &mut Found) {
        let Some(&(first, _)) = self.routes.first() else {
            return;
        };
        // In declaration order: the first with the method is the one.
        let serve = if self.allow.intersects(method) {
            self.routes
                .iter()
                .find(|(_, m)| m.intersects(method))
                .map(|(index, _)| *index)
        } else {
            None
        };
        found.add(first, self.allow, serve);
    }
}

/// Routes that continue from a node with a tail followed by the same
/// segments.
#[derive(Debug)]
struct Tails {
    after: Vec<Fixed>,
    routes: Ends,
    /// The first-declared route of all the node's groups of tails after
    /// this one (`RouteIndex::MAX` if none): groups are kept in the order
    /// of their first route, so it is the next group's first.
    later: RouteIndex,
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
    /// Each route's pattern.
    patterns: Vec<&'static str>,
    /// Each route's pattern as actix matches it, for a path too deep to
    /// cut ([`Trie::find_each`]): built on the first such path.
    each: std::cell::OnceCell<Vec<ResourceDef>>,
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

/// Whether the path's segments from `depth` on are a tail followed by
/// segments matching `after`, as actix's regex `(?s)/(?P<tail>.+)` then
/// `/text` or `/(?P<name>[^/]+)` for each decides: `after` takes the path's
/// last segments, and the tail, what lies between, is not empty (actix's
/// `.` matches a newline too).
fn tail_fits(path: &[u8], segments: &Segments, depth: usize, after: &[Fixed]) -> bool {
    if segments.tail(depth, after.len()).is_none() {
        return false;
    }
    let first = segments.count() - after.len();
    for (i, fixed) in after.iter().enumerate() {
        let (start, end) = segments.segment(first + i);
        let fits = match fixed {
            Fixed::Literal(text) => path.get(start..end) == Some(text.as_bytes()),
            Fixed::Param => start != end,
        };
        if !fits {
            return false;
        }
    }
    true
}

/// The order literal segments are kept in: by length, then by bytes, so
/// that most comparisons of a lookup stop at the length.
fn by_length(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
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
            patterns: Vec::new(),
            each: std::cell::OnceCell::new(),
        };
        for (index, (method, pattern)) in routes.into_iter().enumerate() {
            let index = RouteIndex::try_from(index).expect("at most 65,535 routes in one group");
            trie.insert(index, method, pattern);
            trie.methods.push(method);
            trie.patterns.push(pattern);
        }
        for node in &mut trie.nodes {
            node.branches = !node.tails.is_empty() || !node.rests.is_empty();
        }
        // Children come after their parent in `nodes`: from the last node
        // back, a node's `below` and run are known before its parent's.
        for at in (0..trie.nodes.len()).rev() {
            trie.nodes[at].below = trie.below(at);
            if let Some((run, run_to)) = trie.run(at) {
                trie.nodes[at].run = run;
                trie.nodes[at].run_to = run_to;
            }
        }
        trie
    }

    /// [`Node::below`] for node `at`, from its children's.
    fn below(&self, at: usize) -> RouteIndex {
        let node = &self.nodes[at];
        let through = |child: u32| {
            let child = &self.nodes[child as usize];
            let tails = child.tails.iter().flat_map(|t| &t.routes.routes);
            let rests = child.rests.iter().map(|(index, _)| *index);
            tails
                .map(|(index, _)| *index)
                .chain(rests)
                .fold(child.below, RouteIndex::min)
        };
        node.literals
            .iter()
            .map(|(_, child)| *child)
            .chain(node.param)
            .map(through)
            .chain(node.ends.routes.iter().map(|(index, _)| *index))
            .fold(RouteIndex::MAX, RouteIndex::min)
    }

    /// [`Node::run`] and [`Node::run_to`] for node `at`, from its
    /// parameter child's; `None` unless all the node does is lead on to
    /// its parameter child (or when its run would be longer than a `u8`
    /// counts: the run then starts again below).
    fn run(&self, at: usize) -> Option<(u8, u32)> {
        let node = &self.nodes[at];
        let child = node.param?;
        if !node.literals.is_empty() || !node.ends.routes.is_empty() || node.branches {
            return None;
        }
        let next = &self.nodes[child as usize];
        match next.run {
            0 => Some((1, child)),
            u8::MAX => None,
            n => Some((n + 1, next.run_to)),
        }
    }

    fn insert(&mut self, index: RouteIndex, method: Methods, pattern: &'static str) {
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
                        .binary_search_by(|(t, _)| by_length(t.as_bytes(), text.as_bytes()))
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
                        match tails.iter_mut().find(|t| t.after == after) {
                            Some(tails) => tails.routes.push(index, method),
                            None => {
                                // Routes are inserted in declaration order:
                                // this one is the first after every group
                                // so far.
                                if let Some(previous) = tails.last_mut() {
                                    previous.later = index;
                                }
                                let mut routes = Ends::default();
                                routes.push(index, method);
                                tails.push(Tails {
                                    after,
                                    routes,
                                    later: RouteIndex::MAX,
                                });
                            }
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
        self.nodes[node].ends.push(index, method);
    }

    fn push(&mut self) -> u32 {
        self.nodes.push(Node::default());
        u32::try_from(self.nodes.len() - 1).expect("trie too large")
    }

    /// The routes whose pattern matches `path` (actix's re-quoted path, or
    /// what is left of it), for a request with `method`.
    #[cfg(test)]
    pub(crate) fn find(&self, method: Methods, path: &str) -> Found {
        match Segments::cut(path, false) {
            Ok(segments) => self.find_cut(method, path, &segments),
            Err(_) => self.find_each(method, path),
        }
    }

    /// [`Trie::find`] for a path too deep to cut into segments: each
    /// route's pattern in turn, matched by actix, as actix's router tries
    /// them. Slow (as routing was before the trie), and only for such
    /// paths.
    pub(crate) fn find_each(&self, method: Methods, path: &str) -> Found {
        let each = self
            .each
            .get_or_init(|| self.patterns.iter().map(|p| ResourceDef::new(*p)).collect());
        let mut found = Found::default();
        for (index, def) in each.iter().enumerate() {
            if def.is_match(path) {
                // At most `RouteIndex::MAX` routes: `Trie::new`.
                self.candidate(index as RouteIndex, method, &mut found);
            }
        }
        found
    }

    /// [`Trie::find`] on a path already cut into its `segments`.
    #[inline(always)]
    pub(crate) fn find_cut(&self, method: Methods, path: &str, segments: &Segments) -> Found {
        let mut found = Found::default();
        if segments.bare {
            // Only a pattern the trie left whole to actix can match.
            for (index, def) in &self.nodes[0].rests {
                if def.is_match(path) {
                    self.candidate(*index, method, &mut found);
                }
            }
            return found;
        }
        self.descend(0, path, segments, 0, method, &mut found);
        found
    }

    /// [`Trie::descend`] from a literal child, where a segment could go
    /// both to it and to the parameter child (recursive, so out of line).
    fn walk(
        &self,
        node: usize,
        path: &str,
        segments: &Segments,
        depth: usize,
        method: Methods,
        found: &mut Found,
    ) {
        self.descend(node, path, segments, depth, method, found);
    }

    /// Visits `node`, `depth` segments into the path. A loop down the trie,
    /// recursing ([`Trie::walk`]) only where a segment could go both to a
    /// literal child and to the parameter child; inlined into the guard.
    #[inline(always)]
    fn descend(
        &self,
        mut node: usize,
        path: &str,
        segments: &Segments,
        mut depth: usize,
        method: Methods,
        found: &mut Found,
    ) {
        loop {
            let here = &self.nodes[node];
            if here.run != 0 {
                // Nodes that only lead to their parameter child: each
                // needs a segment, and a segment that is not empty.
                let run = usize::from(here.run);
                if segments.count() < depth + run {
                    return;
                }
                for at in depth..depth + run {
                    let (start, end) = segments.segment(at);
                    if start == end {
                        return;
                    }
                }
                node = here.run_to as usize;
                depth += run;
                continue;
            }
            if here.branches {
                for tails in &here.tails {
                    if tail_fits(path.as_bytes(), segments, depth, &tails.after) {
                        tails.routes.offer(method, found);
                        if found.serve.is_some_and(|serve| serve < tails.later) {
                            // The groups after it were all declared after
                            // the route that serves the request: they can
                            // change only what is not read (`Found::allow`).
                            break;
                        }
                    }
                }
                for (index, def) in &here.rests {
                    if def.is_match(&path[segments.at(depth)..]) {
                        self.candidate(*index, method, found);
                    }
                }
                if found.serve.is_some_and(|serve| serve < here.below) {
                    // Served by a route declared before any that ends here
                    // or goes on below.
                    return;
                }
            }
            if depth == segments.count() {
                here.ends.offer(method, found);
                return;
            }
            let (start, end) = segments.segment(depth);
            if here.literals.is_empty() {
                // Only a parameter goes on from here, if anything.
                match here.param {
                    Some(child) if start != end => {
                        node = child as usize;
                        depth += 1;
                        continue;
                    }
                    _ => return,
                }
            }
            let literal = here.literal(&path.as_bytes()[start..end]);
            let param = if start == end { None } else { here.param };
            match (literal, param) {
                (Some(literal), Some(param)) => {
                    self.walk(literal as usize, path, segments, depth + 1, method, found);
                    node = param as usize;
                }
                (Some(child), None) | (None, Some(child)) => node = child as usize,
                (None, None) => return,
            }
            depth += 1;
        }
    }

    /// Adds route `index`, whose pattern matches the path, to what was
    /// `found` for a request with `method`.
    fn candidate(&self, index: RouteIndex, method: Methods, found: &mut Found) {
        let own = self.methods[index as usize];
        found.add(index, own, own.intersects(method).then_some(index));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::dev::{Path, Url};
    use actix_web::http::Uri;

    const GET: Methods = Methods::GET;
    const PUT: Methods = Methods::PUT;

    /// What the trie must find, from what actix finds: `allow` only when
    /// nothing serves the request ([`Found::allow`]).
    fn read(found: Found) -> Found {
        match found.serve {
            Some(_) => Found {
                allow: Methods::NONE,
                ..found
            },
            None => found,
        }
    }

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
        read(found)
    }

    fn trie_first(routes: &[(Methods, &'static str)], method: Methods, uri: &str) -> Found {
        let url = Url::new(uri.parse::<Uri>().unwrap());
        read(Trie::new(routes.iter().copied()).find(method, url.path()))
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
        // And paths too deep to cut, matched pattern by pattern.
        let deep = "/s".repeat(MAX_SEGMENTS);
        let deep = [
            format!("/xcoms/d/r/t{deep}/slice"),
            format!("/xcoms/d/r/t{deep}/item/7"),
            format!("/star{deep}/x"),
            format!("/variables{deep}"),
        ];
        for path in PATHS.iter().copied().chain(deep.iter().map(String::as_str)) {
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
    fn tails_declared_after_the_serving_route_are_skipped_not_those_between() {
        // `/x/k/item/7` fits both groups of tails; the second group's PUT
        // is declared between the first group's two routes, so for a PUT
        // it is the one, and only routes after it may be skipped.
        let routes: &[(Methods, &'static str)] = &[
            (GET, "/x/{key:.+}/item/{n}"),
            (PUT, "/x/{key:.+}"),
            (PUT, "/x/{key:.+}/item/{n}"),
            (Methods::POST, "/x/{key:.+}"),
        ];
        for method in [GET, PUT, Methods::POST, Methods::DELETE] {
            for path in ["/x/k/item/7", "/x/k", "/x/k/item/"] {
                assert_eq!(
                    trie_first(routes, method, path),
                    actix_first(routes, method, path),
                    "{method:?} {path}"
                );
            }
        }
        assert_eq!(trie_first(routes, PUT, "/x/k/item/7").serve, Some(1));
        let found = trie_first(routes, Methods::DELETE, "/x/k/item/7");
        assert_eq!(found.allow, GET.union(PUT).union(Methods::POST));
    }

    #[test]
    fn a_tail_that_serves_stops_the_walk_only_before_later_routes() {
        // At `/x`, a tail serves `/x/v/item/7`; so do routes that go on
        // through `/x`'s children, one declared before the tail (which
        // wins) and one after (which the walk may skip), through a literal
        // child and through the parameter child, with runs of parameters.
        let routes: &[(Methods, &'static str)] = &[
            (GET, "/x/{a}/{b}/item/{n}"),
            (PUT, "/x/v/{b}/item/{n}"),
            (GET, "/x/{key:.+}"),
            (PUT, "/x/{key:.+}"),
            (GET, "/x/v/{b}/{c}/{n}"),
            (Methods::POST, "/x/{a}/{b}/{c}/{n}"),
            (Methods::DELETE, "/x/{a}/{b}"),
        ];
        for method in [GET, PUT, Methods::POST, Methods::DELETE, Methods::HEAD] {
            for path in [
                "/x/v/item/7",
                "/x/v/w/item/7",
                "/x/u/w/item/7",
                "/x/v/w/z/7",
                "/x/v//item/7",
                "/x/v/w",
                "/x/v",
                "/x/",
            ] {
                assert_eq!(
                    trie_first(routes, method, path),
                    actix_first(routes, method, path),
                    "{method:?} {path}"
                );
            }
        }
        assert_eq!(trie_first(routes, GET, "/x/v/w/item/7").serve, Some(0));
        assert_eq!(trie_first(routes, PUT, "/x/v/w/item/7").serve, Some(1));
        assert_eq!(trie_first(routes, GET, "/x/v/w/z/7").serve, Some(2));
        // A tail below the serving one, declared before it.
        let routes: &[(Methods, &'static str)] = &[(GET, "/x/v/{k:.+}"), (GET, "/x/{k:.+}")];
        assert_eq!(trie_first(routes, GET, "/x/v/w").serve, Some(0));
        assert_eq!(actix_first(routes, GET, "/x/v/w").serve, Some(0));
    }

    #[test]
    fn random_route_sets_find_what_actix_finds() {
        // Route sets of literal, empty, parameter, tail (`{t:.+}`) and
        // left-to-actix (`{r:.*}`) segments, and paths over the same
        // words, from a fixed xorshift walk: the same cases every run.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut below = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let methods = [GET, PUT, Methods::POST];
        for _ in 0..1_500 {
            let routes: Vec<(Methods, &'static str)> = (0..1 + below(7))
                .map(|_| {
                    let mut pattern = String::new();
                    for n in 0..1 + below(5) {
                        pattern.push('/');
                        match below(12) {
                            0..=2 => pattern.push('a'),
                            3 => pattern.push('b'),
                            4..=7 => pattern.push_str(&format!("{{p{n}}}")),
                            8 | 9 => pattern.push_str(&format!("{{t{n}:.+}}")),
                            10 => pattern.push_str(&format!("{{r{n}:.*}}")),
                            _ => {}
                        }
                    }
                    let pattern: &'static str = Box::leak(pattern.into_boxed_str());
                    (methods[below(3)], pattern)
                })
                .collect();
            let trie = Trie::new(routes.iter().copied());
            let defs: Vec<ResourceDef> = routes.iter().map(|(_, p)| ResourceDef::new(*p)).collect();
            for _ in 0..20 {
                let path: String = (0..1 + below(7))
                    .map(|_| format!("/{}", ["a", "b", "c", "", "a", "z"][below(6)]))
                    .collect();
                for method in methods {
                    // actix: each pattern in turn, in declaration order.
                    let mut want = Found::default();
                    for (index, ((own, _), def)) in routes.iter().zip(&defs).enumerate() {
                        if def.is_match(&path) {
                            let index = index as RouteIndex;
                            want.add(index, *own, own.intersects(method).then_some(index));
                        }
                    }
                    assert_eq!(
                        read(trie.find(method, &path)),
                        read(want),
                        "{routes:?} {method:?} {path}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_node_with_many_literals_finds_each_of_them() {
        // More literal children than a node searches one after the other:
        // of every length from 1 to 4, declared out of order.
        let patterns: Vec<&'static str> = (0..300)
            .rev()
            .flat_map(|i| [format!("/g{i}/items"), format!("/g{i}/items/{{id}}")])
            .chain(["/{other}/items".to_owned()])
            .map(|p| &*Box::leak(p.into_boxed_str()))
            .collect();
        let routes: Vec<(Methods, &'static str)> = patterns.iter().map(|p| (GET, *p)).collect();
        let trie = Trie::new(routes.iter().copied());
        for path in [
            "/g0/items",
            "/g9/items/7",
            "/g10/items",
            "/g299/items/x",
            "/g300/items",
            "/g/items",
            "/g1/items/7/8",
            "/h1/items",
        ] {
            let want = actix_first(&routes, GET, path);
            assert_eq!(read(trie.find(GET, path)), want, "{path}");
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
        let found = trie_first(ROUTES, Methods::POST, "/xcoms/d/r/t/k/slice");
        assert_eq!(found.serve, None);
        assert_eq!(found.allow, GET.union(PUT), "every route of the path");
        let found = trie_first(ROUTES, PUT, "/xcoms/d/r/t/k/item/1");
        assert_eq!((found.first, found.serve), (Some(8), Some(10)));
    }

    #[test]
    fn a_path_is_cut_at_its_slashes_as_one_by_one() {
        // Every length to 40, slashes at every spacing, and non-ASCII text
        // (whose bytes have the high bit set) around them.
        let texts = [
            "/a/bb/ccc/dddd/eeeee/ffffff/ggggggg/hhhhhhhh/iiiiiiiii",
            "////////////////////////",
            "/no slash after the first, not one, in these forty bytes",
            "/é/ü/€/\u{10348}/\u{ff}\u{ff}\u{ff}/\u{2f}x/%2F/",
            "/\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}/\u{ff}",
        ];
        for text in texts {
            for len in 0..=text.len() {
                let Some(path) = text.get(..len) else {
                    continue;
                };
                let want: Vec<&str> = if path.is_empty() {
                    Vec::new()
                } else {
                    path[1..].split('/').collect()
                };
                let segments = Segments::cut(path, false).unwrap();
                let got: Vec<&str> = (0..segments.count())
                    .map(|i| {
                        let (start, end) = segments.segment(i);
                        &path[start..end]
                    })
                    .collect();
                assert_eq!(got, want, "{path:?}");
                assert_eq!(
                    Segments::cut(path, true).is_err(),
                    path.contains('%'),
                    "{path:?}"
                );
            }
        }
        let bare = Segments::cut("a/b", true).unwrap();
        assert!(bare.bare && bare.count() == 0);
        assert_eq!(Segments::cut("a%2Fb", true).err(), Some(Uncut::Percent));
        let deep = "/x".repeat(MAX_SEGMENTS);
        assert_eq!(Segments::cut(&deep, true).unwrap().count(), MAX_SEGMENTS);
        let deeper = "/x".repeat(MAX_SEGMENTS + 1);
        assert_eq!(Segments::cut(&deeper, true).err(), Some(Uncut::TooLong));
        // A `%` past the slash where the cut stops is still seen.
        let percent = format!("{deeper}/{}/%41", "y".repeat(20));
        assert_eq!(Segments::cut(&percent, true).err(), Some(Uncut::Percent));
        assert_eq!(Segments::cut(&percent, false).err(), Some(Uncut::TooLong));
        let long = "/".to_owned() + &"x".repeat(usize::from(u16::MAX));
        assert_eq!(Segments::cut(&long, true).err(), Some(Uncut::TooLong));
    }

    #[test]
    fn a_tail_is_what_lies_before_the_last_segments() {
        let path = "/d/r/t/team/db/item/7";
        let segments = Segments::cut(path, false).unwrap();
        let (start, end) = segments.tail(3, 2).unwrap();
        assert_eq!(&path[start..end], "team/db");
        assert_eq!(segments.tail(3, 4), None, "no segment left for the tail");
        let path = "/d/r/t//item/7";
        let segments = Segments::cut(path, false).unwrap();
        assert_eq!(segments.tail(3, 2), None, "an empty tail");
        assert!(!has_percent(b"/abcdefgh/ijklmnop/qr"));
        assert!(has_percent(b"/abcdefgh/%2F"));
        assert!(has_percent(b"/%"));
    }

    #[test]
    fn an_encoded_slash_stays_in_its_segment() {
        let found = trie_first(ROUTES, GET, "/variables/a%2Fb");
        assert_eq!(found.serve, Some(1));
        assert_eq!(trie_first(ROUTES, GET, "/x%2Fy/z").serve, None);
    }
}
