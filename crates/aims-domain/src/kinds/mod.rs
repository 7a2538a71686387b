//! The record kinds of aims and their field rules. Each kind is a [`KindSpec`]; the generic
//! record service, the API, the OpenAPI document and the web forms are all driven by these.

pub mod audit;
pub mod catalogue;
pub mod context;
pub mod documents;
pub mod impact;
pub mod improvement;
pub mod inventory;
pub mod lifecycle;
pub mod maturity;
pub mod objectives;
pub mod operations;
pub mod people;
pub mod review;
pub mod risk;
pub mod schedules;

use serde_json::{Map, Value};

pub use audit::{AUDIT, AUDIT_PROGRAMME, CERTIFICATE, FINDING};
pub use catalogue::{CATALOGUE_CONTROL_FIXED, CONTROL, GAP_STATUSES, IMPLEMENTATION_STATUSES, REQUIREMENT, SOA, parse_own_control_ref};
pub use context::{CONTEXT_ISSUE, INTERESTED_PARTY, SCOPE};
pub use documents::{EVIDENCE, POLICY};
pub use impact::IMPACT_ASSESSMENT;
pub use improvement::{CHANGE, IMPROVEMENT, NONCONFORMITY};
pub use inventory::{AI_SYSTEM, DATASET, RESOURCE, SUPPLIER};
pub use lifecycle::{GATE, GATE_REQUIREMENT, LIFECYCLE_RECORD};
pub use maturity::MATURITY_ASSESSMENT;
pub use objectives::{MEASUREMENT, OBJECTIVE};
pub use operations::{CONCERN, INCIDENT, SUPPLIER_REVIEW};
pub use people::{COMMUNICATION, COMPETENCE, PERSON, TRAINING};
pub use review::MANAGEMENT_REVIEW;
pub use risk::{ACTION, RISK, RISK_CRITERIA, RISK_SOURCE};
pub use schedules::{NOTIFICATION_CHANNEL, SCHEDULE};

use crate::validate::{KindSpec, Revisions};

/// The defaults every kind starts from (`..BASE`).
pub const BASE: KindSpec = KindSpec {
    kind: "",
    collection: "",
    label: "",
    plural_label: "",
    fields: &[],
    system_fields: &[],
    rules: &[],
    revisions: Revisions::None,
    singleton: false,
    creatable: true,
    addressed_by_ref: false,
    parent: None,
    initial_state: None,
    uploads: false,
    workflow: None,
    write: crate::policy::Action::Edit,
};

/// Every kind served by the generic record routes, in the order the API documents them.
pub const ALL: &[&KindSpec] = &[
    &REQUIREMENT,
    &CONTROL,
    &SOA,
    &CONTEXT_ISSUE,
    &INTERESTED_PARTY,
    &SCOPE,
    &AI_SYSTEM,
    &RESOURCE,
    &DATASET,
    &SUPPLIER,
    &SUPPLIER_REVIEW,
    &GATE,
    &LIFECYCLE_RECORD,
    &GATE_REQUIREMENT,
    &RISK_CRITERIA,
    &RISK_SOURCE,
    &RISK,
    &ACTION,
    &IMPACT_ASSESSMENT,
    &EVIDENCE,
    &POLICY,
    &OBJECTIVE,
    &MEASUREMENT,
    &PERSON,
    &COMPETENCE,
    &TRAINING,
    &COMMUNICATION,
    &NONCONFORMITY,
    &IMPROVEMENT,
    &CHANGE,
    &AUDIT_PROGRAMME,
    &AUDIT,
    &FINDING,
    &CERTIFICATE,
    &MANAGEMENT_REVIEW,
    &MATURITY_ASSESSMENT,
    &SCHEDULE,
    &NOTIFICATION_CHANNEL,
    &INCIDENT,
    &CONCERN,
];

pub fn by_collection(collection: &str) -> Option<&'static KindSpec> {
    ALL.iter().copied().find(|k| k.collection == collection)
}

pub fn by_kind(kind: &str) -> Option<&'static KindSpec> {
    ALL.iter().copied().find(|k| k.kind == kind)
}

/// Does the document hold non-blank text in `field`?
pub(crate) fn text_present(document: &Map<String, Value>, field: &str) -> bool {
    document.get(field).and_then(Value::as_str).is_some_and(|t| !t.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_unique_and_well_formed() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(!a.kind.is_empty() && !a.collection.is_empty());
            for b in &ALL[i + 1..] {
                assert_ne!(a.kind, b.kind);
                assert_ne!(a.collection, b.collection);
            }
            for (j, f) in a.fields.iter().enumerate() {
                assert!(a.fields[j + 1..].iter().all(|g| g.name != f.name), "{}.{} twice", a.kind, f.name);
                assert!(!a.system_field(f.name).is_some(), "{}.{} is both writable and system", a.kind, f.name);
            }
        }
    }
}
