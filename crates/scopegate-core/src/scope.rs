//! The SMART scope grammar: one token in, one validated [`Scope`] out.
//!
//! Owns parsing and the canonical (v2) spelling of every token the SMART App Launch IG
//! defines, 1.0 and 2.0–2.2, plus Bulk Data 1.0's `system/` scopes. It does not decide
//! what a scope *covers* (that is [`crate::grant`]) and does not know FHIR versions
//! (resource types are checked against [`crate::fhir`] by the lint).

use std::fmt;
use std::sync::Arc;

use crate::hint::did_you_mean;

/// `http://smarthealthit.org/fhir/scopes/` is the IG's URI form of a SMART scope
/// (SMART 1.0 and 2.x, "Appendix: URI representation of scopes").
pub(crate) const SMART_URI_PREFIX: &str = "http://smarthealthit.org/fhir/scopes/";
/// The URI form of the OpenID Connect scopes (same appendix).
const OPENID_URI_PREFIX: &str = "http://openid.net/specs/openid-connect-core-1_0#";

/// Who the access is on behalf of. SMART 2.x: `patient/`, `user/`, `system/`; the IG
/// states no containment between them, so they are distinct unless configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Level {
    Patient,
    User,
    System,
}

impl Level {
    pub(crate) const ALL: [Level; 3] = [Level::Patient, Level::User, Level::System];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Level::Patient => "patient",
            Level::User => "user",
            Level::System => "system",
        }
    }

    fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource type, or `*`: "all resource types, both now and in the future" (SMART 2.x).
///
/// The name is shared, not copied: the algebra clones scopes freely.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum ResourceType {
    Any,
    Named(Arc<str>),
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceType::Any => f.write_str("*"),
            ResourceType::Named(n) => f.write_str(n),
        }
    }
}

/// One permission letter of SMART 2.x, in the IG's fixed order `c r u d s`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Letter {
    C,
    R,
    U,
    D,
    S,
}

impl Letter {
    pub(crate) const ALL: [Letter; 5] = [Letter::C, Letter::R, Letter::U, Letter::D, Letter::S];

    pub(crate) fn as_char(self) -> char {
        match self {
            Letter::C => 'c',
            Letter::R => 'r',
            Letter::U => 'u',
            Letter::D => 'd',
            Letter::S => 's',
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    fn from_char(c: char) -> Option<Letter> {
        Letter::ALL.into_iter().find(|l| l.as_char() == c)
    }
}

/// A non-empty set of permission letters. Displayed in the IG's order (`.cruds`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Perms(u8);

impl Perms {
    /// SMART 2.x "Scope Equivalence": `.read` is processed as `.rs`.
    pub(crate) const READ: Perms = Perms(0b10010);
    /// `.write` is processed as `.cud`.
    pub(crate) const WRITE: Perms = Perms(0b01101);
    /// `.*` is processed as `.cruds`.
    pub(crate) const ALL: Perms = Perms(0b11111);

    pub(crate) fn from_letters(letters: impl IntoIterator<Item = Letter>) -> Perms {
        Perms(letters.into_iter().fold(0, |acc, l| acc | l.bit()))
    }

    pub(crate) fn contains(self, l: Letter) -> bool {
        self.0 & l.bit() != 0
    }

    pub(crate) fn is_superset(self, other: Perms) -> bool {
        self.0 & other.0 == other.0
    }

    pub(crate) fn intersection(self, other: Perms) -> Perms {
        Perms(self.0 & other.0)
    }

    pub(crate) fn intersects(self, other: Perms) -> bool {
        self.0 & other.0 != 0
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub(crate) fn union(self, other: Perms) -> Perms {
        Perms(self.0 | other.0)
    }

    pub(crate) fn minus(self, other: Perms) -> Perms {
        Perms(self.0 & !other.0)
    }

    pub(crate) fn letters(self) -> impl Iterator<Item = Letter> {
        Letter::ALL.into_iter().filter(move |l| self.contains(*l))
    }
}

impl fmt::Display for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.letters()
            .try_for_each(|l| write!(f, "{}", l.as_char()))
    }
}

/// A query restriction, `?p=v(&p=v)*`, in FHIR search semantics: the clauses are ANDed
/// (`&`, or a repeated parameter), and the comma-separated values inside one clause are
/// ORed. SMART 2.x does not spell this out; it says restrictions use "FHIR REST API
/// search parameter" syntax, and peers (Inferno, the US Core kit) read it this way.
///
/// Canonical form: clauses sorted, and a clause that is implied by a narrower clause on
/// the same parameter is dropped (`a=x,y & a=x` is `a=x`), so that two restrictions
/// that cover each other are equal.
///
/// The clauses are shared, not copied (the algebra clones scopes freely), and no
/// restriction at all allocates nothing. Never `Some` of an empty list, so that equality
/// and order are those of the clauses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Restriction {
    clauses: Option<Arc<Clauses>>,
}

/// `(param, OR-values)` clauses, sorted and without repeats: one small vector, where a
/// map of sets cost a B-tree node per level (about 1 KB a restricted scope, most of what a
/// 2,000-scope manifest allocates).
type Clauses = Vec<(String, Values)>;

/// The OR-values of one clause, sorted and without repeats: a boxed slice, where a
/// `BTreeSet` cost a 280-byte B-tree node even for the one value most clauses have
/// (1.1 MB of a 2,000-scope manifest's parse). Ordered, compared and hashed as the
/// sequence of its values, as the set was.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Values(Box<[String]>);

