//! YAML in, typed values out: the strict reader every scopegate file goes through.
//!
//! Owns the limits (size, depth, nodes, no anchors, no tags), positions (`line:column`)
//! and the wording of load errors with hints. It knows no file format: callers give the
//! type to `parse` (serde), or walk the nodes of one document with a `Reader`.

use std::borrow::Cow;
use std::fmt;

use granit_parser::{ErrorKind, Event, Marker, Parser, ScalarStyle, ScanError, Span, StrInput};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_saphyr::Spanned;

use crate::hint::did_you_mean;

mod subset;

/// Files larger than this are refused before parsing: a CI gate must not be held
/// by a huge file. 5,000 scopes with rationales and 500 workflows are about 1 MiB.
pub const MAX_BYTES: usize = 8 << 20;
/// Deeper nesting than any manifest needs is refused (the format is 4 levels deep).
const MAX_DEPTH: usize = 32;
const DEPTH_HINT: &str = "no scopegate file nests this deep: look for an unclosed `[` or `{`";
/// More YAML nodes (scalars, lists, mappings) than this are refused: serde-saphyr's
/// default budget, which [`parse`] keeps. A manifest of 5,000 scopes has about 40,000.
const MAX_NODES: usize = 250_000;

/// What a file is, for the limits and the words of its load errors: a size error
/// names the kind of file it refused, never "manifest" for a ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Manifest,
    Config,
    Ledger,
    TenantProfile,
    EhrSnapshot,
    /// `.scopegate/allowed_signers` (git's format, not YAML; read as text like the rest).
    AllowedSigners,
}

impl FileKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FileKind::Manifest => "manifest",
            FileKind::Config => "config",
            FileKind::Ledger => "approvals ledger",
            FileKind::TenantProfile => "tenant profile",
            FileKind::EhrSnapshot => "EHR snapshot",
            FileKind::AllowedSigners => "allowed signers file",
        }
    }

    /// The most YAML nodes a file of this kind may have. The ledger grows by one entry
    /// per approval for the life of the repository, and its entries are read linearly,
    /// so only its byte size bounds it (an 8 MiB file has fewer than 4 million nodes).
    fn max_nodes(self) -> usize {
        match self {
            FileKind::Ledger => MAX_BYTES / 2,
            _ => MAX_NODES,
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A place in the manifest file, 1-based.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Pos {
    pub(crate) line: u32,
    pub(crate) column: u32,
}

impl Pos {
    pub(crate) fn of<T>(s: &Spanned<T>) -> Pos {
        Pos {
            line: u32::try_from(s.referenced.line()).unwrap_or(u32::MAX),
            column: u32::try_from(s.referenced.column()).unwrap_or(u32::MAX),
        }
    }
}

impl From<Marker> for Pos {
    fn from(m: Marker) -> Pos {
        Pos {
            line: u32::try_from(m.line()).unwrap_or(u32::MAX),
            // The parser counts columns in characters from 0.
            column: u32::try_from(m.col().saturating_add(1)).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Text written in the manifest, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    pub value: String,
    pub(crate) pos: Pos,
}

impl Text {
    #[cfg(test)]
    pub(crate) fn of(s: Spanned<String>) -> Text {
        Text {
            pos: Pos::of(&s),
            value: s.value,
        }
    }

    /// Empty, or a placeholder left by `scopegate init`.
    pub(crate) fn is_placeholder(&self) -> bool {
        let t = self.value.trim();
        t.is_empty() || t.starts_with("TODO")
    }
}

/// One reason a manifest could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) pos: Pos,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

/// A manifest that could not be loaded, with every problem found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub(crate) path: String,
    pub(crate) problems: Vec<Problem>,
}

/// At most this many of a file's problems are shown: the first ones, then how many
/// more there are. A manifest of 125,000 unknown keys printed 6 MB of errors.
pub(crate) const SHOWN_PROBLEMS: usize = 100;

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().take(SHOWN_PROBLEMS).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}: error: {}", self.path, p.pos, p.message)?;
            if let Some(h) = &p.hint {
                write!(f, "\n  hint: {h}")?;
            }
        }
        let more = self.problems.len().saturating_sub(SHOWN_PROBLEMS);
        if more > 0 {
            write!(
                f,
                "\n{}: {more} more error{} not shown (the first {SHOWN_PROBLEMS} are above)",
                self.path,
                if more == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

pub fn fail(path: &str, pos: Pos, message: impl Into<String>, hint: Option<String>) -> LoadError {
    LoadError {
        path: path.to_string(),
        problems: vec![Problem {
            pos,
            message: message.into(),
            hint,
        }],
    }
}

/// Decodes bytes as UTF-8, refusing oversized files; errors are located.
pub fn text_of<'a>(kind: FileKind, path: &str, bytes: &'a [u8]) -> Result<&'a str, LoadError> {
    if bytes.len() > MAX_BYTES {
        return Err(fail(
            path,
            Pos { line: 1, column: 1 },
            format!(
                "the {kind} is larger than {MAX_BYTES} bytes, the most a scopegate {kind} may be"
            ),
            None,
        ));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        let col = good.len() - good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
        fail(
            path,
            Pos {
                line: u32::try_from(line).unwrap_or(u32::MAX),
                column: u32::try_from(col).unwrap_or(u32::MAX),
            },
            "the file is not valid UTF-8",
            Some("save the file as UTF-8".into()),
        )
    })
}

