//! Approvals judged against the ledger: which entries count, what each change's
//! approval state is (per tenant too), and the ledger's own findings (rewritten,
//! stale, unknown tenants).
//!
//! Pure, part of the gate. It reads no files; entries come parsed from
//! [`crate::approval`].
//!
//! An approval is good for the release it goes out with. Entries already in the
//! baseline release's ledger are *spent*: every change the gate judges is a difference
//! from that release, so such an entry either approved access the release shipped
//! (which is no change any more) or access the release went out without (given up, or
//! never shipped). Either way it approves nothing now; access that comes back needs a
//! new entry. Membership in the release's ledger is trusted history, so no clock is
//! needed. Entries older than `approval_max_age` are expired.
//!
//! A ledger grows for the life of a repository, so nothing here is quadratic in it:
//! entries are matched by hash and looked up by app id.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rustc_hash::{FxHashMap, FxHashSet};

use super::{App, Input, Removed};
use crate::approval::{Entry, Key};
use crate::diff::{BaseScopes, Lookup, classify};
use crate::grant::{Options, ScopeIndex, ScopeSet, covers};
use crate::manifest::Pos;
use crate::report::{Approval, ApprovalState, Change, Direction, Finding, Location};
use crate::rules::{RuleId, Severity};
use crate::scope::{Perms, ResourceScope, Scope};
use crate::tenant;

/// From this many tenants, an entry's are looked up in a set ([`Ledger::names_tenant`]).
const MANY_TENANTS: usize = 16;

/// Ledger entries with their provenance.
pub(super) struct Ledger<'a> {
    /// `(entry, added by the change under review)`, trusted entries only.
    entries: Vec<(&'a Entry, bool)>,
    /// Added entries without a qualifying review, with the reason.
    pending: Vec<(&'a Entry, &'a str)>,
    /// Entries in the baseline release's ledger: they approve nothing.
    spent: Vec<&'a Entry>,
    /// Indices into `entries`, `pending` and `spent` of the entries with a key for
    /// each app id.
    by_app: FxHashMap<&'a str, ByApp<'a>>,
    /// The unverified entries by position (sorted), so that marking an approval costs
    /// a lookup, not a scan of the ledger.
    unverified: Vec<(Pos, &'a Entry)>,
    /// The signed entries by position (sorted), with the key's fingerprint.
    signed: Vec<(Pos, &'a Entry, &'a str)>,
    input: &'a Input<'a>,
    split_facts: OnceLock<FxHashMap<&'a str, SplitFacts<'a>>>,
    tenant_keys: OnceLock<FxHashMap<&'a str, TenantKeys<'a>>>,
    /// Each entry's key scopes for an app (by the entry's address), made on first use.
    /// An address names one entry: both caches take only `&'a Entry`, borrowed for the
    /// ledger's whole life, so no other entry can come to live at it meanwhile.
    key_sets: Mutex<FxHashMap<usize, KeySets<'a>>>,
    /// [`Ledger::standing`] of each entry asked about (by its address).
    standing: Mutex<FxHashMap<usize, (bool, Option<usize>)>>,
    /// The tenants of each entry limited to many (by its address), as a set: the
    /// tenant matrix asks of each tenant whether each entry names it.
    many_tenants: FxHashMap<usize, FxHashSet<&'a str>>,
}

/// An entry's key scopes for one app, as a set and indexed. One entry may name every
/// escalation of a release (what `scopegate approve` writes): each change asked for
/// all its keys again, quadratic in the release.
struct KeySet<'a> {
    scopes: Vec<&'a Scope>,
    /// The keys as a set, made on the first question one key alone does not answer:
    /// most entries name one key, which covers the change it approves.
    set: OnceLock<ScopeSet<'a>>,
    opts: Options,
    /// Made on the first question, and only for an entry of many keys: most entries
    /// name one or two, which a scan answers for less than an index costs to make (a
    /// ledger of 2,000 such entries spent 1.5 ms of the gate's 20 making indexes).
    index: OnceLock<ScopeIndex<'a>>,
}

impl<'a> KeySet<'a> {
    /// Whether the keys together grant `piece`. A key that covers it alone grants it
    /// (a set grants what any of its scopes covers); only otherwise is the set made.
    fn grants(&self, piece: &Scope) -> bool {
        (self.scopes.len() <= ScopeIndex::SCAN_FIRST
            && self.scopes.iter().any(|k| covers(k, piece, self.opts)))
            || self
                .set
                .get_or_init(|| ScopeSet::new(self.scopes.iter().copied(), self.opts))
                .grants(piece)
    }

    /// The keys that may cover `piece` or be covered by it (a superset), in order.
    fn related(&self, piece: &Scope) -> Vec<usize> {
        if self.scopes.len() <= ScopeIndex::SCAN_FIRST {
            return (0..self.scopes.len()).collect();
        }
        self.index
            .get_or_init(|| ScopeIndex::of(self.scopes.iter().copied()))
            .related(piece)
    }
}

/// An entry's key sets, one per app its keys name.
type KeySets<'a> = Vec<(&'a str, Arc<KeySet<'a>>)>;

/// Whether the keys of `sets` together grant `piece` (one set is asked as it is).
fn grant_together(sets: &[Arc<KeySet<'_>>], piece: &Scope, opts: Options) -> bool {
    match sets {
        [] => false,
        [one] => one.grants(piece),
        many => {
            ScopeSet::new(many.iter().flat_map(|k| k.scopes.iter().copied()), opts).grants(piece)
        }
    }
}

/// An app's keys in trusted entries, with their entry, and their index.
type TenantKeys<'a> = (Vec<(&'a Entry, &'a Scope)>, tenant::OverlapIndex<'a>);

/// An app's approved scopes, its baseline and its workflows, indexed for splitting
/// changes approved in part.
struct SplitFacts<'a> {
    approved: ScopeSet<'a>,
    app: &'a App,
    /// The baseline and the workflows, made on the first split (most runs split
    /// nothing, and a large manifest's are not cheap to index).
    parts: OnceLock<(BaseScopes<'a>, Lookup<'a>)>,
}

impl<'a> SplitFacts<'a> {
    fn parts(&self) -> &(BaseScopes<'a>, Lookup<'a>) {
        self.parts.get_or_init(|| {
            let base = self.app.base.iter().flat_map(|(_, b, _)| b.requested());
            (
                BaseScopes::new(base),
                Lookup::new(&self.app.head, usize::MAX),
            )
        })
    }
}

#[derive(Default)]
struct ByApp<'a> {
    entries: Vec<usize>,
    pending: Vec<usize>,
    spent: Vec<usize>,
    /// The app's keys in `entries`, tagged with their entry's index into `entries`, so
    /// that a change is matched against the entries that may approve it, not all.
    keys: ScopeIndex<'a>,
    /// The same for `pending` and `spent`.
    pending_keys: ScopeIndex<'a>,
    spent_keys: ScopeIndex<'a>,
}