impl Values {
    /// The one value `v`.
    pub(crate) fn one(v: String) -> Values {
        Values(Box::new([v]))
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.iter()
    }

    pub(crate) fn contains(&self, v: &str) -> bool {
        self.0.binary_search_by(|x| x.as_str().cmp(v)).is_ok()
    }

    /// Every value of `self` is one of `other`'s (one merge walk, both being sorted).
    pub(crate) fn is_subset(&self, other: &Values) -> bool {
        if self.len() > other.len() {
            return false;
        }
        let mut theirs = other.iter();
        self.iter()
            .all(|v| theirs.by_ref().find(|w| *w >= v).is_some_and(|w| w == v))
    }

    /// Keeps the values `keep` accepts.
    pub(crate) fn retain(&mut self, keep: impl FnMut(&String) -> bool) {
        let mut v = std::mem::take(&mut self.0).into_vec();
        v.retain(keep);
        self.0 = v.into_boxed_slice();
    }
}

impl FromIterator<String> for Values {
    fn from_iter<I: IntoIterator<Item = String>>(values: I) -> Values {
        let mut v: Vec<String> = values.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        Values(v.into_boxed_slice())
    }
}

impl<const N: usize> From<[String; N]> for Values {
    fn from(values: [String; N]) -> Values {
        values.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a Values {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

static NO_CLAUSES: Clauses = Vec::new();

/// Ordered as a map from each parameter to the ordered set of its clauses: parameter
/// first, then that parameter's clauses as a sequence (the order scopes sort in).
impl Ord for Restriction {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (&self.clauses, &other.clauses) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(a), Some(b)) => {
                let (mut a, mut b) = (a.chunk_by(same_param), b.chunk_by(same_param));
                loop {
                    let (x, y) = match (a.next(), b.next()) {
                        (None, None) => return Ordering::Equal,
                        (None, Some(_)) => return Ordering::Less,
                        (Some(_), None) => return Ordering::Greater,
                        (Some(x), Some(y)) => (x, y),
                    };
                    let o = x[0]
                        .0
                        .cmp(&y[0].0)
                        .then_with(|| x.iter().map(|c| &c.1).cmp(y.iter().map(|c| &c.1)));
                    if o != Ordering::Equal {
                        return o;
                    }
                }
            }
        }
    }
}

fn same_param(a: &(String, Values), b: &(String, Values)) -> bool {
    a.0 == b.0
}

impl PartialOrd for Restriction {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Restriction {
    /// No restriction at all: the whole resource type.
    pub(crate) fn none() -> Restriction {
        Restriction::default()
    }

    pub(crate) fn is_none(&self) -> bool {
        self.clauses.is_none()
    }

    fn map(&self) -> &Clauses {
        self.clauses.as_deref().unwrap_or(&NO_CLAUSES)
    }

    /// Builds a canonical restriction from `(param, OR-values)` clauses.
    pub(crate) fn from_clauses(clauses: impl IntoIterator<Item = (String, Values)>) -> Self {
        Restriction::canonical(clauses.into_iter().collect())
    }

    /// Sorts the clauses and drops repeats and each clause another clause on the same
    /// parameter implies.
    fn canonical(mut cl: Clauses) -> Self {
        // Within a clause, a value another value covers adds nothing to the OR
        // (`category=laboratory,sys|laboratory` is `category=laboratory`).
        // The values that cover `w` are few (`code` and `system|` for `system|code`):
        // each is looked up, so a clause of thousands of values is not compared pairwise.
        for (param, vs) in cl.iter_mut() {
            if vs.len() > 1 && token_semantics(param) {
                let all = vs.clone();
                vs.retain(|w| !value_coverers(param, w).any(|v| v != w && all.contains(v)));
            }
        }
        cl.sort_unstable();
        cl.dedup();
        // Only a parameter written more than once can have a clause another implies.
        let mut keep = vec![true; cl.len()];
        let mut start = 0;
        for group in cl.chunk_by(same_param) {
            if group.len() > 1 {
                let param = group[0].0.as_str();
                for (i, (_, v)) in group.iter().enumerate() {
                    keep[start + i] = !group
                        .iter()
                        .any(|(_, w)| w != v && clause_implies(param, w, v));
                }
            }
            start += group.len();
        }
        let mut keep = keep.into_iter();
        cl.retain(|_| keep.next().unwrap_or(true));
        Restriction {
            clauses: (!cl.is_empty()).then(|| Arc::new(cl)),
        }
    }

    /// Every clause as `(param, OR-values)`, in canonical order.
    pub(crate) fn clauses(&self) -> impl Iterator<Item = (&str, &Values)> {
        self.map().iter().map(|(p, v)| (p.as_str(), v))
    }

    /// True when every resource matching `other` also matches `self`: each clause of
    /// `self` is implied by some clause of `other` on the same parameter whose values
    /// are a subset. Conservative: it never claims coverage FHIR semantics would deny.
    pub(crate) fn covers(&self, other: &Restriction) -> bool {
        let Some(mine) = &self.clauses else {
            return true;
        };
        // `mine` has at least one clause, which no restriction at all implies.
        let Some(theirs) = &other.clauses else {
            return false;
        };
        if Arc::ptr_eq(mine, theirs) {
            return true;
        }
        mine.iter().all(|(p, vs)| {
            let from = theirs.partition_point(|(q, _)| q < p);
            theirs[from..]
                .iter()
                .take_while(|(q, _)| q == p)
                .any(|(_, w)| clause_implies(p, w, vs))
        })
    }

