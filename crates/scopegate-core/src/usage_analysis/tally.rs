//! The running totals evidence is folded into, one record at a time, in constant
//! memory: counts keyed by (tenant, resource type, interaction) and, for searches, by
//! the few query parameters that scope restrictions name (`category`, …). Evidence of
//! a million requests for forty types over three tenants is a few hundred entries.
//!
//! It owns the app and `--since` filters and the bad-line bookkeeping. It must not
//! judge access against scopes (that is [`super::analyze`]) nor read files.

use std::collections::HashMap;

use super::Interaction;
use super::fhir_url::{self, Request};
use super::instant::Millis;

/// A fast non-cryptographic hash (rustc-hash's FxHash) for the per-line lookups of
/// short keys (tenants, types). Evidence comes from the operator, so hash flooding is
/// not a threat worth SipHash's cost on every line.
pub(crate) type FastHash = rustc_hash::FxBuildHasher;
type Map<K, V> = HashMap<K, V, FastHash>;

/// How many bad lines are kept for display; the count stays exact.
pub(crate) const MAX_BAD_SHOWN: usize = 20;

/// Where a record was read: an index into [`Tally::files`] and a 1-based line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Origin {
    pub(crate) file: usize,
    pub(crate) line: u64,
}

/// What one evidence file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvidenceKind {
    AccessLog,
    AuditEvents,
    Granted,
}

impl EvidenceKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::AccessLog => "access-log",
            EvidenceKind::AuditEvents => "audit-events",
            EvidenceKind::Granted => "granted",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct FileTally {
    pub(crate) path: String,
    pub(crate) kind: EvidenceKind,
    /// Records read (well-formed, whatever the filters then did with them).
    pub(crate) records: u64,
    pub(crate) bad: u64,
}

/// Requests seen for one key.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stats {
    /// Requests the server answered with success (2xx/3xx; AuditEvent outcome `0`).
    pub(crate) ok: u64,
    /// Requests that failed (4xx/5xx; any other outcome): attempts, not use.
    pub(crate) failed: u64,
    pub(crate) last_ok: Option<Millis>,
    pub(crate) first_seen: Origin,
}

impl Stats {
    fn new(at: Origin) -> Stats {
        Stats {
            ok: 0,
            failed: 0,
            last_ok: None,
            first_seen: at,
        }
    }

    fn add(&mut self, ok: bool, time: Millis) {
        if ok {
            self.ok += 1;
            self.last_ok = Some(self.last_ok.map_or(time, |t| t.max(time)));
        } else {
            self.failed += 1;
        }
    }
}

/// Token responses that carried one scope string.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GrantStats {
    pub(crate) responses: u64,
    pub(crate) last: Millis,
    pub(crate) first_seen: Origin,
}

/// One bad line: where, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BadLine {
    pub(crate) at: Origin,
    pub(crate) reason: String,
}

/// Records set aside on purpose, counted so that nothing disappears silently.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Skipped {
    /// Records of other apps.
    pub(crate) other_app: u64,
    /// Records before `--since`.
    pub(crate) before_window: u64,
    /// `GET [base]/metadata`: needs no scope.
    pub(crate) capabilities: u64,
    /// A batch/transaction whose entries the record does not list.
    pub(crate) batch_without_entries: u64,
    /// AuditEvents that are not RESTful access (login, export, …) or that audit a
    /// whole batch/transaction (its entries are audited on their own).
    pub(crate) not_access: u64,
}

/// The type id of system-level access (no resource type).
pub(crate) const SYSTEM: u16 = u16::MAX;

/// Access for one (tenant, type, interaction): the searches split by the restriction
/// parameters they carried (`category=laboratory`), everything else under `""`. Hashed:
/// a log of thousands of distinct searches looks each line's key up, not scans for it.
/// Unordered; [`super::analyze`] sorts what it reports.
pub(crate) type ByParams = Map<String, Stats>;

#[derive(Debug)]
pub struct Tally {
    app: String,
    since: Option<Millis>,
    /// The query parameters worth keeping: those the manifest's restrictions name.
    params: Vec<String>,
    pub(crate) files: Vec<FileTally>,
    pub(crate) tenants: Vec<String>,
    tenant_ids: Map<String, u16>,
    pub(crate) types: Vec<String>,
    type_ids: Map<String, u16>,
    pub(crate) access: Map<(u16, u16, Interaction), ByParams>,
    /// `$operation` requests by (tenant, type), then by operation name.
    pub(crate) operations: Map<(u16, u16), ByParams>,
    /// Token responses by tenant, then by granted scope string.
    pub(crate) grants: HashMap<u16, HashMap<String, GrantStats>>,
    pub(crate) skipped: Skipped,
    pub bad_count: u64,
    pub(crate) bad: Vec<BadLine>,
    scratch: String,
    /// What the evidence named more of than the tally can tell apart (65,534 tenants
    /// or resource types): the report would fold the rest into one, so there is none.
    overflow: Option<&'static str>,
}

