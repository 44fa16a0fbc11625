//! Near-misses: tokens that are almost a SMART scope, and the scope that was meant.
//!
//! Real scope strings hold tokens such as `offline-access`, `patient.Observation.read`,
//! `Observation.rs` or `launch,openid,fhirUser` (issue 15 §2). The grammar
//! ([`crate::scope`]) rejects them or keeps them as opaque unknown tokens; this module
//! looks at such a token once more and names the SMART token or tokens it was meant to
//! be, so that the lint can say so.
//!
//! It only diagnoses: it never changes what a token parses to, so a near-miss still
//! counts as the opaque access it is in the diff and the gate, under the key it is
//! written with. It never "corrects" a token that parses (an extension scope, `__…` or
//! a full URI, included), and only offers a correction that is itself a valid SMART
//! token naming a resource type some FHIR release defines. Pure: no I/O.

use crate::fhir::FhirVersion;
use crate::hint::did_you_mean;
use crate::scope::{
    FIXED_TOKENS, Launch, Level, ResourceType, Scope, ScopeErrorKind, percent_decode,
};

/// The kind of mistake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// A keyword in the wrong case or with `-` for `_`: `Launch/patient`, `offline-access`.
    Keyword,
    /// `.` (or `\`) where `/` belongs: `patient.Observation.read`, `launch.patient`.
    Separator,
    /// A resource scope with no level: `Observation.rs`.
    MissingLevel,
    /// URL-encoded: `user%2FPatient.read`.
    Encoded,
    /// Several tokens joined by `,`, `;` or `+` (or URL-encoded ones): a whole scope
    /// string pasted into one entry.
    Pasted,
    /// Several tokens separated by whitespace in one entry.
    Spaced,
    /// A close misspelling of a SMART keyword (`ofline_access`). Unlike the others it
    /// may be a server's own token, so the lint reports it as a warning.
    Misspelled,
}

/// What one piece of the entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fix {
    /// A valid SMART scope as written.
    Smart,
    /// A valid extension scope (`__…`, a full URI) as written: never corrected.
    Extension,
    /// The SMART scope that was meant; several are alternatives (one per level).
    Meant { family: Family, scopes: Vec<String> },
    /// Nothing SMART: kept as written.
    Opaque,
}

/// One token of the entry, as written (URL-decoded), and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub(crate) written: String,
    pub fix: Fix,
}

/// A diagnosed near-miss: the family and the token or tokens the entry holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NearMiss {
    pub(crate) family: Family,
    pub pieces: Vec<Piece>,
    /// The separators seen between pieces, for the message (`,`, `+`, whitespace…).
    joiners: Vec<&'static str>,
}

/// What the manifest says that a correction depends on.
#[derive(Clone, Debug)]
pub struct Context {
    pub(crate) fhir: FhirVersion,
    /// The levels a resource scope with no level may have meant, from the launch modes.
    pub(crate) levels: Vec<Level>,
}

impl Context {
    /// The levels the launch modes imply: EHR and standalone launch act for a patient
    /// or a user (`patient/`, `user/`), Backend Services for the client (`system/`).
    /// With no launch mode, any level.
    pub fn new(fhir: FhirVersion, launch: &[crate::manifest::LaunchMode]) -> Context {
        use crate::manifest::LaunchMode;
        let mut levels = Vec::new();
        if launch
            .iter()
            .any(|m| matches!(m, LaunchMode::Ehr | LaunchMode::Standalone))
        {
            levels.extend([Level::Patient, Level::User]);
        }
        if launch.contains(&LaunchMode::Backend) {
            levels.push(Level::System);
        }
        if levels.is_empty() {
            levels = Level::ALL.to_vec();
        }
        Context { fhir, levels }
    }
}