    /// The parameter and OR-values of the first clause, in canonical order.
    pub(crate) fn first_clause(&self) -> Option<(&str, &Values)> {
        self.clauses().next()
    }

    /// Splits the first clause that has several OR-values into one restriction per
    /// value; `None` when every clause has a single value.
    pub(crate) fn split_first_or(&self) -> Option<(String, Vec<(String, Restriction)>)> {
        // A modified parameter's values are not split: `code:not=a,b` is not the union
        // of `code:not=a` and `code:not=b` (see [`is_modified_parameter`]).
        let (param, vs) = self
            .clauses()
            .find(|(p, vs)| vs.len() > 1 && !is_modified_parameter(p))?;
        let param = param.to_string();
        let vs = vs.clone();
        let rest: Vec<(String, Values)> = self
            .clauses()
            .filter(|(p, v)| !(*p == param && **v == vs))
            .map(|(p, v)| (p.to_string(), v.clone()))
            .collect();
        let parts = vs
            .iter()
            .map(|value| {
                let mut cl = rest.clone();
                cl.push((param.clone(), Values::one(value.clone())));
                (value.clone(), Restriction::from_clauses(cl))
            })
            .collect();
        Some((param, parts))
    }

    /// The same restriction with one clause's OR-values replaced.
    pub(crate) fn with_clause_values(&self, param: &str, old: &Values, new: Values) -> Restriction {
        let mut cl: Vec<(String, Values)> = self
            .clauses()
            .filter(|(p, v)| !(*p == param && *v == old))
            .map(|(p, v)| (p.to_string(), v.clone()))
            .collect();
        cl.push((param.to_string(), new));
        Restriction::from_clauses(cl)
    }
}

/// Search parameters of FHIR type `token` (R4 and R5; the common ones on clinical and
/// administrative resources), on which a value is read as `[system]|[code]`. Any other
/// parameter compares its values as opaque strings, which can only under-claim
/// coverage: the string `a|b` of a `string` parameter is not a code in a system.
const TOKEN_PARAMETERS: &[&str] = &[
    "_id",
    "_security",
    "_tag",
    "active",
    "body-site",
    "bodysite",
    "category",
    "class",
    "clinical-status",
    "code",
    "combo-code",
    "combo-data-absent-reason",
    "combo-value-concept",
    "component-code",
    "component-data-absent-reason",
    "component-value-concept",
    "confidentiality",
    "contenttype",
    "criticality",
    "data-absent-reason",
    "email",
    "event",
    "facility",
    "form",
    "gender",
    "identifier",
    "ingredient-code",
    "intent",
    "kind",
    "language",
    "manufacturer",
    "medication",
    "method",
    "mode",
    "outcome",
    "phone",
    "priority",
    "reason-code",
    "relationship",
    "role",
    "route",
    "security-label",
    "service-category",
    "service-type",
    "setting",
    "severity",
    "site",
    "special-arrangement",
    "specialty",
    "stage",
    "status",
    "telecom",
    "type",
    "use",
    "vaccine-code",
    "value-concept",
    "verification-status",
];

/// `param` is written with a modifier (`code:not`, `category:in`, `name:exact`) or a
/// chain (`subject:Patient.name`). Such a clause is its own parameter: it covers nothing
/// but an equal clause, and nothing but an equal clause covers it. FHIR R4 search,
/// <https://hl7.org/fhir/R4/search.html#modifiers>: `:not`, `:above`, `:below`, `:in`, `:not-in`, `:text`,
/// `:missing` each change what the values match, and `code:not=a,b` is not the union of
/// `code:not=a` and `code:not=b`.
pub(crate) fn is_modified_parameter(param: &str) -> bool {
    param.contains(':')
}

/// Which resources two different values of `param` match in common is not known from
/// their text, so two restrictions on it may overlap whatever they say: a modifier
/// changes what a value matches, and a parameter that is not a token matches by rules
/// of its own (FHIR R4 search: a `string` by case-insensitive prefix, so `name=Smi`
/// matches every `name=Smith`; a `reference` in several forms, `subject=123` and
/// `subject=Patient/123`; a `date` by range, `date=ge2019` and `date=2020`). A tenant's
/// deny is judged on this side; coverage is not (values compared as written can only
/// under-claim it).
pub(crate) fn overlap_unknown(param: &str) -> bool {
    !token_semantics(param)
}

/// Values of `param` are FHIR tokens (`[system]|[code]`), compared by
/// [`value_coverers`]; a modified parameter is not.
pub(crate) fn token_semantics(param: &str) -> bool {
    !is_modified_parameter(param) && TOKEN_PARAMETERS.contains(&param)
}

/// The values of `param` that match every resource `w` matches (`w` itself first),
/// FHIR R4 search, <https://hl7.org/fhir/R4/search.html#token>:
/// - `[code]` matches the code in any system, so it covers `[system]|[code]` and `|[code]`;
/// - `[system]|` matches every code of the system, so it covers `[system]|[code]`;
/// - `|[code]` (a code with no system) and `[system]|[code]` cover only themselves.
///
/// Values of other parameters, and values that are not exactly one `|` between two
/// parts, cover only themselves.
pub(crate) fn value_coverers<'v>(param: &str, w: &'v str) -> impl Iterator<Item = &'v str> {
    let (code, system) = match w.split_once('|') {
        Some((s, c)) if token_semantics(param) && !c.is_empty() && !c.contains('|') => {
            let code = Some(c);
            // `[system]|`, as a prefix of `w` (the pipe included).
            let system = (!s.is_empty()).then(|| &w[..=s.len()]);
            (code, system)
        }
        _ => (None, None),
    };
    std::iter::once(w).chain(code).chain(system)
}

