//! The AI system inventory (A.4, A.6, A.7): AI systems, their resources, datasets, suppliers.

use serde_json::{Map, Value};

use super::operations::{COMPONENT_TYPES, REVIEW_CADENCES, RISK_RATINGS};
use super::{BASE, text_present};
use crate::ValidationErrors;
use crate::validate::{FieldSpec, FieldType, KindSpec, Parent, Shape, sys};

/// The AI roles of ISO/IEC 22989 an organisation can play.
pub const AI_ROLES: &[&str] = &["ai_provider", "ai_producer", "ai_customer", "ai_partner", "ai_subject", "relevant_authority"];
pub const EU_AI_ACT_ROLES: &[&str] = &["provider", "deployer", "importer", "distributor"];
pub const LIFECYCLE_STAGES: &[&str] = &["idea", "design", "development", "verification_validation", "deployment", "operation", "retired"];
pub const EU_AI_ACT_RISK_CATEGORIES: &[&str] = &["prohibited", "high", "limited", "minimal"];
pub const OVERSIGHT_MODES: &[&str] = &["human_in_the_loop", "human_on_the_loop", "human_in_command", "none"];
pub const DATA_CATEGORIES: &[&str] =
    &["personal", "special_category", "children", "biometric", "financial", "health", "confidential_business", "public", "synthetic"];
pub const RESOURCE_TYPES: &[&str] = &["data", "tooling", "system_computing", "human"];

/// Fields of an AI system whose change makes its impact assessment due for re-assessment.
pub const MATERIAL_FIELDS: &[&str] = &["purpose", "intended_use", "data_categories", "deployment_context", "model_type"];

pub const AI_SYSTEM: KindSpec = KindSpec {
    kind: "ai_system",
    collection: "ai-systems",
    label: "AI system",
    plural_label: "AI systems",
    fields: &[
        FieldSpec::new("name", "Name", FieldType::Text { max: 200 }).required(),
        FieldSpec::new("purpose", "Purpose", FieldType::Text { max: 5_000 }),
        FieldSpec::new("intended_use", "Intended use", FieldType::Text { max: 5_000 }),
        FieldSpec::new("foreseeable_misuse", "Reasonably foreseeable misuse", FieldType::Text { max: 5_000 }),
        FieldSpec::new("ai_roles", "AI roles we play", FieldType::ChoiceList(AI_ROLES)),
        FieldSpec::new("eu_ai_act_role", "EU AI Act role", FieldType::Choice(EU_AI_ACT_ROLES)),
        FieldSpec::new("owner_id", "Owner", FieldType::UserId),
        FieldSpec::new("business_unit", "Business unit", FieldType::Text { max: 200 }),
        FieldSpec::new("deployment_context", "Deployment context", FieldType::Text { max: 5_000 }),
        FieldSpec::new("geographies", "Geographies", FieldType::TextList { max_items: 50, max: 100 }),
        FieldSpec::new("model_type", "Model type", FieldType::Text { max: 200 }),
        FieldSpec::new("data_categories", "Categories of data", FieldType::ChoiceList(DATA_CATEGORIES)),
        FieldSpec::new("supplier_ids", "Supplier", FieldType::Ids { kind: "supplier" }),
        FieldSpec::new("dataset_ids", "Datasets", FieldType::Ids { kind: "dataset" }),
        FieldSpec::new("eu_ai_act_risk_category", "EU AI Act risk category", FieldType::Choice(EU_AI_ACT_RISK_CATEGORIES)),
        FieldSpec::new("eu_ai_act_risk_reason", "Reason for the risk category", FieldType::Text { max: 5_000 }),
        FieldSpec::new("human_oversight_mode", "Human oversight", FieldType::Choice(OVERSIGHT_MODES)),
        FieldSpec::new("human_oversight_rationale", "Oversight rationale", FieldType::Text { max: 5_000 }),
        // A.8 transparency: what the public trust page shows, and only once published. The
        // intended use and the oversight mode are shown from the fields above; the rest is
        // written for the public, apart from the internal wording.
        FieldSpec::new("disclosure_published", "Disclosure published on the trust page", FieldType::Bool),
        FieldSpec::new("disclosure_summary", "Public description", FieldType::Text { max: 5_000 }),
        FieldSpec::new("disclosure_limitations", "Known limitations (public)", FieldType::Text { max: 5_000 }),
        FieldSpec::new("disclosure_human_oversight", "How people oversee it (public)", FieldType::Text { max: 5_000 }),
    ],
    system_fields: &[sys("lifecycle_stage", Shape::Text)],
    rules: &[risk_category_needs_reason, published_disclosure_is_complete],
    ..BASE
};

fn risk_category_needs_reason(document: &Map<String, Value>, errors: &mut ValidationErrors) {
    if !document.get("eu_ai_act_risk_category").is_none_or(Value::is_null) && !text_present(document, "eu_ai_act_risk_reason") {
        errors.push("eu_ai_act_risk_reason", "required_with", "give the reason for the EU AI Act risk category");
    }
}

/// The fields of an AI system a published disclosure shows, and nothing else.
pub const DISCLOSURE_FIELDS: &[&str] =
    &["name", "disclosure_summary", "intended_use", "disclosure_limitations", "human_oversight_mode", "disclosure_human_oversight"];