/// Parses YAML text into `T` with scopegate's strict options; `kind` names the file in
/// messages and sets its limits.
pub(crate) fn parse<T: DeserializeOwned>(
    kind: FileKind,
    path: &str,
    text: &str,
) -> Result<T, LoadError> {
    let opts = serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_nodes: kind.max_nodes(),
            // Every node is at least one event, collections two.
            max_events: 4 * kind.max_nodes(),
            // No scopegate file needs anchors; refusing them stops alias bombs outright.
            max_anchors: 0,
            max_aliases: 0,
            max_reader_input_bytes: Some(MAX_BYTES),
        },
    };
    serde_saphyr::from_str_with_options(text, opts).map_err(|e| {
        // A syntax error is reported the way the manifest reader reports it, even where
        // serde stopped earlier at a value of the wrong shape that the error caused
        // (`manifests: a: b` is "expected sequence start" to serde).
        match first_scan_error(text) {
            Some(s)
                if !matches!(
                    s.kind(),
                    ErrorKind::RecursionLimitExceeded | ErrorKind::UnknownAnchor
                ) =>
            {
                LoadError {
                    path: path.to_string(),
                    problems: vec![syntax_problem(kind, text, &s)],
                }
            }
            _ => yaml_error(kind, path, &e),
        }
    })
}

/// The first syntax error in `text`, if any, from the parser serde-saphyr reads with.
fn first_scan_error(text: &str) -> Option<ScanError> {
    let mut events = granit(text);
    while let Some(ev) = events.next_event() {
        if let Err(e) = ev {
            return Some(e);
        }
    }
    None
}

fn yaml_error(kind: FileKind, path: &str, e: &serde_saphyr::Error) -> LoadError {
    let pos = e
        .location()
        .map(|l| Pos {
            line: u32::try_from(l.line()).unwrap_or(u32::MAX),
            column: u32::try_from(l.column()).unwrap_or(u32::MAX),
        })
        .unwrap_or(Pos { line: 1, column: 1 });
    let full = e.to_string();
    let msg = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    };
    let (message, hint) = explain_yaml_message(kind, &msg);
    fail(path, pos, message, hint)
}