/// Every resource whose `param` matches `w` also matches `v` (see [`value_coverers`]):
/// the pairwise question, for the tests' reference readings.
#[cfg(test)]
pub(crate) fn value_covers(param: &str, v: &str, w: &str) -> bool {
    value_coverers(param, w).any(|c| c == v)
}

/// Some resource's `param` can match both `v` and `w` (FHIR R4 search, token: `code`
/// and `system|` share `system|code`; `|code` and `system|code` share nothing). Values of
/// other parameters overlap when equal.
pub(crate) fn value_overlaps(param: &str, v: &str, w: &str) -> bool {
    if v == w {
        return true;
    }
    if !token_semantics(param) {
        return false;
    }
    // (system: `None` for any, `Some("")` for none; code: `None` for any)
    let split = |x: &'_ str| -> Option<(Option<String>, Option<String>)> {
        match x.split_once('|') {
            None => Some((None, Some(x.to_string()))),
            Some((_, c)) if c.contains('|') => None,
            Some((s, "")) if !s.is_empty() => Some((Some(s.to_string()), None)),
            Some((_, "")) => None,
            Some((s, c)) => Some((Some(s.to_string()), Some(c.to_string()))),
        }
    };
    match (split(v), split(w)) {
        (Some((sv, cv)), Some((sw, cw))) => {
            let compatible = |a: &Option<String>, b: &Option<String>| match (a, b) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            compatible(&sv, &sw) && compatible(&cv, &cw)
        }
        _ => false,
    }
}

/// The clause `param=w1,w2…` implies `param=v1,v2…`: every `w` is covered by some `v`.
/// On a modified parameter only an equal clause implies another (see
/// [`is_modified_parameter`]).
fn clause_implies(param: &str, w: &Values, v: &Values) -> bool {
    if is_modified_parameter(param) {
        return w == v;
    }
    if !token_semantics(param) {
        return w.is_subset(v);
    }
    w.iter()
        .all(|x| v.contains(x) || value_coverers(param, x).any(|c| v.contains(c)))
}

impl fmt::Display for Restriction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (p, vs)) in self.clauses().enumerate() {
            f.write_str(if i == 0 { "?" } else { "&" })?;
            write!(f, "{p}=")?;
            for (j, v) in vs.iter().enumerate() {
                if j > 0 {
                    f.write_str(",")?;
                }
                f.write_str(v)?;
            }
        }
        Ok(())
    }
}

/// A resource scope, normalised to SMART 2.x form.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceScope {
    pub(crate) level: Level,
    pub(crate) resource: ResourceType,
    pub(crate) perms: Perms,
    pub(crate) restriction: Restriction,
}

impl fmt::Display for ResourceScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}.{}{}",
            self.level, self.resource, self.perms, self.restriction
        )
    }
}

/// Launch-context scopes (SMART 2.x "Scopes for requesting context data").
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Launch {
    /// `launch`: EHR launch, sent with the `launch` parameter.
    Ehr,
    /// `launch/<type>`, e.g. `launch/patient`; SMART 2.2 allows one `?role=<uri>`.
    Context {
        context: String,
        role: Option<String>,
    },
}

/// Identity scopes: they shape the token response (an id_token) and grant no FHIR data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Identity {
    OpenId,
    FhirUser,
    /// SMART 1.0 only, "being deprecated" there and absent from 2.x.
    Profile,
}

/// Refresh-token scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Refresh {
    Offline,
    Online,
}

/// One scope token, parsed and normalised. Two tokens that mean the same thing
/// (`patient/Observation.read` and `patient/Observation.rs`) are equal values.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Resource(ResourceScope),
    Launch(Launch),
    Identity(Identity),
    Refresh(Refresh),
    /// A full URI the app's owner controls, or a token starting with `__`: opaque.
    Extension(String),
    /// Syntactically a token, but nothing SMART defines: opaque.
    Unknown(String),
    /// A token that is not valid SMART syntax, kept as written. A server may ignore it,
    /// replace it or honour it, so it counts as opaque access: adding one is new access.
    /// Never made by [`Scope::parse`]; shown (and keyed) as `quote_invalid` writes it.
    Invalid(String),
}

/// What kind of token a scope is, as named in the `explain` JSON contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Resource,
    Launch,
    Identity,
    Refresh,
    Extension,
    Unknown,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Resource => "resource",
            Kind::Launch => "launch",
            Kind::Identity => "identity",
            Kind::Refresh => "refresh",
            Kind::Extension => "extension",
            Kind::Unknown => "unknown",
        }
    }
}

