//! A fake GitHub REST API on loopback, for driving the real binary through
//! `GITHUB_API_URL`. It speaks the real shapes (issue comments with `Link` pagination,
//! pull request reviews and commits, the contents API, the git trees API (built from the same
//! files as the contents API), tags, compare, team membership, the authenticated user), keeps state across requests, records every request, and can
//! inject faults (403, 404, 422, 429 with `retry-after`, 502, 3xx redirects, slow
//! responses, "committed then failed" writes, and bodies that are huge, endless or
//! drip a byte at a time), and can list comments or tags without end.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Path and query, without any `/api/v3` prefix.
    pub path: String,
    /// The request target exactly as received (with any `/api/v3` prefix).
    pub raw_path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Clone, Debug)]
pub struct Comment {
    pub id: u64,
    pub login: String,
    pub body: String,
}

/// A scripted failure: the next `times` requests matching `method` and containing
/// `path_contains` get this response. With `apply`, the request's effect happens first
/// (a write that committed on the server but failed on the way back).
#[derive(Clone, Debug)]
pub struct Fault {
    pub method: &'static str,
    pub path_contains: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
    pub apply: bool,
    /// Answer with this status and body even when the status is a success
    /// (a canned reply, e.g. a directory listing), instead of routing normally.
    pub replace: bool,
    pub times: usize,
    /// Send this body instead of `body` (which is then ignored).
    pub stream: Option<Stream>,
}

/// A body that is not a plain string.
#[derive(Clone, Copy, Debug)]
pub enum Stream {
    /// `content-length: n`, then `n` bytes of `[`-led filler.
    Sized(u64),
    /// Chunked, never ending.
    Endless,
    /// Chunked, one byte every interval, never ending.
    Drip(Duration),
    /// Chunked, `n` bytes, without announcing the length.
    Chunked(u64),
}

impl Fault {
    pub fn new(method: &'static str, path_contains: &str, status: u16) -> Fault {
        Fault {
            method,
            path_contains: path_contains.to_string(),
            status,
            headers: Vec::new(),
            body: json!({"message": format!("injected {status}")}).to_string(),
            delay: Duration::ZERO,
            apply: false,
            replace: false,
            times: 1,
            stream: None,
        }
    }
    pub fn stream(mut self, s: Stream) -> Fault {
        self.stream = Some(s);
        self
    }
    pub fn header(mut self, k: &str, v: &str) -> Fault {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }
    pub fn body(mut self, b: &str) -> Fault {
        self.body = b.to_string();
        self
    }
    pub fn delay(mut self, d: Duration) -> Fault {
        self.delay = d;
        self
    }
    pub fn applied(mut self) -> Fault {
        self.apply = true;
        self
    }
    pub fn replace(mut self) -> Fault {
        self.replace = true;
        self
    }
    pub fn times(mut self, n: usize) -> Fault {
        self.times = n;
        self
    }
}

#[derive(Default)]
pub struct State {
    pub requests: Vec<Request>,
    pub comments: Vec<Comment>,
    pub next_id: u64,
    /// The login the token authenticates as; `None` makes `GET /user` answer 403 like
    /// an Actions installation token, whose comments appear as `github-actions[bot]`.
    pub user: Option<String>,
    /// Who a comment the token creates is posted as, when `user` is `None`: a GitHub
    /// App's installation token (which cannot read `/user` either) posts as
    /// `<app-slug>[bot]`. Default: `github-actions[bot]`.
    pub app_bot: Option<String>,
    pub reviews: Vec<Value>,
    /// `(path, ref)` → bytes.
    pub contents: HashMap<(String, String), Vec<u8>>,
    /// `(path, ref)` → the target of a symlink there. As on GitHub, the contents API
    /// answers a link to a file with the file, any other link with the link itself,
    /// and a path beyond a link with 404 (it follows no directory link).
    pub symlinks: HashMap<(String, String), String>,
    /// `(name, sha)`, newest first as GitHub lists them.
    pub tags: Vec<(String, String)>,
    /// Branch name → the commit at its tip (`git/ref/heads/{branch}`, which names
    /// branches only, never a tag of the same name).
    pub branches: HashMap<String, String>,
    /// `(base, head)` → `ahead`, `behind`, `identical`, `diverged`.
    pub compare: HashMap<(String, String), String>,
    /// `(org, team)` → members; a team missing from the map answers 404.
    pub teams: HashMap<(String, String), Vec<String>>,
    pub faults: VecDeque<Fault>,
    /// Pull request number → head commit.
    pub pulls: HashMap<u64, String>,
    /// Pull request number → the login that opened it (`user.login`).
    pub pull_authors: HashMap<u64, String>,
    /// The commits `GET /repos/{o}/{r}/pulls/{n}/commits` lists, oldest first.
    pub pr_commits: Vec<Value>,
    /// Pull request number → base commit, author and head repository (`owner/name`);
    /// a PR missing here reports base `0…0`, author `dev`, head repo `acme/app`.
    pub pull_meta: HashMap<u64, (String, String, String)>,
    /// Refs whose recursive tree listing GitHub cuts short (`truncated: true`).
    pub truncated_trees: Vec<String>,
    /// Comment and tag listings never end: every page is full and links a next one.
    /// The value is the size of each item's filler text.
    pub endless_pages: Option<usize>,
    /// Commit statuses created, `(sha, the request body)`, oldest first.
    pub statuses: Vec<(String, Value)>,
}