/// Splits serde's "unknown field `x`, expected one of `a`, `b`" into the name and a
/// "did you mean" hint (or the list of choices).
fn unknown_with_choices(msg: &str, prefix: &str, choices: &str) -> Option<(String, String)> {
    let (name, expected) = msg.strip_prefix(prefix)?.split_once("`, expected ")?;
    let options: Vec<&str> = expected
        .trim_start_matches("one of ")
        .split(", ")
        .map(|s| s.trim_matches('`'))
        .collect();
    let hint = match did_you_mean(name, options.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!("{choices}: {}", options.join(", ")),
    };
    Some((name.to_string(), hint))
}

/// Turns the YAML library's wording into ours, with a hint where one helps.
fn explain_yaml_message(kind: FileKind, msg: &str) -> (String, Option<String>) {
    if let Some((field, hint)) = unknown_with_choices(msg, "unknown field `", "known keys here") {
        return (format!("unknown key `{field}`"), Some(hint));
    }
    if let Some((v, hint)) = unknown_with_choices(msg, "unknown variant `", "expected one of") {
        return (format!("unknown value `{v}`"), Some(hint));
    }
    if let Some(key) = msg.strip_prefix("duplicate mapping key: ") {
        let key = key.split(", set DuplicateKeyPolicy").next().unwrap_or(key);
        return (format!("duplicate key `{key}`"), None);
    }
    if msg.contains("budget breached: Anchors") || msg.contains("budget breached: Aliases") {
        return (
            format!("YAML anchors and aliases are not allowed in a {kind}"),
            Some("write each value out in full".into()),
        );
    }
    if msg.contains("budget breached: Depth") || msg.contains("depth") {
        return (
            format!("the YAML is nested deeper than {MAX_DEPTH} levels"),
            None,
        );
    }
    if msg.contains("budget breached") {
        return (
            format!("the YAML is too large to be a {kind} ({msg})"),
            None,
        );
    }
    if msg.starts_with("missing field `") {
        let f = msg
            .trim_start_matches("missing field `")
            .trim_end_matches('`');
        return (format!("missing required key `{f}`"), None);
    }
    (msg.to_string(), None)
}

// ---- the event reader ----

/// The reader stopped: the problem that stopped it is the last one in
/// [`Reader::into_problems`]. Malformed YAML, nesting too deep, too many nodes, an anchor
/// or alias, or a second document: nothing after it can be trusted or is worth reading.
#[derive(Debug, PartialEq)]
pub(crate) struct Stop;

/// The start of one YAML node, as the reader met it.
#[derive(Debug, PartialEq)]
pub(crate) enum Node<'a> {
    /// A scalar's text, verbatim: `1.10`, `NO` and `true` are strings; there is no typing.
    Scalar {
        value: Cow<'a, str>,
        /// A plain `~`, `null`, `Null`, `NULL` or nothing at all (YAML 1.2 core schema).
        null: bool,
        pos: Pos,
    },
    /// A list starts: its items follow, then [`Item::End`].
    Seq(Pos),
    /// A mapping starts: key and value nodes follow in turn, then [`Item::End`].
    Map(Pos),
}

impl Node<'_> {
    pub(crate) fn pos(&self) -> Pos {
        match self {
            Node::Scalar { pos, .. } | Node::Seq(pos) | Node::Map(pos) => *pos,
        }
    }

    /// What the node is, for "expected …, found …".
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Scalar { null: true, .. } => "nothing",
            Node::Scalar { .. } => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }
}

/// Inside a list or mapping: the next node, or the end of the collection.
#[derive(Debug, PartialEq)]
pub(crate) enum Item<'a> {
    Node(Node<'a>),
    End,
}

/// What the reader makes of one event: the document's frame, or an item inside it.
#[derive(Debug, PartialEq)]
enum Ev<'a> {
    /// The stream or the document starts or ends (where it does).
    Frame(Frame, Pos),
    Item(Item<'a>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Frame {
    StreamStart,
    DocumentStart,
    DocumentEnd,
    StreamEnd,
}

