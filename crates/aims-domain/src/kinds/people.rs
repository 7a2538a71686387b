//! Competence, awareness and communication (7.2–7.4): people and their AI-related roles, the
//! competences roles require, training and qualification records, the communication plan.

use serde_json::{Map, Value};

use super::BASE;
use crate::ValidationErrors;
use crate::validate::{FieldSpec, FieldType, KindSpec};

/// A person who plays a part in the AIMS, with or without an account in aims.
pub const PERSON: KindSpec = KindSpec {
    kind: "person",
    collection: "people",
    label: "Person",
    plural_label: "People",
    fields: &[
        FieldSpec::new("name", "Name", FieldType::Text { max: 200 }).required(),
        FieldSpec::new("email", "E-mail", FieldType::Text { max: 254 }),
        FieldSpec::new("job_title", "Job title", FieldType::Text { max: 200 }),
        FieldSpec::new("business_unit", "Business unit", FieldType::Text { max: 200 }),
        FieldSpec::new("roles", "AI-related roles", FieldType::TextList { max_items: 20, max: 100 }),
        FieldSpec::new("user_id", "Account in aims", FieldType::UserId),
    ],
    ..BASE
};

/// A competence and the AI-related roles that require it.
pub const COMPETENCE: KindSpec = KindSpec {
    kind: "competence",
    collection: "competences",
    label: "Competence",
    plural_label: "Competences",
    fields: &[
        FieldSpec::new("name", "Name", FieldType::Text { max: 200 }).required(),
        FieldSpec::new("description", "Description", FieldType::Text { max: 5_000 }),
        FieldSpec::new("required_for_roles", "Required for roles", FieldType::TextList { max_items: 50, max: 100 }),
        FieldSpec::new("renewal_months", "Renew every (months)", FieldType::Integer { min: 1, max: 120 }),
    ],
    ..BASE
};

pub const TRAINING_TYPES: &[&str] = &["training", "qualification", "certification", "experience"];

/// A training, qualification or certification a person holds, with its expiry.
pub const TRAINING: KindSpec = KindSpec {
    kind: "training",
    collection: "trainings",
    label: "Training record",
    plural_label: "Training records",
    fields: &[
        FieldSpec::new("person_id", "Person", FieldType::Link { kind: "person" }).required(),
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("training_type", "Type", FieldType::Choice(TRAINING_TYPES)).required().default_text("training"),
        FieldSpec::new("competence_ids", "Competences", FieldType::Ids { kind: "competence" }),
        FieldSpec::new("provider", "Provider", FieldType::Text { max: 200 }),
        FieldSpec::new("completed_on", "Completed on", FieldType::Date).required(),
        FieldSpec::new("expires_on", "Expires on", FieldType::Date),
        FieldSpec::new("notes", "Notes", FieldType::Text { max: 5_000 }),
    ],
    rules: &[expiry_after_completion],
    ..BASE
};

fn expiry_after_completion(document: &Map<String, Value>, errors: &mut ValidationErrors) {
    let date = |f: &str| document.get(f).and_then(Value::as_str).map(str::to_owned);
    if let (Some(done), Some(expires)) = (date("completed_on"), date("expires_on")) {
        // Dates are normalised to YYYY-MM-DD, so text order is date order.
        if expires <= done {
            errors.push("expires_on", "before_start", "a record expires after it was completed");
        }
    }
}

pub const CHANNELS: &[&str] = &["email", "intranet", "meeting", "training_session", "website", "report", "newsletter", "other"];
pub const AUDIENCE_TYPES: &[&str] = &["internal", "external"];
pub const FREQUENCIES: &[&str] = &["once", "monthly", "quarterly", "yearly", "on_change"];

