//! AI risk (6.1.2, 6.1.3, 8.2, 8.3): the organisation's risk criteria, the risk register, the
//! library of AI risk sources, and the one `actions` tracker.

use serde_json::{Map, Value};

use super::{BASE, text_present};
use crate::ValidationErrors;
use crate::policy::Action;
use crate::validate::{FieldSpec, FieldType, KindSpec, Revisions, Shape, sys};
use crate::workflow::{BodyField, Permission, Sod, TransitionSpec, Workflow};

pub const SOURCE_CATEGORIES: &[&str] = &["technical", "operational", "organisational", "societal"];
pub const TREATMENTS: &[&str] = &["avoid", "mitigate", "transfer", "accept"];
pub const RISK_STATUSES: &[&str] = &["identified", "assessed", "in_treatment", "monitored", "closed"];
/// NIST AI RMF 1.0 trustworthiness characteristics.
pub const NIST_CHARACTERISTICS: &[&str] = &[
    "valid_reliable",
    "safe",
    "secure_resilient",
    "accountable_transparent",
    "explainable_interpretable",
    "privacy_enhanced",
    "fair_harmful_bias_managed",
];
/// OWASP Top 10 for LLM applications (2025).
pub const OWASP_LLM: &[&str] = &["LLM01", "LLM02", "LLM03", "LLM04", "LLM05", "LLM06", "LLM07", "LLM08", "LLM09", "LLM10"];

pub const RISK_CRITERIA: KindSpec = KindSpec {
    kind: "risk_criteria",
    collection: "risk-criteria",
    label: "Risk criteria",
    plural_label: "Risk criteria",
    fields: &[
        FieldSpec::new("likelihood_levels", "Likelihood levels (lowest first)", FieldType::TextList { max_items: 5, max: 60 }).required(),
        FieldSpec::new("consequence_levels", "Consequence levels (lowest first)", FieldType::TextList { max_items: 5, max: 60 }).required(),
        FieldSpec::new(
            "risk_levels",
            "Risk levels by score (likelihood × consequence)",
            FieldType::Items {
                fields: &[
                    FieldSpec::new("name", "Name", FieldType::Text { max: 60 }).required(),
                    FieldSpec::new("min_score", "From score", FieldType::Integer { min: 1, max: 25 }).required(),
                ],
                max_items: 6,
            },
        )
        .required(),
        FieldSpec::new("acceptance_threshold", "Highest level accepted without escalation", FieldType::Text { max: 60 }).required(),
        FieldSpec::new("method", "Assessment method", FieldType::Text { max: 20_000 }),
    ],
    rules: &[criteria_are_consistent],
    revisions: Revisions::EveryChange,
    singleton: true,
    creatable: false,
    ..BASE
};

fn criteria_are_consistent(document: &Map<String, Value>, errors: &mut ValidationErrors) {
    for field in ["likelihood_levels", "consequence_levels"] {
        let count = document.get(field).and_then(Value::as_array).map_or(0, Vec::len);
        if !(3..=5).contains(&count) {
            errors.push(field, "out_of_range", "from 3 to 5 levels (a 3×3 to 5×5 matrix)");
        }
    }
    let levels = document.get("risk_levels").and_then(Value::as_array).cloned().unwrap_or_default();
    let scores: Vec<i64> = levels.iter().filter_map(|l| l["min_score"].as_i64()).collect();
    if scores.first() != Some(&1) || scores.windows(2).any(|w| w[0] >= w[1]) {
        errors.push("risk_levels", "invalid_order", "levels go from lowest to highest; the first starts at score 1, each later one higher");
    }
    let threshold = document.get("acceptance_threshold").and_then(Value::as_str).unwrap_or_default();
    if !levels.iter().any(|l| l["name"].as_str() == Some(threshold)) {
        errors.push("acceptance_threshold", "unknown_level", "name one of the risk levels");
    }
}

/// The default criteria of a new organisation: 5×5, four levels, accept up to medium.
pub fn default_criteria() -> Value {
    serde_json::json!({
        "likelihood_levels": ["Rare", "Unlikely", "Possible", "Likely", "Almost certain"],
        "consequence_levels": ["Negligible", "Minor", "Moderate", "Major", "Severe"],
        "risk_levels": [
            {"name": "Low", "min_score": 1},
            {"name": "Medium", "min_score": 5},
            {"name": "High", "min_score": 10},
            {"name": "Critical", "min_score": 17}
        ],
        "acceptance_threshold": "Medium",
        "method": "Likelihood and consequence are each rated on the five-point scales; the risk score is their product. \
                   Risks are assessed before treatment (inherent) and after the selected controls (residual). \
                   Residual risks above Medium need acceptance by top management."
    })
}