impl<'a> Ledger<'a> {
    pub(super) fn new(input: &'a Input<'a>) -> Ledger<'a> {
        let Provenance {
            entries,
            pending,
            spent,
        } = Provenance::of(input);
        let by_app = index_by_app(&entries, &pending, &spent);
        let mut unverified: Vec<(Pos, &Entry)> =
            input.unverified.iter().map(|e| (e.pos, e)).collect();
        unverified.sort_by_key(|(p, _)| (p.line, p.column));
        let mut signed: Vec<(Pos, &Entry, &str)> = input
            .signed
            .iter()
            .map(|(e, fp)| (e.pos, e, fp.as_str()))
            .collect();
        signed.sort_by_key(|(p, _, _)| (p.line, p.column));
        let many_tenants = entries
            .iter()
            .map(|(e, _)| *e)
            .chain(pending.iter().map(|(e, _)| *e))
            .filter(|e| e.tenants.len() > MANY_TENANTS)
            .map(|e| {
                let names = e.tenants.iter().map(String::as_str).collect();
                (std::ptr::from_ref(e) as usize, names)
            })
            .collect();
        Ledger {
            many_tenants,
            entries,
            pending,
            spent,
            by_app,
            unverified,
            signed,
            input,
            split_facts: OnceLock::new(),
            tenant_keys: OnceLock::new(),
            key_sets: Mutex::default(),
            standing: Mutex::default(),
        }
    }

    /// Whether entry `e` is limited to tenant `name` among others (`tenants:`).
    pub(super) fn names_tenant(&self, e: &Entry, name: &str) -> bool {
        match self.many_tenants.get(&(std::ptr::from_ref(e) as usize)) {
            Some(names) => names.contains(name),
            None => e.tenants.iter().any(|t| t == name),
        }
    }

    /// The entry no longer counts: past its `expires`, or older than `approval_max_age`.
    fn expired(&self, e: &Entry) -> bool {
        e.expired_at(self.input.now)
            || e.dated_after(self.input.now)
            || self
                .input
                .config
                .approval_max_age
                .is_some_and(|days| e.older_than(days, self.input.now))
    }

    /// Why an expired entry no longer counts.
    fn expiry_reason(&self, e: &Entry) -> String {
        if e.dated_after(self.input.now) {
            return format!(
                "it is dated {}, more than a day after the gate's clock ({}): an approval counts from when it was given",
                e.at, self.input.now
            );
        }
        match (&e.expires, self.input.config.approval_max_age) {
            (Some(x), _) if e.expired_at(self.input.now) => format!("it expired at {x}"),
            (_, Some(days)) => format!(
                "it was given at {}, more than `approval_max_age` ({days}d) ago",
                e.at
            ),
            _ => "it expired".into(),
        }
    }

    /// Trusted entries with a key for `app`, with whether the change added them.
    fn entries_for(&self, app: &str) -> impl Iterator<Item = (&'a Entry, bool)> + '_ {
        self.by_app
            .get(app)
            .into_iter()
            .flat_map(|b| &b.entries)
            .map(|i| self.entries[*i])
    }

    fn pending_for(&self, app: &str) -> impl Iterator<Item = (&'a Entry, &'a str)> + '_ {
        self.by_app
            .get(app)
            .into_iter()
            .flat_map(|b| &b.pending)
            .map(|i| self.pending[*i])
    }

    /// For an escalation no entry approves, the spent entry that would have: an
    /// `approval-spent` finding naming its key, so the reviewer knows why it does not
    /// count.
    pub(super) fn spent_finding(&self, c: &Change) -> Option<Finding> {
        let piece = Scope::parse_shown(&c.scope).ok()?;
        let near = self
            .by_app
            .get(c.app.as_str())
            .map(|b| b.spent_keys.may_grant(&piece))
            .unwrap_or_default();
        let e = near
            .into_iter()
            .map(|i| self.spent[i])
            .find(|e| self.key_set(e, &c.app).grants(&piece))?;
        let release = self
            .input
            .baseline
            .name
            .as_deref()
            .map_or_else(|| "the baseline".to_string(), |n| format!("release `{n}`"));
        // An id the baseline had no manifest for (a retired app, or one renamed to it):
        // its old entries never approve, so no app can borrow its identity.
        let had_manifest = self
            .input
            .apps
            .iter()
            .filter_map(|a| a.base.as_ref().map(|(_, m, _)| &m.id.value))
            .chain(self.input.removed.iter().map(|r| &r.base.id.value))
            .any(|id| *id == c.app);
        let message = if had_manifest {
            format!(
                "the approval by {} of `{}` was already in {release}'s ledger, and {release} went out without this access: the approval is spent, and `{}` needs a new one",
                e.by, c.key, c.key
            )
        } else {
            format!(
                "the approval by {} of `{}` was already in {release}'s ledger, for app id `{}`, which has no manifest at the baseline: it approves nothing, and `{}` needs a new approval",
                e.by, c.key, c.app, c.key
            )
        };
        let mut f = self.ledger_finding(RuleId::ApprovalSpent, Some(e.pos.line), message);
        f.app = c.app.clone();
        f.key = Some(c.key.clone());
        f.hint = Some(format!(
            "a release manager appends a new entry: `scopegate approve --by <you> --ticket <ticket> --key {}`",
            c.key
        ));
        Some(f)
    }

    /// The fingerprint of the key whose signature verified `e`.
    fn signed_with(&self, e: &'a Entry) -> Option<String> {
        self.standing(e).1.map(|i| self.signed[i].2.to_string())
    }

    /// Whether `e` counts only because the run is advisory.
    fn is_unverified(&self, e: &'a Entry) -> bool {
        self.standing(e).0
    }

    /// Whether `e` is unverified, and its place among the signed entries: found by
    /// position and compared whole once per entry (an entry of thousands of keys is
    /// asked about by each change it approves).
    fn standing(&self, e: &'a Entry) -> (bool, Option<usize>) {
        *self
            .standing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(std::ptr::from_ref(e) as usize)
            .or_insert_with(|| {
                let at = (e.pos.line, e.pos.column);
                let unverified = self
                    .unverified
                    .binary_search_by_key(&at, |(p, _)| (p.line, p.column))
                    .is_ok_and(|i| self.unverified[i].1 == e);
                let signed = self
                    .signed
                    .binary_search_by_key(&at, |(p, _, _)| (p.line, p.column))
                    .ok()
                    .filter(|i| self.signed[*i].1 == e);
                (unverified, signed)
            })
    }

    pub(super) fn ledger_finding(&self, id: RuleId, line: Option<u32>, message: String) -> Finding {
        let at = Pos {
            line: line.unwrap_or(1),
            column: 1,
        };
        Finding::new(id, "", Location::new(self.input.ledger_path, at), message)
            .with_severity(self.input.config.severity_of(id))
    }

    /// Entries limited to tenants that have no profile (a misspelt name approves nowhere).
    pub(super) fn unknown_tenants(&self) -> Vec<Finding> {
        let known: Vec<&str> = self
            .input
            .tenants
            .iter()
            .map(|t| t.profile.name.as_str())
            .collect();
        let all = self
            .entries
            .iter()
            .map(|(e, _)| *e)
            .chain(self.pending.iter().map(|(e, _)| *e));
        // By hash: an entry naming thousands of tenants, each looked for among thousands.
        let is_known: FxHashSet<&str> = known.iter().copied().collect();
        let mut out = Vec::new();
        for e in all {
            for t in e.tenants.iter().filter(|t| !is_known.contains(t.as_str())) {
                let mut f = self.ledger_finding(RuleId::ApprovalUnknownTenant,
                    Some(e.pos.line),
                    format!(
                        "the approval by {} is limited to tenant `{t}`, which has no profile in {}/",
                        e.by,
                        tenant::DIR
                    ),
                );
                f.hint = crate::hint::did_you_mean(t, known.iter().copied())
                    .map(|n| format!("did you mean `{n}`?"))
                    .or_else(|| Some(format!("add {}/{t}.yaml", tenant::DIR)));
                out.push(f);
            }
        }
        out
    }

    /// Every baseline entry must still be there, unchanged and in order.
    pub(super) fn rewritten(&self) -> Option<Finding> {
        self.rewritten_against(self.input.base_ledger, "the baseline")
            .or_else(|| self.rewritten_against(self.input.merged_ledger, "the trusted commit"))
    }

    fn rewritten_against(&self, base: &[Entry], at: &str) -> Option<Finding> {
        let head = self.input.head_ledger;
        let first_bad = base
            .iter()
            .zip(head.iter().map(Some).chain(std::iter::repeat(None)))
            .position(|(b, h)| h != Some(b))?;
        let line = head.get(first_bad).map(|e| e.pos.line);
        let mut f = self.ledger_finding(RuleId::LedgerRewritten,
            line,
            format!(
                "approval entry {} (line {} at {at}) was edited or deleted; the ledger is append-only",
                first_bad + 1,
                base[first_bad].pos.line
            ),
        );
        f.hint = Some("restore the entry exactly as it was, and append a new entry instead".into());
        Some(f)
    }

    /// The approval state of a change, counting every entry; `tenants` names the
    /// tenants it is limited to when only tenant-limited entries approve it.
    pub(super) fn approval_for(&self, c: &Change) -> Approval {
        let mut a = self.approval_among(c, &|_| true);
        if a.state == ApprovalState::Approved
            && self.approval_among(c, &|e| e.tenants.is_empty()).state != ApprovalState::Approved
        {
            let opts = self.input.config.options;
            // The tenants of the live entries with a key that shares access with the
            // piece, asked of the keys the index names (a key that covers the piece or
            // is covered by it overlaps it: `covering_implies_overlapping`).
            let mut tenants: Vec<String> = Scope::parse_shown(&c.scope)
                .ok()
                .zip(self.tenant_keys().get(c.app.as_str()))
                .map(|(piece, (keys, index))| {
                    index
                        .may_overlap(&piece)
                        .into_iter()
                        .map(|i| keys[i])
                        .filter(|(e, k)| {
                            !self.expired(e)
                                && (covers(&piece, k, opts)
                                    || covers(k, &piece, opts)
                                    || tenant::overlaps(&piece, k, opts))
                        })
                        .flat_map(|(e, _)| e.tenants.iter().cloned())
                        .collect()
                })
                .unwrap_or_default();
            tenants.sort();
            tenants.dedup();
            a.tenants = tenants;
        }
        a
    }

    /// An identity change (`<app>:*removed*`, `<app>:*id-changed-from:<old>*`) is
    /// approved only by a counted entry that names exactly its key.
    fn identity_approval(&self, c: &Change, applies: &dyn Fn(&Entry) -> bool) -> Approval {
        let Ok(key) = Key::parse(&c.key) else {
            return unapproved();
        };
        let names = |e: &Entry| e.keys.contains(&key) && applies(e);
        let mut live: Vec<(&Entry, bool)> = self
            .entries_for(&c.app)
            .filter(|(e, _)| !self.expired(e) && names(e))
            .collect();
        live.sort_by_key(|(_, added)| *added);
        let of = |state, e: &'a Entry, added| Approval {
            state,
            by: Some(e.by.clone()),
            ticket: e.ticket.clone(),
            entry_line: Some(e.pos.line),
            added_in_change: added,
            unverified: self.is_unverified(e),
            signed_with: self.signed_with(e),
            reason: None,
            tenants: Vec::new(),
        };
        if let Some((e, added)) = live.first() {
            return of(ApprovalState::Approved, e, *added);
        }
        if let Some((e, why)) = self.pending_for(&c.app).find(|(e, _)| names(e)) {
            return Approval {
                reason: Some(why.to_string()),
                ..of(ApprovalState::Pending, e, true)
            };
        }
        if let Some((e, added)) = self
            .entries_for(&c.app)
            .find(|(e, _)| self.expired(e) && names(e))
        {
            return of(ApprovalState::Expired, e, added);
        }
        unapproved()
    }

    /// The approval state of a change, counting only entries `applies` accepts.
    pub(super) fn approval_among(&self, c: &Change, applies: &dyn Fn(&Entry) -> bool) -> Approval {
        if crate::diff::is_identity_change(c.rule) {
            return self.identity_approval(c, applies);
        }
        let Ok(piece) = Scope::parse_shown(&c.scope) else {
            return unapproved();
        };
        let m = Match {
            ledger: self,
            c,
            piece: &piece,
            applies,
            opts: self.input.config.options,
            // Only entries with a key that may grant some of the piece (`grant`), or that
            // may cover it or be covered by it (`related`), are asked: a ledger of
            // thousands is not scanned per change. A set of keys grants the piece exactly
            // when the keys among them that may grant some of it do.
            by_app: self.by_app.get(c.app.as_str()),
        };
        let grant = m.live(m.tags(|b| b.keys.may_grant(&piece)));
        if let Some(a) = m.one_entry(&grant) {
            return a;
        }
        let together: Vec<Arc<KeySet<'a>>> = grant.iter().map(|(e, _)| m.for_app(e)).collect();
        m.several_entries(&together)
            .or_else(|| m.waiting(&together))
            .or_else(|| m.expired())
            .unwrap_or_else(unapproved)
    }

    /// `e`'s key scopes for `app`, made once per entry and app (made outside the lock:
    /// the approvals are found on two threads, and a set of thousands of keys takes a
    /// while to make).
    fn key_set(&self, e: &'a Entry, app: &str) -> Arc<KeySet<'a>> {
        let at = std::ptr::from_ref(e) as usize;
        let cached = |cache: &FxHashMap<usize, KeySets<'a>>| {
            cache
                .get(&at)?
                .iter()
                .find(|(a, _)| *a == app)
                .map(|(_, ks)| Arc::clone(ks))
        };
        if let Some(ks) = cached(&self.key_sets.lock().unwrap_or_else(PoisonError::into_inner)) {
            return ks;
        }
        let scopes: Vec<&Scope> = e
            .keys
            .iter()
            .filter(|k| k.app == app)
            .filter_map(Key::scope)
            .collect();
        let made = Arc::new(KeySet {
            set: OnceLock::new(),
            opts: self.input.config.options,
            index: OnceLock::new(),
            scopes,
        });
        let mut cache = self.key_sets.lock().unwrap_or_else(PoisonError::into_inner);
        // The other thread may have made it meanwhile: one set per entry and app.
        if let Some(ks) = cached(&cache) {
            return ks;
        }
        // Named by the entry's own key (no copy): an entry asked about an app names it.
        if let Some(named) = e.keys.iter().find(|k| k.app == app) {
            cache
                .entry(at)
                .or_default()
                .push((named.app.as_str(), Arc::clone(&made)));
        }
        made
    }

    /// Each app's keys in trusted entries, with their entry, indexed by what they may
    /// overlap; built once, on the first approval that holds only for some tenants.
    fn tenant_keys(&self) -> &FxHashMap<&'a str, TenantKeys<'a>> {
        self.tenant_keys.get_or_init(|| {
            self.by_app
                .keys()
                .map(|app| {
                    let keys: Vec<(&Entry, &Scope)> = self
                        .entries_for(app)
                        .flat_map(|(e, _)| {
                            e.keys
                                .iter()
                                .filter(|k| k.app == *app)
                                .filter_map(move |k| Some((e, k.scope()?)))
                        })
                        .collect();
                    let index = tenant::OverlapIndex::of(keys.iter().map(|(_, s)| *s));
                    (*app, (keys, index))
                })
                .collect()
        })
    }

    /// What splitting asks of each app, built on the first split, once per app: each
    /// change approved in part gathered it all again, quadratic in the changes.
    fn split_facts(&self) -> &FxHashMap<&'a str, SplitFacts<'a>> {
        self.split_facts.get_or_init(|| {
            let mut out = FxHashMap::default();
            for app in self.input.apps {
                let id = app.head.id.value.as_str();
                if out.contains_key(id) {
                    continue;
                }
                // The scopes live entries approve for the app.
                let approved = self
                    .entries_for(id)
                    .filter(|(e, _)| !self.expired(e))
                    .flat_map(|(e, _)| e.keys.iter().filter(|k| k.app == id))
                    .filter_map(Key::scope);
                let facts = SplitFacts {
                    approved: ScopeSet::new(approved, self.input.config.options),
                    app,
                    parts: OnceLock::new(),
                };
                out.insert(id, facts);
            }
            out
        })
    }

    /// For an unapproved resource change that approvals cover in part (by letters),
    /// the approved part and the unapproved part as two changes.
    pub(super) fn split_partly_approved(&self, c: &Change) -> Option<Vec<Change>> {
        if c.direction != Direction::Escalation || c.approval.state != ApprovalState::Unapproved {
            return None;
        }
        let facts = self.split_facts().get(c.app.as_str())?;
        // Nothing approved for the app covers any part of it (most runs): its residual
        // would be the whole change.
        if !facts.approved.has_resources() {
            return None;
        }
        let Ok(Scope::Resource(r)) = Scope::parse_shown(&c.scope) else {
            return None;
        };
        let opts = self.input.config.options;
        let residual = facts.approved.uncovered(&r);
        if residual.is_empty()
            || residual == [r.clone()]
            || residual.iter().any(|x| x.restriction != r.restriction)
        {
            return None;
        }
        let missing = residual
            .iter()
            .fold(Perms::from_letters([]), |acc, x| acc.union(x.perms));
        let part = |perms| {
            let s = Scope::Resource(ResourceScope { perms, ..r.clone() });
            let rules = classify(&s, &facts.parts().0, opts);
            let mut part = Change {
                rule: rules[0],
                also: rules[1..].to_vec(),
                severity: rules
                    .iter()
                    .map(|x| self.input.config.severity_of(*x))
                    .max()
                    .unwrap_or(Severity::Note),
                key: format!("{}:{s}", c.app),
                scope: s.to_string(),
                workflows: facts.parts().1.workflows(&s, opts),
                ..c.clone()
            };
            part.approval = self.approval_for(&part);
            part
        };
        Some(vec![part(r.perms.minus(missing)), part(missing)])
    }

    /// Live (and spent) entries that approve nothing current and nothing the baseline
    /// already grants.
    pub(super) fn stale(
        &self,
        changes: &[Change],
        apps: &[App],
        removed: &[Removed],
    ) -> Vec<Finding> {
        let opts = self.input.config.options;
        let live: Vec<&Entry> = self
            .entries
            .iter()
            .map(|(e, _)| *e)
            .filter(|e| !self.expired(e))
            .chain(self.spent.iter().copied())
            .collect();
        if live.is_empty() {
            return Vec::new();
        }
        // What each app's baseline grants, and its escalations, by app id, each made on
        // the first key that needs it: a scan of every app and change per key was
        // quadratic in the ledger, and a ledger of a few entries (most of them) should
        // not pay for indexing a release of thousands of changes.
        let baseline = baseline_by_app(apps, removed);
        let settled: OnceLock<FxHashMap<&str, ScopeSet<'_>>> = OnceLock::new();
        let current: OnceLock<FxHashMap<&str, Vec<Scope>>> = OnceLock::new();
        let current_ix: OnceLock<FxHashMap<&str, ScopeIndex<'_>>> = OnceLock::new();
        let change_keys: OnceLock<FxHashSet<&str>> = OnceLock::new();
        // With this few keys, each is compared with the scopes it is asked about, one
        // by one, before anything is indexed: a key the baseline grants through one of
        // its scopes is found by a scan of them.
        let few = live.iter().map(|e| e.keys.len()).sum::<usize>() <= FEW_KEYS;
        let related = |a: &Scope, b: &Scope| covers(a, b, opts) || covers(b, a, opts);
        // Whether one of the app's escalations covers `scope` or is covered by it.
        let escalated = |app: &str, scope: &Scope| {
            let current = current.get_or_init(|| escalations_by_app(changes));
            let Some(ps) = current.get(app) else {
                return false;
            };
            if few {
                return ps.iter().any(|p| related(scope, p));
            }
            let ix = current_ix.get_or_init(|| {
                current
                    .iter()
                    .map(|(app, ps)| (*app, ScopeIndex::of(ps.iter())))
                    .collect()
            });
            ix[app]
                .related(scope)
                .into_iter()
                .any(|i| related(scope, &ps[i]))
        };
        let mut out = Vec::new();
        for e in live {
            let matches_something = e.keys.iter().any(|k| {
                let Some(scope) = k.scope() else {
                    // An identity key matches the identity change it names.
                    return change_keys
                        .get_or_init(|| changes.iter().map(|c| c.key.as_str()).collect())
                        .contains(k.to_string().as_str());
                };
                let app = k.app.as_str();
                let base = baseline.get(app);
                (few && base.is_some_and(|b| b.iter().any(|b| covers(b, scope, opts))))
                    || escalated(app, scope)
                    || base.is_some() && {
                        let settled = settled.get_or_init(|| {
                            baseline
                                .iter()
                                .map(|(app, scopes)| {
                                    (*app, ScopeSet::new(scopes.iter().copied(), opts))
                                })
                                .collect()
                        });
                        settled.get(app).is_some_and(|set| set.grants(scope))
                    }
            });
            if !matches_something {
                let keys: Vec<String> = e.keys.iter().map(ToString::to_string).collect();
                out.push(self.ledger_finding(RuleId::ApprovalStale,
                    Some(e.pos.line),
                    format!(
                        "the approval by {} ({}) matches no current change and nothing the baseline grants",
                        e.by,
                        keys.join(", ")
                    ),
                ));
            }
        }
        out
    }
}

