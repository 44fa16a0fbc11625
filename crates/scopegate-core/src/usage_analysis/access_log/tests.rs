use proptest::prelude::*;

use super::*;

/// A small deterministic generator (xorshift), so a failure replays.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len())]
    }
}

/// Mostly none, sometimes spaces, rarely a tab (which the scanner leaves to serde_json).
fn space(rng: &mut Rng) -> &'static str {
    match rng.below(600) {
        0 => "\t ",
        1 => "\r",
        2..=40 => " ",
        41..=50 => "  ",
        _ => "",
    }
}

/// String values as they appear in JSON text: plain, escaped, unicode, broken.
const STRINGS: [&str; 12] = [
    r#""plain""#,
    r#""with \"quote\"""#,
    r#""back\\slash""#,
    r#""\u0074enant""#,
    r#""caf\u00e9""#,
    "\"café ☕\"",
    r#""a\/b""#,
    r#""tab	in""#,
    r#""""#,
    r#""\ud83d\ude00""#,
    r#""bad \x escape""#,
    r#""unterminated"#,
];

const NUMBERS: [&str; 14] = [
    "0",
    "200",
    "404",
    "65535",
    "65536",
    "-1",
    "200.0",
    "2e2",
    "0200",
    "1e999",
    "-0",
    "12345678901234567890",
    "1.",
    "\"200\"",
];

const IGNORED: [&str; 14] = [
    r#""Practitioner/7""#,
    "912",
    "-3.5e-2",
    "true",
    "false",
    "null",
    r#"{"a":[1,2,{"b":null}]}"#,
    "[]",
    "\"naïve\"",
    r#""esc\"aped""#,
    "tru",
    "01",
    "1e",
    "nul",
];

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "get", "DELETE", "BREW"];

const URLS: [&str; 12] = [
    "https://ehr.example.org/fhir/R4/Observation/1",
    "/Observation?patient=1&category=laboratory",
    "/Observation?category=http://terminology.hl7.org/CodeSystem/observation-category%7Cvital-signs",
    "/Condition/9/_history/2",
    "/Patient/1/$everything",
    "/metadata",
    "/Observation/_search",
    "/",
    "/?_type=Observation,Condition",
    "/Obsevation/1",
    "/Task/3",
    "/Patient/1/Observation",
];

const TIMES: [&str; 5] = [
    "2026-11-02T10:00:00Z",
    "2026-11-02T10:00:00.123+02:00",
    "2026-09-30T23:59:59Z",
    "2026-11-02",
    "yesterday",
];

fn quoted(s: &str) -> String {
    format!("\"{s}\"")
}

