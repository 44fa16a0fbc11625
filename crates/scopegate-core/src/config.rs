//! `.scopegate/config.yaml`: what judges a change, owned by release managers.
//!
//! One file, one documented location, no layering. The gate reads it from the
//! baseline commit so that a change under review cannot change its judge. This module
//! only parses and validates; it reads no files.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::glob::Glob;
use crate::grant::Options;
use crate::hint::did_you_mean;
use crate::report::TenantMode;
use crate::rules::{RuleId, Severity};
use crate::yaml::{self, FileKind, LoadError, Pos, Problem};

/// Where the config lives, relative to the repository root.
pub const PATH: &str = ".scopegate/config.yaml";

/// Which lint findings on the head manifest fail the gate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LintGate {
    #[default]
    Error,
    Warning,
    Never,
}

/// scopegate configuration, read from the baseline commit.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "scopegate config")]
struct RawConfig {
    /// Manifests to gate, relative to the repository root: paths, or globs (`*` within
    /// one path segment, `?` one character, `**` any number of segments), matched
    /// against the files git tracks. Default: `[smart-app.yaml]`.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    manifests: Option<Vec<Spanned<String>>>,
    /// Glob for release tags; the previous release is the newest (semver) match
    /// reachable from HEAD. Default: `v*`.
    #[serde(default)]
    release_tags: Option<String>,
    /// GitHub logins (or `org/team` slugs) whose approvals count.
    #[serde(default)]
    approvers: Vec<String>,
    /// Treat `user/` scopes as covering `patient/` scopes. Default: false.
    #[serde(default)]
    user_covers_patient: bool,
    /// Which lint findings on the head manifest fail the gate. Default: `error`.
    #[serde(default)]
    fail_on_lint: LintGate,
    /// Per-rule severity overrides: rule id → `error`, `warning` or `note`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    severity: std::collections::HashMap<Spanned<String>, Spanned<String>>,
    /// Whether a tenant the release is blocked for fails the gate (`enforce`) or is
    /// only shown in the tenant matrix (`report`). Default: `enforce`.
    #[serde(default)]
    tenants: TenantMode,
    /// The most days an approval counts for, from its `at`, e.g. `365d`: older entries
    /// are expired and the access needs a fresh approval. Default: no limit.
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^[1-9][0-9]{0,4}d$"))]
    approval_max_age: Option<Spanned<String>>,
    /// Ledger entries a change adds count only with a valid SSH signature by a key that
    /// `.scopegate/allowed_signers` (at the baseline) lists for the approver, on every CI,
    /// GitHub reviews or not. Default: false.
    #[serde(default)]
    require_signed_approvals: bool,
    /// This repository, as `owner/name`: approval signatures then sign it too, so an
    /// entry signed for another repository does not verify here, and `scopegate ci`
    /// refuses to run in a repository of another name (a config copied whole).
    /// Default: none (a signature binds the entry, not the repository).
    #[serde(default)]
    #[schemars(
        with = "Option<String>",
        regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
    )]
    repository: Option<Spanned<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub manifests: Vec<String>,
    pub release_tags: String,
    pub approvers: Vec<String>,
    pub options: Options,
    pub(crate) fail_on_lint: LintGate,
    pub(crate) severity: BTreeMap<RuleId, Severity>,
    pub tenant_mode: TenantMode,
    /// `approval_max_age` in days.
    pub(crate) approval_max_age: Option<u32>,
    pub require_signed_approvals: bool,
    /// `repository`: `owner/name`, which approval signatures sign.
    pub repository: Option<String>,
}

/// The manifest read when none is named and the config names none.
pub const DEFAULT_MANIFEST: &str = "smart-app.yaml";

impl Default for Config {
    fn default() -> Config {
        Config {
            manifests: vec![DEFAULT_MANIFEST.to_string()],
            release_tags: "v*".to_string(),
            approvers: Vec::new(),
            options: Options::default(),
            fail_on_lint: LintGate::Error,
            severity: BTreeMap::new(),
            tenant_mode: TenantMode::Enforce,
            approval_max_age: None,
            require_signed_approvals: false,
            repository: None,
        }
    }
}

impl Config {
    /// The severity of a rule here: the override, or the catalogue default.
    pub fn severity_of(&self, rule: RuleId) -> Severity {
        self.severity
            .get(&rule)
            .copied()
            .unwrap_or_else(|| crate::rules::rule(rule).severity)
    }
}

pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RawConfig)).unwrap_or_default()
}