/// A level computed from the criteria: its position in the levels, its name and the score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    pub score: i64,
    pub index: usize,
    pub name: String,
}

/// The risk level of a likelihood and a consequence (1-based) under the criteria document.
pub fn level(criteria: &Map<String, Value>, likelihood: i64, consequence: i64) -> Option<Level> {
    let score = likelihood * consequence;
    let levels = criteria.get("risk_levels")?.as_array()?;
    let (index, level) = levels.iter().enumerate().filter(|(_, l)| l["min_score"].as_i64().is_some_and(|m| m <= score)).last()?;
    Some(Level { score, index, name: level["name"].as_str()?.to_owned() })
}

/// Is a level above the criteria's acceptance threshold?
pub fn above_threshold(criteria: &Map<String, Value>, level: &Level) -> bool {
    let threshold = criteria.get("acceptance_threshold").and_then(Value::as_str);
    let levels = criteria.get("risk_levels").and_then(Value::as_array);
    let threshold_index = levels.and_then(|l| l.iter().position(|x| x["name"].as_str() == threshold));
    threshold_index.is_none_or(|t| level.index > t)
}

/// The number of likelihood and consequence levels.
pub fn scale(criteria: &Map<String, Value>) -> (i64, i64) {
    let count = |field: &str| criteria.get(field).and_then(Value::as_array).map_or(5, Vec::len) as i64;
    (count("likelihood_levels"), count("consequence_levels"))
}

pub const RISK: KindSpec = KindSpec {
    kind: "risk",
    collection: "risks",
    label: "Risk",
    plural_label: "Risks",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("description", "Description", FieldType::Text { max: 20_000 }),
        FieldSpec::new("source_category", "Source", FieldType::Choice(SOURCE_CATEGORIES)).required(),
        FieldSpec::new("risk_source_ids", "Risk sources", FieldType::Ids { kind: "risk_source" }),
        FieldSpec::new("ai_system_ids", "AI systems affected", FieldType::Ids { kind: "ai_system" }),
        FieldSpec::new("inherent_likelihood", "Inherent likelihood", FieldType::Integer { min: 1, max: 5 }),
        FieldSpec::new("inherent_consequence", "Inherent consequence", FieldType::Integer { min: 1, max: 5 }),
        FieldSpec::new("treatment", "Treatment", FieldType::Choice(TREATMENTS)),
        FieldSpec::new("control_refs", "Controls selected", FieldType::Refs { kind: "control" }),
        FieldSpec::new("residual_likelihood", "Residual likelihood", FieldType::Integer { min: 1, max: 5 }),
        FieldSpec::new("residual_consequence", "Residual consequence", FieldType::Integer { min: 1, max: 5 }),
        FieldSpec::new("owner_id", "Risk owner", FieldType::UserId),
        FieldSpec::new("due_date", "Due", FieldType::Date),
        FieldSpec::new("status", "Status", FieldType::Choice(RISK_STATUSES)).required().default_text("identified"),
        FieldSpec::new("enterprise_risk_id", "Enterprise risk register id", FieldType::Text { max: 100 }),
        FieldSpec::new("nist_characteristics", "NIST AI RMF characteristics", FieldType::ChoiceList(NIST_CHARACTERISTICS)),
        FieldSpec::new("owasp_llm", "OWASP LLM Top 10", FieldType::ChoiceList(OWASP_LLM)),
    ],
    system_fields: &[
        sys("inherent_score", Shape::Integer),
        sys("inherent_level", Shape::Text),
        sys("residual_score", Shape::Integer),
        sys("residual_level", Shape::Text),
        sys("residual_above_threshold", Shape::Bool),
        sys("criteria_revision", Shape::Integer),
        sys("accepted_by", Shape::UserId),
        sys("accepted_at", Shape::Timestamp),
        sys("acceptance_rationale", Shape::Text),
    ],
    rules: &[pairs_are_complete],
    initial_state: Some("open"),
    workflow: Some(&RISK_WORKFLOW),
    ..BASE
};

