use super::super::fast_path_agrees;

/// Every YAML file in the repository's examples and fixtures.
fn repo_yaml() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml"))
                && let Ok(t) = std::fs::read_to_string(&p)
            {
                out.push((p.display().to_string(), t));
            }
        }
    }
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let mut out = Vec::new();
    for d in ["examples", "tests/fixtures", ".scopegate", ".github"] {
        walk(&root.join(d), &mut out);
    }
    out.sort();
    out
}

#[test]
fn the_fast_path_agrees_with_granit_parser_on_every_repository_file() {
    let files = repo_yaml();
    assert!(files.len() > 50, "found {} files", files.len());
    let mut declined = Vec::new();
    for (path, text) in &files {
        match fast_path_agrees(text) {
            Ok(true) => {}
            Ok(false) => declined.push(path.as_str()),
            Err(e) => panic!("{path}: {e}"),
        }
    }
    // The bundled manifests, configs and tenant profiles are what users copy: each must
    // be in the subset, so that the same shape grown past the size threshold takes the
    // fast path. GitHub workflows (`run: |`) and the fuzzers' odd inputs are not.
    let unexpected: Vec<&&str> = declined
        .iter()
        .filter(|p| !p.contains("/workflows/") && !p.contains("/fixtures/fuzz/"))
        .collect();
    assert!(unexpected.is_empty(), "declined: {unexpected:?}");
    assert!(declined.len() < files.len() / 4, "declined: {declined:?}");
}

#[test]
fn files_below_the_size_threshold_are_read_by_granit_parser_alone() {
    use super::super::{FAST_PATH_MIN_BYTES, ReadWith, Reader, Source};
    let fast = |text: &str| matches!(Reader::new(text).events, Source::Subset(_));
    let example = include_str!("../../../../../examples/med-rec.yaml");
    assert!(!fast(example));
    assert!(matches!(
        Reader::with(example, ReadWith::FastPath).events,
        Source::Subset(_)
    ));
    // The same manifest padded by a comment to one byte short of the threshold, and to it.
    let padded = |len: usize| {
        let mut t = format!("{example}# ");
        t.push_str(&"x".repeat(len - t.len() - 1));
        t.push('\n');
        assert_eq!(t.len(), len);
        t
    };
    assert!(!fast(&padded(FAST_PATH_MIN_BYTES - 1)));
    assert!(fast(&padded(FAST_PATH_MIN_BYTES)));
    assert!(matches!(
        Reader::with(&padded(FAST_PATH_MIN_BYTES), ReadWith::GranitParser).events,
        Source::Full(_)
    ));
    // Above it, a file outside the subset still goes to granit-parser.
    let block =
        padded(FAST_PATH_MIN_BYTES).replace("rationale: Launched", "rationale: |\n      Launched");
    assert!(!fast(&block));
}

// Found by the CI fuzz smoke: a "key" past YAML's 1,024-character limit on implicit
// keys is no key to granit-parser, and the fast path read it as one.
#[test]
fn a_key_longer_than_yaml_allows_is_left_to_granit_parser() {
    for n in [127, 128, 129, 1023, 1024, 1025, 3000] {
        let key = "k".repeat(n);
        for text in [
            format!("{key}: v\n"),
            format!("a: b\n{key}:\n  - x\n"),
            format!("- {key}: v\n"),
        ] {
            if let Err(e) = fast_path_agrees(&text) {
                panic!("key of {n}: {e}");
            }
        }
    }
    let crash = include_str!("../../../../../tests/fixtures/fuzz/yaml-subset-long-key.yaml");
    assert!(fast_path_agrees(crash).is_ok());
}

// ---- property: on generated YAML, and on generated YAML with a few characters
// changed, the fast path either declines or gives exactly granit-parser's events ----

