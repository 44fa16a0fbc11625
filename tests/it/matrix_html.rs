//! The HTML scope matrix in a real browser: headless Chromium renders the page from a
//! `file://` URL, with every request it makes sent to a proxy on loopback that records
//! it. The page must show every scope and make no request.
//!
//! Chromium contacts a few Google hosts on its own whatever the page holds (network
//! time, sign-in, search preconnect), and no flag turns them all off; those exact
//! hosts are ignored. A control page with an `<img>` on example.org proves the proxy
//! sees a page's requests, and the same image inside the real page proves its
//! Content-Security-Policy blocks them.

// The skip message and timings are for whoever runs the tests.
#![allow(clippy::print_stderr)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::matrix::{fixture, matrix};
use serde_json::Value;

/// Hosts Chromium itself contacts in headless mode, page or no page.
const CHROMIUM_OWN: &[&str] = &[
    "accounts.google.com",
    "www.google.com",
    "clients2.google.com",
    "update.googleapis.com",
    "optimizationguide-pa.googleapis.com",
    "safebrowsingohttpgateway.googleapis.com",
];

const TIMEOUT: Duration = Duration::from_secs(60);

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let p = PathBuf::from("/usr/bin/chromium");
    p.exists().then_some(p)
}

/// A proxy that answers every request with 502 and records the host it was for.
struct Recorder {
    port: u16,
    hosts: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hosts = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&hosts);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                seen.lock().unwrap().push(host_of(&head));
                let _ = s.write_all(
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Recorder { port, hosts }
    }

    /// Requests since the last call that Chromium did not make on its own.
    fn take_page_requests(&self) -> Vec<String> {
        std::mem::take(&mut *self.hosts.lock().unwrap())
            .into_iter()
            .filter(|h| !CHROMIUM_OWN.contains(&h.as_str()))
            .collect()
    }
}

/// `GET http://host/path HTTP/1.1` or `CONNECT host:443 HTTP/1.1` to `host`; an
/// unreadable request is recorded whole (and so counts).
fn host_of(head: &str) -> String {
    let target = head.split_whitespace().nth(1).unwrap_or(head);
    let rest = target.split_once("://").map_or(target, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority
        .rsplit_once(':')
        .map_or(authority, |(h, _)| h)
        .to_string()
}

/// Chromium's `--dump-dom` of a local file, through the recording proxy.
fn render(chromium: &Path, page: &Path, proxy: u16) -> String {
    render_with(chromium, page, proxy, &[])
}

/// [`render`] with more Chromium arguments (a window size).
fn render_with(chromium: &Path, page: &Path, proxy: u16, extra: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = tempfile::NamedTempFile::new().unwrap();
    let started = Instant::now();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--proxy-server=http://127.0.0.1:{proxy}"))
        // Loopback goes through the proxy too: nothing bypasses it.
        .arg("--proxy-bypass-list=<-loopback>")
        .args(extra)
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(out.reopen().unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium exited with {status}");
            break;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let the proxy thread record any connection still in flight.
    std::thread::sleep(Duration::from_millis(300));
    eprintln!(
        "chromium rendered {} in {:?}",
        page.display(),
        started.elapsed()
    );
    std::fs::read_to_string(out.path()).unwrap()
}

/// The text of a DOM dump: tags dropped (block and cell tags as a space; the inline
/// `span`, `wbr` and `code` as nothing, as a reader sees them), the five entities the
/// page uses decoded.
fn text_of(dom: &str) -> String {
    let mut out = String::new();
    let mut tag: Option<String> = None;
    for ch in dom.chars() {
        match (ch, &mut tag) {
            ('<', None) => tag = Some(String::new()),
            ('>', Some(t)) => {
                let name = t
                    .trim_start_matches('/')
                    .split([' ', '/'])
                    .next()
                    .unwrap_or("");
                if !matches!(name, "span" | "wbr" | "code") {
                    out.push(' ');
                }
                tag = None;
            }
            (c, Some(t)) => t.push(c),
            (c, None) => out.push(c),
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[test]
fn the_html_matrix_shows_every_scope_in_chromium_and_makes_no_request() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not installed, and CI is set: `.ci/run` installs it (apt-get install chromium)"
        );
        eprintln!(
            "\n!!! SKIPPED: /usr/bin/chromium is not installed, so the HTML matrix was not rendered.\n!!! Install it (apt-get install chromium) or set CHROMIUM=/path/to/chromium.\n"
        );
        return;
    };
    let d = fixture();
    let html = matrix(d.path(), "html");
    let json: Value = serde_json::from_str(&matrix(d.path(), "json")).unwrap();
    let scopes: Vec<&str> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["scope"].as_str().unwrap())
        .collect();
    assert!(scopes.len() > 20, "the fixture has three apps' scopes");
    let proxy = Recorder::start();
    let dir = tempfile::tempdir().unwrap();

    // Control: a page without the policy; its image request reaches the proxy.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><html><body><p>control</p><img src=\"http://example.org/x.png\"></body></html>",
    )
    .unwrap();
    render(&chromium, &control, proxy.port);
    assert_eq!(
        proxy.take_page_requests(),
        ["example.org"],
        "the proxy must see a page's requests, or the checks below prove nothing"
    );

    // The matrix page.
    let page = dir.path().join("matrix.html");
    std::fs::write(&page, &html).unwrap();
    let dom = render(&chromium, &page, proxy.port);
    let text = text_of(&dom);
    assert!(text.contains("Scope matrix"), "{dom}");
    for s in &scopes {
        assert!(text.contains(s), "`{s}` is not on the rendered page");
    }
    assert_eq!(proxy.take_page_requests(), Vec::<String>::new());

    // The same page with an image smuggled in: its policy blocks the request.
    let smuggled = dir.path().join("smuggled.html");
    std::fs::write(
        &smuggled,
        html.replacen(
            "<body>",
            "<body><img src=\"http://example.org/csp.png\">",
            1,
        ),
    )
    .unwrap();
    render(&chromium, &smuggled, proxy.port);
    assert_eq!(proxy.take_page_requests(), Vec::<String>::new());
}

