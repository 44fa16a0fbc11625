//! Numbered lines of JSON-lines evidence: read in large chunks cut at newlines, and
//! handled on worker threads, each folding into its own [`Tally`] that is merged back
//! at the end. Memory stays bounded: a few chunks in flight, whatever the file size.
//!
//! What a line means is the caller's `each`; this module owns only the numbering, and
//! keeps it exact: a worker numbers lines within its chunk (the chunk index in the
//! high bits), and the numbers are made absolute once every chunk's line count is
//! known. Bad-line counts, samples, `--strict` (the earliest bad line wins) and I/O
//! errors come out as a single thread reading line by line would give them.

use std::io::{ErrorKind, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, mpsc};

use super::evidence::{Ctx, EvidenceError};
use super::tally::{Origin, Tally};

/// What a reader does with one non-blank (trimmed) line: `Ok(Some(reason))` makes it a
/// bad line.
pub(super) type Each = fn(&mut Ctx<'_>, &[u8], u64) -> Result<Option<String>, EvidenceError>;

/// How to split the work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Worker threads; 1 reads on the calling thread.
    pub threads: usize,
    /// Bytes per chunk (a chunk grows to hold a longer line).
    pub chunk: usize,
    /// The longest line read, in bytes (without its newline); a longer one is an
    /// error, so that no line makes a chunk grow past this.
    pub max_line: usize,
}

impl Plan {
    /// One worker per core (at most 4), 1 MiB chunks, 1 MiB lines.
    pub fn auto() -> Plan {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Plan {
            threads: cores.clamp(1, 4),
            chunk: 1 << 20,
            max_line: super::evidence::DEFAULT_MAX_RECORD,
        }
    }
}

/// Within a worker, a line is numbered `chunk << CHUNK_SHIFT | line in chunk`: the
/// same order as the absolute numbers, which are known only at the end.
const CHUNK_SHIFT: u32 = 32;

/// A buffer of whole lines (the last chunk of a file may end without a newline).
struct Chunk {
    bytes: Vec<u8>,
    /// How much of `bytes` holds input; the rest is spare room, kept initialised
    /// across reuse so that it is not zeroed again for every chunk.
    len: usize,
}

impl Chunk {
    fn new() -> Chunk {
        Chunk {
            bytes: Vec::new(),
            len: 0,
        }
    }

