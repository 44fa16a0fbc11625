//! The minimal scope set that covers a manifest's workflows, for `scopegate suggest`.
//!
//! Pure: built from the manifest with the algebra's `minimize`; it prints nothing.

use schemars::JsonSchema;
use serde::Serialize;

use crate::grant::{Options, ScopeIndex, minimize, new_access, serves};
use crate::manifest::{LaunchMode, Manifest};
use crate::scope::{Launch, Level, Refresh, Scope};
use crate::syntax::{self, Syntax};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
pub(crate) struct SuggestedScope {
    /// In the suggestion's syntax (for v1, the narrowest v1 scope when v1 cannot say
    /// exactly what is needed; `note` then says so).
    pub(crate) scope: String,
    /// The workflows (or launch modes) that need it.
    pub(crate) because: Vec<String>,
    /// "needs SMART v2: `…cu`; in v1 the narrowest is `.write`" when v1 cannot say it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
pub struct Suggestion {
    pub(crate) app: String,
    /// The SMART syntax of the suggestion: `v1` or `v2` (by default the manifest's).
    pub(crate) syntax: String,
    pub(crate) scopes: Vec<SuggestedScope>,
    /// All of `scopes`, space-separated, ready for an authorization request.
    pub(crate) scope_string: String,
    /// Access the workflows need that the manifest does not request.
    pub(crate) add: Vec<String>,
    /// Access the manifest requests that no workflow needs.
    pub(crate) remove: Vec<String>,
    /// Tenants whose EHR snapshot does not list the capability this syntax needs
    /// (`permission-v2` or `permission-v1`); filled in by the CLI.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tenants_lacking: Vec<String>,
}

/// The suggestion in the manifest's own syntax.
pub fn suggest(m: &Manifest, opts: Options) -> Suggestion {
    suggest_in(m, opts, syntax::detect(m))
}

/// The suggestion in `syntax`: in v1, each scope as v1 says it, or the narrowest v1
/// scope with a note when only v2 can say exactly what the workflows need.
pub fn suggest_in(m: &Manifest, opts: Options, syntax: Syntax) -> Suggestion {
    // (scope, reason) for every need, plus what launch modes and offline workflows imply.
    let mut needed: Vec<(Scope, String)> = Vec::new();
    for w in &m.workflows {
        for n in w.needs.iter().filter_map(|n| n.scope()) {
            needed.push((n.clone(), w.id.value.clone()));
        }
        if w.offline.is_some() {
            needed.push((
                Scope::Refresh(Refresh::Offline),
                format!("{} (offline)", w.id.value),
            ));
        }
    }
    let patient_level = needed
        .iter()
        .any(|(s, _)| s.as_resource().is_some_and(|r| r.level == Level::Patient));
    if m.launch.contains(&LaunchMode::Ehr) {
        needed.push((Scope::Launch(Launch::Ehr), "launch mode `ehr`".into()));
    }
    if m.launch.contains(&LaunchMode::Standalone) && patient_level {
        let ctx = Scope::Launch(Launch::Context {
            context: "patient".into(),
            role: None,
        });
        needed.push((ctx, "launch mode `standalone`".into()));
    }
    let scopes: Vec<Scope> = needed.iter().map(|(s, _)| s.clone()).collect();
    let minimal = minimize(&scopes, opts);
    // Each suggested scope asks only the needs it may serve: asked of every need,
    // thousands of coded needs took 0.6 s.
    let index = ScopeIndex::of(&scopes);
    let suggested: Vec<SuggestedScope> = minimal
        .iter()
        .map(|s| {
            let mut because: Vec<String> = index
                .related(s)
                .into_iter()
                .map(|i| &needed[i])
                .filter(|(n, _)| serves(s, n, opts))
                .map(|(_, why)| why.clone())
                .collect();
            because.sort();
            because.dedup();
            let (scope, note) = match syntax {
                Syntax::V2 => (s.to_string(), None),
                Syntax::V1 => match syntax::in_v1(s) {
                    Ok(t) => (t, None),
                    Err((v2, v1)) => {
                        let note = syntax::request("request", std::slice::from_ref(s), syntax, "");
                        (v1.clone(), Some(note).filter(|_| v1 != v2))
                    }
                },
            };
            SuggestedScope {
                scope,
                because,
                note,
            }
        })
        .collect();
    let requested: Vec<Scope> = m.requested().cloned().collect();
    let flat = |v: Vec<crate::grant::NewAccess>| -> Vec<String> {
        let mut out: Vec<String> = v
            .into_iter()
            .flat_map(|n| n.new)
            .map(|s| s.to_string())
            .collect();
        out.sort();
        out.dedup();
        out
    };
    let remove = match syntax {
        Syntax::V2 => flat(new_access(&requested, &minimal, opts)),
        Syntax::V1 => {
            let v1: Vec<Scope> = suggested
                .iter()
                .filter_map(|s| Scope::parse(&s.scope).ok())
                .collect();
            flat(new_access(&requested, &v1, opts))
        }
    };
    Suggestion {
        app: m.id.value.clone(),
        syntax: syntax.as_str().to_string(),
        scope_string: {
            let mut seen = std::collections::BTreeSet::new();
            suggested
                .iter()
                .map(|s: &SuggestedScope| s.scope.clone())
                .filter(|s| seen.insert(s.clone()))
                .collect::<Vec<_>>()
                .join(" ")
        },
        scopes: suggested,
        tenants_lacking: Vec::new(),
        add: flat(new_access(&minimal, &requested, opts)),
        remove,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::from_str;

    #[test]
    fn suggests_the_minimal_set_and_the_difference() {
        let m = from_str(
            "m",
            "id: a\nlaunch: [ehr]\nscopes:\n  - scope: launch\n    rationale: x\n  - scope: patient/*.read\n    rationale: x\nworkflows:\n  - id: labs\n    description: d\n    needs: [\"patient/Observation.rs?category=laboratory\", patient/Observation.r]\n  - id: meds\n    description: d\n    needs: [patient/MedicationRequest.rs]\n    offline:\n      reason: sync\n",
        )
        .unwrap();
        // `patient/*.read` makes it a v1 manifest: v1 says `.r` and a restriction only
        // as `.read`, once.
        assert_eq!(
            suggest(&m, Options::default()).scope_string,
            "launch offline_access patient/MedicationRequest.read patient/Observation.read"
        );
        let s = suggest_in(&m, Options::default(), Syntax::V2);
        assert_eq!(
            s.scope_string,
            "launch offline_access patient/MedicationRequest.rs patient/Observation.r patient/Observation.rs?category=laboratory"
        );
        assert_eq!(s.add, ["offline_access"]);
        assert_eq!(s.remove, ["patient/*.rs"]);
        let obs = s
            .scopes
            .iter()
            .find(|x| x.scope == "patient/Observation.r")
            .unwrap();
        assert_eq!(obs.because, ["labs"]);
    }

    /// The suggestion for `n` workflows each needing `?category=cN&code=xN` (two clauses:
    /// no two merge into one OR), and the best of three runs' time.
    fn coded(n: usize) -> (Suggestion, std::time::Duration) {
        let mut t = String::from(
            "id: a\nlaunch: [ehr]\nscopes:\n  - scope: launch\n    rationale: x\nworkflows:\n",
        );
        for i in 0..n {
            t.push_str(&format!(
                "  - id: w{i}\n    description: d\n    needs: ['patient/Observation.rs?category=c{i}&code=x{i}']\n"
            ));
        }
        let m = from_str("m", &t).unwrap();
        crate::scaling::timed(|| suggest_in(&m, Options::default(), Syntax::V2))
    }

    // Regression (issue 15 §1): each suggested scope asked every need whether it serves
    // it (0.6 s for 4,000).
    #[test]
    fn each_suggested_scope_names_its_workflows_in_time_linear_in_them() {
        let (small, small_t) = coded(300);
        let (big, big_t) = coded(3_000);
        for (n, s) in [(300, &small), (3_000, &big)] {
            let coded: Vec<&SuggestedScope> =
                s.scopes.iter().filter(|x| x.scope.contains('?')).collect();
            assert_eq!(coded.len(), n);
            for x in coded {
                let i = x.scope.rsplit('x').next().unwrap();
                assert_eq!(x.because, [format!("w{i}")], "{}", x.scope);
            }
        }
        crate::scaling::assert_near_linear("suggest", small_t, big_t);
    }
}
