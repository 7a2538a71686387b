//! Maturity assessments: how far the management system has come, judged from 1 to 5 on each of
//! nine dimensions at a date, so successive assessments show the trend a management review
//! looks at. The levels are described in our own words ([`LEVELS`]).

use super::BASE;
use crate::validate::{FieldSpec, FieldType, KindSpec};

/// The dimensions assessed, as (field prefix, label).
pub const DIMENSIONS: &[(&str, &str)] = &[
    ("governance", "Governance"),
    ("risk", "Risk management"),
    ("impact", "Impact assessment"),
    ("lifecycle", "AI system lifecycle"),
    ("data", "Data"),
    ("transparency", "Transparency"),
    ("third_parties", "Third parties"),
    ("monitoring", "Monitoring"),
    ("improvement", "Improvement"),
];

/// What each level means, from 1 to 5.
pub const LEVELS: &[(u8, &str, &str)] = &[
    (1, "Initial", "done by individuals when needed; little is written down"),
    (2, "Repeatable", "done the same way each time by the people who know how; partly recorded"),
    (3, "Defined", "a written, agreed way of working that everyone concerned follows"),
    (4, "Measured", "results are measured and reviewed, and decisions use the figures"),
    (5, "Improving", "the measurements drive regular, deliberate improvement"),
];

const fn level(name: &'static str, label: &'static str) -> FieldSpec {
    FieldSpec::new(name, label, FieldType::Integer { min: 1, max: 5 })
}

const fn note(name: &'static str, label: &'static str) -> FieldSpec {
    FieldSpec::new(name, label, FieldType::Text { max: 5_000 })
}

pub const MATURITY_ASSESSMENT: KindSpec = KindSpec {
    kind: "maturity_assessment",
    collection: "maturity-assessments",
    label: "Maturity assessment",
    plural_label: "Maturity assessments",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("assessed_on", "Assessed on", FieldType::Date).required(),
        FieldSpec::new("assessor_id", "Assessor", FieldType::UserId),
        level("governance_level", "Governance: level"),
        note("governance_note", "Governance: note"),
        level("risk_level", "Risk management: level"),
        note("risk_note", "Risk management: note"),
        level("impact_level", "Impact assessment: level"),
        note("impact_note", "Impact assessment: note"),
        level("lifecycle_level", "AI system lifecycle: level"),
        note("lifecycle_note", "AI system lifecycle: note"),
        level("data_level", "Data: level"),
        note("data_note", "Data: note"),
        level("transparency_level", "Transparency: level"),
        note("transparency_note", "Transparency: note"),
        level("third_parties_level", "Third parties: level"),
        note("third_parties_note", "Third parties: note"),
        level("monitoring_level", "Monitoring: level"),
        note("monitoring_note", "Monitoring: note"),
        level("improvement_level", "Improvement: level"),
        note("improvement_note", "Improvement: note"),
    ],
    ..BASE
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dimension_has_a_level_and_a_note() {
        for (prefix, _) in DIMENSIONS {
            assert!(MATURITY_ASSESSMENT.fields.iter().any(|f| f.name == format!("{prefix}_level")), "{prefix}");
            assert!(MATURITY_ASSESSMENT.fields.iter().any(|f| f.name == format!("{prefix}_note")), "{prefix}");
        }
        assert_eq!(LEVELS.len(), 5);
    }
}