/// A pull reader over the nodes of a single YAML document, holding scopegate's limits.
///
/// The caller walks its own format, asking for one node at a time; [`Reader::skip`]
/// passes over a node it does not want without recursion, so no input can use the
/// stack. Problems that do not stop the reading are collected for the caller.
pub(crate) struct Reader<'a> {
    text: &'a str,
    events: Source<'a>,
    problems: Vec<Problem>,
    /// Collections open around the current event.
    depth: usize,
    nodes: usize,
}

/// Files shorter than this are read by granit-parser alone: below it the fast path saves
/// too little to be worth a second parser's risk (docs/benchmarks.md#the-yaml-fast-path).
pub const FAST_PATH_MIN_BYTES: usize = 64 << 10;

/// Which parser a [`Reader`] reads with, for the benchmark and the tests: the product
/// always chooses by size ([`Reader::new`]).
#[cfg(any(test, feature = "fuzzing"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadWith {
    /// What [`Reader::new`] does: the fast path from [`FAST_PATH_MIN_BYTES`] on.
    BySize,
    /// The fast path whenever it reads the file, whatever its size.
    FastPath,
    /// granit-parser alone.
    GranitParser,
}

/// Where the reader's events come from: the fast path when the file is large enough and
/// written in the subset it reads, granit-parser otherwise. Both give the same events.
enum Source<'a> {
    Subset(std::vec::IntoIter<subset::Tok<'a>>),
    Full(Box<Parser<'a, StrInput<'a>>>),
}

impl<'a> Source<'a> {
    fn full(text: &'a str) -> Source<'a> {
        Source::Full(granit(text))
    }
}

/// granit-parser over `text`, with scopegate's limits.
fn granit(text: &str) -> Box<Parser<'_, StrInput<'_>>> {
    let opts = granit_parser::options! {
        // The reader's own depth check fires first; these bound the scanner as well.
        flow_nesting_limit: MAX_DEPTH + 1,
        block_nesting_limit: MAX_DEPTH + 1,
        // Comments are not data. (Were the parser's `comments` feature switched on by
        // another crate, they would otherwise arrive as events.)
        emit_comments: false,
    };
    Box::new(Parser::new_from_str_with_options(text, opts))
}

impl<'a> Reader<'a> {
    /// A reader over `text`, with the fast path from [`FAST_PATH_MIN_BYTES`] on.
    pub(crate) fn new(text: &'a str) -> Reader<'a> {
        Reader::over(text, text.len() >= FAST_PATH_MIN_BYTES)
    }

    /// A reader over `text` with the parser chosen by the caller.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn with(text: &'a str, with: ReadWith) -> Reader<'a> {
        match with {
            ReadWith::BySize => Reader::new(text),
            ReadWith::FastPath => Reader::over(text, true),
            ReadWith::GranitParser => Reader::over(text, false),
        }
    }

    fn over(text: &'a str, fast: bool) -> Reader<'a> {
        let events = match fast.then(|| subset::tokens(text)).flatten() {
            Some(toks) => Source::Subset(toks.into_iter()),
            None => Source::full(text),
        };
        Reader {
            text,
            events,
            problems: Vec::new(),
            depth: 0,
            nodes: 0,
        }
    }

    /// Notes a problem and reads on.
    pub(crate) fn problem(&mut self, pos: Pos, message: impl Into<String>, hint: Option<String>) {
        self.problems.push(Problem {
            pos,
            message: message.into(),
            hint,
        });
    }

    /// Every problem noted, in the order met; after a [`Stop`], its cause is last.
    pub(crate) fn into_problems(self) -> Vec<Problem> {
        self.problems
    }

    fn stop(&mut self, pos: Pos, message: impl Into<String>, hint: Option<String>) -> Stop {
        self.problem(pos, message, hint);
        Stop
    }

    /// The next event, as a frame or an item. The fast path's events become items
    /// directly; granit-parser's go through [`Reader::item_of`]. The two agree
    /// ([`fast_path_agrees`] compares them).
    fn ev(&mut self) -> Result<Ev<'a>, Stop> {
        let next = match &mut self.events {
            Source::Subset(toks) => match toks.next() {
                Some(tok) => return self.tok(tok),
                None => None,
            },
            Source::Full(p) => p.next_event(),
        };
        match next {
            Some(Ok((event, span))) => self.full(event, &span),
            Some(Err(e)) => Err(self.scan_error(&e)),
            // Both sources end every stream with StreamEnd and then stop: reading past
            // it is a bug in the caller's walk, reported rather than panicking.
            None => Err(self.stop(
                Pos { line: 1, column: 1 },
                "the YAML ended unexpectedly",
                None,
            )),
        }
    }