/// The scopes each app's baseline requests, by app id (the apps still here and those
/// removed).
fn baseline_by_app<'s>(
    apps: &'s [App],
    removed: &'s [Removed],
) -> FxHashMap<&'s str, Vec<&'s Scope>> {
    let mut settled: FxHashMap<&str, Vec<&Scope>> = FxHashMap::default();
    for a in apps {
        if let Some((_, b, _)) = &a.base {
            settled
                .entry(a.head.id.value.as_str())
                .or_default()
                .extend(b.requested());
        }
    }
    for r in removed {
        settled
            .entry(r.base.id.value.as_str())
            .or_default()
            .extend(r.base.requested());
    }
    settled
}

/// From this many keys of live entries in all, [`Ledger::stale`] indexes the
/// escalations; below it, each key is compared with them one by one.
pub(super) const FEW_KEYS: usize = 16;

/// The escalations' scopes, by app id.
fn escalations_by_app(changes: &[Change]) -> FxHashMap<&str, Vec<Scope>> {
    let mut current: FxHashMap<&str, Vec<Scope>> = FxHashMap::default();
    for c in changes
        .iter()
        .filter(|c| c.direction == Direction::Escalation)
    {
        if let Ok(p) = Scope::parse_shown(&c.scope) {
            current.entry(c.app.as_str()).or_default().push(p);
        }
    }
    current
}