/// The near-miss `token` is, if it is one. `None` for a token that parses to anything
/// but an unknown token, and for one nothing SMART can be read into.
pub fn diagnose(token: &str, cx: &Context) -> Option<NearMiss> {
    if settled(token) {
        return pasted_after_restriction(token);
    }
    let raw_space = token.chars().any(char::is_whitespace);
    let decoded = percent_decode(token);
    let text = decoded.as_deref().unwrap_or(token);
    let mut joiners: Vec<&'static str> = Vec::new();
    let mut pieces: Vec<Piece> = Vec::new();
    let chunks: Vec<&str> = text
        .split(char::is_whitespace)
        .filter(|c| !c.is_empty())
        .collect();
    if chunks.len() > 1 {
        joiners.push("whitespace");
    }
    for chunk in chunks {
        // A chunk that is a token on its own keeps its commas (`?category=a,b`).
        if settled(chunk) || !chunk.contains([',', ';', '+']) {
            pieces.push(piece(chunk, cx));
            continue;
        }
        // After a `?`, commas are a restriction's values (`?category=a,b`): only what
        // comes before it is split, and the restriction stays with the last piece
        // (`launch,patient/Observation.rs?category=a,b`).
        let (joined, query) = chunk.find('?').map_or((chunk, ""), |q| chunk.split_at(q));
        if !joined.contains([',', ';', '+']) {
            pieces.push(piece(chunk, cx));
            continue;
        }
        for (j, sep) in [(',', "`,`"), (';', "`;`"), ('+', "`+`")] {
            if joined.contains(j) && !joiners.contains(&sep) {
                joiners.push(sep);
            }
        }
        let mut parts: Vec<String> = joined
            .split([',', ';', '+'])
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        if let Some(last) = parts.last_mut() {
            last.push_str(query);
        }
        pieces.extend(parts.iter().map(|p| piece(p, cx)));
    }
    let smart = pieces
        .iter()
        .any(|p| matches!(p.fix, Fix::Smart | Fix::Meant { .. }));
    let family = match &pieces[..] {
        [] => return None,
        [one] if joiners.is_empty() && decoded.is_none() && !raw_space => {
            // One token as written: a near-miss only when a correction was found.
            return match &one.fix {
                Fix::Meant { family, .. } => Some(NearMiss {
                    family: *family,
                    pieces,
                    joiners,
                }),
                _ => None,
            };
        }
        [_] if decoded.is_some() && joiners.is_empty() => Family::Encoded,
        _ if decoded.is_some() || joiners.iter().any(|j| *j != "whitespace") => Family::Pasted,
        _ => Family::Spaced,
    };
    // Whitespace always splits a token (RFC 6749 §3.3), so its pieces are always
    // named; other joiners only when a piece is SMART (`api,read` stays opaque).
    if !(smart || raw_space) {
        return None;
    }
    if decoded.is_some() && family == Family::Pasted {
        joiners.push("URL-encoding");
    }
    Some(NearMiss {
        family,
        pieces,
        joiners,
    })
}

/// `patient/Observation.rs?category=laboratory+launch`: a valid resource scope whose
/// last restriction value runs on into further scopes. The grammar reads them as part
/// of the value, so the restriction is not the one meant and the scopes after it are
/// never requested. Only trailing pieces that are SMART scopes count: after `+` (a
/// space, in a URL) any SMART scope, after `,` (which ORs values) only one with a `/`,
/// since `launch` or `openid` could be a code.
fn pasted_after_restriction(token: &str) -> Option<NearMiss> {
    let q = token.find('?')?;
    let mut end = token.len();
    let mut tail: Vec<Piece> = Vec::new();
    let mut joiners: Vec<&'static str> = Vec::new();
    for (i, c) in token[q..].char_indices().rev() {
        let sep = match c {
            '+' => "`+`",
            ',' => "`,`",
            _ => continue,
        };
        let at = q + i;
        let piece = &token[at + 1..end];
        let smart = matches!(Scope::parse(piece), Ok(s) if !matches!(s, Scope::Extension(_) | Scope::Unknown(_)));
        if !(smart && (c == '+' || piece.contains('/'))) {
            break;
        }
        tail.push(Piece {
            written: piece.to_string(),
            fix: Fix::Smart,
        });
        if !joiners.contains(&sep) {
            joiners.push(sep);
        }
        end = at;
    }
    let head = &token[..end];
    if tail.is_empty() || !settled(head) {
        return None;
    }
    tail.push(Piece {
        written: head.to_string(),
        fix: Fix::Smart,
    });
    tail.reverse();
    Some(NearMiss {
        family: Family::Pasted,
        pieces: tail,
        joiners,
    })
}