/// A config's `manifests:` entries alone (the default when it has none), read from a
/// config that [`from_bytes`] may no longer accept: a release's, written for an older
/// scopegate (a key since removed). The apps it gated are still found; only a file that
/// is not YAML, or whose `manifests:` is not a list of strings, is an error, whose hint
/// says why the file was read.
pub fn manifest_entries(path: &str, bytes: &[u8]) -> Result<Vec<String>, LoadError> {
    #[derive(Deserialize)]
    struct Entries {
        #[serde(default)]
        manifests: Option<Vec<String>>,
    }
    let text = yaml::text_of(FileKind::Config, path, bytes)?;
    if text.trim().is_empty() {
        return Ok(Config::default().manifests);
    }
    let e: Entries = yaml::parse(FileKind::Config, path, text).map_err(|mut e: LoadError| {
        for p in &mut e.problems {
            p.hint.get_or_insert_with(|| {
                "the previous release's config: its `manifests:` say which apps it gated, which are judged still".into()
            });
        }
        e
    })?;
    Ok(e.manifests.unwrap_or_else(|| Config::default().manifests))
}

/// Parses the config file's bytes; `path` is only used in messages.
pub fn from_bytes(path: &str, bytes: &[u8]) -> Result<Config, LoadError> {
    let text = yaml::text_of(FileKind::Config, path, bytes)?;
    if text.trim().is_empty() {
        return Ok(Config::default());
    }
    let raw: RawConfig = yaml::parse(FileKind::Config, path, text)?;
    let mut problems = Vec::new();
    for m in raw.manifests.iter().flatten() {
        if let Err(why) = Glob::new(&m.value) {
            problems.push(Problem {
                pos: Pos::of(m),
                message: format!("`{}` is not a usable manifest path: {why}", m.value),
                hint: Some(
                    "write a path relative to the repository root, e.g. `apps/*/smart-app.yaml`"
                        .into(),
                ),
            });
        }
    }
    let mut severity = BTreeMap::new();
    let mut entries: Vec<(Spanned<String>, Spanned<String>)> = raw.severity.into_iter().collect();
    entries.sort_by_key(|(k, _)| Pos::of(k));
    for (rule, sev) in entries {
        let Some(id) = RuleId::parse(&rule.value) else {
            let hint = did_you_mean(&rule.value, RuleId::ALL.iter().map(|r| r.as_str()))
                .map(|n| format!("did you mean `{n}`?"));
            problems.push(Problem {
                pos: Pos::of(&rule),
                message: format!("unknown rule `{}`", rule.value),
                hint,
            });
            continue;
        };
        let s = match sev.value.as_str() {
            "error" => Severity::Error,
            "warning" => Severity::Warning,
            "note" => Severity::Note,
            other => {
                problems.push(Problem {
                    pos: Pos::of(&sev),
                    message: format!("unknown severity `{other}`"),
                    hint: Some("use error, warning or note".into()),
                });
                continue;
            }
        };
        severity.insert(id, s);
    }
    let approval_max_age = match &raw.approval_max_age {
        None => None,
        Some(a) => {
            let days = a
                .value
                .strip_suffix('d')
                .filter(|n| !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| (1..=MAX_AGE_DAYS).contains(n));
            if days.is_none() {
                problems.push(Problem {
                    pos: Pos::of(a),
                    message: format!("`{}` is not an approval age", a.value),
                    hint: Some(format!(
                        "write a number of days from 1 to {MAX_AGE_DAYS}, e.g. `365d`"
                    )),
                });
            }
            days
        }
    };
    if let Some(r) = raw.repository.as_ref().filter(|r| !is_repository(&r.value)) {
        problems.push(Problem {
            pos: Pos::of(r),
            message: format!("`{}` is not a repository's `owner/name`", r.value),
            hint: Some("write it as GitHub names it, e.g. `acme/patient-app`".into()),
        });
    }
    if !problems.is_empty() {
        return Err(LoadError {
            path: path.to_string(),
            problems,
        });
    }
    let defaults = Config::default();
    Ok(Config {
        manifests: raw.manifests.map_or(defaults.manifests, |ms| {
            ms.into_iter()
                .map(|m| Glob::new(&m.value).map_or(m.value, |g| g.as_str().to_string()))
                .collect()
        }),
        release_tags: raw.release_tags.unwrap_or(defaults.release_tags),
        approvers: raw.approvers,
        options: Options {
            user_covers_patient: raw.user_covers_patient,
        },
        fail_on_lint: raw.fail_on_lint,
        severity,
        tenant_mode: raw.tenants,
        approval_max_age,
        require_signed_approvals: raw.require_signed_approvals,
        // GitHub names a repository without regard to case: signatures sign one spelling.
        repository: raw.repository.map(|r| r.value.to_ascii_lowercase()),
    })
}