    fn data(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Reads until the chunk holds `want` bytes or the input ends (`Ok(true)`).
    fn fill(&mut self, r: &mut impl Read, want: usize) -> std::io::Result<bool> {
        if self.bytes.len() < want {
            self.bytes.resize(want, 0);
        }
        while self.len < want {
            match r.read(&mut self.bytes[self.len..want]) {
                Ok(0) => return Ok(true),
                Ok(n) => self.len += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    /// Moves the bytes after the last newline to the start of `next`; false when there
    /// is no newline (nothing moves).
    fn cut(&mut self, next: &mut Chunk) -> bool {
        let Some(i) = memchr::memrchr(b'\n', self.data()) else {
            return false;
        };
        let tail = i + 1..self.len;
        if next.bytes.len() < tail.len() {
            next.bytes.resize(tail.len(), 0);
        }
        next.bytes[..tail.len()].copy_from_slice(&self.bytes[tail.clone()]);
        next.len = tail.len();
        self.len = i + 1;
        true
    }

    /// Drops a last line that has no newline: after a read error it is not whole.
    fn drop_partial(&mut self) {
        self.len = memchr::memrchr(b'\n', self.data()).map_or(0, |i| i + 1);
    }
}

/// Reads the next chunk of whole lines into `buf`, the bytes after them into `next`.
/// Ok(true) at the end of the input (`buf` then holds the rest). A line longer than a
/// chunk makes the chunk grow to hold it, up to `max_line`: a line longer than that is
/// cut there and the input treated as ended, so that the line is seen (and refused)
/// at its number and nothing after it is read.
fn read_chunk(
    r: &mut impl Read,
    buf: &mut Chunk,
    next: &mut Chunk,
    (size, max_line): (usize, usize),
) -> std::io::Result<bool> {
    next.len = 0;
    let mut want = size.max(buf.len + 1);
    loop {
        if buf.fill(r, want)? {
            return Ok(true);
        }
        if buf.cut(next) {
            return Ok(false);
        }
        if buf.len > max_line {
            buf.len = max_line + 1;
            return Ok(true);
        }
        want = (buf.len * 2).min(max_line + 1).max(buf.len + 1);
    }
}

/// Runs `each` over every non-blank line of `r`, with its 1-based number.
pub(super) fn run(
    mut r: impl Read,
    ctx: &mut Ctx<'_>,
    each: Each,
    plan: Plan,
) -> Result<(), EvidenceError> {
    let size = (plan.chunk.max(1), plan.max_line);
    let (mut buf, mut next) = (Chunk::new(), Chunk::new());
    let mut read = read_chunk(&mut r, &mut buf, &mut next, size);
    if plan.threads > 1 && matches!(read, Ok(false)) {
        return threaded(r, ctx, each, plan, buf, next);
    }
    // One chunk holds it all, or one thread was asked for: read here.
    let mut first_bad = None;
    let mut line = 0;
    loop {
        let eof = match read {
            Ok(eof) => eof,
            Err(e) => {
                buf.drop_partial();
                line += each_line(ctx, buf.data(), line, (each, plan.max_line), &mut first_bad)?;
                return Err(ctx.error(line + 1, format!("cannot read: {e}")));
            }
        };
        line += each_line(ctx, buf.data(), line, (each, plan.max_line), &mut first_bad)?;
        if eof {
            return ctx.finish(first_bad);
        }
        std::mem::swap(&mut buf, &mut next);
        read = read_chunk(&mut r, &mut buf, &mut next, size);
    }
}

/// Handles the lines of one chunk, numbered from `base + 1`; returns how many lines it
/// held (a last line without its newline counts).
fn each_line(
    ctx: &mut Ctx<'_>,
    chunk: &[u8],
    base: u64,
    (each, max_line): (Each, usize),
    first_bad: &mut Option<(u64, String)>,
) -> Result<u64, EvidenceError> {
    let mut n = 0;
    let mut rest = chunk;
    while !rest.is_empty() {
        let (raw, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &[][..]),
        };
        rest = next;
        n += 1;
        let line = base + n;
        if raw.len() > max_line {
            return Err(ctx.error(
                line,
                format!(
                    "the line is longer than {max_line} bytes (the limit; raise it with --max-record-bytes)"
                ),
            ));
        }
        let text = raw.trim_ascii();
        if text.is_empty() {
            continue;
        }
        if let Some(reason) = each(ctx, text, line)? {
            if first_bad.is_none() {
                *first_bad = Some((line, reason.clone()));
            }
            ctx.bad(line, reason)?;
        }
    }
    Ok(n)
}

/// What one worker thread saw.
struct Worker {
    tally: Tally,
    /// (chunk index, lines in it), for each chunk it read whole.
    lines: Vec<(u64, u64)>,
    first_bad: Option<(u64, String)>,
    /// Its earliest error (under `--strict`, its earliest bad line).
    error: Option<EvidenceError>,
}

/// One worker: chunks in, a tally out.
fn work(
    mut tally: Tally,
    (file, strict, max_line): (usize, bool, usize),
    each: Each,
    rx: &Mutex<mpsc::Receiver<(u64, Chunk)>>,
    free: &mpsc::Sender<Chunk>,
    stop_at: &AtomicU64,
) -> Worker {
    let (mut lines, mut first_bad, mut error) = (Vec::new(), None, None::<EvidenceError>);
    let mut ctx = Ctx {
        tally: &mut tally,
        file,
        strict,
    };
    loop {
        let got = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok((idx, chunk)) = got else { break };
        // Chunks after a failed one need no reading: the earliest error wins.
        if idx < stop_at.load(Ordering::Relaxed) {
            match each_line(
                &mut ctx,
                chunk.data(),
                idx << CHUNK_SHIFT,
                (each, max_line),
                &mut first_bad,
            ) {
                Ok(n) => lines.push((idx, n)),
                Err(e) => {
                    stop_at.fetch_min(idx, Ordering::Relaxed);
                    if error.as_ref().is_none_or(|x| e.line < x.line) {
                        error = Some(e);
                    }
                }
            }
        }
        let _ = free.send(chunk);
    }
    Worker {
        tally,
        lines,
        first_bad,
        error,
    }
}

fn threaded(
    mut r: impl Read,
    ctx: &mut Ctx<'_>,
    each: Each,
    plan: Plan,
    first: Chunk,
    carry: Chunk,
) -> Result<(), EvidenceError> {
    let (file, strict) = (ctx.file, ctx.strict);
    let stop_at = AtomicU64::new(u64::MAX);
    // Bounded: at most `threads` chunks wait, so memory does not follow the input.
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Chunk)>(plan.threads);
    let work_rx = Mutex::new(work_rx);
    let (free_tx, free_rx) = mpsc::channel::<Chunk>();
    let forks: Vec<Tally> = (0..plan.threads).map(|_| ctx.tally.fork()).collect();
    let (workers, chunks, read_error) = std::thread::scope(|s| {
        let handles: Vec<_> = forks
            .into_iter()
            .map(|tally| {
                let (rx, free, stop_at) = (&work_rx, free_tx.clone(), &stop_at);
                crate::threads::spawn(s, move || {
                    work(
                        tally,
                        (file, strict, plan.max_line),
                        each,
                        rx,
                        &free,
                        stop_at,
                    )
                })
            })
            .collect();
        drop(free_tx);
        let feed = Feed {
            work: work_tx,
            free: free_rx,
            stop_at: &stop_at,
            plan,
        };
        let (chunks, read_error) = feed.run(&mut r, first, carry);
        let workers: Vec<Worker> = handles
            .into_iter()
            .map(|h| h.join().expect("an evidence worker panicked"))
            .collect();
        (workers, chunks, read_error)
    });
    let lines = LineBase::of(&workers, chunks);
    let (error, first_bad, tallies) = earliest(workers);
    if let Some(mut e) = error {
        e.line = lines.absolute(e.line);
        return Err(e);
    }
    if let Some(e) = read_error {
        return Err(ctx.error(lines.total + 1, format!("cannot read: {e}")));
    }
    let at = |o: Origin| Origin {
        file: o.file,
        line: if o.file == file {
            lines.absolute(o.line)
        } else {
            o.line
        },
    };
    for t in tallies {
        ctx.tally.merge(t, at);
    }
    ctx.finish(first_bad.map(|(line, reason)| (lines.absolute(line), reason)))
}

/// The reading side of [`threaded`]: chunks to the workers, recycled buffers back.
struct Feed<'a> {
    work: mpsc::SyncSender<(u64, Chunk)>,
    free: mpsc::Receiver<Chunk>,
    /// The first chunk index not worth sending (a strict worker failed before it).
    stop_at: &'a AtomicU64,
    plan: Plan,
}

impl Feed<'_> {
    /// Sends numbered chunks until the end of input, a read error or a stop; returns
    /// how many chunks were sent and the read error, if any. Drops the sender, so the
    /// workers finish.
    fn run(self, r: &mut impl Read, first: Chunk, carry: Chunk) -> (u64, Option<std::io::Error>) {
        let (mut buf, mut next) = (first, carry);
        let mut read = Ok(false);
        let mut idx = 0u64;
        let mut read_error = None;
        loop {
            let eof = match read {
                Ok(eof) => eof,
                Err(e) => {
                    buf.drop_partial();
                    read_error = Some(e);
                    true
                }
            };
            if idx >= self.stop_at.load(Ordering::Relaxed) || self.work.send((idx, buf)).is_err() {
                break;
            }
            idx += 1;
            if eof {
                break;
            }
            buf = next;
            next = self.free.try_recv().unwrap_or_else(|_| Chunk::new());
            read = read_chunk(
                r,
                &mut buf,
                &mut next,
                (self.plan.chunk.max(1), self.plan.max_line),
            );
        }
        (idx, read_error)
    }
}