    /// One of the fast path's events: never an anchor, alias or tag.
    fn tok(&mut self, tok: subset::Tok<'a>) -> Result<Ev<'a>, Stop> {
        use subset::Tok;
        let item = match tok {
            Tok::StreamStart => return Ok(Ev::Frame(Frame::StreamStart, subset::START.pos())),
            Tok::DocumentStart(at) => return Ok(Ev::Frame(Frame::DocumentStart, at.pos())),
            Tok::DocumentEnd(at) => return Ok(Ev::Frame(Frame::DocumentEnd, at.pos())),
            Tok::StreamEnd(at) => return Ok(Ev::Frame(Frame::StreamEnd, at.pos())),
            Tok::SeqEnd(_) | Tok::MapEnd(_) => self.close(),
            Tok::Scalar(value, style, at) => {
                let pos = at.pos();
                self.count(0, pos)?;
                Item::Node(Node::Scalar {
                    null: is_null(style, &value),
                    value,
                    pos,
                })
            }
            Tok::Seq(_, at) => Item::Node(self.enter(true, at.pos())?),
            Tok::Map(at) => Item::Node(self.enter(false, at.pos())?),
        };
        Ok(Ev::Item(item))
    }

    /// One of granit-parser's events.
    fn full(&mut self, event: Event<'a>, span: &Span) -> Result<Ev<'a>, Stop> {
        let frame = match event {
            Event::StreamStart => Frame::StreamStart,
            Event::DocumentStart(..) => Frame::DocumentStart,
            Event::DocumentEnd => Frame::DocumentEnd,
            Event::StreamEnd => Frame::StreamEnd,
            other => return Ok(Ev::Item(self.item_of(other, span)?)),
        };
        Ok(Ev::Frame(frame, span.start.into()))
    }

    /// Opens the one document: its root node, or `None` when the stream holds none.
    pub(crate) fn document(&mut self) -> Result<Option<Node<'a>>, Stop> {
        loop {
            match self.ev()? {
                Ev::Frame(Frame::StreamStart | Frame::DocumentStart, _) => {}
                Ev::Frame(Frame::StreamEnd, _) => return Ok(None),
                Ev::Frame(Frame::DocumentEnd, pos) => return Err(self.broken_walk(pos)),
                Ev::Item(Item::Node(n)) => return Ok(Some(n)),
                Ev::Item(Item::End) => return Ok(None),
            }
        }
    }

    /// Closes the document once the root node has been read: a second one is refused.
    pub(crate) fn finish(&mut self) -> Result<(), Stop> {
        loop {
            match self.ev()? {
                Ev::Frame(Frame::StreamEnd, _) => return Ok(()),
                Ev::Frame(Frame::DocumentStart, pos) => {
                    return Err(self.stop(
                        pos,
                        "a manifest is one YAML document; this `---` starts a second one",
                        Some("remove the `---` line and what follows it".into()),
                    ));
                }
                _ => {}
            }
        }
    }

    /// The next node, or the end of the list or mapping being read.
    pub(crate) fn item(&mut self) -> Result<Item<'a>, Stop> {
        match self.ev()? {
            Ev::Item(item) => Ok(item),
            // The document's frame, never between nodes: the caller's walk is broken.
            Ev::Frame(_, pos) => Err(self.broken_walk(pos)),
        }
    }

