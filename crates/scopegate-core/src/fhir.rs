//! FHIR versions and the resource types each defines, compiled in from `data/fhir-types/`.
//!
//! Owns only the lists; each file's header names the spec release and the sources it
//! was checked against. It must not know about scopes.

use std::fmt;
use std::sync::OnceLock;

use rustc_hash::FxHashSet;

use crate::hint::did_you_mean;

/// A FHIR release a manifest can target. R4 (4.0.1) is the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FhirVersion {
    Dstu2,
    Stu3,
    #[default]
    R4,
    R4b,
    R5,
}

impl FhirVersion {
    pub(crate) const ALL: [FhirVersion; 5] = [
        FhirVersion::Dstu2,
        FhirVersion::Stu3,
        FhirVersion::R4,
        FhirVersion::R4b,
        FhirVersion::R5,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FhirVersion::Dstu2 => "DSTU2",
            FhirVersion::Stu3 => "STU3",
            FhirVersion::R4 => "R4",
            FhirVersion::R4b => "R4B",
            FhirVersion::R5 => "R5",
        }
    }

    pub fn parse(s: &str) -> Option<FhirVersion> {
        FhirVersion::ALL.into_iter().find(|v| v.as_str() == s)
    }

    fn source(self) -> &'static str {
        match self {
            FhirVersion::Dstu2 => include_str!("../data/fhir-types/DSTU2.txt"),
            FhirVersion::Stu3 => include_str!("../data/fhir-types/STU3.txt"),
            FhirVersion::R4 => include_str!("../data/fhir-types/R4.txt"),
            FhirVersion::R4b => include_str!("../data/fhir-types/R4B.txt"),
            FhirVersion::R5 => include_str!("../data/fhir-types/R5.txt"),
        }
    }

    /// The resource types of this release, sorted.
    pub fn resource_types(self) -> &'static [&'static str] {
        static LISTS: [OnceLock<Vec<&'static str>>; 5] = [
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
        ];
        LISTS[self as usize].get_or_init(|| {
            self.source()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect()
        })
    }

    pub(crate) fn has_resource_type(self, name: &str) -> bool {
        // The lint asks for every token: thousands of times on a large manifest, where
        // a binary search's string comparisons showed up.
        static SETS: [OnceLock<FxHashSet<&'static str>>; 5] = [
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
        ];
        SETS[self as usize]
            .get_or_init(|| self.resource_types().iter().copied().collect())
            .contains(name)
    }

    /// The nearest resource type of this release, for "did you mean".
    pub(crate) fn suggest_resource_type(self, name: &str) -> Option<&'static str> {
        did_you_mean(name, self.resource_types().iter().copied())
    }

    /// The type of this release that `name`, a type of another FHIR release (or of an
    /// R5 ballot), was renamed to or from: `MedicationUsage` → `MedicationStatement`.
    pub(crate) fn renamed_counterpart(self, name: &str) -> Option<&'static str> {
        RENAMES
            .iter()
            .find(|(a, _)| *a == name)
            .map(|(_, b)| *b)
            .into_iter()
            .chain(RENAMES.iter().filter(|(_, b)| *b == name).map(|(a, _)| *a))
            .find(|n| self.has_resource_type(n))
    }

    /// `scope` (a suggestion) with its resource type made one of this release: its
    /// renamed counterpart, else the nearest name. A fix for `.raed` on R5's
    /// `MedicationUsage` in R4 is `MedicationStatement.read`, a scope that passes.
    pub(crate) fn with_known_type(self, scope: &str) -> String {
        use crate::scope::{ResourceScope, ResourceType, Scope};
        let Ok(Scope::Resource(ResourceScope {
            resource: ResourceType::Named(ty),
            ..
        })) = Scope::parse(scope)
        else {
            return scope.to_string();
        };
        if self.has_resource_type(&ty) {
            return scope.to_string();
        }
        match self
            .renamed_counterpart(&ty)
            .or_else(|| self.suggest_resource_type(&ty))
        {
            Some(known) => scope.replacen(&*ty, known, 1),
            None => scope.to_string(),
        }
    }

    /// The releases that do define `name`, to explain a type that moved.
    pub(crate) fn releases_with(name: &str) -> Vec<FhirVersion> {
        FhirVersion::ALL
            .into_iter()
            .filter(|v| v.has_resource_type(name))
            .collect()
    }
}