use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Node {
    Scalar(String),
    Flow(Vec<String>),
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9/._?=-]{0,10}",
        "[a-zA-Z0-9 :#,'\"\\\\\\[\\]{}&*!|>%@`~?/.é’\u{a0}\u{200b}\u{3000}-]{0,10}",
        Just(String::new()),
        Just("~".to_string()),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-z_][a-zA-Z0-9_./-]{0,8}",
        2 => text(),
        // Around the 128-character cut-off and YAML's 1,024-character key limit.
        1 => "[a-z]{120,136}|[a-z]{1018,1030}",
    ]
}

fn tree() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        4 => text().prop_map(Node::Scalar),
        1 => prop::collection::vec(text(), 0..4).prop_map(Node::Flow),
    ];
    leaf.prop_recursive(5, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec((key(), inner.clone()), 1..5).prop_map(Node::Map),
            prop::collection::vec(inner, 1..5).prop_map(Node::Seq),
        ]
    })
}

/// Style choices while rendering, from a seed (xorshift).
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn scalar(s: &str, d: &mut Dice) -> String {
    match d.roll(3) {
        0 => s.to_string(),
        1 => format!("'{}'", s.replace('\'', "''")),
        _ => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
    }
}

fn comment(out: &mut String, indent: usize, d: &mut Dice) {
    match d.roll(8) {
        0 => out.push_str(&format!(
            "{}# note: - [x]\n",
            " ".repeat(d.roll(6) as usize)
        )),
        1 => out.push('\n'),
        2 => out.push_str(&format!("{}\n", " ".repeat(indent))),
        _ => {}
    }
}

fn trailing(d: &mut Dice) -> &'static str {
    match d.roll(6) {
        0 => "  # why",
        1 => " ",
        _ => "",
    }
}

fn flow(items: &[String], d: &mut Dice) -> String {
    let sp = if d.roll(2) == 0 { "" } else { " " };
    let mut s = format!("[{sp}");
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
            s.push_str(if d.roll(3) == 0 { "" } else { " " });
        }
        s.push_str(&scalar(it, d));
    }
    if !items.is_empty() && d.roll(5) == 0 {
        s.push(',');
    }
    s.push_str(sp);
    s.push(']');
    s
}

/// Renders `node` as the value after `key:` or `-` (whose column is `at`); the
/// caller has written the indicator, and no line break yet.
fn value(node: &Node, at: usize, d: &mut Dice, out: &mut String, in_seq: bool) {
    let step = 1 + d.roll(4) as usize;
    match node {
        Node::Scalar(s) if s.is_empty() && d.roll(2) == 0 => {
            out.push_str(trailing(d));
            out.push('\n');
        }
        Node::Scalar(s) => {
            if d.roll(10) == 0 {
                out.push('\n');
                out.push_str(&" ".repeat(at + step));
            } else {
                out.push(' ');
            }
            out.push_str(&scalar(s, d));
            out.push_str(trailing(d));
            out.push('\n');
        }
        Node::Flow(items) => {
            out.push(' ');
            out.push_str(&flow(items, d));
            out.push_str(trailing(d));
            out.push('\n');
        }
        Node::Map(entries) if in_seq && d.roll(3) != 0 => {
            // Compact: the first key on the `-` line.
            let col = at + step;
            out.push_str(&" ".repeat(step));
            entries_at(entries, col, d, out, true);
        }
        Node::Map(entries) => {
            out.push_str(trailing(d));
            out.push('\n');
            entries_at(entries, at + step, d, out, false);
        }
        Node::Seq(items) => {
            out.push_str(trailing(d));
            out.push('\n');
            // A mapping's list may sit at the key's own column.
            let col = if !in_seq && d.roll(3) == 0 {
                at
            } else {
                at + step
            };
            items_at(items, col, d, out);
        }
    }
}

fn entries_at(
    entries: &[(String, Node)],
    col: usize,
    d: &mut Dice,
    out: &mut String,
    first_inline: bool,
) {
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 || !first_inline {
            comment(out, col, d);
            out.push_str(&" ".repeat(col));
        }
        out.push_str(k);
        out.push(':');
        value(v, col, d, out, false);
    }
}