impl NearMiss {
    /// A near-miss the lint reports as an error: the token as written is unusable or
    /// means something else. Only a close misspelling, which may be a server's own
    /// token, is a warning.
    pub(crate) fn is_error(&self) -> bool {
        self.family != Family::Misspelled
    }

    /// The tokens that replace the entry, one per entry, when there is exactly one
    /// correction; empty when some piece has several candidates.
    pub fn suggestion(&self) -> Vec<String> {
        self.pieces
            .iter()
            .map(|p| match &p.fix {
                Fix::Meant { scopes, .. } if scopes.len() == 1 => Some(scopes[0].clone()),
                Fix::Meant { .. } => None,
                _ => Some(p.written.clone()),
            })
            .collect::<Option<Vec<String>>>()
            .unwrap_or_default()
    }

    /// Why the token is not the scope it was meant to be, in one sentence.
    pub fn message(&self) -> String {
        let n = self.pieces.len();
        match self.family {
            Family::Keyword => "SMART scopes are case-sensitive and spell `_`, not `-`: an EHR does not recognise this one".into(),
            Family::Separator => "`.` where SMART writes `/`: an EHR does not recognise it".into(),
            Family::MissingLevel => "a resource scope with no level: SMART resource scopes start with `patient/`, `user/` or `system/`".into(),
            Family::Encoded => "URL-encoded: list scopes as the server reads them, decoded".into(),
            Family::Pasted if n == 1 => format!("a stray {}", self.joiners.join(" and ")),
            Family::Pasted => format!(
                "a scope string pasted into one entry: {n} tokens joined by {}",
                self.joiners.join(" and ")
            ),
            Family::Spaced if n == 1 => "whitespace around the token: a scope token has none".into(),
            Family::Spaced => format!(
                "{n} tokens in one entry, separated by whitespace: a server splits a scope string on spaces"
            ),
            Family::Misspelled => "not a SMART scope; scopegate cannot tell what it grants".into(),
        }
    }

    /// The correction: the token meant, or every token the entry splits into.
    pub fn hint(&self) -> String {
        let [one] = &self.pieces[..] else {
            let all: Vec<String> = self.pieces.iter().map(piece_text).collect();
            return format!("write one entry per token: {}", all.join(", "));
        };
        let Fix::Meant { family, scopes } = &one.fix else {
            return format!("did you mean `{}`?", one.written);
        };
        let mut h = format!("did you mean {}?", alternatives(scopes));
        if *family == Family::MissingLevel && scopes.len() > 1 {
            // Every level: no launch mode narrowed them (`explain` has no manifest).
            h.push_str(if scopes.len() >= Level::ALL.len() {
                " (any level: pick the one the app acts at)"
            } else {
                " (the levels the manifest's launch modes use)"
            });
        }
        if *family == Family::Misspelled {
            h.push_str(
                " If it is your server's own scope, write it as a full URI or with a `__` prefix",
            );
        }
        h
    }
}

fn alternatives(scopes: &[String]) -> String {
    scopes
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(" or ")
}

fn piece_text(p: &Piece) -> String {
    match &p.fix {
        Fix::Smart | Fix::Extension => format!("`{}`", p.written),
        Fix::Meant { scopes, .. } => format!("{} (for `{}`)", alternatives(scopes), p.written),
        Fix::Opaque => format!("`{}` (not a SMART scope)", p.written),
    }
}

/// Parses to something other than an unknown token: nothing to diagnose.
fn settled(token: &str) -> bool {
    matches!(Scope::parse(token), Ok(s) if !matches!(s, Scope::Unknown(_)))
}

fn piece(text: &str, cx: &Context) -> Piece {
    let fix = match Scope::parse(text) {
        Ok(Scope::Extension(_)) => Fix::Extension,
        Ok(Scope::Unknown(_)) | Err(_) => match correct(text, cx) {
            Some((family, scopes)) => Fix::Meant { family, scopes },
            None => Fix::Opaque,
        },
        Ok(_) => Fix::Smart,
    };
    Piece {
        written: text.to_string(),
        fix,
    }
}