/// The well-known value set of a restriction parameter: `(code system, codes)`.
/// Observation `category`: the observation-category code system
/// (terminology.hl7.org/CodeSystem/observation-category, FHIR R4/R5). Condition
/// `category`: condition-category (terminology.hl7.org/CodeSystem/condition-category)
/// plus US Core's `health-concern` (us-core-condition-category).
pub(crate) fn value_set(
    resource: &str,
    param: &str,
) -> Option<(&'static str, &'static [&'static str])> {
    match (resource, param) {
        ("Observation", "category") => Some((
            "http://terminology.hl7.org/CodeSystem/observation-category",
            &[
                "social-history",
                "vital-signs",
                "imaging",
                "laboratory",
                "procedure",
                "survey",
                "exam",
                "therapy",
                "activity",
            ],
        )),
        ("Condition", "category") => Some((
            "http://terminology.hl7.org/CodeSystem/condition-category",
            &["problem-list-item", "encounter-diagnosis", "health-concern"],
        )),
        _ => None,
    }
}

/// Resource types renamed between FHIR releases, `(older name, newer name)`. Sources:
/// the FHIR R4 "Differences from STU3" and STU3↔R4 conversion maps (hl7.org/fhir/R4/
/// r3maps.html: ProcedureRequest and ReferralRequest became ServiceRequest,
/// DeviceComponent became DeviceDefinition); the cross-version IGs hl7.fhir.uv.xver
/// (hl7.org/fhir/uv/xver-r4.r5/0.1.0, profile "DeviceUseStatement-for-DeviceUsage":
/// R4 DeviceUseStatement is R5 DeviceUsage; xver-r4.r4b: MedicinalProduct is
/// MedicinalProductDefinition); and the R5 ballot (hl7.org/fhir/2021May, v4.6.0), which
/// named MedicationStatement `MedicationUsage` before R5 5.0.0 restored the name.
/// DSTU2 to STU3 and later: HL7's reference converter (hapifhir/org.hl7.fhir.core,
/// org.hl7.fhir.convertors conv10_40/resources10_40/Resource10_40.java) converts DSTU2
/// MedicationOrder to R4 MedicationRequest and Conformance to CapabilityStatement; the
/// spec's R2:R3 map "MedicationOrder2to3" (hl7.org/fhir/2018Jan/medicationrequest-
/// version-maps.html) maps MedicationOrder onto MedicationRequest. Other DSTU2 types
/// that were merged or dropped (DiagnosticOrder, DeviceUseRequest, Order) have no
/// one-to-one rename there and are not listed.
static RENAMES: &[(&str, &str)] = &[
    ("MedicationOrder", "MedicationRequest"),
    ("Conformance", "CapabilityStatement"),
    ("ProcedureRequest", "ServiceRequest"),
    ("ReferralRequest", "ServiceRequest"),
    ("DeviceComponent", "DeviceDefinition"),
    ("DeviceUseStatement", "DeviceUsage"),
    ("MedicinalProduct", "MedicinalProductDefinition"),
    ("MedicationStatement", "MedicationUsage"),
];

impl fmt::Display for FhirVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renamed_types_find_their_counterpart_in_the_release() {
        assert_eq!(
            FhirVersion::R4.renamed_counterpart("MedicationUsage"),
            Some("MedicationStatement")
        );
        assert_eq!(
            FhirVersion::R5.renamed_counterpart("DeviceUseStatement"),
            Some("DeviceUsage")
        );
        assert_eq!(
            FhirVersion::R4.renamed_counterpart("DeviceUsage"),
            Some("DeviceUseStatement")
        );
        assert_eq!(
            FhirVersion::R4.renamed_counterpart("ProcedureRequest"),
            Some("ServiceRequest")
        );
        assert_eq!(FhirVersion::R4.renamed_counterpart("Observation"), None);
    }

    #[test]
    fn dstu2_types_find_their_later_names_and_back() {
        // DSTU2 MedicationOrder is MedicationRequest from STU3 on (see RENAMES).
        assert!(FhirVersion::Dstu2.has_resource_type("MedicationOrder"));
        assert!(!FhirVersion::Dstu2.has_resource_type("MedicationRequest"));
        assert_eq!(
            FhirVersion::Dstu2.renamed_counterpart("MedicationRequest"),
            Some("MedicationOrder")
        );
        assert_eq!(
            FhirVersion::R4.renamed_counterpart("MedicationOrder"),
            Some("MedicationRequest")
        );
        assert_eq!(
            FhirVersion::Dstu2.renamed_counterpart("CapabilityStatement"),
            Some("Conformance")
        );
        assert_eq!(
            FhirVersion::releases_with("MedicationOrder"),
            vec![FhirVersion::Dstu2]
        );
        assert_eq!(FhirVersion::parse("DSTU2"), Some(FhirVersion::Dstu2));
    }

    #[test]
    fn lists_are_sorted_unique_and_sized_as_the_spec() {
        // Counts of concrete resource types per release (see each file's header).
        let expected = [
            (FhirVersion::Dstu2, 94),
            (FhirVersion::Stu3, 117),
            (FhirVersion::R4, 146),
            (FhirVersion::R4b, 141),
            (FhirVersion::R5, 158),
        ];
        for (v, n) in expected {
            let l = v.resource_types();
            assert_eq!(l.len(), n, "{v}");
            assert!(l.windows(2).all(|w| w[0] < w[1]), "{v} not sorted/unique");
            assert!(!l.contains(&"Resource") && !l.contains(&"DomainResource"));
        }
    }

    #[test]
    fn renamed_types_belong_to_their_release() {
        assert!(FhirVersion::R4.has_resource_type("DeviceUseStatement"));
        assert!(!FhirVersion::R5.has_resource_type("DeviceUseStatement"));
        assert!(FhirVersion::R5.has_resource_type("DeviceUsage"));
        assert!(FhirVersion::Stu3.has_resource_type("ProcedureRequest"));
        assert!(!FhirVersion::R4.has_resource_type("ProcedureRequest"));
        assert_eq!(
            FhirVersion::releases_with("MedicinalProduct"),
            vec![FhirVersion::R4]
        );
    }

    #[test]
    fn suggests_near_spellings() {
        assert_eq!(
            FhirVersion::R4.suggest_resource_type("Obsevation"),
            Some("Observation")
        );
        assert_eq!(
            FhirVersion::R4.suggest_resource_type("MedicationRequests"),
            Some("MedicationRequest")
        );
    }
}