    fn broken_walk(&mut self, pos: Pos) -> Stop {
        self.stop(pos, "the YAML ended where a value was expected", None)
    }

    /// An item among granit-parser's events (never a frame).
    fn item_of(&mut self, event: Event<'a>, span: &Span) -> Result<Item<'a>, Stop> {
        let pos = span.start.into();
        let node = match event {
            Event::SequenceEnd | Event::MappingEnd => return Ok(self.close()),
            Event::Alias(_) | Event::UnresolvedAlias(_) => return Err(self.anchors(pos)),
            Event::Scalar(value, style, anchor, tag) => {
                self.count(anchor, pos)?;
                let mut null = is_null(style, &value);
                if let Some(tag) = tag {
                    null = false;
                    self.tag(&tag, "str", span);
                }
                Node::Scalar { value, null, pos }
            }
            Event::SequenceStart(_, anchor, tag) => self.open(true, anchor, tag, span)?,
            Event::MappingStart(_, anchor, tag) => self.open(false, anchor, tag, span)?,
            _ => return Err(self.broken_walk(pos)),
        };
        Ok(Item::Node(node))
    }

    fn close(&mut self) -> Item<'a> {
        self.depth = self.depth.saturating_sub(1);
        Item::End
    }

    fn open(
        &mut self,
        seq: bool,
        anchor: usize,
        tag: Option<Cow<'_, granit_parser::Tag>>,
        span: &Span,
    ) -> Result<Node<'a>, Stop> {
        let pos = span.start.into();
        self.count(anchor, pos)?;
        if let Some(tag) = tag {
            self.tag(&tag, if seq { "seq" } else { "map" }, span);
        }
        self.enter(seq, pos)
    }

    /// A collection starts (its anchor counted already): one level deeper.
    fn enter(&mut self, seq: bool, pos: Pos) -> Result<Node<'a>, Stop> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.stop(
                pos,
                format!("the YAML is nested deeper than {MAX_DEPTH} levels"),
                Some(DEPTH_HINT.into()),
            ));
        }
        Ok(if seq { Node::Seq(pos) } else { Node::Map(pos) })
    }

    /// The next node where one must come (a mapping value, which YAML always supplies).
    pub(crate) fn node(&mut self) -> Result<Node<'a>, Stop> {
        match self.item()? {
            Item::Node(n) => Ok(n),
            Item::End => Err(self.stop(
                Pos { line: 1, column: 1 },
                "a mapping key has no value",
                None,
            )),
        }
    }

    /// Reads past the rest of `node` (everything inside it, if it is a collection),
    /// counting depth rather than recursing.
    pub(crate) fn skip(&mut self, node: &Node<'_>) -> Result<(), Stop> {
        if matches!(node, Node::Scalar { .. }) {
            return Ok(());
        }
        let mut open = 1usize;
        while open > 0 {
            match self.item()? {
                Item::End => open -= 1,
                Item::Node(Node::Scalar { .. }) => {}
                Item::Node(_) => open += 1,
            }
        }
        Ok(())
    }

    fn count(&mut self, anchor: usize, pos: Pos) -> Result<(), Stop> {
        if anchor != 0 {
            return Err(self.anchors(pos));
        }
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.stop(
                pos,
                format!("the YAML is too large to be a manifest (more than {MAX_NODES} values)"),
                Some("a manifest of 5,000 scopes has about 40,000".into()),
            ));
        }
        Ok(())
    }

    fn anchors(&mut self, pos: Pos) -> Stop {
        self.stop(
            pos,
            "YAML anchors and aliases are not allowed in a manifest",
            Some("write each value out in full".into()),
        )
    }

    /// A tag is accepted only where it says what the node already is (`!!str` on a
    /// scalar, `!!seq` on a list, `!!map` on a mapping); scopegate never converts values.
    fn tag(&mut self, tag: &granit_parser::Tag, same: &str, span: &Span) {
        if tag.is_yaml_core_schema_tag(same) {
            return;
        }
        let pos = span.tag_start.unwrap_or(span.start).into();
        self.problem(
            pos,
            format!("YAML tag `{}` is not allowed in a manifest", tag.original()),
            Some("remove the tag: every value is read as text".into()),
        );
    }

    fn scan_error(&mut self, e: &ScanError) -> Stop {
        let p = syntax_problem(FileKind::Manifest, self.text, e);
        self.problems.push(p);
        Stop
    }
}