/// One change's piece matched against the ledger's entries for its app (the steps of
/// [`Ledger::approval_among`]).
struct Match<'l, 'a> {
    ledger: &'l Ledger<'a>,
    c: &'l Change,
    piece: &'l Scope,
    applies: &'l dyn Fn(&Entry) -> bool,
    opts: Options,
    by_app: Option<&'l ByApp<'a>>,
}

impl<'a> Match<'_, 'a> {
    /// The tags `lookup` finds in the app's index (none when no entry names the app).
    fn tags(&self, lookup: impl Fn(&ByApp<'a>) -> Vec<usize>) -> Vec<usize> {
        self.by_app.map(lookup).unwrap_or_default()
    }

    /// The scopes of `e`'s keys for the change's app.
    fn for_app(&self, e: &'a Entry) -> Arc<KeySet<'a>> {
        self.ledger.key_set(e, &self.c.app)
    }

    /// Whether one of `e`'s keys for the app covers the piece or is covered by it (of
    /// those its index names).
    fn contributes(&self, e: &'a Entry) -> bool {
        let keys = self.for_app(e);
        keys.related(self.piece).into_iter().any(|i| {
            let k = keys.scopes[i];
            covers(self.piece, k, self.opts) || covers(k, self.piece, self.opts)
        })
    }

    /// The counted entries among `tags` that are live and apply, reviewed entries first.
    fn live(&self, tags: Vec<usize>) -> Vec<(&'a Entry, bool)> {
        let mut v: Vec<(&Entry, bool)> = tags
            .into_iter()
            .map(|i| self.ledger.entries[i])
            .filter(|(e, _)| !self.ledger.expired(e) && (self.applies)(e))
            .collect();
        v.sort_by_key(|(_, added)| *added);
        v
    }

    /// The entries among `tags` still waiting for a review that apply.
    fn pending(&self, tags: Vec<usize>) -> Vec<(&'a Entry, &'a str)> {
        tags.into_iter()
            .map(|i| self.ledger.pending[i])
            .filter(|(e, _)| (self.applies)(e))
            .collect()
    }

    /// Approved by `e` alone.
    fn approved(&self, e: &'a Entry, added: bool) -> Approval {
        Approval {
            state: ApprovalState::Approved,
            by: Some(e.by.clone()),
            ticket: e.ticket.clone(),
            entry_line: Some(e.pos.line),
            added_in_change: added,
            unverified: self.ledger.is_unverified(e),
            signed_with: self.ledger.signed_with(e),
            reason: None,
            tenants: Vec::new(),
        }
    }

    /// One entry that covers the piece alone, reviewed entries first.
    fn one_entry(&self, grant: &[(&'a Entry, bool)]) -> Option<Approval> {
        grant
            .iter()
            .find(|(e, _)| self.for_app(e).grants(self.piece))
            .map(|(e, added)| self.approved(e, *added))
    }

    /// Several entries together (`together`, their keys) cover the piece: approved by
    /// every live entry with a key that covers it or is covered by it.
    fn several_entries(&self, together: &[Arc<KeySet<'a>>]) -> Option<Approval> {
        if !grant_together(together, self.piece, self.opts) {
            return None;
        }
        let related = self.live(self.tags(|b| b.keys.related(self.piece)));
        let contributing: Vec<&(&Entry, bool)> = related
            .iter()
            .filter(|(e, _)| self.contributes(e))
            .collect();
        let by: Vec<&str> = contributing.iter().map(|(e, _)| e.by.as_str()).collect();
        Some(Approval {
            state: ApprovalState::Approved,
            by: Some(by.join(", ")),
            ticket: None,
            entry_line: contributing.first().map(|(e, _)| e.pos.line),
            added_in_change: contributing.iter().any(|(_, a)| *a),
            unverified: contributing
                .iter()
                .any(|(e, _)| self.ledger.is_unverified(e)),
            signed_with: None,
            reason: None,
            tenants: Vec::new(),
        })
    }

    /// Would the entries still waiting for a review approve it (with the counted keys
    /// `together`)? Then it is pending on those that contribute.
    fn waiting(&self, together: &[Arc<KeySet<'a>>]) -> Option<Approval> {
        let with_pending: Vec<Arc<KeySet<'a>>> = together
            .iter()
            .cloned()
            .chain(
                self.pending(self.tags(|b| b.pending_keys.may_grant(self.piece)))
                    .into_iter()
                    .map(|(e, _)| self.for_app(e)),
            )
            .collect();
        if !grant_together(&with_pending, self.piece, self.opts) {
            return None;
        }
        let waiting: Vec<(&Entry, &str)> = self
            .pending(self.tags(|b| b.pending_keys.related(self.piece)))
            .into_iter()
            .filter(|(e, _)| self.contributes(e))
            .collect();
        // Each reason and approver once: two entries by alice waiting for the same
        // thing said it twice.
        let (mut reasons, mut by): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
        let (mut said, mut named) = (FxHashSet::default(), FxHashSet::default());
        for (e, why) in &waiting {
            if said.insert(*why) {
                reasons.push(why);
            }
            if named.insert(e.by.as_str()) {
                by.push(&e.by);
            }
        }
        Some(Approval {
            state: ApprovalState::Pending,
            by: Some(by.join(", ")),
            ticket: waiting.first().and_then(|(e, _)| e.ticket.clone()),
            entry_line: waiting.first().map(|(e, _)| e.pos.line),
            added_in_change: true,
            unverified: false,
            signed_with: None,
            reason: Some(reasons.join("; ")),
            tenants: Vec::new(),
        })
    }

    /// An expired entry that would have covered the piece alone.
    fn expired(&self) -> Option<Approval> {
        let (e, added) = self
            .tags(|b| b.keys.may_grant(self.piece))
            .into_iter()
            .map(|i| self.ledger.entries[i])
            .find(|(e, _)| {
                self.ledger.expired(e) && (self.applies)(e) && self.for_app(e).grants(self.piece)
            })?;
        Some(Approval {
            state: ApprovalState::Expired,
            reason: Some(self.ledger.expiry_reason(e)),
            ..self.approved(e, added)
        })
    }
}

/// The ledger's entries sorted by provenance: which count, which wait for a review,
/// and which are spent.
struct Provenance<'a> {
    entries: Vec<(&'a Entry, bool)>,
    pending: Vec<(&'a Entry, &'a str)>,
    spent: Vec<&'a Entry>,
}

impl<'a> Provenance<'a> {
    /// Decides for each entry of the baseline, trusted-commit and head ledgers whether
    /// it counts (and whether the change added it), waits for a review, or is spent
    /// because the baseline release's ledger already holds it.
    fn of(input: &'a Input<'a>) -> Provenance<'a> {
        // Entries present at the baseline were reviewed when they merged; entries the
        // change adds are marked, and on GitHub count only with a qualifying review.
        let release: FxHashSet<Approved<'a>> = input
            .release_ledger
            .into_iter()
            .flatten()
            .map(Approved)
            .collect();
        let released = |e: &'a Entry| release.contains(&Approved(e));
        let base: FxHashSet<&Entry> = input.base_ledger.iter().collect();
        // Entries merged at the trusted commit (a PR base) since the baseline were
        // reviewed when they merged: they count, and are not the change's own.
        let merged: FxHashSet<&Entry> = input.merged_ledger.iter().collect();
        let untrusted: FxHashMap<&Entry, &str> = input
            .untrusted
            .iter()
            .map(|(e, why)| (e, why.as_str()))
            .rev()
            .collect();
        let mut entries: Vec<(&Entry, bool)> = Vec::new();
        let mut spent = Vec::new();
        for e in input.base_ledger {
            if released(e) {
                spent.push(e);
            } else {
                entries.push((e, false));
            }
        }
        for e in input.merged_ledger.iter().filter(|e| !base.contains(e)) {
            if released(e) {
                spent.push(e);
            } else {
                entries.push((e, false));
            }
        }
        let mut pending = Vec::new();
        for e in input
            .head_ledger
            .iter()
            .filter(|e| !base.contains(e) && !merged.contains(e))
        {
            if released(e) {
                // A copy of a released entry is that entry: still spent.
                spent.push(e);
                continue;
            }
            match untrusted.get(e) {
                Some(why) => pending.push((e, *why)),
                None => entries.push((e, true)),
            }
        }
        Provenance {
            entries,
            pending,
            spent,
        }
    }
}

/// An entry as the approval it records: its keys, approver, time, ticket, reason, expiry
/// and tenants, which its signature signs (`signature::canonical`), and not the
/// signature's text. A released entry copied with its armor re-wrapped (`signature: |+`,
/// other line breaks) is the same approval, and as spent as the one it copies.
#[derive(Clone, Copy)]
struct Approved<'a>(&'a Entry);

impl PartialEq for Approved<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.0.recorded() == o.0.recorded()
    }
}

impl Eq for Approved<'_> {}

impl std::hash::Hash for Approved<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.recorded().hash(h);
    }
}

