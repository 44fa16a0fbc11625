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

/// The text of a DOM dump: tags dropped, the five entities the page uses decoded.
fn text_of(dom: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in dom.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
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