impl Scope {
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Scope::Resource(_) => Kind::Resource,
            Scope::Launch(_) => Kind::Launch,
            Scope::Identity(_) => Kind::Identity,
            Scope::Refresh(_) => Kind::Refresh,
            Scope::Extension(_) => Kind::Extension,
            // The `explain` contract has no `invalid` kind: `explain` reports an
            // invalid token as `valid: false`, never as a scope.
            Scope::Unknown(_) | Scope::Invalid(_) => Kind::Unknown,
        }
    }

    /// A token scopegate cannot read: it does not parse, or SMART defines nothing like
    /// it. A server may honour it as what its characters spell, so policies take it to
    /// grant anything (an extension scope, a URI or `__name`, is the owner's own).
    pub(crate) fn is_unreadable(&self) -> bool {
        matches!(self, Scope::Invalid(_) | Scope::Unknown(_))
    }

    pub(crate) fn as_resource(&self) -> Option<&ResourceScope> {
        match self {
            Scope::Resource(r) => Some(r),
            _ => None,
        }
    }

    /// Parses one token. See [`ScopeError`] for what is rejected.
    pub fn parse(token: &str) -> Result<Scope, ScopeError> {
        parse_token(token)
    }

    /// The access a manifest entry counts as: its scope when it parses; otherwise each
    /// whitespace-separated piece (a server splits a scope string on spaces, RFC 6749
    /// §3.3; splitting on every kind of whitespace over-counts, never under-counts),
    /// as its scope when it parses and as [`Scope::Invalid`] when it does not.
    pub(crate) fn access_of(entry: &str) -> Vec<Scope> {
        if let Ok(s) = Scope::parse(entry) {
            return vec![s];
        }
        // An empty or all-blank entry adds no token to the scope string: no access.
        entry
            .split(char::is_whitespace)
            .filter(|t| !t.is_empty())
            .map(|t| Scope::parse(t).unwrap_or_else(|_| Scope::Invalid(t.to_string())))
            .collect()
    }

    /// Parses a scope as scopegate shows it (a change's `scope`, the scope part of an
    /// approval key): a SMART token, or an invalid token in double quotes as
    /// `quote_invalid` writes it.
    pub fn parse_shown(shown: &str) -> Result<Scope, ScopeError> {
        if !shown.starts_with('"') {
            return Scope::parse(shown);
        }
        let raw = unquote_invalid(shown).ok_or_else(|| {
            invalid(
                format!("`{shown}` is not a quoted token: write `\"…\"` with `\\\"`, `\\\\` and `\\u{{hex}}` escapes"),
                None,
            )
        })?;
        match Scope::parse(&raw) {
            Ok(s) => Err(invalid(
                format!("`{raw}` is a valid scope: write it without quotes"),
                Some(s.to_string()),
            )),
            Err(_) if raw.is_empty() => Err(invalid("empty quoted token", None)),
            Err(_) => Ok(Scope::Invalid(raw)),
        }
    }
}

/// How an invalid token is shown and keyed: in double quotes (which no valid token can
/// contain, RFC 6749 §3.3), with `\"`, `\\`, and `\u{hex}` for every character that is
/// not printable ASCII, so that a look-alike or invisible character is always visible.
pub(crate) fn quote_invalid(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 2);
    out.push('"');
    for c in raw.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '!'..='~' => out.push(c),
            _ => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// The inverse of [`quote_invalid`]; `None` when `s` is not written that way.
fn unquote_invalid(s: &str) -> Option<String> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                'u' => {
                    if chars.next()? != '{' {
                        return None;
                    }
                    let mut hex = String::new();
                    loop {
                        match chars.next()? {
                            '}' => break,
                            h if h.is_ascii_hexdigit() && hex.len() < 6 => hex.push(h),
                            _ => return None,
                        }
                    }
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                _ => return None,
            },
            '"' => return None,
            _ => out.push(c),
        }
    }
    Some(out)
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Resource(r) => r.fmt(f),
            Scope::Launch(Launch::Ehr) => f.write_str("launch"),
            Scope::Launch(Launch::Context { context, role }) => {
                write!(f, "launch/{context}")?;
                match role {
                    Some(r) => write!(f, "?role={r}"),
                    None => Ok(()),
                }
            }
            Scope::Identity(Identity::OpenId) => f.write_str("openid"),
            Scope::Identity(Identity::FhirUser) => f.write_str("fhirUser"),
            Scope::Identity(Identity::Profile) => f.write_str("profile"),
            Scope::Refresh(Refresh::Offline) => f.write_str("offline_access"),
            Scope::Refresh(Refresh::Online) => f.write_str("online_access"),
            Scope::Extension(s) | Scope::Unknown(s) => f.write_str(s),
            Scope::Invalid(raw) => f.write_str(&quote_invalid(raw)),
        }
    }
}

/// Why a token is not a valid scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeError {
    pub(crate) kind: ScopeErrorKind,
    pub(crate) message: String,
    /// A corrected token, when one is obvious ("did you mean").
    pub(crate) suggestion: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScopeErrorKind {
    /// Malformed: not in the grammar.
    Invalid,
    /// Permission letters that are all `cruds` but repeated or out of order. SMART 2.x:
    /// "Valid suffixes are a subset of the in-order string `.cruds`".
    PermissionOrder,
}

impl fmt::Display for ScopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, "; did you mean `{s}`?")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScopeError {}

fn invalid(message: impl Into<String>, suggestion: Option<String>) -> ScopeError {
    ScopeError {
        kind: ScopeErrorKind::Invalid,
        message: message.into(),
        suggestion,
    }
}

/// The non-resource tokens SMART defines (identity, EHR launch, refresh).
pub(crate) const FIXED_TOKENS: [&str; 6] = [
    "openid",
    "fhirUser",
    "profile",
    "launch",
    "offline_access",
    "online_access",
];