/// Accepting a residual risk: by someone with the authority for its level who neither owns,
/// wrote nor changed it since its last acceptance.
pub const RISK_WORKFLOW: Workflow = Workflow {
    transitions: &[TransitionSpec {
        name: "accept",
        label: "Accept the residual risk",
        summary: "Accept the rated residual risk (above the acceptance threshold only the organisation's owner may)",
        from: &["open"],
        to: Some("accepted"),
        permission: Permission::ResidualLevel { within: Action::AcceptRiskWithinThreshold, above: Action::AcceptRiskAboveThreshold },
        sod: Sod::Independent,
        fields: &[BodyField::required("rationale", "Rationale", "say why the residual risk is acceptable")],
        event: "accept",
        approval: true,
        request: false,
    }],
    requester_field: None,
    owner_field: Some("owner_id"),
    entries_kind: None,
};

fn pairs_are_complete(document: &Map<String, Value>, errors: &mut ValidationErrors) {
    for (a, b) in [("inherent_likelihood", "inherent_consequence"), ("residual_likelihood", "residual_consequence")] {
        let has = |f: &str| document.get(f).is_some_and(|v| !v.is_null());
        if has(a) != has(b) {
            let missing = if has(a) { b } else { a };
            errors.push(missing, "required_with", format!("{a} and {b} are rated together"));
        }
    }
    let controls = document.get("control_refs").and_then(Value::as_array).is_some_and(|c| !c.is_empty());
    if document.get("treatment").and_then(Value::as_str) == Some("mitigate") && !controls {
        errors.push("control_refs", "required_with", "a mitigated risk names the controls that treat it");
    }
}

pub const RISK_SOURCE: KindSpec = KindSpec {
    kind: "risk_source",
    collection: "risk-sources",
    label: "Risk source",
    plural_label: "Risk sources",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("description", "Description", FieldType::Text { max: 10_000 }),
        FieldSpec::new("category", "Category", FieldType::Choice(SOURCE_CATEGORIES)).required(),
        FieldSpec::new("control_refs", "Controls that usually treat it", FieldType::Refs { kind: "control" }),
        FieldSpec::new("nist_characteristics", "NIST AI RMF characteristics", FieldType::ChoiceList(NIST_CHARACTERISTICS)),
        FieldSpec::new("owasp_llm", "OWASP LLM Top 10", FieldType::ChoiceList(OWASP_LLM)),
    ],
    ..BASE
};

pub const ACTION_STATUSES: &[&str] = &["open", "in_progress", "done", "cancelled"];
pub const ACTION_SOURCES: &[&str] =
    &["gap_assessment", "risk_treatment", "corrective_action", "management_review", "audit_finding", "other"];

pub const ACTION: KindSpec = KindSpec {
    kind: "action",
    collection: "actions",
    label: "Action",
    plural_label: "Actions",
    fields: &[
        FieldSpec::new("title", "Title", FieldType::Text { max: 300 }).required(),
        FieldSpec::new("description", "Description", FieldType::Text { max: 20_000 }),
        FieldSpec::new("source", "Raised by", FieldType::Choice(ACTION_SOURCES)).required().default_text("other"),
        FieldSpec::new("owner_id", "Owner", FieldType::UserId),
        FieldSpec::new("due_date", "Due", FieldType::Date),
        FieldSpec::new("status", "Status", FieldType::Choice(ACTION_STATUSES)).required().default_text("open"),
        FieldSpec::new("completed_on", "Completed on", FieldType::Date),
        FieldSpec::new("risk_ids", "Risks", FieldType::Ids { kind: "risk" }),
        FieldSpec::new("ai_system_ids", "AI systems", FieldType::Ids { kind: "ai_system" }),
        FieldSpec::new("requirement_refs", "Requirements", FieldType::Refs { kind: "requirement" }),
        FieldSpec::new("control_refs", "Controls", FieldType::Refs { kind: "control" }),
    ],
    rules: &[done_needs_date],
    ..BASE
};

fn done_needs_date(document: &Map<String, Value>, errors: &mut ValidationErrors) {
    if document.get("status").and_then(Value::as_str) == Some("done") && !text_present(document, "completed_on") {
        errors.push("completed_on", "required_with", "a done action records when it was completed");
    }
}