/// Whether an AI system's document says its disclosure is published.
pub fn disclosure_published(document: &Map<String, Value>) -> bool {
    document.get("disclosure_published") == Some(&Value::Bool(true))
}

/// A disclosure is published only with the text a reader needs: what the system is for, its
/// limitations and how people oversee it.
fn published_disclosure_is_complete(document: &Map<String, Value>, errors: &mut ValidationErrors) {
    if !disclosure_published(document) {
        return;
    }
    for (field, what) in [
        ("disclosure_summary", "a public description"),
        ("intended_use", "the intended use"),
        ("disclosure_limitations", "its known limitations"),
        ("disclosure_human_oversight", "how people oversee it"),
    ] {
        if !text_present(document, field) {
            errors.push(field, "required_with", format!("a published disclosure states {what}"));
        }
    }
}

pub const RESOURCE: KindSpec = KindSpec {
    kind: "resource",
    collection: "resources",
    label: "Resource",
    plural_label: "Resources",
    fields: &[
        FieldSpec::new("resource_type", "Type", FieldType::Choice(RESOURCE_TYPES)).required(),
        FieldSpec::new("name", "Name", FieldType::Text { max: 200 }).required(),
        FieldSpec::new("description", "Description", FieldType::Text { max: 5_000 }),
        FieldSpec::new("owner_id", "Owner", FieldType::UserId),
    ],
    system_fields: &[sys("ai_system_id", Shape::RecordId)],
    parent: Some(Parent { field: "ai_system_id", kind: "ai_system", collection: "ai-systems" }),
    ..BASE
};

pub const QUALITY_RESULTS: &[&str] = &["pass", "partial", "fail", "not_run"];

pub const DATASET: KindSpec = KindSpec {
    kind: "dataset",
    collection: "datasets",
    label: "Dataset",
    plural_label: "Datasets",
    fields: &[
        FieldSpec::new("name", "Name", FieldType::Text { max: 200 }).required(),
        FieldSpec::new("description", "Description", FieldType::Text { max: 5_000 }),
        FieldSpec::new("source", "Source", FieldType::Text { max: 1_000 }),
        FieldSpec::new("acquisition", "Acquisition", FieldType::Text { max: 5_000 }),
        FieldSpec::new("provenance", "Provenance", FieldType::Text { max: 5_000 }),
        FieldSpec::new(
            "quality_checks",
            "Quality checks",
            FieldType::Items {
                fields: &[
                    FieldSpec::new("check", "Check", FieldType::Text { max: 500 }).required(),
                    FieldSpec::new("result", "Result", FieldType::Choice(QUALITY_RESULTS)).required(),
                    FieldSpec::new("checked_on", "Checked on", FieldType::Date),
                    FieldSpec::new("notes", "Notes", FieldType::Text { max: 2_000 }),
                ],
                max_items: 100,
            },
        ),
        FieldSpec::new("preparation_steps", "Preparation steps", FieldType::Text { max: 10_000 }),
        FieldSpec::new("personal_data", "Contains personal data", FieldType::Bool).required().default_bool(false),
        FieldSpec::new("special_category_data", "Contains special-category data", FieldType::Bool).required().default_bool(false),
        FieldSpec::new("owner_id", "Owner", FieldType::UserId),
    ],
    rules: &[special_category_is_personal],
    ..BASE
};

fn special_category_is_personal(document: &Map<String, Value>, errors: &mut ValidationErrors) {
    if document.get("special_category_data") == Some(&Value::Bool(true)) && document.get("personal_data") != Some(&Value::Bool(true)) {
        errors.push("personal_data", "inconsistent", "special-category data is personal data too");
    }
}

pub const SUPPLIER: KindSpec = KindSpec {
    kind: "supplier",
    collection: "suppliers",
    label: "Supplier",
    plural_label: "Suppliers",
    fields: &[
        FieldSpec::new("name", "Name", FieldType::Text { max: 200 }).required(),
        FieldSpec::new("description", "Description", FieldType::Text { max: 5_000 }),
        FieldSpec::new("supplied_ai", "AI supplied", FieldType::Text { max: 5_000 }),
        FieldSpec::new("contact_email", "Contact e-mail", FieldType::Text { max: 254 }),
        FieldSpec::new("owner_id", "Supplier owner", FieldType::UserId),
        // A.10: what AI it provides, how much that puts at risk, when it is reviewed next (the
        // AI systems that use it link to it through their `supplier_ids`).
        FieldSpec::new(
            "ai_services",
            "AI services and components provided",
            FieldType::Items {
                fields: &[
                    FieldSpec::new("name", "Service or component", FieldType::Text { max: 200 }).required(),
                    FieldSpec::new("component_type", "Type", FieldType::Choice(COMPONENT_TYPES)).required(),
                    FieldSpec::new("notes", "Notes", FieldType::Text { max: 2_000 }),
                ],
                max_items: 100,
            },
        ),
        FieldSpec::new("risk_rating", "Risk rating", FieldType::Choice(RISK_RATINGS)),
        FieldSpec::new("review_cadence", "Review cadence", FieldType::Choice(REVIEW_CADENCES)),
        FieldSpec::new("next_review_on", "Next review", FieldType::Date),
    ],
    ..BASE
};