/// One access-log line, usually well-formed and in the common shape, often not:
/// escaped and unicode strings, odd spacing, reordered, extra, duplicated or missing
/// keys, nested `entries`, a `body`, odd statuses, truncation and trailing bytes.
pub(crate) fn line(rng: &mut Rng) -> Vec<u8> {
    let mut fields: Vec<(String, String)> = vec![
        ("time".into(), quoted(rng.pick(&TIMES))),
        (
            "tenant".into(),
            quoted(rng.pick(&["north", "south", "west", "nörth"])),
        ),
        ("app".into(), quoted(rng.pick(&["app", "app", "other"]))),
        ("method".into(), quoted(rng.pick(&METHODS))),
        ("url".into(), quoted(rng.pick(&URLS))),
        (
            "status".into(),
            rng.pick(&["200", "201", "403", "500"]).into(),
        ),
    ];
    if rng.below(3) == 0 {
        fields.push(("user".into(), rng.pick(&IGNORED).into()));
    }
    if rng.below(4) == 0 {
        fields.push(("latency_ms".into(), rng.pick(&NUMBERS).into()));
    }
    match rng.below(12) {
        0 => fields.push(("body".into(), quoted("category=laboratory&patient=1"))),
        1 => fields.push(("body".into(), "null".into())),
        2 => {
            fields[3].1 = quoted("POST");
            fields[4].1 = quoted("/");
            fields.push((
                "entries".into(),
                r#"[{"method":"GET","url":"/Observation/1"},{"method":"PUT","url":"/Task/2","status":409}]"#.into(),
            ));
        }
        _ => {}
    }
    match rng.below(20) {
        0 => fields[rng.below(6)].1 = rng.pick(&STRINGS).into(),
        1 => fields[5].1 = rng.pick(&NUMBERS).into(),
        2 => {
            let i = rng.below(fields.len());
            fields.remove(i);
        }
        3 => {
            let i = rng.below(fields.len());
            let dup = fields[i].clone();
            fields.push(dup);
        }
        4 => fields[rng.below(6)].0 = rng.pick(&["t\\u0069me", "Time", "tenant ", "ürl"]).into(),
        5 => fields[rng.below(6)].1 = rng.pick(&IGNORED).into(),
        _ => {}
    }
    if rng.below(3) == 0 {
        for _ in 0..4 {
            let (a, b) = (rng.below(fields.len()), rng.below(fields.len()));
            fields.swap(a, b);
        }
    }
    let mut s = String::from("{");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            s.push_str(space(rng));
            s.push(',');
        }
        s.push_str(space(rng));
        s.push_str(&format!("\"{k}\""));
        s.push_str(space(rng));
        s.push(':');
        s.push_str(space(rng));
        s.push_str(v);
    }
    s.push_str(space(rng));
    s.push('}');
    let mut b = s.into_bytes();
    match rng.below(40) {
        0 => b.truncate(rng.below(b.len())),
        1 => b.extend_from_slice(b" x"),
        2 => b.extend_from_slice(b"}"),
        3 => b.insert(b.len() - 1, b','),
        4 => {
            // Not UTF-8, in a field or in an ignored value.
            let i = rng.below(b.len());
            b[i] = 0xff;
        }
        5 => {
            let i = rng.below(b.len());
            b[i] = 0x01;
        }
        _ => {}
    }
    b
}

/// The scanner's contract: when it answers, serde_json gives the same record.
fn agrees(line: &[u8]) -> Result<bool, TestCaseError> {
    let Some(fast) = scan(line) else {
        return Ok(false);
    };
    match parse_serde(line) {
        Ok(reference) => prop_assert_eq!(fast, reference, "{}", String::from_utf8_lossy(line)),
        Err(e) => prop_assert!(
            false,
            "scanner accepted what serde_json refuses ({e}): {}",
            String::from_utf8_lossy(line)
        ),
    }
    Ok(true)
}

#[test]
fn the_scanner_and_serde_agree_on_generated_lines() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut fast, n) = (0, 50_000);
    let mut declined = Vec::new();
    for _ in 0..n {
        let l = line(&mut rng);
        if agrees(&l).unwrap() {
            fast += 1;
        } else if declined.len() < 5 && parse_serde(&l).is_ok() {
            declined.push(String::from_utf8_lossy(&l).into_owned());
        }
        assert_eq!(
            parse(&l),
            parse_serde(&l),
            "{}",
            String::from_utf8_lossy(&l)
        );
    }
    // The fast path must carry the common shape, not decline everything (the generator
    // makes most lines odd somewhere: about 40% are in the common shape).
    assert!(
        fast > n / 4,
        "only {fast} of {n} lines took the fast path: {declined:?}"
    );
}

#[test]
fn the_benchmarks_line_shape_takes_the_fast_path() {
    let l = br#"{"time":"2026-11-01T00:00:00.000Z","tenant":"south","app":"bench-app","method":"GET","url":"https://ehr-south.example.org/fhir/R4/Device/414002","status":200,"user":"Practitioner/37","latency_ms":840}"#;
    let r = scan(l).expect("fast path");
    assert_eq!(r, parse_serde(l).unwrap());
    assert_eq!((r.tenant.as_ref(), r.status), ("south", 200));
}

