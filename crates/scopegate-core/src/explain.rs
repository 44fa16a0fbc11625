//! What each scope token grants, for `scopegate explain`.
//!
//! Builds [`Explanation`] values from tokens with the grammar and the algebra; the
//! JSON shape is the contract in docs/design.md §11. It prints nothing.

use schemars::JsonSchema;
use serde::Serialize;

use crate::fhir::FhirVersion;
use crate::grant::interactions;
use crate::near_miss;
use crate::scope::{Identity, Launch, Level, Refresh, ResourceType, Scope, is_v1_syntax};

/// Access to FHIR data that one token grants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
pub(crate) struct GrantInfo {
    pub(crate) level: String,
    pub(crate) resource: String,
    /// FHIR restful-interaction codes.
    pub(crate) interactions: Vec<String>,
    /// The query restriction without the leading `?`, or null for none.
    pub(crate) restriction: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
pub struct Explanation {
    pub(crate) scope: String,
    pub valid: bool,
    /// `resource`, `launch`, `identity`, `refresh`, `extension` or `unknown`.
    pub(crate) kind: String,
    /// The SMART 2.x spelling, for valid tokens.
    pub(crate) normalized: Option<String>,
    pub(crate) grants: Vec<GrantInfo>,
    /// What the token means, in one sentence.
    pub(crate) meaning: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) suggestion: Option<String>,
}

pub(crate) fn level_phrase(l: Level) -> &'static str {
    match l {
        Level::Patient => "for the patient in context",
        Level::User => "for what the signed-in user may see",
        Level::System => "for the client system itself, with no user",
    }
}

pub fn explain(token: &str, fhir: FhirVersion) -> Explanation {
    let parsed = Scope::parse(token);
    let guess_kind = || {
        let head = token.split('/').next().unwrap_or("");
        if head == "launch" {
            "launch"
        } else if token.contains('/') {
            "resource"
        } else {
            "unknown"
        }
    };
    // A near-miss (`offline-access`, `launch,openid`) is explained as the lint reports
    // it: not valid, with the token(s) meant. No launch modes here: any level.
    let near =
        || near_miss::diagnose(token, &near_miss::Context::new(fhir, &[])).filter(|n| n.is_error());
    let invalid = |error: String, suggestion: Option<String>| Explanation {
        scope: token.to_string(),
        valid: false,
        kind: guess_kind().to_string(),
        normalized: None,
        grants: Vec::new(),
        meaning: "not a valid SMART scope: a server may ignore, replace or reject it".into(),
        error: Some(error),
        suggestion,
    };
    let from_near = |n: near_miss::NearMiss| {
        let one = match &n.suggestion()[..] {
            [one] => Some(one.clone()),
            _ => None,
        };
        let error = match one {
            Some(_) => n.message(),
            None => format!("{}; {}", n.message(), n.hint()),
        };
        invalid(error, one)
    };
    let s = match parsed {
        Err(e) if e.suggestion.is_none() => match near() {
            Some(n) => return from_near(n),
            None => return invalid(e.message, None),
        },
        Err(e) => {
            return invalid(e.message, e.suggestion.map(|x| fhir.with_known_type(&x)));
        }
        Ok(s) => {
            if matches!(s, Scope::Unknown(_))
                && let Some(n) = near()
            {
                return from_near(n);
            }
            s
        }
    };
    let mut x = Explanation {
        scope: token.to_string(),
        valid: true,
        kind: s.kind().as_str().to_string(),
        normalized: Some(s.to_string()),
        grants: Vec::new(),
        meaning: meaning(&s, token),
        error: None,
        suggestion: None,
    };
    if let Scope::Resource(r) = &s {
        if let ResourceType::Named(t) = &r.resource
            && !fhir.has_resource_type(t)
        {
            x.valid = false;
            x.error = Some(format!("`{t}` is not a FHIR {fhir} resource type"));
            // A type renamed between releases: its counterpart first, then a spelling.
            x.suggestion = fhir
                .renamed_counterpart(t)
                .or_else(|| fhir.suggest_resource_type(t))
                .map(|n| token.replacen(&**t, n, 1));
            // An invalid token grants nothing a server is bound to honour.
            return x;
        }
        x.grants.push(GrantInfo {
            level: r.level.to_string(),
            resource: r.resource.to_string(),
            interactions: r
                .perms
                .letters()
                .flat_map(|l| interactions(l).iter().map(|i| i.to_string()))
                .collect(),
            restriction: (!r.restriction.is_none()).then(|| {
                r.restriction
                    .to_string()
                    .trim_start_matches('?')
                    .to_string()
            }),
        });
    }
    x
}