/// Whether `r` is `owner/name` as GitHub allows them: an owner of letters, digits and
/// `-` (at most 39, not starting with `-`), a name of letters, digits, `.`, `_` and
/// `-` (at most 100, neither `.` nor `..`).
pub(crate) fn is_repository(r: &str) -> bool {
    let Some((owner, name)) = r.split_once('/') else {
        return false;
    };
    let owner_ok = (1..=39).contains(&owner.len())
        && !owner.starts_with('-')
        && owner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let name_ok = (1..=100).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    owner_ok && name_ok
}

/// The longest `approval_max_age`, in days (about 270 years: any more is no limit).
const MAX_AGE_DAYS: u32 = 99_999;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_or_absent_config_is_the_default() {
        assert_eq!(from_bytes("c", b"").unwrap(), Config::default());
        assert_eq!(Config::default().release_tags, "v*");
    }

    #[test]
    fn a_full_config_loads() {
        let c = from_bytes(
            "c",
            b"manifests: [apps/a.yaml]\nrelease_tags: 'release-*'\napprovers: [alice, acme/release-managers]\nuser_covers_patient: true\nfail_on_lint: never\nseverity:\n  missing-rationale: error\ntenants: report\n",
        )
        .unwrap();
        assert_eq!(c.manifests, ["apps/a.yaml"]);
        assert_eq!(c.release_tags, "release-*");
        assert!(c.options.user_covers_patient);
        assert_eq!(c.fail_on_lint, LintGate::Never);
        assert_eq!(c.tenant_mode, TenantMode::Report);
        assert_eq!(c.severity_of(RuleId::MissingRationale), Severity::Error);
        assert_eq!(c.severity_of(RuleId::UnjustifiedScope), Severity::Error);
    }

    #[test]
    fn a_repository_is_owner_slash_name_or_an_error_at_its_line() {
        let c = from_bytes("c", b"repository: Acme/Patient-App.v2\n").unwrap();
        assert_eq!(c.repository.as_deref(), Some("acme/patient-app.v2"));
        for bad in [
            "acme",
            "acme/",
            "/app",
            "-acme/app",
            "acme/app/x",
            "acme/..",
            "ac me/app",
            "acme/app\u{e9}",
        ] {
            let text = format!("approvers: [alice]\nrepository: \"{bad}\"\n");
            let e = from_bytes("c", text.as_bytes()).unwrap_err();
            assert_eq!(e.problems[0].pos.line, 2, "{bad}");
            assert!(e.problems[0].message.contains("owner/name"), "{bad}");
        }
    }

    #[test]
    fn unknown_rules_and_severities_are_errors() {
        let e = from_bytes(
            "c",
            b"severity:\n  missing-rationales: error\n  invalid-scope: fatal\n",
        )
        .unwrap_err();
        let msgs: Vec<&str> = e.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "unknown rule `missing-rationales`",
                "unknown severity `fatal`"
            ]
        );
        assert_eq!(
            e.problems[0].hint.as_deref(),
            Some("did you mean `missing-rationale`?")
        );
    }

    #[test]
    fn manifest_entries_are_paths_or_globs_relative_to_the_root() {
        let c = from_bytes(
            "c",
            b"manifests: ['./apps/*/smart-app.yaml', '**/x.yaml']\n",
        )
        .unwrap();
        assert_eq!(c.manifests, ["apps/*/smart-app.yaml", "**/x.yaml"]);
        let e = from_bytes("c", b"manifests:\n  - /abs.yaml\n  - apps/**.yaml\n").unwrap_err();
        let lines: Vec<u32> = e.problems.iter().map(|p| p.pos.line).collect();
        assert_eq!(lines, [2, 3]);
        assert!(
            e.problems[1].message.contains("whole path segment"),
            "{e:?}"
        );
    }

    #[test]
    fn approval_max_age_is_a_number_of_days() {
        let c = from_bytes("c", b"approval_max_age: 365d\n").unwrap();
        assert_eq!(c.approval_max_age, Some(365));
        assert_eq!(Config::default().approval_max_age, None);
        for bad in ["365", "0d", "-1d", "1y", "0365d", "100000d", "d", "1.5d"] {
            let e = from_bytes("c", format!("approval_max_age: '{bad}'\n").as_bytes()).unwrap_err();
            assert!(
                e.problems[0].message.contains("not an approval age"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = from_bytes("c", b"aprovers: [x]\n").unwrap_err();
        assert!(e.problems[0].hint.as_deref().unwrap().contains("approvers"));
    }
}