#[test]
fn the_scanner_declines_what_it_does_not_read_itself() {
    for l in [
        r#"{"time":"t","tenant":"a\"b","app":"x","method":"GET","url":"/","status":200}"#,
        r#"{"time":"t","tenant":"n","app":"x","method":"POST","url":"/","status":200,"entries":[]}"#,
        r#"{"time":"t","tenant":"n","app":"x","method":"GET","url":"/","status":200,"body":null}"#,
        r#"{"time":"t","tenant":"n","app":"x","method":"GET","url":"/","status":200,"status":201}"#,
        r#"{"time":"t","tenant":"n","app":"x","method":"GET","url":"/","status":200.0}"#,
        r#"{"time":"t","tenant":"n","app":"x","method":"GET","url":"/","status":200,}"#,
        r#"{"time":"t","tenant":"n","app":"x","method":"GET","url":"/"}"#,
        r#"["t","n","x","GET","/",200]"#,
    ] {
        assert_eq!(scan(l.as_bytes()), None, "{l}");
    }
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just(",".to_string()),
        Just(":".to_string()),
        Just(" ".to_string()),
        prop::sample::select(vec![
            "\"time\"",
            "\"tenant\"",
            "\"app\"",
            "\"method\"",
            "\"url\"",
            "\"status\"",
            "\"body\"",
            "\"entries\"",
            "\"x\"",
        ])
        .prop_map(str::to_string),
        prop::sample::select(STRINGS.to_vec()).prop_map(str::to_string),
        prop::sample::select(NUMBERS.to_vec()).prop_map(str::to_string),
        prop::sample::select(IGNORED.to_vec()).prop_map(str::to_string),
        "[ -~]{0,6}",
    ]
}

proptest! {
    #[test]
    fn the_scanner_never_contradicts_serde_on_token_soup(pieces in prop::collection::vec(piece(), 0..40)) {
        agrees(pieces.concat().as_bytes())?;
    }

    #[test]
    fn the_scanner_never_contradicts_serde_on_mutated_lines(seed in any::<u64>(), at in any::<usize>(), byte in any::<u8>()) {
        let mut l = line(&mut Rng(seed | 1));
        if !l.is_empty() {
            let i = at % l.len();
            l[i] = byte;
        }
        agrees(&l)?;
    }
}

/// FHIR R4 bundle-definitions.html#Bundle.entry.response.status: "SHALL start with a 3
/// digit HTTP code (e.g. 404) and may contain the standard HTTP description".
#[test]
fn entry_status_reads_fhirs_string_form_and_numbers() {
    let entry = |status: &str| {
        format!(
            r#"{{"time":"t","tenant":"n","app":"x","method":"POST","url":"/","status":200,"entries":[{{"method":"GET","url":"/Patient/1","status":{status}}}]}}"#
        )
    };
    for (status, want) in [
        ("200", Some(200)),
        (r#""200 OK""#, Some(200)),
        (r#""201 Created""#, Some(201)),
        (r#""404""#, Some(404)),
        (r#""403 Forbidden: no scope""#, Some(403)),
        ("null", None),
    ] {
        let line = entry(status);
        let r = parse(line.as_bytes()).unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(r.entries.unwrap()[0].status, want, "{status}");
    }
    for status in [
        r#""OK""#,
        r#""OK 200""#,
        r#"" 200 OK""#,
        r#""200OK""#,
        r#""2000 OK""#,
        r#""20 OK""#,
        r#""099 x""#,
        r#""600 x""#,
        r#""200\tOK""#,
        r#""""#,
        "200.0",
        "-1",
        "70000",
        "true",
        "[200]",
    ] {
        let line = entry(status);
        let e = parse(line.as_bytes()).expect_err(status);
        assert!(e.contains("HTTP status"), "{status}: {e}");
    }
}