pub struct FakeGitHub {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    pub fn start() -> FakeGitHub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            next_id: 1000,
            ..State::default()
        }));
        let s = state.clone();
        let base = url.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let s = s.clone();
                let base = base.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &s, &base);
                });
            }
        });
        FakeGitHub { url, state }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    pub fn requests(&self) -> Vec<Request> {
        self.with(|s| s.requests.clone())
    }

    pub fn comments(&self) -> Vec<Comment> {
        self.with(|s| s.comments.clone())
    }

    /// Commit statuses created, `(sha, body)`.
    pub fn statuses(&self) -> Vec<(String, Value)> {
        self.with(|s| s.statuses.clone())
    }

    /// Requests that wrote comments (create or update).
    pub fn writes(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method != "GET" && r.path.contains("/comments"))
            .collect()
    }

    pub fn add_comment(&self, login: &str, body: &str) -> u64 {
        self.with(|s| {
            s.next_id += 1;
            let id = s.next_id;
            s.comments.push(Comment {
                id,
                login: login.to_string(),
                body: body.to_string(),
            });
            id
        })
    }

    pub fn add_review(&self, login: &str, state: &str, commit: &str) {
        self.with(|s| {
            let id = s.reviews.len() as u64 + 1;
            s.reviews.push(json!({
                "id": id,
                "user": {"login": login, "type": "User"},
                "state": state,
                "commit_id": commit,
                "submitted_at": format!("2026-11-28T10:{:02}:00Z", id % 60),
                "body": "",
            }));
        })
    }

    /// A commit of the pull request as the PR commits API lists it: `author` and
    /// `committer` are the GitHub logins the git identities map to (`None`: GitHub
    /// links no account, and sends `null`).
    pub fn add_pr_commit(
        &self,
        sha: &str,
        author: Option<&str>,
        committer: Option<&str>,
        message: &str,
    ) {
        let user = |l: Option<&str>| match l {
            Some(l) => json!({"login": l, "id": l.len(), "type": "User"}),
            None => Value::Null,
        };
        let person = |l: Option<&str>| {
            let who = l.unwrap_or("someone");
            json!({"name": who, "email": format!("{who}@example.org"), "date": "2026-11-28T10:00:00Z"})
        };
        self.with(|s| {
            s.pr_commits.push(json!({
                "sha": sha,
                "node_id": format!("C_{sha}"),
                "commit": {
                    "author": person(author),
                    "committer": person(committer),
                    "message": message,
                    "tree": {"sha": "0".repeat(40)},
                },
                "author": user(author),
                "committer": user(committer),
                "parents": [],
            }))
        })
    }

    /// Opens pull request `n`: its head and base commits, its author, and the
    /// repository its head lives in.
    pub fn add_pull(&self, n: u64, head: &str, base: &str, author: &str, head_repo: &str) {
        self.with(|s| {
            s.pulls.insert(n, head.to_string());
            s.pull_meta.insert(
                n,
                (base.to_string(), author.to_string(), head_repo.to_string()),
            );
        })
    }

    pub fn fault(&self, f: Fault) {
        self.with(|s| s.faults.push_back(f));
    }
}

