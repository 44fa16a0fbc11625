//! The SMART version a manifest is written in, and scopes said in it.
//!
//! SMART App Launch 1.0 permissions are `.read`, `.write` and `.*`; 2.x letters are
//! `c r u d s` (the IG's v1 equivalence table: `read` = `rs`, `write` = `cud`, `*` =
//! `cruds`). v1 has no restrictions (`?category=…` is 2.x only). A hint for a v1 app
//! stays in v1 where v1 can say it, and otherwise says plainly that the exact scope
//! needs v2 and which v1 scope is the narrowest that covers it. Pure.

use std::collections::BTreeSet;

use crate::manifest::{Manifest, Pos};
use crate::scope::{Letter, Perms, ResourceScope, Restriction, Scope, is_v1_syntax};

/// A SMART scope syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Syntax {
    /// SMART App Launch 1.0: `.read`, `.write`, `.*`.
    V1,
    /// SMART App Launch 2.x: `.cruds` letters, restrictions.
    V2,
}

impl Syntax {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Syntax::V1 => "v1",
            Syntax::V2 => "v2",
        }
    }

    /// The SMART `capabilities` code an EHR lists when it accepts this syntax.
    pub fn capability(self) -> &'static str {
        match self {
            Syntax::V1 => "permission-v1",
            Syntax::V2 => "permission-v2",
        }
    }
}

/// The resource scope tokens of a manifest's `scopes`, by syntax, in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) v1: Vec<(String, Pos)>,
    pub(crate) v2: Vec<(String, Pos)>,
}

impl Usage {
    pub(crate) fn of(m: &Manifest) -> Usage {
        let mut u = Usage::default();
        for e in &m.scopes {
            if !matches!(e.token.scope(), Some(Scope::Resource(_))) {
                continue;
            }
            let t = (e.token.text.value.clone(), e.token.text.pos);
            if is_v1_syntax(&e.token.text.value) {
                u.v1.push(t);
            } else {
                u.v2.push(t);
            }
        }
        u
    }

    /// The manifest's syntax: v1 when every resource scope is written in v1, else v2
    /// (also when it has no resource scope: v2 is the current version).
    pub(crate) fn syntax(&self) -> Syntax {
        if !self.v1.is_empty() && self.v2.is_empty() {
            Syntax::V1
        } else {
            Syntax::V2
        }
    }

    pub(crate) fn is_mixed(&self) -> bool {
        !self.v1.is_empty() && !self.v2.is_empty()
    }
}

/// The syntax a manifest is written in.
pub fn detect(m: &Manifest) -> Syntax {
    Usage::of(m).syntax()
}

/// A resource scope in v1 syntax, when v1 can say exactly it.
pub(crate) fn v1_exact(r: &ResourceScope) -> Option<String> {
    if !r.restriction.is_none() {
        return None;
    }
    let read = Perms::from_letters([Letter::R, Letter::S]);
    let write = Perms::from_letters([Letter::C, Letter::U, Letter::D]);
    let perm = if r.perms == read {
        "read"
    } else if r.perms == write {
        "write"
    } else if r.perms == read.union(write) {
        "*"
    } else {
        return None;
    };
    Some(format!("{}/{}.{perm}", r.level.as_str(), r.resource))
}

/// The narrowest v1 scope that grants all of `r`: the restriction dropped, and each
/// group of letters (`rs`, `cud`) touched taken whole.
pub(crate) fn v1_narrowest(r: &ResourceScope) -> ResourceScope {
    let read = Perms::from_letters([Letter::R, Letter::S]);
    let write = Perms::from_letters([Letter::C, Letter::U, Letter::D]);
    let mut perms = Perms::from_letters([]);
    if r.perms.intersects(read) {
        perms = perms.union(read);
    }
    if r.perms.intersects(write) {
        perms = perms.union(write);
    }
    ResourceScope {
        perms,
        restriction: Restriction::none(),
        ..r.clone()
    }
}

/// A scope as a v1 app should request it: `Ok(token)` when v1 says it exactly (or it
/// is no resource scope), `Err((v2 token, narrowest v1 token))` when only v2 can.
pub(crate) fn in_v1(s: &Scope) -> Result<String, (String, String)> {
    let Scope::Resource(r) = s else {
        return Ok(s.to_string());
    };
    match v1_exact(r) {
        Some(t) => Ok(t),
        None => Err((
            s.to_string(),
            v1_exact(&v1_narrowest(r)).unwrap_or_else(|| s.to_string()),
        )),
    }
}