fn fixed(token: &str) -> Option<Scope> {
    Some(match token {
        "openid" => Scope::Identity(Identity::OpenId),
        "fhirUser" => Scope::Identity(Identity::FhirUser),
        "profile" => Scope::Identity(Identity::Profile),
        "launch" => Scope::Launch(Launch::Ehr),
        "offline_access" => Scope::Refresh(Refresh::Offline),
        "online_access" => Scope::Refresh(Refresh::Online),
        _ => return None,
    })
}

fn parse_token(token: &str) -> Result<Scope, ScopeError> {
    // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
    if token.is_empty() {
        return Err(invalid("empty scope token", None));
    }
    if let Some(bad) = token
        .chars()
        .find(|c| !matches!(*c as u32, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
    {
        let msg = if bad.is_whitespace() {
            "a scope token cannot contain whitespace: write one token per entry".to_string()
        } else {
            format!("character {bad:?} is not allowed in a scope token (RFC 6749 §3.3)")
        };
        return Err(invalid(msg, None));
    }
    if let Some(inner) = token.strip_prefix(SMART_URI_PREFIX) {
        return parse_token(inner);
    }
    if let Some(inner) = token.strip_prefix(OPENID_URI_PREFIX)
        && matches!(inner, "openid" | "profile")
    {
        return parse_token(inner);
    }
    if let Some(s) = fixed(token) {
        return Ok(s);
    }
    if let Some(host) = uri_host(token).filter(|h| names_a_spec_namespace(h)) {
        // `HTTP://SmartHealthIT.org:80/fhir/scopes/system/*.cruds` is the same URI as the
        // IG's form (RFC 3986 §6.2.2.1, §6.2.3), which a server may read as the scope it
        // names; as an extension scope it was the owner's own and passed every deny.
        return Err(invalid(
            format!(
                "`{token}` is in the {host} namespace, but not written as the SMART App Launch IG \
                 writes its scope URIs (`{SMART_URI_PREFIX}…`, `{OPENID_URI_PREFIX}openid`): a \
                 server may read it as the scope it names, so scopegate cannot tell what it grants"
            ),
            None,
        ));
    }
    if token.starts_with("__") || is_uri(token) {
        return Ok(Scope::Extension(token.to_string()));
    }
    if let Some(rest) = token.strip_prefix("launch/") {
        return parse_launch(rest);
    }
    if let Some((head, rest)) = token.split_once('/') {
        if let Some(level) = Level::parse(head) {
            return parse_resource(level, rest, token).map(Scope::Resource);
        }
        if looks_like_resource_scope(head, rest) {
            let levels = Level::ALL.map(Level::as_str);
            let hint = did_you_mean(head, levels).map(|l| format!("{l}/{rest}"));
            return Err(invalid(
                format!("unknown level `{head}`: SMART defines `patient/`, `user/` and `system/`"),
                hint,
            ));
        }
    }
    if let Some(near) = FIXED_TOKENS.iter().find(|t| t.eq_ignore_ascii_case(token)) {
        return Err(invalid(
            format!("`{token}` is not a SMART scope: scopes are case-sensitive"),
            Some(near.to_string()),
        ));
    }
    Ok(Scope::Unknown(token.to_string()))
}

/// A token like `Patient/Observation.read` or `*/Observation.rs`: clearly meant as a
/// resource scope, so a wrong level is an error, not an opaque unknown token.
fn looks_like_resource_scope(head: &str, rest: &str) -> bool {
    (head == "*" || (!head.is_empty() && head.chars().all(|c| c.is_ascii_alphabetic())))
        && rest.contains('.')
}

/// The host of a `scheme://host…` URI, lower-cased and percent-decoded (RFC 3986
/// §6.2.2), without user information or port.
fn uri_host(token: &str) -> Option<String> {
    if !is_uri(token) {
        return None;
    }
    let decoded = percent_decode(token);
    let rest = decoded.as_deref().unwrap_or(token).split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next().unwrap_or(host);
    Some(host.trim_end_matches('.').to_ascii_lowercase())
}

/// `s` with its `%XX` escapes decoded, repeatedly (`%252F` is `/` encoded twice);
/// `None` when it has none, or when decoding gives no valid text.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let mut cur = s.to_string();
    let mut changed = false;
    for _ in 0..3 {
        let b = cur.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        let mut any = false;
        while i < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if b[i] == b'%'
                && let (Some(h), Some(l)) = (
                    b.get(i + 1).copied().and_then(hex),
                    b.get(i + 2).copied().and_then(hex),
                )
            {
                out.push((h * 16 + l) as u8);
                i += 3;
                any = true;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        if !any {
            break;
        }
        cur = String::from_utf8(out).ok()?;
        changed = true;
    }
    changed.then_some(cur)
}

/// `host` is SMART's or OpenID's, whose scope URIs name SMART scopes.
fn names_a_spec_namespace(host: &str) -> bool {
    ["smarthealthit.org", "openid.net"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// A full URI: `scheme://…` or a `urn:`. (`read:patients` is not one; it stays unknown.)
fn is_uri(token: &str) -> bool {
    let Some((scheme, rest)) = token.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    scheme_ok && (rest.starts_with("//") && rest.len() > 2 || scheme == "urn" && !rest.is_empty())
}

fn parse_launch(rest: &str) -> Result<Scope, ScopeError> {
    // SMART 2.x: "launch requests scopes are always lower case"; 2.2 adds `?role=`.
    let (context, role) = match rest.split_once('?') {
        None => (rest, None),
        Some((c, q)) => match q.strip_prefix("role=") {
            Some(r) if !r.is_empty() && !r.contains('&') => (c, Some(r.to_string())),
            _ => {
                return Err(invalid(
                    format!("launch context `launch/{c}` takes at most one `?role=<uri>`"),
                    None,
                ));
            }
        },
    };
    if context.is_empty() {
        return Err(invalid(
            "`launch/` needs a context type, e.g. `launch/patient`",
            None,
        ));
    }
    if !context.chars().all(|c| c.is_ascii_lowercase()) {
        let lower = context.to_ascii_lowercase();
        let hint = lower
            .chars()
            .all(|c| c.is_ascii_lowercase())
            .then(|| format!("launch/{lower}"));
        return Err(invalid(
            format!("launch context `{context}` must be a lower-case resource type name"),
            hint,
        ));
    }
    Ok(Scope::Launch(Launch::Context {
        context: context.to_string(),
        role,
    }))
}

fn parse_resource(level: Level, rest: &str, token: &str) -> Result<ResourceScope, ScopeError> {
    let Some((ty, after)) = rest.split_once('.') else {
        return Err(invalid(
            format!("`{token}` has no permissions: expected `{level}/<Type>.<permissions>`"),
            Some(format!("{token}.rs")),
        ));
    };
    let resource = parse_type(ty, level, after)?;
    let (perm_text, query) = match after.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (after, None),
    };
    let (perms, v1) = parse_perms(perm_text, level, &resource, query)?;
    let restriction = match query {
        None => Restriction::none(),
        Some(q) if v1 => {
            return Err(invalid(
                format!("query restrictions need SMART 2 permissions, not `.{perm_text}`"),
                Some(format!("{level}/{resource}.{perms}?{q}")),
            ));
        }
        Some(q) => parse_query(q)?,
    };
    Ok(ResourceScope {
        level,
        resource,
        perms,
        restriction,
    })
}

fn parse_type(ty: &str, level: Level, after: &str) -> Result<ResourceType, ScopeError> {
    if ty == "*" {
        return Ok(ResourceType::Any);
    }
    let ok = ty.starts_with(|c: char| c.is_ascii_uppercase())
        && ty.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        return Ok(ResourceType::Named(ty.into()));
    }
    let hint = (!ty.is_empty() && ty.chars().all(|c| c.is_ascii_alphanumeric())).then(|| {
        let mut c = ty.chars();
        let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or_default();
        format!("{level}/{first}{}.{after}", c.as_str())
    });
    let msg = if ty.is_empty() {
        "missing resource type: use a FHIR type name or `*`".to_string()
    } else {
        format!("`{ty}` is not a resource type name: types are PascalCase, or `*`")
    };
    Err(invalid(msg, hint))
}

/// Returns the permissions and whether they were written in SMART 1.0 form.
fn parse_perms(
    text: &str,
    level: Level,
    resource: &ResourceType,
    query: Option<&str>,
) -> Result<(Perms, bool), ScopeError> {
    // Suggestions are only built on the error paths.
    let with = |p: &str| {
        let q = query.map(|q| format!("?{q}")).unwrap_or_default();
        Some(format!("{level}/{resource}.{p}{q}"))
    };
    // SMART 1.0 permissions, processed as 2.x letters per the IG's equivalence table.
    match text {
        "read" => return Ok((Perms::READ, true)),
        "write" => return Ok((Perms::WRITE, true)),
        "*" => return Ok((Perms::ALL, true)),
        _ => {}
    }
    if text.is_empty() {
        return Err(invalid(
            "no permissions after `.`: use letters from `cruds`, in order",
            with("rs"),
        ));
    }
    if text.eq_ignore_ascii_case("read") || text.eq_ignore_ascii_case("write") {
        return Err(invalid(
            format!("`.{text}`: permissions are case-sensitive"),
            with(&text.to_ascii_lowercase()),
        ));
    }
    let mut bits = Perms::from_letters([]);
    let mut in_order = true;
    let mut prev: Option<Letter> = None;
    for c in text.chars() {
        let Some(l) = Letter::from_char(c) else {
            let bad: String = text
                .chars()
                .filter(|c| Letter::from_char(*c).is_none())
                .collect();
            return Err(invalid(
                format!(
                    "`.{text}` is not a permission: use `read`, `write`, `*`, or letters from `cruds` in order (unknown: `{bad}`)"
                ),
                permission_typo(text)
                    .map(str::to_string)
                    .or_else(|| upper_case_letters(text))
                    .and_then(|p| with(&p)),
            ));
        };
        in_order &= prev.is_none_or(|p| p < l);
        prev = Some(l);
        bits = bits.union(Perms::from_letters([l]));
    }
    let perms = bits;
    if !in_order {
        return Err(ScopeError {
            kind: ScopeErrorKind::PermissionOrder,
            message: format!(
                "`.{text}`: permission letters must be an in-order subset of `cruds`, each at most once (SMART 2.x)"
            ),
            suggestion: with(&perms.to_string()),
        });
    }
    Ok((perms, false))
}

/// FHIR's search result parameters (R4 and R5 search page, "Search result parameters")
/// and the parameters defined for every interaction (`_format`, `_pretty`, http page).
/// They say how matches are returned (paged, sorted, shaped, with related resources
/// added), never which resources match, so in a scope they restrict nothing:
/// `X.rs?category=a&_include=…` grants what `X.rs?category=a` grants.
pub(crate) const RESULT_PARAMETERS: [&str; 14] = [
    "_sort",
    "_count",
    "_include",
    "_revinclude",
    "_summary",
    "_total",
    "_elements",
    "_contained",
    "_containedType",
    "_graph",
    "_maxresults",
    "_score",
    "_format",
    "_pretty",
];

/// `param` (with any `:modifier`, e.g. `_include:iterate`) is a result parameter.
pub(crate) fn is_result_parameter(param: &str) -> bool {
    let name = param.split_once(':').map_or(param, |(n, _)| n);
    RESULT_PARAMETERS.contains(&name)
}

fn parse_query(q: &str) -> Result<Restriction, ScopeError> {
    let mut clauses: Clauses = Vec::new();
    for part in q.split('&') {
        let Some((param, value)) = part.split_once('=') else {
            return Err(invalid(
                format!("restriction `{part}` is not `param=value`"),
                None,
            ));
        };
        let param_ok = !param.is_empty()
            && param
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
        if !param_ok {
            return Err(invalid(
                format!("`{param}` is not a search parameter name"),
                None,
            ));
        }
        if value.is_empty() {
            return Err(invalid(
                format!("restriction `{param}=` has no value"),
                None,
            ));
        }
        let values: Values = if value.contains(',') {
            value.split(',').map(str::to_string).collect()
        } else {
            Values::one(value.to_string())
        };
        if values.iter().any(String::is_empty) {
            return Err(invalid(
                format!("restriction `{param}={value}` has an empty value between commas"),
                None,
            ));
        }
        // A server reads the restriction as a URL query: it decodes `%XX` (`%2C` is a
        // comma, which ORs in another value; `%7C` a system's `|`) and stops at `#`
        // (the rest is a fragment, never sent). Either way it would not read the
        // values compared here, so the token is not taken as one it cannot be.
        if value.contains('%') {
            return Err(invalid(
                format!(
                    "restriction `{param}={value}` is percent-encoded: a server decodes it \
                     (`%2C` is a comma, which adds a value), so scopegate cannot tell what it \
                     grants; write the value as the server should read it"
                ),
                None,
            ));
        }
        if value.contains(';') {
            return Err(invalid(
                format!(
                    "`;` in restriction `{param}={value}` separates query parameters for some \
                     servers (HTML 4, older Python `parse_qsl`), which would read another clause \
                     after it, so scopegate cannot tell what it grants"
                ),
                None,
            ));
        }
        if value.contains('#') {
            return Err(invalid(
                format!(
                    "`#` in restriction `{param}={value}` starts a URL fragment: a server \
                     reading the restriction as a query ignores everything from it on, so \
                     scopegate cannot tell what it grants"
                ),
                None,
            ));
        }
        if is_result_parameter(param) {
            // Checked like any clause above, then dropped: it narrows nothing.
            continue;
        }
        clauses.push((param.to_string(), values));
    }
    // A parameter written twice with the same values is written once; written with
    // different values, its reading is the server's to choose (below).
    clauses.sort_unstable();
    clauses.dedup();
    if let Some(twice) = clauses.chunk_by(|a, b| a.0 == b.0).find(|c| c.len() > 1) {
        let param = &twice[0].0;
        return Err(invalid(
            format!(
                "`{param}` is restricted {} times with different values (`&`-joined): FHIR \
                 search would require each of them, but a server that reads the query into a \
                 map keeps one (the first or the last) and SMART does not say which, so \
                 scopegate cannot tell what it grants; write one `{param}=` clause, its values \
                 `,`-joined (any of them), or one scope per clause",
                twice.len()
            ),
            None,
        ));
    }
    Ok(Restriction::canonical(clauses))
}

/// `read` or `write` for a misspelling of one: a close spelling, or the same letters
/// in another order (`raed`, `wirte`).
fn permission_typo(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    let sorted = |s: &str| {
        let mut c: Vec<char> = s.chars().collect();
        c.sort_unstable();
        c
    };
    crate::hint::did_you_mean(&lower, ["read", "write"])
        .and_then(|w| ["read", "write"].into_iter().find(|p| *p == w))
        .or_else(|| {
            ["read", "write"]
                .into_iter()
                .find(|p| sorted(p) == sorted(&lower))
        })
}

/// `rs` for `.RS` or `.Rs`: letters of `cruds` in the wrong case (in `cruds` order).
fn upper_case_letters(text: &str) -> Option<String> {
    let letters: Option<Vec<Letter>> = text
        .chars()
        .map(|c| Letter::from_char(c.to_ascii_lowercase()))
        .collect();
    Some(Perms::from_letters(letters?).to_string())
}

/// True when the token is written with SMART 1.0 permissions (`.read`, `.write`, `.*`).
pub fn is_v1_syntax(token: &str) -> bool {
    let body = token.strip_prefix(SMART_URI_PREFIX).unwrap_or(token);
    let lvl = body.split('/').next().unwrap_or("");
    Level::parse(lvl).is_some() && [".read", ".write", ".*"].iter().any(|s| body.ends_with(s))
}

/// Splits a space-separated scope string into tokens (RFC 6749 §3.3).
pub fn split_scope_string(s: &str) -> impl Iterator<Item = &str> {
    s.split_ascii_whitespace()
}

#[cfg(test)]
mod tests;