fn serve(stream: TcpStream, state: &Arc<Mutex<State>>, base: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        let path = target
            .strip_prefix("/api/v3")
            .unwrap_or(&target)
            .to_string();
        // `Link` URLs keep the prefix the client used, as GHES's do.
        let link_base = if path.len() < target.len() {
            format!("{base}/api/v3")
        } else {
            base.to_string()
        };
        let req = Request {
            method,
            path,
            raw_path: target,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        let (status, extra, body, delay, stream) = respond(state, &req, &link_base);
        std::thread::sleep(delay);
        let reason = match status {
            200 => "OK",
            204 => "No Content",
            301 => "Moved Permanently",
            302 => "Found",
            304 => "Not Modified",
            307 => "Temporary Redirect",
            401 => "Unauthorized",
            201 => "Created",
            403 => "Forbidden",
            404 => "Not Found",
            422 => "Unprocessable Entity",
            429 => "Too Many Requests",
            500 => "Internal Server Error",
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            _ => "Status",
        };
        let length = match stream {
            None => format!("content-length: {}\r\n", body.len()),
            Some(Stream::Sized(n)) => format!("content-length: {n}\r\n"),
            Some(_) => "transfer-encoding: chunked\r\n".to_string(),
        };
        let mut head = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json; charset=utf-8\r\n{length}"
        );
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes())?;
        match stream {
            None => out.write_all(body.as_bytes())?,
            Some(s) => return send_stream(&mut out, s),
        }
        out.flush()?;
    }
}

/// Writes a streamed body; returns when the client hangs up (or the body ends, and
/// then the connection is closed).
fn send_stream(out: &mut TcpStream, s: Stream) -> std::io::Result<()> {
    let block = vec![b' '; 64 << 10];
    let chunk = |out: &mut TcpStream, data: &[u8]| -> std::io::Result<()> {
        out.write_all(format!("{:x}\r\n", data.len()).as_bytes())?;
        out.write_all(data)?;
        out.write_all(b"\r\n")
    };
    match s {
        Stream::Sized(mut n) => {
            out.write_all(b"[")?;
            n = n.saturating_sub(1);
            while n > 0 {
                let k = n.min(block.len() as u64) as usize;
                out.write_all(&block[..k])?;
                n -= k as u64;
            }
        }
        Stream::Chunked(mut n) => {
            chunk(out, b"[")?;
            n = n.saturating_sub(1);
            while n > 0 {
                let k = n.min(block.len() as u64) as usize;
                chunk(out, &block[..k])?;
                n -= k as u64;
            }
            out.write_all(b"0\r\n\r\n")?;
        }
        Stream::Endless => {
            chunk(out, b"[")?;
            loop {
                chunk(out, &block)?;
            }
        }
        Stream::Drip(every) => loop {
            chunk(out, b" ")?;
            out.flush()?;
            std::thread::sleep(every);
        },
    }
    out.flush()?;
    out.shutdown(std::net::Shutdown::Both)
}

type Response = (u16, Vec<(String, String)>, String, Duration, Option<Stream>);

fn ok(v: Value) -> Response {
    (200, Vec::new(), v.to_string(), Duration::ZERO, None)
}

fn status(code: u16, message: &str) -> Response {
    (
        code,
        Vec::new(),
        json!({"message": message}).to_string(),
        Duration::ZERO,
        None,
    )
}

fn respond(state: &Arc<Mutex<State>>, req: &Request, base: &str) -> Response {
    let mut s = state.lock().unwrap();
    s.requests.push(req.clone());
    let fault_at = s
        .faults
        .iter()
        .position(|f| f.method == req.method && req.path.contains(&f.path_contains));
    if let Some(i) = fault_at {
        let f = s.faults[i].clone();
        if f.times <= 1 {
            s.faults.remove(i);
        } else {
            s.faults[i].times -= 1;
        }
        if f.apply {
            let _ = route(&mut s, req, base);
        }
        if f.status < 300 && !f.replace && f.stream.is_none() {
            // A slow but successful response.
            let mut r = route(&mut s, req, base);
            r.3 = f.delay;
            return r;
        }
        return (f.status, f.headers, f.body, f.delay, f.stream);
    }
    route(&mut s, req, base)
}

fn query(path: &str) -> (String, HashMap<String, String>) {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let params = q
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (p.to_string(), params)
}