/// Where each chunk's lines start in the file: chunk k's first line follows every
/// line of chunks 0..k.
struct LineBase {
    base: Vec<u64>,
    total: u64,
}

impl LineBase {
    fn of(workers: &[Worker], chunks: u64) -> Self {
        let mut counts = vec![0u64; usize::try_from(chunks).unwrap_or(usize::MAX)];
        for w in workers {
            for (idx, n) in &w.lines {
                counts[*idx as usize] = *n;
            }
        }
        let mut base = Vec::with_capacity(counts.len());
        let mut total = 0;
        for n in &counts {
            base.push(total);
            total += n;
        }
        LineBase { base, total }
    }

    /// A worker's `chunk << CHUNK_SHIFT | line in chunk` as a line of the file.
    fn absolute(&self, line: u64) -> u64 {
        let (chunk, within) = (line >> CHUNK_SHIFT, line & ((1 << CHUNK_SHIFT) - 1));
        self.base.get(chunk as usize).copied().unwrap_or(self.total) + within
    }
}

/// The workers' earliest error and earliest bad line (in worker numbering), and
/// their tallies in worker order.
fn earliest(workers: Vec<Worker>) -> (Option<EvidenceError>, Option<(u64, String)>, Vec<Tally>) {
    let mut error: Option<EvidenceError> = None;
    let mut first_bad: Option<(u64, String)> = None;
    let mut tallies = Vec::with_capacity(workers.len());
    for w in workers {
        if let Some(e) = w.error
            && error.as_ref().is_none_or(|x| e.line < x.line)
        {
            error = Some(e);
        }
        if let Some(b) = w.first_bad
            && first_bad.as_ref().is_none_or(|x| b.0 < x.0)
        {
            first_bad = Some(b);
        }
        tallies.push(w.tally);
    }
    (error, first_bad, tallies)
}