/// Indexes the counted, pending and spent entries by each app id their keys name,
/// and each app's keys by scope, so that a change is matched only against the
/// entries that may approve it.
fn index_by_app<'a>(
    entries: &[(&'a Entry, bool)],
    pending: &[(&'a Entry, &'a str)],
    spent: &[&'a Entry],
) -> FxHashMap<&'a str, ByApp<'a>> {
    let mut by_app: FxHashMap<&str, ByApp<'a>> = FxHashMap::default();
    let mut index =
        |e: &'a Entry, i: usize, list: for<'b> fn(&'b mut ByApp<'a>) -> &'b mut Vec<usize>| {
            let mut apps: Vec<&str> = e.keys.iter().map(|k| k.app.as_str()).collect();
            apps.sort_unstable();
            apps.dedup();
            for app in apps {
                list(by_app.entry(app).or_default()).push(i);
            }
        };
    for (i, (e, _)) in entries.iter().enumerate() {
        index(e, i, |b| &mut b.entries);
    }
    for (i, (e, _)) in pending.iter().enumerate() {
        index(e, i, |b| &mut b.pending);
    }
    for (i, e) in spent.iter().enumerate() {
        index(e, i, |b| &mut b.spent);
    }
    for (app, b) in by_app.iter_mut() {
        index_keys(&mut b.keys, app, &b.entries, |i| entries[i].0);
        index_keys(&mut b.pending_keys, app, &b.pending, |i| pending[i].0);
        index_keys(&mut b.spent_keys, app, &b.spent, |i| spent[i]);
    }
    by_app
}

/// The scope of every key for `app` of the entries `tags` name, tagged with the
/// entry's index.
fn index_keys<'a>(
    keys: &mut ScopeIndex<'a>,
    app: &str,
    tags: &[usize],
    entry: impl Fn(usize) -> &'a Entry + Clone,
) {
    *keys = ScopeIndex::tagged(tags.iter().flat_map(move |&i| {
        entry(i)
            .keys
            .iter()
            .filter(move |k| k.app == *app)
            .filter_map(move |k| Some((k.scope()?, i)))
    }));
}