fn paginate(items: &[Value], path: &str, params: &HashMap<String, String>, base: &str) -> Response {
    let per_page: usize = params
        .get("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
        .min(100);
    let page: usize = params
        .get("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    let mut headers = Vec::new();
    if page < last {
        let link = |p: usize| format!("<{base}{path}?per_page={per_page}&page={p}>");
        headers.push((
            "link".to_string(),
            format!(
                "{}; rel=\"next\", {}; rel=\"last\"",
                link(page + 1),
                link(last)
            ),
        ));
    }
    (
        200,
        headers,
        Value::Array(slice).to_string(),
        Duration::ZERO,
        None,
    )
}

/// A full page of `filler`-sized items, always with a next page.
fn endless(path: &str, params: &HashMap<String, String>, base: &str, filler: usize) -> Response {
    let page: usize = params
        .get("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let text = "x".repeat(filler);
    let items: Vec<Value> = (0..100)
        .map(|i| {
            json!({"id": page * 1000 + i, "user": {"login": "someone"}, "body": text,
                   "name": text, "commit": {"sha": "0"}})
        })
        .collect();
    let link = format!(
        "<{base}{path}?per_page=100&page={}>; rel=\"next\"",
        page + 1
    );
    (
        200,
        vec![("link".to_string(), link)],
        Value::Array(items).to_string(),
        Duration::ZERO,
        None,
    )
}

fn comment_json(c: &Comment) -> Value {
    json!({
        "id": c.id,
        "node_id": format!("IC_{}", c.id),
        "user": {"login": c.login, "type": if c.login.ends_with("[bot]") { "Bot" } else { "User" }},
        "body": c.body,
        "created_at": "2026-11-28T10:00:00Z",
        "updated_at": "2026-11-28T10:00:00Z",
    })
}

fn route(s: &mut State, req: &Request, base: &str) -> Response {
    let (path, params) = query(&req.path);
    let seg: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let author = || {
        s.user
            .clone()
            .or_else(|| s.app_bot.clone())
            .unwrap_or_else(|| "github-actions[bot]".to_string())
    };
    match (req.method.as_str(), seg.as_slice()) {
        ("GET", ["user"]) => match &s.user {
            Some(u) => ok(json!({"login": u, "type": "User"})),
            None => status(403, "Resource not accessible by integration"),
        },
        ("GET", ["repos", _, _, "issues", _, "comments"] | ["repos", _, _, "tags"])
            if s.endless_pages.is_some() =>
        {
            endless(&path, &params, base, s.endless_pages.unwrap_or(0))
        }
        ("DELETE", ["repos", _, _, "issues", "comments", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            match s.comments.iter().position(|c| c.id == id) {
                Some(i) => {
                    s.comments.remove(i);
                    (204, Vec::new(), String::new(), Duration::ZERO, None)
                }
                None => status(404, "Not Found"),
            }
        }
        ("GET", ["repos", _, _, "issues", _, "comments"]) => {
            let items: Vec<Value> = s.comments.iter().map(comment_json).collect();
            paginate(&items, &path, &params, base)
        }
        ("POST", ["repos", _, _, "statuses", sha]) => {
            // GitHub: `state` one of error, failure, pending, success; `context` and
            // `description` (at most 140 characters) optional.
            let body = req.json();
            let state_ok = matches!(
                body["state"].as_str(),
                Some("error" | "failure" | "pending" | "success")
            );
            let description_ok = body["description"]
                .as_str()
                .is_none_or(|d| d.chars().count() <= 140);
            if !state_ok || !description_ok {
                return status(422, "Validation Failed");
            }
            s.statuses.push((sha.to_string(), body.clone()));
            s.next_id += 1;
            let mut created = body.clone();
            created["id"] = json!(s.next_id);
            (201, Vec::new(), created.to_string(), Duration::ZERO, None)
        }
        ("POST", ["repos", _, _, "issues", _, "comments"]) => {
            let body = req.json()["body"].as_str().unwrap_or("").to_string();
            if body.chars().count() > 65_536 {
                return status(
                    422,
                    "Validation Failed: Body is too long (maximum is 65536 characters)",
                );
            }
            s.next_id += 1;
            let c = Comment {
                id: s.next_id,
                login: author(),
                body,
            };
            s.comments.push(c.clone());
            (
                201,
                Vec::new(),
                comment_json(&c).to_string(),
                Duration::ZERO,
                None,
            )
        }
        ("PATCH" | "POST", ["repos", _, _, "issues", "comments", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            let body = req.json()["body"].as_str().unwrap_or("").to_string();
            match s.comments.iter_mut().find(|c| c.id == id) {
                Some(c) => {
                    c.body = body;
                    let v = comment_json(c);
                    ok(v)
                }
                None => status(404, "Not Found"),
            }
        }
        ("GET", ["repos", _, _, "pulls", n]) => {
            let n: u64 = n.parse().unwrap_or(0);
            match s.pulls.get(&n) {
                Some(sha) => {
                    let (base_sha, mut author, head_repo) =
                        s.pull_meta.get(&n).cloned().unwrap_or_else(|| {
                            ("0".repeat(40), "dev".to_string(), "acme/app".to_string())
                        });
                    if let Some(a) = s.pull_authors.get(&n) {
                        author.clone_from(a);
                    }
                    let repo = |full: &str| json!({"full_name": full, "name": full.rsplit('/').next().unwrap_or(""), "fork": full != "acme/app"});
                    ok(json!({
                        "url": format!("{base}/repos/acme/app/pulls/{n}"),
                        "number": n,
                        "state": "open",
                        "user": {"login": author, "type": "User"},
                        "head": {"label": "head", "ref": "topic", "sha": sha, "repo": repo(&head_repo)},
                        "base": {"label": "acme:main", "ref": "main", "sha": base_sha, "repo": repo("acme/app")},
                    }))
                }
                None => status(404, "Not Found"),
            }
        }
        ("GET", ["repos", _, _, "pulls", _, "commits"]) => {
            // GitHub lists at most 250 commits of a pull request.
            let items: Vec<Value> = s.pr_commits.iter().take(250).cloned().collect();
            paginate(&items, &path, &params, base)
        }
        ("GET", ["repos", _, _, "pulls", _, "reviews"]) => {
            let items = s.reviews.clone();
            paginate(&items, &path, &params, base)
        }
        ("GET", ["repos", _, _, "contents", rest @ ..]) => {
            // GitHub takes the path and ref percent-encoded.
            let file = percent_decode(&rest.join("/"));
            let r = percent_decode(params.get("ref").map_or("", String::as_str));
            let parts: Vec<&str> = file.split('/').collect();
            let through_link = (1..parts.len())
                .any(|i| s.symlinks.contains_key(&(parts[..i].join("/"), r.clone())));
            if through_link {
                return status(404, "Not Found");
            }
            if let Some(target) = s.symlinks.get(&(file.clone(), r.clone())) {
                let dir = file.rsplit_once('/').map_or("", |(d, _)| d);
                let resolved = link_target(dir, target);
                return match resolved.and_then(|t| s.contents.get(&(t, r.clone()))) {
                    Some(bytes) => file_reply(&file, bytes),
                    None => ok(json!({
                        "type": "symlink",
                        "target": target,
                        "name": file.rsplit('/').next().unwrap_or(""),
                        "path": file,
                    })),
                };
            }
            match s.contents.get(&(file.clone(), r.clone())) {
                Some(bytes) => file_reply(&file, bytes),
                None => {
                    // A directory: its direct entries, as the contents API lists them.
                    let prefix = format!("{file}/");
                    let mut entries: Vec<(String, &str)> = s
                        .contents
                        .keys()
                        .filter(|(p, at)| *at == r && p.starts_with(&prefix))
                        .map(|(p, _)| match p[prefix.len()..].split_once('/') {
                            Some((dir, _)) => (dir.to_string(), "dir"),
                            None => (p[prefix.len()..].to_string(), "file"),
                        })
                        .chain(
                            s.symlinks
                                .keys()
                                .filter(|(p, at)| {
                                    *at == r
                                        && p.strip_prefix(&prefix).is_some_and(|n| !n.contains('/'))
                                })
                                .map(|(p, _)| (p[prefix.len()..].to_string(), "symlink")),
                        )
                        .collect();
                    entries.sort();
                    entries.dedup();
                    if entries.is_empty() {
                        return status(404, "Not Found");
                    }
                    // GitHub lists at most 1,000 entries, and says nothing of the rest.
                    let items: Vec<Value> = entries
                        .iter()
                        .take(1000)
                        .map(|(name, kind)| {
                            json!({"type": kind, "name": name, "path": format!("{prefix}{name}")})
                        })
                        .collect();
                    ok(Value::Array(items))
                }
            }
        }
        ("GET", ["repos", _, _, "git", "ref", "heads", b @ ..]) => {
            let b = b.join("/");
            match s.branches.get(&b) {
                Some(sha) => ok(json!({
                    "ref": format!("refs/heads/{b}"),
                    "node_id": "REF_x",
                    "url": format!("{base}/repos/o/r/git/refs/heads/{b}"),
                    "object": {
                        "sha": sha,
                        "type": "commit",
                        "url": format!("{base}/repos/o/r/git/commits/{sha}"),
                    },
                })),
                None => status(404, "Not Found"),
            }
        }
        // `ref` is a commit sha, branch or tag: the tree is every file the contents
        // API holds at that ref, with its directories, as GitHub lists them.
        ("GET", ["repos", _, _, "git", "trees", r @ ..]) => {
            let r = r.join("/");
            let files: Vec<&String> = s
                .contents
                .keys()
                .filter(|(_, at)| *at == r)
                .map(|(p, _)| p)
                .collect();
            if files.is_empty() {
                return status(404, "Not Found");
            }
            let recursive = params.get("recursive").is_some_and(|v| v == "1");
            let mut entries = std::collections::BTreeMap::new();
            for f in files {
                let parts: Vec<&str> = f.split('/').collect();
                for i in 1..parts.len() {
                    entries.insert(parts[..i].join("/"), "tree");
                }
                entries.insert(f.clone(), "blob");
            }
            // A symlink is a blob of mode 120000.
            for (p, _) in s.symlinks.keys().filter(|(_, at)| *at == r) {
                entries.insert(p.clone(), "link");
            }
            let tree: Vec<Value> = entries
                .into_iter()
                .filter(|(p, _)| recursive || !p.contains('/'))
                .map(|(p, kind)| {
                    let (mode, kind) = match kind {
                        "tree" => ("040000", "tree"),
                        "link" => ("120000", "blob"),
                        _ => ("100644", "blob"),
                    };
                    let mut e = json!({
                        "path": p,
                        "mode": mode,
                        "type": kind,
                        "sha": format!("{:040x}", p.len()),
                        "url": format!("{base}/repos/o/r/git/{kind}s/x"),
                    });
                    if kind == "blob" {
                        e["size"] =
                            json!(s.contents.get(&(p.clone(), r.clone())).map_or(0, Vec::len));
                    }
                    e
                })
                .collect();
            ok(json!({
                "sha": format!("{:040x}", r.len()),
                "url": format!("{base}/repos/o/r/git/trees/{r}"),
                "tree": tree,
                "truncated": s.truncated_trees.contains(&r),
            }))
        }
        ("GET", ["repos", _, _, "tags"]) => {
            let items: Vec<Value> = s
                .tags
                .iter()
                .map(|(n, sha)| json!({"name": n, "commit": {"sha": sha}}))
                .collect();
            paginate(&items, &path, &params, base)
        }
        // Branch names may contain `/`: the spec is the rest of the path.
        ("GET", ["repos", _, _, "compare", spec @ ..]) => {
            let spec = spec.join("/");
            let (a, b) = spec.split_once("...").unwrap_or((&spec, ""));
            match s.compare.get(&(a.to_string(), b.to_string())) {
                Some(st) => ok(json!({"status": st})),
                None => status(404, "Not Found"),
            }
        }
        ("GET", ["orgs", org, "teams", team, "memberships", user]) => {
            match s.teams.get(&(org.to_string(), team.to_string())) {
                Some(members) if members.iter().any(|m| m == user) => {
                    ok(json!({"state": "active", "role": "member"}))
                }
                _ => status(404, "Not Found"),
            }
        }
        _ => status(404, "Not Found"),
    }
}

/// `%XX` escapes decoded, as a web server does for a path.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The contents API's answer for a file: inlined, base64.
fn file_reply(file: &str, bytes: &[u8]) -> Response {
    ok(json!({
        "type": "file",
        "encoding": "base64",
        "size": bytes.len(),
        "name": file.rsplit('/').next().unwrap_or(""),
        "path": file,
        "content": base64(bytes),
    }))
}

/// The repository path a link in `dir` to `target` names (`None` out of the tree).
fn link_target(dir: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Standard base64 with line breaks every 60 chars, as the contents API sends it.
fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    let mut wrapped = String::new();
    for (i, c) in out.chars().enumerate() {
        if i > 0 && i % 60 == 0 {
            wrapped.push('\n');
        }
        wrapped.push(c);
    }
    wrapped
}