impl Tally {
    /// `params` are the search parameters the manifest's restrictions use.
    pub fn new(app: &str, since: Option<Millis>, params: Vec<String>) -> Tally {
        Tally {
            app: app.to_string(),
            since,
            params,
            files: Vec::new(),
            tenants: Vec::new(),
            tenant_ids: Map::default(),
            types: Vec::new(),
            type_ids: Map::default(),
            access: Map::default(),
            operations: Map::default(),
            grants: HashMap::new(),
            skipped: Skipped::default(),
            bad_count: 0,
            bad: Vec::new(),
            scratch: String::new(),
            overflow: None,
        }
    }

    pub(crate) fn app(&self) -> &str {
        &self.app
    }

    pub(crate) fn since(&self) -> Option<Millis> {
        self.since
    }

    /// Registers an evidence file; its records are then tallied under the index.
    pub fn add_file(&mut self, path: &str, kind: EvidenceKind) -> usize {
        self.files.push(FileTally {
            path: path.to_string(),
            kind,
            records: 0,
            bad: 0,
        });
        self.files.len() - 1
    }

    pub(crate) fn record(&mut self, at: Origin) {
        self.files[at.file].records += 1;
    }

    pub(crate) fn bad_line(&mut self, at: Origin, reason: String) {
        self.bad_count += 1;
        self.files[at.file].bad += 1;
        if self.bad.len() < MAX_BAD_SHOWN {
            self.bad.push(BadLine { at, reason });
        }
    }

    /// The app filter and the window; counts what it turns away.
    pub(crate) fn accepts(&mut self, app: &str, time: Millis) -> bool {
        if app != self.app {
            self.skipped.other_app += 1;
            false
        } else if self.since.is_some_and(|s| time < s) {
            self.skipped.before_window += 1;
            false
        } else {
            true
        }
    }

    /// Why the evidence cannot be analysed: it names more tenants or resource types
    /// than the tally tells apart. The caller stops (exit 2) rather than report some
    /// of them as one.
    pub fn too_many(&self) -> Option<String> {
        self.overflow.map(|what| {
            format!(
                "the evidence names more than {} distinct {what}; scopegate usage cannot tell them apart\n  hint: split the evidence (by tenant, or by time) and run `scopegate usage` on each part",
                SYSTEM - 1
            )
        })
    }

    pub(crate) fn tenant_id(&mut self, tenant: &str) -> u16 {
        intern(
            tenant,
            (&mut self.tenants, &mut self.tenant_ids),
            &mut self.overflow,
            "tenants",
        )
    }

    fn type_id(&mut self, ty: Option<&str>) -> u16 {
        let Some(ty) = ty else { return SYSTEM };
        intern(
            ty,
            (&mut self.types, &mut self.type_ids),
            &mut self.overflow,
            "resource types",
        )
    }

    /// Folds one observed request in. `form` is a `POST _search` body, when logged.
    pub(crate) fn observe(
        &mut self,
        tenant: u16,
        req: &Request<'_>,
        form: Option<&str>,
        ok: bool,
        time: Millis,
        at: Origin,
    ) {
        match req.interaction {
            Interaction::Capabilities => self.skipped.capabilities += 1,
            Interaction::Batch => self.skipped.batch_without_entries += 1,
            Interaction::Operation => {
                let ty = self.type_id(req.resource);
                let name = req.operation.unwrap_or("$?");
                let by = self.operations.entry((tenant, ty)).or_default();
                bump(by, name, ok, time, at);
            }
            Interaction::SearchSystem => {
                self.restriction_key(req.query, form);
                let types = fhir_url::params(req.query)
                    .chain(form.into_iter().flat_map(fhir_url::params))
                    .find(|(p, _)| *p == "_type")
                    .and_then(|(_, v)| fhir_url::decode(v))
                    .map(|v| v.into_owned());
                match types {
                    Some(list) => {
                        for ty in list.split(',').filter(|t| !t.is_empty()) {
                            self.add(tenant, Some(ty), Interaction::SearchSystem, ok, time, at);
                        }
                    }
                    None => self.add(tenant, None, Interaction::SearchSystem, ok, time, at),
                }
            }
            i => {
                if i.is_search() {
                    self.restriction_key(req.query, form);
                } else {
                    self.scratch.clear();
                }
                self.add(tenant, req.resource, i, ok, time, at);
            }
        }
    }

    fn add(
        &mut self,
        tenant: u16,
        ty: Option<&str>,
        i: Interaction,
        ok: bool,
        time: Millis,
        at: Origin,
    ) {
        let ty = self.type_id(ty);
        let by = self.access.entry((tenant, ty, i)).or_default();
        bump(by, &self.scratch, ok, time, at);
    }

    /// Writes the kept parameters of a search into `scratch`, as `p=v&p=v` (decoded).
    fn restriction_key(&mut self, query: &str, form: Option<&str>) {
        self.scratch.clear();
        for (p, v) in fhir_url::params(query).chain(form.into_iter().flat_map(fhir_url::params)) {
            if !self.params.iter().any(|k| k == p) {
                continue;
            }
            if !self.scratch.is_empty() {
                self.scratch.push('&');
            }
            self.scratch.push_str(p);
            self.scratch.push('=');
            match fhir_url::decode(v) {
                Some(d) => self.scratch.push_str(&d),
                None => self.scratch.push_str(v),
            }
        }
    }