/// Measures, in the page, every piece of every scope: a piece laid out on more than one
/// line is a scope broken mid-token. The result is written to `data-result` on
/// `<body>` for `--dump-dom`. (The policy is removed so that the script runs.)
const MEASURE: &str = "<script>
const out = [];
for (const c of document.querySelectorAll('code.scope')) {
  const tops = new Set();
  for (const s of c.querySelectorAll('span')) {
    const rects = [...s.getClientRects()];
    if (rects.length !== 1) out.push('BROKEN:' + s.textContent);
    rects.forEach(r => tops.add(Math.round(r.top)));
  }
  if (tops.size > 1) out.push('WRAPPED:' + c.textContent);
}
document.body.setAttribute('data-result', out.join('|'));
</script>";

fn measured(chromium: &Path, html: &str, proxy: u16) -> String {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("measure.html");
    let open = html.replacen(
        "<meta http-equiv=\"Content-Security-Policy\"",
        "<meta name=\"x-csp\"",
        1,
    );
    std::fs::write(
        &page,
        open.replacen("</body>", &format!("{MEASURE}</body>"), 1),
    )
    .unwrap();
    let dom = render_with(chromium, &page, proxy, &["--window-size=480,900"]);
    let start = dom.find("data-result=\"").expect("the script ran") + "data-result=\"".len();
    dom[start..start + dom[start..].find('"').unwrap()].to_string()
}

/// In a narrow window, scopes wrap (so the check means something), but only between
/// the pieces the page allows (after `/`, `.`, `?`, `,`, `&`), never inside one.
/// Control: with the page's `code.scope` rules removed, Chromium does break a piece.
#[test]
fn scope_names_never_break_mid_token_in_chromium() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not installed, and CI is set"
        );
        eprintln!("\n!!! SKIPPED: chromium is not installed; scope wrapping was not measured.\n");
        return;
    };
    let d = fixture();
    let html = matrix(d.path(), "html");
    assert!(html.contains("code.scope span { white-space: nowrap; }"));
    let proxy = Recorder::start();
    let result = measured(&chromium, &html, proxy.port);
    assert!(
        result.contains("WRAPPED:"),
        "no scope wrapped at this width: {result}"
    );
    assert!(!result.contains("BROKEN:"), "{result}");

    let loose = html
        .replace(
            "code.scope { overflow-wrap: normal; word-break: normal; }",
            "",
        )
        .replace("code.scope span { white-space: nowrap; }", "");
    let result = measured(&chromium, &loose, proxy.port);
    assert!(
        result.contains("BROKEN:"),
        "the control did not break a piece: {result}"
    );
}

#[test]
fn request_targets_name_their_host() {
    assert_eq!(
        host_of("GET http://example.org/x.png HTTP/1.1\r\n"),
        "example.org"
    );
    assert_eq!(
        host_of("CONNECT www.google.com:443 HTTP/1.1\r\n"),
        "www.google.com"
    );
    assert_eq!(host_of("garbage"), "garbage");
}
