//! The minimal scope set that covers a manifest's workflows, for `scopegate suggest`.
//!
//! Pure: built from the manifest with the algebra's [`minimize`]; it prints nothing.

use schemars::JsonSchema;
use serde::Serialize;

use crate::grant::{Options, minimize, new_access, serves};
use crate::manifest::{LaunchMode, Manifest};
use crate::scope::{Launch, Level, Refresh, Scope};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
pub struct SuggestedScope {
    pub scope: String,
    /// The workflows (or launch modes) that need it.
    pub because: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
pub struct Suggestion {
    pub app: String,
    pub scopes: Vec<SuggestedScope>,
    /// All of `scopes`, space-separated, ready for an authorization request.
    pub scope_string: String,
    /// Access the workflows need that the manifest does not request.
    pub add: Vec<String>,
    /// Access the manifest requests that no workflow needs.
    pub remove: Vec<String>,
}

pub fn suggest(m: &Manifest, opts: Options) -> Suggestion {
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
    let suggested = minimal
        .iter()
        .map(|s| {
            let mut because: Vec<String> = needed
                .iter()
                .filter(|(n, _)| serves(s, n, opts))
                .map(|(_, why)| why.clone())
                .collect();
            because.sort();
            because.dedup();
            SuggestedScope {
                scope: s.to_string(),
                because,
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
    Suggestion {
        app: m.id.value.clone(),
        scopes: suggested,
        scope_string: minimal
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        add: flat(new_access(&minimal, &requested, opts)),
        remove: flat(new_access(&requested, &minimal, opts)),
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
        let s = suggest(&m, Options::default());
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
}