    /// An empty tally with the same filters and files, for a worker thread to fill and
    /// [`Tally::merge`] to fold back.
    pub(crate) fn fork(&self) -> Tally {
        let mut t = Tally::new(&self.app, self.since, self.params.clone());
        t.files = self
            .files
            .iter()
            .map(|f| FileTally {
                records: 0,
                bad: 0,
                ..f.clone()
            })
            .collect();
        t
    }

    /// Folds a forked tally back in, mapping its record origins through `at`. Counts
    /// add up, `first_seen` is the earliest and `last` the latest of either, and the
    /// bad lines kept are the earliest of both: the same totals as one tally that had
    /// read everything, whatever the order of the merges.
    pub(crate) fn merge(&mut self, other: Tally, at: impl Fn(Origin) -> Origin) {
        for (mine, theirs) in self.files.iter_mut().zip(&other.files) {
            mine.records += theirs.records;
            mine.bad += theirs.bad;
        }
        let tenants: Vec<u16> = other.tenants.iter().map(|n| self.tenant_id(n)).collect();
        let types: Vec<u16> = other.types.iter().map(|n| self.type_id(Some(n))).collect();
        let tenant = |id: u16| tenants.get(usize::from(id)).copied().unwrap_or(id);
        let ty = |id: u16| types.get(usize::from(id)).copied().unwrap_or(id);
        for ((tn, tp, i), by) in other.access {
            let mine = self.access.entry((tenant(tn), ty(tp), i)).or_default();
            merge_by(mine, by, &at);
        }
        for ((tn, tp), by) in other.operations {
            let mine = self.operations.entry((tenant(tn), ty(tp))).or_default();
            merge_by(mine, by, &at);
        }
        for (tn, by) in other.grants {
            let mine = self.grants.entry(tenant(tn)).or_default();
            for (scope, g) in by {
                let g = GrantStats {
                    first_seen: at(g.first_seen),
                    ..g
                };
                mine.entry(scope)
                    .and_modify(|m| {
                        m.responses += g.responses;
                        m.last = m.last.max(g.last);
                        m.first_seen = m.first_seen.min(g.first_seen);
                    })
                    .or_insert(g);
            }
        }
        let (s, o) = (&mut self.skipped, other.skipped);
        s.other_app += o.other_app;
        s.before_window += o.before_window;
        s.capabilities += o.capabilities;
        s.batch_without_entries += o.batch_without_entries;
        s.not_access += o.not_access;
        self.bad_count += other.bad_count;
        self.bad
            .extend(other.bad.into_iter().map(|b| BadLine { at: at(b.at), ..b }));
        self.bad.sort_by_key(|b| b.at);
        self.bad.truncate(MAX_BAD_SHOWN);
    }

    /// Folds one token response in.
    pub(crate) fn grant(&mut self, tenant: u16, scope: &str, time: Millis, at: Origin) {
        let by = self.grants.entry(tenant).or_default();
        match by.get_mut(scope) {
            Some(g) => {
                g.responses += 1;
                g.last = g.last.max(time);
            }
            None => {
                by.insert(
                    scope.to_string(),
                    GrantStats {
                        responses: 1,
                        last: time,
                        first_seen: at,
                    },
                );
            }
        }
    }
}

fn bump(by: &mut ByParams, key: &str, ok: bool, time: Millis, at: Origin) {
    // Looked up by `&str` first: a key seen before costs no allocation.
    match by.get_mut(key) {
        Some(s) => s.add(ok, time),
        None => {
            let mut s = Stats::new(at);
            s.add(ok, time);
            by.insert(key.to_string(), s);
        }
    }
}

fn merge_by(mine: &mut ByParams, theirs: ByParams, at: impl Fn(Origin) -> Origin) {
    for (key, st) in theirs {
        let st = Stats {
            first_seen: at(st.first_seen),
            ..st
        };
        mine.entry(key)
            .and_modify(|m| {
                m.ok += st.ok;
                m.failed += st.failed;
                m.last_ok = m.last_ok.max(st.last_ok);
                m.first_seen = m.first_seen.min(st.first_seen);
            })
            .or_insert(st);
    }
}

/// `name`'s id among `names` (`ids` the reverse), made on first sight. Past the last
/// id, every further name is that id, named `(more <what>)` so that the tally stays
/// whole, and `overflow` says what (the evidence is refused: [`Tally::too_many`]).
fn intern(
    name: &str,
    (names, ids): (&mut Vec<String>, &mut Map<String, u16>),
    overflow: &mut Option<&'static str>,
    what: &'static str,
) -> u16 {
    if let Some(id) = ids.get(name) {
        return *id;
    }
    let Some(id) = u16::try_from(names.len())
        .ok()
        .filter(|id| *id < SYSTEM - 1)
    else {
        if names.len() < usize::from(SYSTEM) {
            names.push(format!("(more {what})"));
        }
        overflow.get_or_insert(what);
        return SYSTEM - 1;
    };
    names.push(name.to_string());
    ids.insert(name.to_string(), id);
    id
}

#[cfg(test)]
mod tests;