/// One line of the communication plan (7.4): what, when, with whom, how and by whom, with
/// records of each time it was communicated.
pub const COMMUNICATION: KindSpec = KindSpec {
    kind: "communication",
    collection: "communications",
    label: "Communication",
    plural_label: "Communications",
    fields: &[
        FieldSpec::new("subject", "What", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("audience", "With whom", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("audience_type", "Internal or external", FieldType::Choice(AUDIENCE_TYPES)).required().default_text("internal"),
        FieldSpec::new("channel", "How", FieldType::Choice(CHANNELS)).required(),
        FieldSpec::new("frequency", "How often", FieldType::Choice(FREQUENCIES)).required().default_text("once"),
        FieldSpec::new("next_on", "Next due", FieldType::Date),
        FieldSpec::new("responsible_id", "By whom", FieldType::UserId),
        FieldSpec::new("policy_ids", "Policies", FieldType::Ids { kind: "policy" }),
        FieldSpec::new("ai_system_ids", "AI systems", FieldType::Ids { kind: "ai_system" }),
        FieldSpec::new(
            "records",
            "What was communicated",
            FieldType::Items {
                fields: &[
                    FieldSpec::new("communicated_on", "On", FieldType::Date).required(),
                    FieldSpec::new("summary", "What was said", FieldType::Text { max: 2_000 }).required(),
                ],
                max_items: 500,
            },
        ),
    ],
    ..BASE
};

/// A competence someone lacks: required by one of their roles, with no valid record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompetenceGap {
    pub person_id: String,
    pub competence_id: String,
    pub role: String,
    /// `missing`, or `expired` with the date the last record expired.
    pub status: &'static str,
    pub expired_on: Option<String>,
}

/// Who lacks what: for every person, each competence one of their roles requires and for
/// which they hold no record that is valid on `today` (YYYY-MM-DD).
pub fn competence_gaps(
    people: &[(String, Map<String, Value>)],
    competences: &[(String, Map<String, Value>)],
    trainings: &[Map<String, Value>],
    today: &str,
) -> Vec<CompetenceGap> {
    let texts = |d: &Map<String, Value>, f: &str| -> Vec<String> {
        d.get(f).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
    };
    let mut gaps = Vec::new();
    for (person_id, person) in people {
        let roles = texts(person, "roles");
        for (competence_id, competence) in competences {
            let required = texts(competence, "required_for_roles");
            let Some(role) = roles.iter().find(|r| required.iter().any(|q| q.eq_ignore_ascii_case(r))) else { continue };
            let held: Vec<&Map<String, Value>> = trainings
                .iter()
                .filter(|t| t.get("person_id").and_then(Value::as_str) == Some(person_id))
                .filter(|t| texts(t, "competence_ids").contains(competence_id))
                .collect();
            let valid = held.iter().any(|t| t.get("expires_on").and_then(Value::as_str).is_none_or(|e| e >= today));
            if valid {
                continue;
            }
            let expired_on = held.iter().filter_map(|t| t.get("expires_on").and_then(Value::as_str)).max().map(str::to_owned);
            let status = if expired_on.is_some() { "expired" } else { "missing" };
            gaps.push(CompetenceGap {
                person_id: person_id.clone(),
                competence_id: competence_id.clone(),
                role: role.clone(),
                status,
                expired_on,
            });
        }
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn gaps_are_missing_or_expired() {
        let people = vec![
            ("p1".to_owned(), map(json!({"roles": ["Model validator"]}))),
            ("p2".to_owned(), map(json!({"roles": ["model validator"]}))),
            ("p3".to_owned(), map(json!({"roles": ["Other"]}))),
        ];
        let competences = vec![("c1".to_owned(), map(json!({"required_for_roles": ["Model validator"]})))];
        let trainings = vec![
            map(json!({"person_id": "p1", "competence_ids": ["c1"], "expires_on": "2030-01-01"})),
            map(json!({"person_id": "p2", "competence_ids": ["c1"], "expires_on": "2020-01-01"})),
        ];
        let gaps = competence_gaps(&people, &competences, &trainings, "2026-11-25");
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].person_id, "p2");
        assert_eq!(gaps[0].status, "expired");
        let gaps = competence_gaps(&people, &competences, &[], "2026-11-25");
        assert_eq!(gaps.iter().map(|g| g.status).collect::<Vec<_>>(), vec!["missing", "missing"]);
    }

    #[test]
    fn expiry_must_follow_completion() {
        let body = json!({"person_id": "0190a3c4-1111-7000-8000-000000000001", "title": "T", "completed_on": "2026-01-01", "expires_on": "2025-01-01"});
        let errors = TRAINING.validate_create(&body, &[]).unwrap_err();
        assert_eq!(errors.0[0].field, "expires_on");
    }
}