/// A plain `~`, `null`, `Null`, `NULL` or nothing at all (YAML 1.2 core schema).
fn is_null(style: ScalarStyle, value: &str) -> bool {
    style == ScalarStyle::Plain && matches!(value, "" | "~" | "null" | "Null" | "NULL")
}

/// A YAML syntax error, worded the same whichever parser met it (the manifest reader or
/// [`parse`]): the parser's words and place, or, where the text around that place shows
/// the likely cause (a tab in the indentation, an unquoted `: ` inside a value), that
/// cause, pointing at its own character.
fn syntax_problem(kind: FileKind, text: &str, e: &ScanError) -> Problem {
    let pos = Pos::from(*e.marker());
    let problem = |pos, message: String, hint: &str| Problem {
        pos,
        message,
        hint: Some(hint.into()),
    };
    match e.kind() {
        ErrorKind::RecursionLimitExceeded => problem(
            pos,
            format!("the YAML is nested deeper than {MAX_DEPTH} levels"),
            DEPTH_HINT,
        ),
        ErrorKind::UnknownAnchor => problem(
            pos,
            format!("YAML anchors and aliases are not allowed in a {kind}"),
            "write each value out in full",
        ),
        kind => {
            let tab_kind = matches!(
                kind,
                ErrorKind::TabInIndentation
                    | ErrorKind::TabInBlockIndentation
                    | ErrorKind::TabNotAllowed
            );
            if tab_kind || e.info().contains("tab") {
                if let Some(tab) = tab_near(text, pos) {
                    return problem(
                        tab,
                        "a tab is used for indentation here: YAML indents with spaces only".into(),
                        "replace the tab with spaces",
                    );
                }
                return problem(pos, e.info(), "indent with spaces, not tabs");
            }
            if let Some(hint) = colon_in_value(text, pos) {
                return problem(
                    pos,
                    "`: ` inside a value: YAML reads it as the start of a new key".into(),
                    &hint,
                );
            }
            let hint = match kind {
                ErrorKind::UnclosedQuotedScalar => "close the quote",
                ErrorKind::UnclosedFlowCollection { .. } => {
                    "close the `[` or `{` (or write the list as `- ` lines)"
                }
                ErrorKind::BlockEntryInFlowCollection => {
                    "inside `[ … ]` write `a, b`; for `- ` lines, remove the brackets"
                }
                _ => "this is not valid YAML: check the indentation and quoting here",
            };
            problem(pos, e.info(), hint)
        }
    }
}

/// The line `line` (1-based) of `text`, without its line break.
fn line_of(text: &str, line: u32) -> Option<&str> {
    let i = usize::try_from(line).ok()?.checked_sub(1)?;
    text.split('\n')
        .nth(i)
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
}

fn pos_at(line: usize, column0: usize) -> Pos {
    Pos {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column0 + 1).unwrap_or(u32::MAX),
    }
}

/// The tab the parser stopped at: the first tab in a line's indentation from the line
/// of the error on (a plain scalar's error names where the scalar began, and the tab
/// can be on a line it continues onto), else the first tab on the error's line.
fn tab_near(text: &str, at: Pos) -> Option<Pos> {
    let first = usize::try_from(at.line).ok()?.max(1);
    let lines = text.split('\n').enumerate().skip(first - 1);
    for (i, l) in lines.take(1000) {
        let indent = l.chars().take_while(|c| *c == ' ' || *c == '\t');
        if let Some(col) = indent.enumerate().find(|(_, c)| *c == '\t').map(|(j, _)| j) {
            return Some(pos_at(i + 1, col));
        }
    }
    let l = line_of(text, at.line)?;
    l.chars()
        .position(|c| c == '\t')
        .map(|col| pos_at(at.line as usize, col))
}

