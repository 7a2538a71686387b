//! Context and scope of the AIMS (clauses 4.1–4.4): issues, interested parties, the scope.

use serde_json::{Map, Value};

use super::inventory::AI_ROLES;
use super::{BASE, text_present};
use crate::ValidationErrors;
use crate::validate::{FieldSpec, FieldType, KindSpec, Revisions};

pub const ISSUE_TYPES: &[&str] = &["internal", "external"];
pub const ISSUE_CATEGORIES: &[&str] =
    &["legal_regulatory", "technological", "economic", "social_cultural", "environmental", "competitive", "organisational", "ethical"];
pub const PARTY_CATEGORIES: &[&str] =
    &["customer", "affected_person", "regulator", "employee", "supplier", "partner", "investor", "community", "public", "other"];

pub const CONTEXT_ISSUE: KindSpec = KindSpec {
    kind: "context_issue",
    collection: "context-issues",
    label: "Context issue",
    plural_label: "Context issues",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("issue_type", "Internal or external", FieldType::Choice(ISSUE_TYPES)).required(),
        FieldSpec::new("category", "Category", FieldType::Choice(ISSUE_CATEGORIES)),
        FieldSpec::new("description", "Description", FieldType::Text { max: 10_000 }),
        FieldSpec::new("effect_on_aims", "Effect on the AIMS", FieldType::Text { max: 10_000 }),
        FieldSpec::new("owner_id", "Owner", FieldType::UserId),
        FieldSpec::new("review_on", "Next review", FieldType::Date),
    ],
    revisions: Revisions::EveryChange,
    ..BASE
};

pub const INTERESTED_PARTY: KindSpec = KindSpec {
    kind: "interested_party",
    collection: "interested-parties",
    label: "Interested party",
    plural_label: "Interested parties",
    fields: &[
        FieldSpec::new("name", "Name", FieldType::Text { max: 200 }).required(),
        FieldSpec::new("category", "Category", FieldType::Choice(PARTY_CATEGORIES)).required(),
        FieldSpec::new("needs_expectations", "Needs and expectations", FieldType::Text { max: 10_000 }).required(),
        FieldSpec::new("addressed_by_aims", "Addressed by the AIMS", FieldType::Bool).required().default_bool(false),
        FieldSpec::new("how_addressed", "How the AIMS addresses them", FieldType::Text { max: 10_000 }),
        FieldSpec::new("requirement_refs", "Related requirements", FieldType::Refs { kind: "requirement" }),
    ],
    rules: &[addressed_needs_how],
    revisions: Revisions::EveryChange,
    ..BASE
};

fn addressed_needs_how(document: &Map<String, Value>, errors: &mut ValidationErrors) {
    if document.get("addressed_by_aims") == Some(&Value::Bool(true)) && !text_present(document, "how_addressed") {
        errors.push("how_addressed", "required_with", "say how the AIMS addresses these needs");
    }
}

/// The AIMS scope: one per organisation, kept in revisions.
pub const SCOPE: KindSpec = KindSpec {
    kind: "scope",
    collection: "scope",
    label: "AIMS scope",
    plural_label: "AIMS scope",
    fields: &[
        FieldSpec::new("statement", "Scope statement", FieldType::Text { max: 20_000 }),
        FieldSpec::new(
            "ai_roles",
            "AI roles we play",
            FieldType::Items {
                fields: &[
                    FieldSpec::new("role", "Role", FieldType::Choice(AI_ROLES)).required(),
                    FieldSpec::new("context", "Where and for what", FieldType::Text { max: 2_000 }),
                ],
                max_items: 30,
            },
        ),
        FieldSpec::new("ai_system_ids", "AI systems in scope", FieldType::Ids { kind: "ai_system" }),
        FieldSpec::new("business_units", "Business units in scope", FieldType::TextList { max_items: 100, max: 200 }),
        FieldSpec::new("geographies", "Geographies in scope", FieldType::TextList { max_items: 100, max: 100 }),
        FieldSpec::new("intended_uses", "Intended uses in scope", FieldType::Text { max: 10_000 }),
        FieldSpec::new("out_of_scope", "Out of scope, and why", FieldType::Text { max: 10_000 }),
    ],
    revisions: Revisions::EveryChange,
    singleton: true,
    creatable: false,
    ..BASE
};