fn unapproved() -> Approval {
    Approval {
        state: ApprovalState::Unapproved,
        ..Approval::not_required()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::approval::{Entry, Key};
    use crate::config::Config;
    use crate::gate::{App, gate};
    use crate::manifest::Pos;
    use crate::report::ApprovalState;
    use crate::scope::Scope;

    pub(super) const BASE: &str =
        "id: a\nscopes:\n  - scope: patient/Observation.rs\n    rationale: r\n";
    pub(super) const HEAD: &str = "id: a\nscopes:\n  - scope: patient/Observation.rs\n    rationale: r\n  - scope: patient/Condition.rs\n    rationale: r\n";

    pub(super) fn entry(app: &str, scope: &str, i: usize) -> Entry {
        Entry {
            keys: vec![Key {
                app: app.into(),
                target: crate::approval::Target::Scope(Scope::parse(scope).unwrap()),
            }],
            by: "alice".into(),
            at: "2026-01-01T00:00:00Z".into(),
            ticket: Some(format!("T-{i}")),
            reason: None,
            expires: None,
            tenants: Vec::new(),
            signature: None,
            pos: Pos {
                line: u32::try_from(i).unwrap() + 1,
                column: 1,
            },
        }
    }

    /// `n` entries for other apps (and, every other one, other access of app `a`).
    fn history(n: usize) -> Vec<Entry> {
        (0..n)
            .map(|i| {
                let app = if i % 2 == 0 {
                    "a".to_string()
                } else {
                    format!("b{}", i % 997)
                };
                entry(&app, &format!("patient/Observation.rs?code=c{i}"), i)
            })
            .collect()
    }

    /// The gate with a ledger of `n` entries at the release, the same `n` plus one new
    /// entry approving the change at head; the best of three runs' time.
    fn judge(n: usize) -> (ApprovalState, Duration) {
        let apps = [App {
            head: crate::manifest::from_str("h.yaml", HEAD).unwrap().into(),
            head_text: HEAD.into(),
            base: Some((
                "h.yaml".into(),
                crate::manifest::from_str("h.yaml", BASE).unwrap(),
                BASE.into(),
            )),
        }];
        let base = history(n);
        let mut head = base.clone();
        head.push(entry("a", "patient/Condition.rs", n));
        let config = Config::default();
        let input = crate::gate::tests::input(&apps, &config, &base, &head);
        let mut best = Duration::MAX;
        let mut state = ApprovalState::NotRequired;
        for _ in 0..3 {
            let t = Instant::now();
            let report = gate(&input, crate::gate::Ahead::none());
            best = best.min(t.elapsed());
            state = report.changes[0].approval.state.clone();
        }
        (state, best)
    }

    // Regression (issue 17 §5): 20,000 entries took 10.8 s, as each head entry was
    // looked for among all baseline entries, and each key scanned every app.
    #[test]
    fn judging_grows_about_linearly_with_the_ledger() {
        let (small_state, small) = judge(5_000);
        let (big_state, big) = judge(50_000);
        assert_eq!(small_state, ApprovalState::Approved);
        assert_eq!(big_state, ApprovalState::Approved);
        // Ten times the entries: linear is about 10×, quadratic 100×. The bound leaves
        // room for a loaded machine and for hashing's cache effects.
        assert!(
            big < small * 35 + Duration::from_millis(200),
            "5,000 entries: {small:?}; 50,000 entries: {big:?}"
        );
    }
}

#[cfg(test)]
mod scaling {
    use std::time::Duration;

    use crate::config::Config;
    use crate::gate::{App, gate};
    use crate::report::{ApprovalState, Direction};

    fn codes(ty: &str, n: usize) -> String {
        let mut t = String::from("id: a\nscopes:\n");
        for i in 0..n {
            t.push_str(&format!(
                "  - scope: patient/{ty}.rs?category=c{i}\n    rationale: r\n"
            ));
        }
        t
    }

    /// `n` new `patient/Observation.rs?category=cN` over a baseline of `n` others, with
    /// an entry at head approving each one's `r` (with `tenants`): each change is
    /// approved in part. The changes, and the best of three runs' time.
    fn split(n: usize, tenants: &str) -> (Vec<crate::report::Change>, Duration) {
        let (base, head) = (
            codes("Condition", n),
            format!(
                "{}{}",
                codes("Condition", n),
                codes("Observation", n).trim_start_matches("id: a\nscopes:\n")
            ),
        );
        let mut ledger = String::from("approvals:\n");
        for i in 0..n {
            ledger.push_str(&format!("  - keys: ['a:patient/Observation.r?category=c{i}']\n    by: alice\n    at: 2026-01-01T00:00:00Z\n    ticket: T-{i}\n{tenants}"));
        }
        judged(base, head, &ledger, false)
    }

    /// The gate of app `a` from `base` to `head` with `ledger` at head (its entries
    /// unverified when `unverified`): the changes, and the best of three runs' time.
    fn judged(
        base: String,
        head: String,
        ledger: &str,
        unverified: bool,
    ) -> (Vec<crate::report::Change>, Duration) {
        let apps = [App {
            head: crate::manifest::from_str("h.yaml", &head).unwrap().into(),
            head_text: head,
            base: Some((
                "h.yaml".into(),
                crate::manifest::from_str("h.yaml", &base).unwrap(),
                base,
            )),
        }];
        let head_ledger = crate::approval::from_bytes("l", ledger.as_bytes()).unwrap();
        let config = Config::default();
        let mut input = crate::gate::tests::input(&apps, &config, &[], &head_ledger);
        if unverified {
            input.unverified = &head_ledger;
        }
        crate::scaling::timed(|| gate(&input, crate::gate::Ahead::none()).changes)
    }

    // Regression (issue 15 §1): each change approved in part gathered every approved
    // scope of its app, and indexed the whole baseline, again.
    #[test]
    fn changes_approved_in_part_are_split_in_time_linear_in_their_number() {
        for tenants in ["", "    tenants: [clinic]\n"] {
            let (small, small_t) = split(200, tenants);
            let (big, big_t) = split(2_000, tenants);
            for (n, changes) in [(200, &small), (2_000, &big)] {
                let esc: Vec<_> = changes
                    .iter()
                    .filter(|c| c.direction == Direction::Escalation)
                    .collect();
                // Each change split into its approved `r` and its unapproved `s`.
                let approved = esc
                    .iter()
                    .filter(|c| c.approval.state == ApprovalState::Approved)
                    .count();
                assert_eq!((esc.len(), approved), (2 * n, n), "{tenants}");
                // Approved for the entry's tenants only, each its own.
                let want: &[&str] = if tenants.is_empty() { &[] } else { &["clinic"] };
                for c in esc
                    .iter()
                    .filter(|c| c.approval.state == ApprovalState::Approved)
                {
                    assert_eq!(c.approval.tenants, want, "{c:#?}");
                    assert_eq!(
                        c.approval.ticket.as_deref().map(|t| &t[2..]),
                        c.scope.rsplit('c').next(),
                        "{c:#?}"
                    );
                }
            }
            crate::scaling::assert_near_linear(tenants, small_t, big_t);
        }
    }

    /// `n` new codes over an empty baseline, all approved by one entry of `n` keys (as
    /// `scopegate approve` writes for a release), unverified (an advisory run) when
    /// `unverified`. The changes, and the best of three runs' time.
    fn one_entry(n: usize, unverified: bool) -> (Vec<crate::report::Change>, Duration) {
        let head = codes("Observation", n);
        let base = "id: a\nscopes:\n  - scope: launch\n    rationale: r\n".to_string();
        let mut ledger = String::from("approvals:\n  - keys:\n");
        for i in 0..n {
            ledger.push_str(&format!(
                "      - 'a:patient/Observation.rs?category=c{i}'\n"
            ));
        }
        ledger.push_str("    by: alice\n    at: 2026-01-01T00:00:00Z\n    ticket: T-1\n");
        judged(base, head, &ledger, unverified)
    }

    // Regression (issue 15 §1): each change gathered all the keys of the one entry that
    // approves a release, and compared that entry whole with the unverified ones: 3.1 s
    // for 4,000 changes. At 400 against 4,000 the test fails without the `standing` memo
    // (31 ms against 2 s); at 200 against 2,000 the rest of the judging hid it.
    #[test]
    fn one_entry_approving_a_whole_release_is_matched_in_time_linear_in_it() {
        for unverified in [false, true] {
            let (small, small_t) = one_entry(400, unverified);
            let (big, big_t) = one_entry(4_000, unverified);
            for (n, changes) in [(400, &small), (4_000, &big)] {
                let esc: Vec<_> = changes
                    .iter()
                    .filter(|c| c.direction == Direction::Escalation)
                    .collect();
                assert_eq!(esc.len(), n);
                for c in esc {
                    assert_eq!(c.approval.state, ApprovalState::Approved, "{c:#?}");
                    assert_eq!(c.approval.unverified, unverified, "{c:#?}");
                }
            }
            crate::scaling::assert_near_linear(&format!("unverified {unverified}"), small_t, big_t);
        }
    }

    /// The gate with `n` tenant profiles (their names long, as a file name may be, and
    /// alike but for the end) and one new entry approving the release's four new types
    /// for all of them and one tenant with no profile; the best of three runs' time.
    fn many_tenants(n: usize) -> (crate::report::Report, Duration) {
        tenants_named(n, |_| true)
    }

    /// [`many_tenants`], the entry naming only the tenants `named` picks (and `ghost`).
    fn tenants_named(n: usize, named: impl Fn(usize) -> bool) -> (crate::report::Report, Duration) {
        use super::tests::BASE;
        let types = ["Condition", "Procedure", "Encounter", "Immunization"];
        let mut head = BASE.to_string();
        for t in types {
            head.push_str(&format!("  - scope: patient/{t}.rs\n    rationale: r\n"));
        }
        let apps = [App {
            head: crate::manifest::from_str("h.yaml", &head).unwrap().into(),
            head_text: head.clone(),
            base: Some((
                "h.yaml".into(),
                crate::manifest::from_str("h.yaml", BASE).unwrap(),
                BASE.into(),
            )),
        }];
        let name = |i: usize| format!("clinic-{}-{i:05}", "x".repeat(230));
        let tenants: Vec<crate::tenant::Tenant> = (0..n)
            .map(|i| crate::tenant::Tenant {
                profile: crate::tenant::from_bytes(
                    &format!(".scopegate/tenants/{}.yaml", name(i)),
                    b"description: one of many\n",
                )
                .unwrap(),
                ehr: None,
            })
            .collect();
        let mut e = super::tests::entry("a", "patient/Condition.rs", 0);
        e.keys = types
            .iter()
            .map(|t| crate::approval::Key::parse(&format!("a:patient/{t}.rs")).unwrap())
            .collect();
        e.tenants = (0..n).filter(|&i| named(i)).map(name).collect();
        e.tenants.push("ghost".into());
        let ledger = [e];
        let config = Config::default();
        let mut input = crate::gate::tests::input(&apps, &config, &[], &ledger);
        input.tenants = &tenants;
        crate::scaling::timed(|| gate(&input, crate::gate::Ahead::none()))
    }

    // An entry for thousands of tenants approves for each of them, and the one tenant
    // it names with no profile is a finding, in time linear in the tenants. (Each
    // tenant's column looked for the tenant among the entry's by a scan, and each of the
    // entry's tenants among the profiles: quadratic, but 0.1 s of 0.43 s at 8,000, which
    // this bound does not tell from linear.)
    #[test]
    fn an_entry_for_thousands_of_tenants_is_judged_in_time_linear_in_them() {
        let (small, small_t) = many_tenants(300);
        let (big, big_t) = many_tenants(3_000);
        for (r, n) in [(&small, 300), (&big, 3_000)] {
            assert_eq!(r.tenants.len(), n);
            let rules: Vec<&str> = r
                .findings
                .iter()
                .map(|f| f.rule.as_str())
                .filter(|r| r.starts_with("approval") || r.starts_with("tenant"))
                .collect();
            assert_eq!(
                rules,
                ["approval-unknown-tenant"],
                "approved for every tenant"
            );
            assert_eq!(r.summary.unapproved, 0);
        }
        crate::scaling::assert_near_linear("tenants", small_t, big_t);
    }

    /// An entry limited to some tenants approves for those and no other, whether it
    /// names few (a scan) or many (a set, from [`MANY_TENANTS`]): each tenant left out
    /// keeps its approvals column failing, on both sides of the bound.
    #[test]
    fn an_entry_approves_for_the_tenants_it_names_and_no_other_few_or_many() {
        use super::MANY_TENANTS;
        use crate::report::Check;
        for n in [MANY_TENANTS - 4, MANY_TENANTS + 1, 4 * MANY_TENANTS] {
            let left_out = |i: usize| i == 2 || i == n - 1;
            let (r, _) = tenants_named(n, |i| !left_out(i));
            assert_eq!(r.tenants.len(), n);
            for (i, row) in r.tenants.iter().enumerate() {
                let want = if left_out(i) {
                    Check::Fail
                } else {
                    Check::Pass
                };
                assert_eq!(row.approvals, want, "{n} tenants, row {i}: {row:#?}");
            }
        }
    }
}