/// The hint for requesting `scopes` in `syntax`: "request `a`, `b`" in v2; in v1,
/// the v1 tokens, and for each scope v1 cannot say, "needs SMART v2: `x.cu`; in v1
/// the narrowest is `x.write`".
pub(crate) fn request(verb: &str, scopes: &[Scope], syntax: Syntax, suffix: &str) -> String {
    let code = |s: &str| format!("`{s}`");
    if syntax == Syntax::V2 {
        let all: Vec<String> = scopes.iter().map(|s| code(&s.to_string())).collect();
        return format!("{verb} {}{suffix}", all.join(", "));
    }
    let mut exact = Vec::new();
    let mut needs_v2 = Vec::new();
    for s in scopes {
        match in_v1(s) {
            Ok(t) => exact.push(code(&t)),
            Err((v2, v1)) => {
                let short = v1.rsplit_once('.').map_or(v1.as_str(), |(_, p)| p);
                let narrowest = if v1 == v2 {
                    "v1 cannot express it".to_string()
                } else {
                    format!("in v1 the narrowest is `.{short}` ({})", code(&v1))
                };
                needs_v2.push(format!("needs SMART v2: {}; {narrowest}", code(&v2)));
            }
        }
    }
    let mut parts = Vec::new();
    if !exact.is_empty() {
        parts.push(format!("{verb} {}{suffix}", exact.join(", ")));
    }
    parts.extend(needs_v2);
    parts.join("; ")
}

/// The tenants (name, EHR `capabilities`) whose EHR snapshot does not list `cap`;
/// tenants with no snapshot or no `capabilities` are not known to lack it.
pub fn lacking<'a>(
    tenants: impl IntoIterator<Item = (&'a str, Option<&'a BTreeSet<String>>)>,
    cap: &str,
) -> Vec<String> {
    let mut out: Vec<String> = tenants
        .into_iter()
        .filter(|(_, caps)| caps.is_some_and(|c| !c.contains(cap)))
        .map(|(n, _)| n.to_string())
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::from_str;

    fn s(t: &str) -> Scope {
        Scope::parse(t).unwrap()
    }

    fn manifest(scopes: &[&str]) -> Manifest {
        let mut y = String::from("id: a\nscopes:\n");
        for t in scopes {
            y += &format!("  - scope: \"{t}\"\n    rationale: x\n");
        }
        from_str("m.yaml", &y).unwrap()
    }

    #[test]
    fn a_manifest_in_v1_is_v1_and_any_v2_token_makes_it_v2() {
        assert_eq!(
            detect(&manifest(&["launch", "patient/Observation.read"])),
            Syntax::V1
        );
        assert_eq!(
            detect(&manifest(&["launch", "patient/Observation.rs"])),
            Syntax::V2
        );
        assert_eq!(detect(&manifest(&["openid"])), Syntax::V2);
        let u = Usage::of(&manifest(&[
            "patient/Observation.read",
            "patient/Condition.rs",
        ]));
        assert!(u.is_mixed());
        assert_eq!(u.v2[0].0, "patient/Condition.rs");
    }

    #[test]
    fn v1_says_rs_cud_and_cruds_exactly_and_nothing_else() {
        assert_eq!(
            in_v1(&s("patient/Observation.rs")),
            Ok("patient/Observation.read".into())
        );
        assert_eq!(in_v1(&s("user/*.cud")), Ok("user/*.write".into()));
        assert_eq!(
            in_v1(&s("system/Patient.cruds")),
            Ok("system/Patient.*".into())
        );
        assert_eq!(in_v1(&s("launch")), Ok("launch".into()));
        assert_eq!(
            in_v1(&s("patient/MedicationStatement.cu")),
            Err((
                "patient/MedicationStatement.cu".into(),
                "patient/MedicationStatement.write".into()
            ))
        );
        assert_eq!(
            in_v1(&s("patient/Observation.rs?category=laboratory")),
            Err((
                "patient/Observation.rs?category=laboratory".into(),
                "patient/Observation.read".into()
            ))
        );
        assert_eq!(
            in_v1(&s("patient/Observation.r")).unwrap_err().1,
            "patient/Observation.read"
        );
    }

    #[test]
    fn hints_stay_in_v1_or_say_plainly_that_v2_is_needed() {
        let scopes = [
            s("patient/Observation.rs"),
            s("patient/MedicationStatement.cu"),
        ];
        assert_eq!(
            request("request", &scopes, Syntax::V1, " instead"),
            "request `patient/Observation.read` instead; needs SMART v2: `patient/MedicationStatement.cu`; in v1 the narrowest is `.write` (`patient/MedicationStatement.write`)"
        );
        assert_eq!(
            request("request", &scopes, Syntax::V2, " instead"),
            "request `patient/Observation.rs`, `patient/MedicationStatement.cu` instead"
        );
    }

    #[test]
    fn tenants_lacking_a_capability_are_those_whose_snapshot_omits_it() {
        let v2: BTreeSet<String> = ["permission-v2".to_string()].into();
        let v1: BTreeSet<String> = ["permission-v1".to_string()].into();
        assert_eq!(
            lacking(
                [("b", Some(&v1)), ("a", Some(&v2)), ("c", None)],
                "permission-v2"
            ),
            ["b"]
        );
    }
}