/// One entry of the library of AI risk sources every organisation starts from.
pub struct LibrarySource {
    pub title: &'static str,
    pub description: &'static str,
    pub category: &'static str,
    pub controls: &'static [&'static str],
    pub nist: &'static [&'static str],
    pub owasp: &'static [&'static str],
}

/// AI-specific risk sources, in our own words, each with the Annex A controls that usually
/// treat it — so assessments start from AI, not from generic IT boilerplate.
pub const RISK_SOURCE_LIBRARY: &[LibrarySource] = &[
    LibrarySource {
        title: "Model drift",
        description: "The relationship the model learned stops holding as markets, behaviour or processes change, so accuracy erodes quietly after release.",
        category: "technical",
        controls: &["A.6.2.6", "A.6.2.4"],
        nist: &["valid_reliable"],
        owasp: &[],
    },
    LibrarySource {
        title: "Distributional shift",
        description: "Production inputs differ from the training data — new customer segments, channels, languages or geographies the model never saw.",
        category: "technical",
        controls: &["A.7.4", "A.6.2.6", "A.9.4"],
        nist: &["valid_reliable", "safe"],
        owasp: &[],
    },
    LibrarySource {
        title: "Training-data bias",
        description: "Historical data carries past unfairness or under-represents groups, and the model reproduces it at scale.",
        category: "societal",
        controls: &["A.7.4", "A.7.5", "A.5.4"],
        nist: &["fair_harmful_bias_managed"],
        owasp: &[],
    },
    LibrarySource {
        title: "Adversarial input",
        description: "Inputs crafted to push the model into a wrong or harmful output, such as manipulated documents or evasion patterns.",
        category: "technical",
        controls: &["A.6.2.4", "A.6.2.6"],
        nist: &["secure_resilient"],
        owasp: &["LLM04"],
    },
    LibrarySource {
        title: "Prompt injection",
        description: "Instructions hidden in user messages or retrieved content override the system's intended behaviour or guardrails.",
        category: "technical",
        controls: &["A.6.2.4", "A.9.2", "A.6.1.3"],
        nist: &["secure_resilient"],
        owasp: &["LLM01"],
    },
    LibrarySource {
        title: "Data leakage through outputs",
        description: "The system reveals personal or confidential information from its training data, context window or connected sources.",
        category: "technical",
        controls: &["A.7.5", "A.6.2.4", "A.7.2"],
        nist: &["privacy_enhanced"],
        owasp: &["LLM02", "LLM07"],
    },
    LibrarySource {
        title: "Lack of explainability",
        description: "Nobody can say why the system reached an outcome, so affected people cannot contest it and reviewers cannot check it.",
        category: "societal",
        controls: &["A.8.2", "A.6.2.7", "A.5.4"],
        nist: &["explainable_interpretable", "accountable_transparent"],
        owasp: &[],
    },
    LibrarySource {
        title: "Over-reliance by users",
        description: "Staff or customers accept outputs without the scrutiny the decision deserves, especially when the system sounds confident.",
        category: "operational",
        controls: &["A.9.2", "A.9.3", "A.8.2"],
        nist: &["safe", "accountable_transparent"],
        owasp: &["LLM09"],
    },
    LibrarySource {
        title: "Third-party model changing underneath",
        description: "A supplier updates, retrains or retires the model behind an API, changing behaviour without the organisation's own testing.",
        category: "organisational",
        controls: &["A.10.3", "A.6.2.6", "A.10.2"],
        nist: &["valid_reliable"],
        owasp: &["LLM03"],
    },
    LibrarySource {
        title: "Automation without oversight",
        description: "Consequential decisions are taken by the system with no meaningful human review or ability to intervene.",
        category: "organisational",
        controls: &["A.9.2", "A.3.2", "A.9.4"],
        nist: &["accountable_transparent", "safe"],
        owasp: &["LLM06"],
    },
    LibrarySource {
        title: "Fabricated output",
        description: "Generative systems produce fluent but false statements, citations or figures that users pass on as fact.",
        category: "technical",
        controls: &["A.6.2.4", "A.8.2", "A.9.3"],
        nist: &["valid_reliable"],
        owasp: &["LLM09"],
    },
    LibrarySource {
        title: "Inadequate event logging",
        description: "The events needed to reconstruct what the system did, and why, are not recorded or not kept long enough.",
        category: "operational",
        controls: &["A.6.2.8", "A.8.4"],
        nist: &["accountable_transparent"],
        owasp: &[],
    },
];