fn meaning(s: &Scope, token: &str) -> String {
    match s {
        Scope::Resource(r) => {
            let what = match &r.resource {
                ResourceType::Any => "every resource type, now and in the future".to_string(),
                ResourceType::Named(t) => format!("{t} resources"),
            };
            let syntax = if is_v1_syntax(token) {
                " (SMART v1 syntax)"
            } else {
                ""
            };
            let only = if r.restriction.is_none() {
                String::new()
            } else {
                format!(", only those matching {}", r.restriction)
            };
            format!("access to {what}{only}, {}{syntax}", level_phrase(r.level))
        }
        Scope::Launch(Launch::Ehr) => {
            "EHR launch: binds the launch context the EHR passed; grants no FHIR data".into()
        }
        Scope::Launch(Launch::Context { context, .. }) => {
            format!("asks for a {context} in launch context; grants no FHIR data")
        }
        Scope::Identity(Identity::OpenId) => {
            "OpenID Connect sign-in: an id_token is returned; grants no FHIR data".into()
        }
        Scope::Identity(Identity::FhirUser) => {
            "the id_token names the user's FHIR resource; grants no FHIR data".into()
        }
        Scope::Identity(Identity::Profile) => {
            "deprecated SMART 1.0 identity scope; use fhirUser; grants no FHIR data".into()
        }
        Scope::Refresh(Refresh::Offline) => {
            "a refresh token usable while the user is offline; extends every other grant in time"
                .into()
        }
        Scope::Refresh(Refresh::Online) => {
            "a refresh token usable while the user stays online".into()
        }
        Scope::Extension(_) => {
            "an extension scope: opaque to scopegate; its server defines what it grants".into()
        }
        Scope::Unknown(_) => "not defined by SMART: opaque to scopegate".into(),
        Scope::Invalid(_) => {
            "not a valid SMART scope: a server may ignore it, replace it or honour it".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v1_read_scope_grants_rs_interactions() {
        let x = explain("patient/Observation.read", FhirVersion::R4);
        assert!(x.valid);
        assert_eq!(x.normalized.as_deref(), Some("patient/Observation.rs"));
        assert_eq!(
            x.grants[0].interactions,
            [
                "read",
                "vread",
                "history-instance",
                "search-type",
                "search-system",
                "history-type",
                "history-system"
            ]
        );
        assert_eq!(x.grants[0].restriction, None);
    }

    #[test]
    fn restrictions_are_reported_without_the_question_mark() {
        let x = explain(
            "patient/Observation.rs?category=laboratory",
            FhirVersion::R4,
        );
        assert_eq!(
            x.grants[0].restriction.as_deref(),
            Some("category=laboratory")
        );
    }

    #[test]
    fn invalid_tokens_say_why_and_suggest() {
        let x = explain("patient/Observation.sr", FhirVersion::R4);
        assert!(!x.valid);
        assert_eq!(x.kind, "resource");
        assert_eq!(x.suggestion.as_deref(), Some("patient/Observation.rs"));
        let x = explain("patient/Obsevation.rs", FhirVersion::R4);
        assert!(!x.valid);
        assert_eq!(x.suggestion.as_deref(), Some("patient/Observation.rs"));
    }

    #[test]
    fn near_misses_are_invalid_with_the_token_meant() {
        let x = explain("offline-access", FhirVersion::R4);
        assert!(!x.valid);
        assert_eq!(x.suggestion.as_deref(), Some("offline_access"));
        let x = explain("launch,openid", FhirVersion::R4);
        assert!(!x.valid);
        assert_eq!(x.suggestion, None);
        assert!(x.error.unwrap().contains("`launch`, `openid`"));
        // A vendor scope stays a valid, opaque unknown token.
        let x = explain("api:fhir", FhirVersion::R4);
        assert!(x.valid);
        assert_eq!(x.suggestion, None);
    }

    #[test]
    fn non_resource_scopes_grant_no_data() {
        for t in ["launch", "openid", "fhirUser", "offline_access", "__x"] {
            assert!(explain(t, FhirVersion::R4).grants.is_empty(), "{t}");
        }
    }
}