fn items_at(items: &[Node], col: usize, d: &mut Dice, out: &mut String) {
    for it in items {
        comment(out, col, d);
        out.push_str(&" ".repeat(col));
        out.push('-');
        value(it, col, d, out, true);
    }
}

fn render(node: &Node, seed: u64) -> String {
    let mut d = Dice(seed | 1);
    let mut out = String::new();
    comment(&mut out, 0, &mut d);
    match node {
        Node::Seq(items) => items_at(items, 0, &mut d, &mut out),
        Node::Map(entries) => entries_at(entries, 0, &mut d, &mut out, false),
        other => entries_at(&[("k".into(), other.clone())], 0, &mut d, &mut out, false),
    }
    if d.roll(4) == 0 {
        out.pop();
    }
    out
}

/// Characters whose insertion or removal moves a document across the subset's edges.
#[rustfmt::skip]
const EDITS: &[&str] = &[
    " ", "  ", "\n", "-", "- ", ":", ": ", "#", " #", "'", "\"", "\\", "[", "]", ",", "\t",
    "\r", "é", "---\n", "&a ", "*a", "!!str ", "|", ">", "?", "{", "}", "\u{85}", "\u{feff}",
    "\u{a0}", "\u{2028}", "\u{3000}", "...\n", "%YAML 1.2\n",
];

fn edit(text: &str, edits: &[(usize, usize, bool)]) -> String {
    let mut t: Vec<char> = text.chars().collect();
    for &(at, which, insert) in edits {
        let at = if t.is_empty() { 0 } else { at % (t.len() + 1) };
        if insert || t.is_empty() || at == t.len() {
            let s = EDITS[which % EDITS.len()];
            for (i, c) in s.chars().enumerate() {
                t.insert(at + i, c);
            }
        } else {
            t.remove(at);
        }
    }
    t.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_fast_path_gives_granit_parsers_events_or_declines(node in tree(), seed in any::<u64>()) {
        let text = render(&node, seed);
        if let Err(e) = fast_path_agrees(&text) {
            prop_assert!(false, "{e}\n--- text ---\n{text}");
        }
    }

    #[test]
    fn edited_documents_still_agree_or_are_declined(
        node in tree(),
        seed in any::<u64>(),
        edits in prop::collection::vec((any::<usize>(), any::<usize>(), any::<bool>()), 1..4),
    ) {
        let text = edit(&render(&node, seed), &edits);
        if let Err(e) = fast_path_agrees(&text) {
            prop_assert!(false, "{e}\n--- text ---\n{text}");
        }
    }
}

/// A one-line flow list of `n` items, and the best of three runs' time of the fast
/// path's tokens for it.
fn flow_line(n: usize, item: &str) -> (Option<usize>, std::time::Duration) {
    let text = format!("id: a\nx: [{}]\n", vec![item; n].join(", "));
    crate::scaling::timed(|| super::tokens(&text).map(|t| t.len()))
}

// Regression: each item's column asked whether the line up to it was ASCII, over the
// whole prefix: quadratic in the line (an 8 MB one-line list: 117 s, 0.5 s now).
#[test]
fn a_long_one_line_list_is_read_in_time_linear_in_it() {
    let (small, small_t) = flow_line(3_000, "a");
    let (big, big_t) = flow_line(30_000, "a");
    assert!(small.is_some_and(|n| n > 3_000) && big.is_some_and(|n| n > 30_000));
    crate::scaling::assert_near_linear("flow line", small_t, big_t);
    // A line that is not all ASCII: its columns are counted in characters, and the
    // fast path agrees with granit-parser; a long one is left to granit-parser.
    let short = format!("id: a\nx: [{}]\n", vec!["lä"; 100].join(", "));
    assert_eq!(fast_path_agrees(&short), Ok(true));
    assert_eq!(flow_line(3_000, "lä").0, None);
}
