//! Narrowing: removed access that the head still grants in part.
//!
//! `patient/Observation.read` → `patient/Observation.rs?category=laboratory` removes
//! the piece `patient/Observation.rs`, but the app can still read laboratory
//! Observations: the access is *limited*, not gone. The diff's description and the
//! consent notice both say what it is now limited to, from [`kept`] and [`limit`].
//! Pure: scopes in, scopes and phrases out.

use crate::grant::type_covers;
use crate::scope::{Level, ResourceScope, ResourceType, Scope};

/// How the head keeps part of a removed piece.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Limit {
    /// Every kept scope restricts the same type at the same level: to these
    /// `param=values` clauses (one string per kept scope).
    Restriction(Vec<String>),
    /// A wildcard replaced by these named types.
    Types(Vec<String>),
    /// The same type at the narrower `patient/` level.
    Level(Level),
    /// Some other mix.
    Other,
}

/// A head scope that keeps part of `piece`'s access: a resource scope on a related
/// type with a letter in common, at the same level or at `patient/` (narrower than
/// `user/` and `system/`), restricted at least as much. A sibling keeps nothing of it:
/// `?category=vital-signs` is other data than a removed `?category=laboratory`.
pub(crate) fn keeps_part_of(h: &Scope, piece: &Scope) -> bool {
    match (h, piece) {
        (Scope::Resource(h), Scope::Resource(p)) => {
            (h.level == p.level || h.level == Level::Patient)
                && type_covers(&p.resource, &h.resource)
                && h.perms.intersects(p.perms)
                && p.restriction.covers(&h.restriction)
        }
        _ => false,
    }
}

/// The head scopes among `head` that keep part of the removed `piece`, in order,
/// without repeats.
pub(crate) fn kept<'h>(piece: &Scope, head: impl IntoIterator<Item = &'h Scope>) -> Vec<&'h Scope> {
    let mut out: Vec<&Scope> = head
        .into_iter()
        .filter(|h| keeps_part_of(h, piece))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// What the kept scopes limit `piece` to.
pub(crate) fn limit(piece: &Scope, kept: &[&Scope]) -> Limit {
    let Scope::Resource(p) = piece else {
        return Limit::Other;
    };
    let kept: Vec<&ResourceScope> = kept.iter().filter_map(|s| s.as_resource()).collect();
    if kept.is_empty() {
        return Limit::Other;
    }
    if kept
        .iter()
        .all(|k| k.level == p.level && k.resource == p.resource && !k.restriction.is_none())
    {
        return Limit::Restriction(
            kept.iter()
                .map(|k| {
                    k.restriction
                        .to_string()
                        .trim_start_matches('?')
                        .to_string()
                })
                .collect(),
        );
    }
    if p.resource == ResourceType::Any
        && kept
            .iter()
            .all(|k| k.level == p.level && k.resource != ResourceType::Any)
    {
        let mut types: Vec<String> = kept
            .iter()
            .filter_map(|k| match &k.resource {
                ResourceType::Named(t) => Some(t.to_string()),
                ResourceType::Any => None,
            })
            .collect();
        types.sort();
        types.dedup();
        return Limit::Types(types);
    }
    if p.level != Level::Patient && kept.iter().all(|k| k.level == Level::Patient) {
        return Limit::Level(Level::Patient);
    }
    Limit::Other
}

/// The reviewer's words for a limit: "`category=laboratory`", "the types `Condition`,
/// `Observation`", "the `patient/` level".
pub(crate) fn describe(limit: &Limit) -> String {
    let quoted = |v: &[String]| {
        v.iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match limit {
        Limit::Restriction(r) => format!("now limited to {}", quoted(r)),
        Limit::Types(t) if t.len() == 1 => format!("now limited to the type {}", quoted(t)),
        Limit::Types(t) => format!("now limited to the types {}", quoted(t)),
        Limit::Level(l) => format!("now limited to the `{}/` level", l.as_str()),
        Limit::Other => "access outside them removed".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: &str) -> Scope {
        Scope::parse(t).unwrap()
    }

    fn limit_of(piece: &str, head: &[&str]) -> Limit {
        let head: Vec<Scope> = head.iter().map(|t| s(t)).collect();
        let piece = s(piece);
        limit(&piece, &kept(&piece, &head))
    }

    #[test]
    fn a_restriction_added_limits_to_its_clauses() {
        assert_eq!(
            limit_of(
                "patient/Observation.rs",
                &["launch", "patient/Observation.rs?category=laboratory"]
            ),
            Limit::Restriction(vec!["category=laboratory".into()])
        );
    }

    #[test]
    fn a_wildcard_replaced_by_types_limits_to_those_types() {
        assert_eq!(
            limit_of(
                "patient/*.rs",
                &["patient/Observation.rs", "patient/Condition.r"]
            ),
            Limit::Types(vec!["Condition".into(), "Observation".into()])
        );
    }

    #[test]
    fn user_to_patient_limits_to_the_patient_level() {
        assert_eq!(
            limit_of("user/Observation.rs", &["patient/Observation.rs"]),
            Limit::Level(Level::Patient)
        );
    }

    #[test]
    fn letters_removed_keep_nothing_of_the_removed_letters() {
        // `.cruds` → `.rs` removes `.cud`, which no head scope still grants.
        let head = [s("patient/Observation.rs")];
        assert!(kept(&s("patient/Observation.cud"), &head).is_empty());
    }

    #[test]
    fn other_types_levels_and_non_resource_scopes_keep_nothing() {
        let head = [
            s("patient/Condition.rs"),
            s("system/Observation.rs"),
            s("openid"),
        ];
        assert!(kept(&s("user/Observation.rs"), &head).is_empty());
        assert!(kept(&s("openid"), &head).is_empty());
    }

    #[test]
    fn descriptions_name_the_limit() {
        assert_eq!(
            describe(&Limit::Restriction(vec!["category=laboratory".into()])),
            "now limited to `category=laboratory`"
        );
        assert_eq!(
            describe(&Limit::Level(Level::Patient)),
            "now limited to the `patient/` level"
        );
    }
}