/// When the parser stopped at a `: ` that follows a `key: ` on the same line, the
/// value was meant to contain it: the hint shows the line with the value quoted.
fn colon_in_value(text: &str, at: Pos) -> Option<String> {
    let line = line_of(text, at.line)?;
    let col = usize::try_from(at.column).ok()?.checked_sub(1)?;
    let chars: Vec<char> = line.chars().collect();
    if chars.get(col) != Some(&':') || chars.get(col + 1).is_some_and(|c| *c != ' ') {
        return None;
    }
    let before: String = chars[..col].iter().collect();
    let body = before.trim_start_matches(' ');
    let body = body
        .strip_prefix("- ")
        .unwrap_or(body)
        .trim_start_matches(' ');
    let (key, value_start) = body.split_once(": ")?;
    if key.is_empty() || key.contains(['[', '{', '"', '\'', '#']) || value_start.is_empty() {
        return None;
    }
    let rest: String = chars[col..].iter().collect();
    let value = format!("{}{}", value_start.trim_start_matches(' '), rest.trim_end());
    if value.starts_with(['"', '\'', '[', '{']) || value.contains(" #") {
        return Some("quote this value".into());
    }
    let quoted = value.replace('\\', "\\\\").replace('"', "\\\"");
    Some(format!("quote this value: `{key}: \"{quoted}\"`"))
}

/// Whether the fast path reads `text` and, when it does, gives granit-parser's events
/// at granit-parser's places: `Ok(true)` agreed, `Ok(false)` declined (the reader then
/// uses granit-parser), `Err` the first difference. Whatever the size of `text`. For the
/// tests and the fuzzer (the `fuzzing` feature), not the public API.
#[cfg(any(test, feature = "fuzzing"))]
pub fn fast_path_agrees(text: &str) -> Result<bool, String> {
    let Some(toks) = subset::tokens(text) else {
        return Ok(false);
    };
    let mut full = granit(text);
    for (i, tok) in toks.into_iter().enumerate() {
        let (fast, fast_span) = tok.event();
        let (slow, slow_span) = match full.next_event() {
            Some(Ok(e)) => e,
            Some(Err(e)) => {
                return Err(format!(
                    "event {i}: the fast path gave {fast:?}, granit-parser an error: {e}"
                ));
            }
            None => return Err(format!("event {i}: granit-parser ended before {fast:?}")),
        };
        let place = |s: &Span| (s.start.line(), s.start.col());
        if fast != slow || place(&fast_span) != place(&slow_span) {
            return Err(format!(
                "event {i}: the fast path gave {fast:?} at {:?}, granit-parser {slow:?} at {:?}",
                place(&fast_span),
                place(&slow_span)
            ));
        }
    }
    if let Some(e) = full.next_event() {
        return Err(format!(
            "granit-parser goes on after the fast path ends: {e:?}"
        ));
    }
    // The reader turns the fast path's events into items directly: the same items,
    // at the same places, as it makes of granit-parser's.
    let mut fast = Reader::over(text, true);
    let mut slow = Reader::over(text, false);
    for i in 0.. {
        let (a, b) = (fast.ev(), slow.ev());
        let end = matches!(a, Ok(Ev::Frame(Frame::StreamEnd, _)) | Err(_));
        if a != b || fast.problems != slow.problems {
            return Err(format!(
                "reader item {i}: from the fast path {a:?}, from granit-parser {b:?}"
            ));
        }
        if end {
            break;
        }
    }
    Ok(true)
}