/// The SMART token(s) one token that does not parse (or parses as unknown) was meant
/// to be.
fn correct(t: &str, cx: &Context) -> Option<(Family, Vec<String>)> {
    // The IG's URI form of a scope holds the same mistakes; the plain form is meant.
    if let Some(inner) = t.strip_prefix(crate::scope::SMART_URI_PREFIX) {
        return correct(inner, cx);
    }
    // `offline-access`, `Offline_Access`, `fhir_user`, `OpenID`.
    let folded = fold(t);
    if let Some(k) = FIXED_TOKENS.iter().find(|k| fold(k) == folded) {
        return Some((Family::Keyword, vec![k.to_string()]));
    }
    // A level or `launch`, in any case, then `/`, `.` or `\`.
    if let Some(i) = t.find(['/', '.', '\\']) {
        let (head, rest) = (&t[..i], &t[i + 1..]);
        let sep = &t[i..i + 1];
        let lower = head.to_ascii_lowercase();
        let anchored = lower == "launch" || Level::ALL.iter().any(|l| l.as_str() == lower);
        if anchored {
            let family = if sep == "/" {
                Family::Keyword
            } else {
                Family::Separator
            };
            // (`Patient.read` falls through: `Patient` is the type, the level is missing.)
            if let Some(s) = accept(&format!("{lower}/{rest}"), cx) {
                return Some((family, vec![s]));
            }
        }
    }
    // `Observation.rs`, `Patient.Read`, `*.read`: a type (or `*`), then permissions.
    if !t.contains('/')
        && let Some((ty, rest)) = t.split_once('.')
        && !rest.is_empty()
        // The type exactly as FHIR spells it: `patient.read`, a vendor's style, is not.
        && (ty == "*" || known_type(ty, cx) == Some(ty))
    {
        let scopes: Vec<String> = cx
            .levels
            .iter()
            .filter_map(|l| accept(&format!("{l}/{ty}.{rest}"), cx))
            .collect();
        return (!scopes.is_empty()).then_some((Family::MissingLevel, scopes));
    }
    // `ofline_access`, `opnid`: close, but maybe a server's own word.
    did_you_mean(t, FIXED_TOKENS).map(|k| (Family::Misspelled, vec![k.to_string()]))
}

/// Lower case, without `-` and `_`.
fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `candidate` as the SMART token it is, or as the grammar corrects it when that is
/// only a matter of case or permission order; `None` when that is not a SMART scope
/// on a resource type (or launch context) some FHIR release defines.
fn accept(candidate: &str, cx: &Context) -> Option<String> {
    let fixed = match Scope::parse(candidate) {
        Ok(_) => candidate.to_string(),
        Err(e) => {
            let s = e.suggestion?;
            let minor =
                e.kind == ScopeErrorKind::PermissionOrder || s.eq_ignore_ascii_case(candidate);
            if !minor {
                return None;
            }
            s
        }
    };
    match Scope::parse(&fixed).ok()? {
        Scope::Resource(r) => match &r.resource {
            ResourceType::Any => Some(fixed),
            ResourceType::Named(ty) => {
                let known = known_type(ty, cx)?;
                let fixed = fixed.replacen(&format!("/{ty}."), &format!("/{known}."), 1);
                Some(cx.fhir.with_known_type(&fixed))
            }
        },
        Scope::Launch(Launch::Context { context, .. }) => {
            known_type(&context, cx).map(|_| fixed.clone())
        }
        Scope::Launch(Launch::Ehr) | Scope::Identity(_) | Scope::Refresh(_) => Some(fixed),
        Scope::Extension(_) | Scope::Unknown(_) | Scope::Invalid(_) => None,
    }
}

/// The resource type `name` is in some FHIR release, ignoring case; the manifest's
/// release first.
fn known_type(name: &str, cx: &Context) -> Option<&'static str> {
    std::iter::once(cx.fhir)
        .chain(FhirVersion::ALL)
        .flat_map(|v| v.resource_types().iter().copied())
        .find(|t| t.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests;
