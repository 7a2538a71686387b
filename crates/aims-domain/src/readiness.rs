//! Certification readiness: the rules that look at an organisation's record for what a Stage 1
//! audit would miss, declared as data, and the pure evaluation of what the store found for them.
//!
//! Each [`Rule`] names the kind of record it looks at and a [`Cond`]ition that makes a record of
//! that kind a *readiness gap* (the store turns the condition into one SQL expression written for
//! both backends, so a rule never reads every record). Organisation-wide rules ([`Scope::Absent`])
//! fire when no record matches instead. [`evaluate`] turns what the store found into figures per
//! clause (4–10) and per Annex A group (A.2–A.10), the gaps with the record causing each, the
//! clauses judged in place that the record does not support, and the Stage 1 list.
//!
//! **The figure.** A rule *passes* in a scope when it raises no gap there. Each rule weighs by its
//! severity (high 3, medium 2, low 1); a scope's figure is the weight of its passing rules over
//! the weight of all its rules, as a whole percentage rounded down, so one open high gap always
//! shows. Rules about controls are judged per Annex A group: they count in the group of each
//! control (and once, for the whole organisation, in their clause).

use serde::Serialize;

/// How much a gap matters to an auditor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
}

impl Severity {
    /// The rule's weight in the readiness figure.
    pub fn weight(self) -> u32 {
        match self {
            Self::High => 3,
            Self::Medium => 2,
            Self::Low => 1,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
        }
    }
}

/// A date a condition compares with, resolved by the caller from today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Today,
    /// Twelve months ago (a year's cycle of reviews and audits).
    YearAgo,
}

/// What makes a record a gap, in a small vocabulary the store compiles to SQL. Field names
/// and values are fixed here (never input), so they can stand in the query's text.
#[derive(Debug, Clone, Copy)]
pub enum Cond {
    /// The field is absent, null, blank or an empty list.
    Unset(&'static str),
    /// The field holds one of these texts (numbers compared as their text).
    Is(&'static str, &'static [&'static str]),
    /// The field is JSON `true` or `false`.
    Flag(&'static str, bool),
    /// The record is in one of these states.
    State(&'static [&'static str]),
    /// The date (or timestamp) field is set and before the date.
    Before(&'static str, When),
    /// The date (or timestamp) field is set and on or after the date.
    Since(&'static str, When),
    /// A live record of `from` links to this one through its field `field` and matches `with`.
    LinkedFrom {
        field: &'static str,
        from: &'static str,
        with: &'static [Cond],
    },
    Not(&'static Cond),
    Any(&'static [Cond]),
    All(&'static [Cond]),
}

/// Which records of a rule are gaps.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// Every live record of the kind matching the condition is a gap.
    Each(Cond),
    /// The organisation has a gap when no live record of the kind matches the condition.
    Absent(Cond),
}

/// Where a rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// A clause 4–10 only.
    Clause,
    /// Its clause, and the Annex A group of each offending control (rules about controls).
    ControlGroups,
}

/// One readiness rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub id: &'static str,
    /// The clause or Annex A control it checks (catalogue ids).
    pub reference: &'static str,
    pub severity: Severity,
    /// The kind whose records it looks at.
    pub kind: &'static str,
    pub scope: Scope,
    pub area: Area,
    /// What is wrong, in our words, for a GRC lead.
    pub title: &'static str,
    /// Why it matters and what fixes it.
    pub explanation: &'static str,
}

use Cond::{All, Any, Before, Flag, Is, LinkedFrom, Not, Since, State, Unset};

const APPLICABLE: Cond = Not(&Flag("applicable", false));
/// A retired system needs no new assessment.
const IN_SERVICE: Cond = Not(&Is("lifecycle_stage", &["retired"]));
const HIGH_IMPACT: Cond = Any(&[
    Is("eu_ai_act_risk_category", &["high"]),
    LinkedFrom { field: "ai_system_id", from: "impact_assessment", with: &[Is("overall_level", &["high"])] },
]);
const OVERSIGHT_UNSET: Cond =
    Any(&[Unset("human_oversight_mode"), Is("human_oversight_mode", &["none"]), Unset("human_oversight_rationale")]);
const PROVIDES_AI: Cond = Any(&[Not(&Unset("ai_services")), Not(&Unset("supplied_ai"))]);

/// Every rule, in the order the dashboard lists them within a clause.
pub const RULES: &[Rule] = &[
    Rule {
        id: "R-RISK-ASSESSMENT-MISSING",
        reference: "6.1.2",
        severity: Severity::High,
        kind: "ai_system",
        scope: Scope::Each(All(&[IN_SERVICE, Not(&LinkedFrom { field: "ai_system_ids", from: "risk", with: &[] })])),
        area: Area::Clause,
        title: "AI system without a risk assessment",
        explanation: "No risk in the register names this system, so there is nothing to show that its risks were assessed. Record its risks and link them to it.",
    },
    Rule {
        id: "R-IMPACT-ASSESSMENT-MISSING",
        reference: "6.1.4",
        severity: Severity::High,
        kind: "ai_system",
        scope: Scope::Each(All(&[
            IN_SERVICE,
            Not(&LinkedFrom { field: "ai_system_id", from: "impact_assessment", with: &[State(&["signed_off"])] }),
        ])),
        area: Area::Clause,
        title: "AI system without a signed-off impact assessment",
        explanation: "An auditor expects a current, signed-off assessment of what this system can do to people and society. Assess it and have it signed off.",
    },
    Rule {
        id: "R-IMPACT-REASSESSMENT-DUE",
        reference: "A.5.2",
        severity: Severity::Medium,
        kind: "impact_assessment",
        scope: Scope::Each(Flag("reassessment_due", true)),
        area: Area::Clause,
        title: "Impact assessment due for re-assessment",
        explanation: "The system changed materially since this assessment. Review it against the system as it is now and sign it off again.",
    },
    Rule {
        id: "R-OVERSIGHT-UNSET",
        reference: "A.9.2",
        severity: Severity::High,
        kind: "ai_system",
        scope: Scope::Each(All(&[IN_SERVICE, HIGH_IMPACT, OVERSIGHT_UNSET])),
        area: Area::Clause,
        title: "High-impact system without human oversight",
        explanation: "This system is high-impact or EU AI Act high-risk, yet its human oversight is unset, none, or has no rationale. Say who oversees it, how, and why that is enough.",
    },
    Rule {
        id: "R-CONTROL-EVIDENCE-MISSING",
        reference: "7.5.1",
        severity: Severity::Medium,
        kind: "control",
        scope: Scope::Each(All(&[APPLICABLE, Not(&LinkedFrom { field: "control_refs", from: "evidence", with: &[] })])),
        area: Area::ControlGroups,
        title: "Applicable control without evidence",
        explanation: "Nothing on record shows this control working. Attach evidence such as a procedure, a log or a review record.",
    },
    Rule {
        id: "R-CONTROL-EVIDENCE-STALE",
        reference: "7.5.3",
        severity: Severity::Low,
        kind: "control",
        scope: Scope::Each(All(&[
            APPLICABLE,
            LinkedFrom { field: "control_refs", from: "evidence", with: &[Before("review_by", When::Today)] },
        ])),
        area: Area::ControlGroups,
        title: "Control evidence past its review date",
        explanation: "Some evidence for this control was due for review and has not been reviewed. Review it and set its next review date.",
    },
    Rule {
        id: "R-CONTROL-EXCLUSION-UNJUSTIFIED",
        reference: "6.1.3",
        severity: Severity::High,
        kind: "control",
        scope: Scope::Each(All(&[Flag("applicable", false), Unset("justification")])),
        area: Area::ControlGroups,
        title: "Excluded control without justification",
        explanation: "The Statement of Applicability must say why a control is left out. Write the justification on the control.",
    },
    Rule {
        id: "R-CONTROL-NOT-SELECTED",
        reference: "6.1.3",
        severity: Severity::Low,
        kind: "control",
        scope: Scope::Each(All(&[APPLICABLE, Not(&LinkedFrom { field: "control_refs", from: "risk", with: &[] })])),
        area: Area::ControlGroups,
        title: "Applicable control chosen by no risk treatment",
        explanation: "No risk selects this control, so the record does not show why it is needed. Link it from the risks it treats, or reconsider its applicability.",
    },
    Rule {
        id: "R-CONTROL-IMPLEMENTED-UNEVIDENCED",
        reference: "8.3",
        severity: Severity::High,
        kind: "control",
        scope: Scope::Each(All(&[
            Is("implementation_status", &["implemented"]),
            Not(&LinkedFrom { field: "control_refs", from: "evidence", with: &[] }),
        ])),
        area: Area::ControlGroups,
        title: "Control marked implemented with no evidence",
        explanation: "The control is said to be implemented but nothing on record proves it. Attach the evidence an auditor would ask for.",
    },
    Rule {
        id: "R-RISK-UNTREATED",
        reference: "6.1.3",
        severity: Severity::High,
        kind: "risk",
        scope: Scope::Each(All(&[
            Flag("residual_above_threshold", true),
            Any(&[Unset("treatment"), All(&[Is("treatment", &["accept"]), Unset("accepted_by")])]),
        ])),
        area: Area::Clause,
        title: "Risk above the acceptance threshold, untreated or unaccepted",
        explanation: "This risk sits above what the risk criteria accept, and has no treatment or no named acceptance. Choose a treatment, or have its owner accept it.",
    },
    Rule {
        id: "R-RISK-NOT-RECONCILED",
        reference: "6.1.1",
        severity: Severity::Low,
        kind: "risk",
        scope: Scope::Each(Unset("enterprise_risk_id")),
        area: Area::Clause,
        title: "AI risk not reconciled with the enterprise risk register",
        explanation: "AI risks should feed the organisation's wider risk management. Record the matching enterprise risk register entry.",
    },
    Rule {
        id: "R-SUPPLIER-REVIEW-MISSING",
        reference: "A.10.3",
        severity: Severity::Medium,
        kind: "supplier",
        scope: Scope::Each(All(&[PROVIDES_AI, Not(&LinkedFrom { field: "supplier_id", from: "supplier_review", with: &[] })])),
        area: Area::Clause,
        title: "AI supplier never reviewed",
        explanation: "This supplier provides AI but no supplier review is on record. Review its model, data and contract terms.",
    },
    Rule {
        id: "R-SUPPLIER-REVIEW-OVERDUE",
        reference: "A.10.3",
        severity: Severity::Medium,
        kind: "supplier",
        scope: Scope::Each(All(&[PROVIDES_AI, Before("next_review_on", When::Today)])),
        area: Area::Clause,
        title: "AI supplier review overdue",
        explanation: "The supplier's next review date has passed. Review it again and set the next date.",
    },
    Rule {
        id: "R-POLICY-REVIEW-OVERDUE",
        reference: "A.2.4",
        severity: Severity::Medium,
        kind: "policy",
        scope: Scope::Each(All(&[Not(&State(&["retired"])), Before("next_review_on", When::Today)])),
        area: Area::Clause,
        title: "Policy past its review date",
        explanation: "The policy was due for review and has not been reviewed. Review it, publish the new edition and set the next date.",
    },
    Rule {
        id: "R-POLICY-UNACKNOWLEDGED",
        reference: "7.3",
        severity: Severity::Medium,
        kind: "policy",
        scope: Scope::Each(All(&[State(&["published"]), Unset("acknowledgements")])),
        area: Area::Clause,
        title: "Published policy nobody has acknowledged",
        explanation: "Awareness is shown by the people concerned acknowledging the policy. Ask them to acknowledge it.",
    },
    Rule {
        id: "R-OBJECTIVE-UNMEASURED",
        reference: "6.2",
        severity: Severity::Medium,
        kind: "objective",
        scope: Scope::Each(Any(&[Unset("measurement_count"), Is("measurement_count", &["0"])])),
        area: Area::Clause,
        title: "Objective without measurements",
        explanation: "An objective that is never measured cannot be shown to be met. Record its measurements.",
    },
    Rule {
        id: "R-INTERNAL-AUDIT-MISSING",
        reference: "9.2.1",
        severity: Severity::High,
        kind: "audit",
        scope: Scope::Absent(All(&[
            Is("audit_type", &["internal"]),
            State(&["in_progress", "reporting", "closed"]),
            Since("period_to", When::YearAgo),
        ])),
        area: Area::Clause,
        title: "No internal audit in the last twelve months",
        explanation: "A certification body expects at least one internal audit of the management system before Stage 1. Plan and hold one.",
    },
    Rule {
        id: "R-MANAGEMENT-REVIEW-MISSING",
        reference: "9.3.1",
        severity: Severity::High,
        kind: "management_review",
        scope: Scope::Absent(All(&[State(&["held", "closed"]), Since("held_at", When::YearAgo)])),
        area: Area::Clause,
        title: "No management review in the last twelve months",
        explanation: "Top management must have reviewed the management system. Hold a management review and record its decisions.",
    },
    Rule {
        id: "R-CORRECTIVE-ACTION-OVERDUE",
        reference: "10.2",
        severity: Severity::Medium,
        kind: "action",
        scope: Scope::Each(All(&[
            Is("source", &["corrective_action"]),
            Is("status", &["open", "in_progress"]),
            Before("due_date", When::Today),
        ])),
        area: Area::Clause,
        title: "Corrective action overdue",
        explanation: "The action's due date has passed and it is not done. Finish it or agree a new date with its owner.",
    },
    Rule {
        id: "R-NONCONFORMITY-UNVERIFIED",
        reference: "10.2",
        severity: Severity::Medium,
        kind: "nonconformity",
        scope: Scope::Each(All(&[State(&["closed"]), Unset("verified_at")])),
        area: Area::Clause,
        title: "Nonconformity closed without an effectiveness check",
        explanation: "Closing a nonconformity needs a check that its corrective actions worked. Record the verification.",
    },
];

/// What the record itself shows for a clause, beside the gap assessment's human judgement.
#[derive(Debug, Clone, Copy)]
pub struct Signal {
    pub clause: &'static str,
    pub label: &'static str,
    pub kind: &'static str,
    pub cond: Cond,
}

const ANY: Cond = All(&[]);

/// One signal per leaf clause: the records an auditor would look for first.
pub const SIGNALS: &[Signal] = &[
    Signal { clause: "4.1", label: "context issues recorded", kind: "context_issue", cond: ANY },
    Signal { clause: "4.2", label: "interested parties recorded", kind: "interested_party", cond: ANY },
    Signal { clause: "4.3", label: "scope written", kind: "scope", cond: Not(&Unset("statement")) },
    Signal { clause: "4.4", label: "AI systems in the inventory", kind: "ai_system", cond: ANY },
    Signal { clause: "5.1", label: "management reviews held", kind: "management_review", cond: State(&["held", "closed"]) },
    Signal { clause: "5.2", label: "policies published", kind: "policy", cond: State(&["published"]) },
    Signal { clause: "5.3", label: "people with roles", kind: "person", cond: ANY },
    Signal { clause: "6.1.1", label: "risks recorded", kind: "risk", cond: ANY },
    Signal { clause: "6.1.2", label: "risk criteria set", kind: "risk_criteria", cond: ANY },
    Signal { clause: "6.1.3", label: "risks with a treatment", kind: "risk", cond: Not(&Unset("treatment")) },
    Signal { clause: "6.1.4", label: "impact assessments signed off", kind: "impact_assessment", cond: State(&["signed_off"]) },
    Signal { clause: "6.2", label: "objectives set", kind: "objective", cond: ANY },
    Signal { clause: "6.3", label: "planned changes", kind: "change", cond: ANY },
    Signal { clause: "7.1", label: "resources recorded", kind: "resource", cond: ANY },
    Signal { clause: "7.2", label: "competences defined", kind: "competence", cond: ANY },
    Signal { clause: "7.3", label: "training records", kind: "training", cond: ANY },
    Signal { clause: "7.4", label: "communications planned", kind: "communication", cond: ANY },
    Signal { clause: "7.5.1", label: "pieces of evidence", kind: "evidence", cond: ANY },
    Signal { clause: "7.5.2", label: "policies approved or published", kind: "policy", cond: State(&["approved", "published"]) },
    Signal { clause: "7.5.3", label: "evidence with a review date", kind: "evidence", cond: Not(&Unset("review_by")) },
    Signal { clause: "8.1", label: "lifecycle gates", kind: "gate", cond: ANY },
    Signal { clause: "8.2", label: "risks assessed in the last twelve months", kind: "risk", cond: Since("updated_at", When::YearAgo) },
    Signal { clause: "8.3", label: "treatment actions", kind: "action", cond: Is("source", &["risk_treatment"]) },
    Signal { clause: "8.4", label: "impact assessments signed off", kind: "impact_assessment", cond: State(&["signed_off"]) },
    Signal { clause: "9.1", label: "measurements recorded", kind: "measurement", cond: ANY },
    Signal { clause: "9.2.1", label: "internal audits held", kind: "audit", cond: State(&["in_progress", "reporting", "closed"]) },
    Signal { clause: "9.2.2", label: "audit programmes", kind: "audit_programme", cond: ANY },
    Signal { clause: "9.3.1", label: "management reviews held", kind: "management_review", cond: State(&["held", "closed"]) },
    Signal { clause: "9.3.2", label: "management reviews held", kind: "management_review", cond: State(&["held", "closed"]) },
    Signal { clause: "9.3.3", label: "management reviews closed", kind: "management_review", cond: State(&["closed"]) },
    Signal { clause: "10.1", label: "improvements recorded", kind: "improvement", cond: ANY },
    Signal { clause: "10.2", label: "nonconformities handled", kind: "nonconformity", cond: ANY },
];

/// The rule raised when the gap assessment says a clause is in place and its signal shows nothing.
pub const UNSUPPORTED_CLAUSE: Rule = Rule {
    id: "R-CLAUSE-UNSUPPORTED",
    reference: "4.4",
    severity: Severity::Medium,
    kind: "requirement",
    scope: Scope::Each(Is("status", &["in_place"])),
    area: Area::Clause,
    title: "Clause judged in place with nothing on record",
    explanation: "The gap assessment says this clause is in place, but the record holds nothing an auditor would look for first. Record it, or revisit the judgement.",
};

/// The rule with this id, the unsupported-clause rule included.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().chain(std::iter::once(&UNSUPPORTED_CLAUSE)).find(|rule| rule.id == id)
}

/// The clauses 4–10 and the Annex A groups A.2–A.10 the figures are given for.
pub const CLAUSES: &[(&str, &str)] = &[
    ("4", "Context of the organization"),
    ("5", "Leadership"),
    ("6", "Planning"),
    ("7", "Support"),
    ("8", "Operation"),
    ("9", "Performance evaluation"),
    ("10", "Improvement"),
];
pub const GROUPS: &[(&str, &str)] = &[
    ("A.2", "Policies related to AI"),
    ("A.3", "Internal organization"),
    ("A.4", "Resources for AI systems"),
    ("A.5", "Assessing impacts of AI systems"),
    ("A.6", "AI system life cycle"),
    ("A.7", "Data for AI systems"),
    ("A.8", "Information for interested parties of AI systems"),
    ("A.9", "Use of AI systems"),
    ("A.10", "Third-party and customer relationships"),
];

/// The clause (`"6"`) of a clause reference, or the Annex A group (`"A.6"`) of a control's.
pub fn top_level(reference: &str) -> String {
    match reference.strip_prefix("A.") {
        Some(rest) => format!("A.{}", rest.split('.').next().unwrap_or(rest)),
        None => reference.split('.').next().unwrap_or(reference).to_owned(),
    }
}

/// A record the store found for a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offender {
    pub id: String,
    pub name: String,
    /// A control's or requirement's reference (`A.6.2.4`, `8.2`), if it has one.
    pub reference: Option<String>,
}

/// What the store found for one rule: the first offending records (or, for an organisation-wide
/// rule, the matching ones) and how many there are in all.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub records: Vec<Offender>,
    pub total: i64,
}

/// The facts readiness is judged on.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Per rule of [`RULES`], in order.
    pub found: Vec<Found>,
    /// Per signal of [`SIGNALS`], in order: how many records show it.
    pub signals: Vec<i64>,
    /// The requirements (clause leaves) with their gap-assessment status.
    pub requirements: Vec<(Offender, Option<String>)>,
}

/// A gap raised by a rule, naming the record that causes it (none for an organisation-wide
/// rule: then the kind's collection is what to open).
#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    pub rule_id: &'static str,
    pub reference: &'static str,
    /// The clause (`"9"`) or Annex A group (`"A.6"`) the gap is listed under.
    pub area: String,
    pub severity: Severity,
    pub title: &'static str,
    pub explanation: &'static str,
    pub record_kind: &'static str,
    pub record_id: Option<String>,
    pub record_name: Option<String>,
    pub record_ref: Option<String>,
}

/// A rule that fired on more records than are listed.
#[derive(Debug, Clone, Serialize)]
pub struct RuleSummary {
    pub rule_id: &'static str,
    pub reference: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub explanation: &'static str,
    pub record_kind: &'static str,
    /// How many records it fired on (1 for an organisation-wide rule).
    pub count: i64,
}

/// One clause's or group's figure.
#[derive(Debug, Clone, Serialize)]
pub struct AreaFigure {
    pub id: &'static str,
    pub title: &'static str,
    /// Percent of the weight of its rules that pass; `None` when no rule looks at it.
    pub figure: Option<u32>,
    pub rules: usize,
    pub rules_failing: usize,
    pub gaps: i64,
}

/// A leaf clause: the gap assessment's judgement beside what the record shows.
#[derive(Debug, Clone, Serialize)]
pub struct ClauseEvidence {
    pub clause: String,
    pub requirement_id: String,
    pub judged: Option<String>,
    pub shows: &'static str,
    pub count: i64,
}

/// The organisation's readiness.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub overall: u32,
    pub clauses: Vec<AreaFigure>,
    pub groups: Vec<AreaFigure>,
    /// The rules that fire, most severe first, with their counts.
    pub failing: Vec<RuleSummary>,
    /// The gaps, each naming its record (at most the store's sample per rule).
    pub gaps: Vec<Gap>,
    pub clause_evidence: Vec<ClauseEvidence>,
}

/// Judges the facts: pure, so the figures are tested without a database.
pub fn evaluate(facts: &Facts) -> Evaluation {
    let mut gaps = Vec::new();
    let mut failing = Vec::new();
    // Weights per area: (passing, total); areas are clauses and groups alike.
    let mut weights: std::collections::BTreeMap<String, (u32, u32, usize, usize, i64)> = Default::default();
    let mut overall = (0u32, 0u32);
    let empty = Found::default();
    for (index, rule) in RULES.iter().enumerate() {
        let found = facts.found.get(index).unwrap_or(&empty);
        let rule_gaps = gaps_of(rule, found);
        judge_rule(rule, &rule_gaps, found, &mut weights, &mut overall);
        if !rule_gaps.is_empty() {
            failing.push(summary(rule, if matches!(rule.scope, Scope::Absent(_)) { 1 } else { found.total }));
        }
        gaps.extend(rule_gaps);
    }
    let (clause_evidence, unsupported) = clause_evidence(facts);
    let unsupported_found = Found { total: unsupported.len() as i64, records: Vec::new() };
    judge_rule(&UNSUPPORTED_CLAUSE, &unsupported, &unsupported_found, &mut weights, &mut overall);
    if !unsupported.is_empty() {
        failing.push(summary(&UNSUPPORTED_CLAUSE, unsupported.len() as i64));
    }
    gaps.extend(unsupported);
    failing.sort_by_key(|s| s.severity);
    gaps.sort_by_key(|g| g.severity);
    let figure_of = |(id, title): &(&'static str, &'static str)| {
        let (pass, total, rules, rules_failing, count) = weights.get(*id).copied().unwrap_or_default();
        AreaFigure { id, title, figure: percent(pass, total), rules, rules_failing, gaps: count }
    };
    Evaluation {
        overall: percent(overall.0, overall.1).unwrap_or(100),
        clauses: CLAUSES.iter().map(figure_of).collect(),
        groups: GROUPS.iter().map(figure_of).collect(),
        failing,
        gaps,
        clause_evidence,
    }
}

fn summary(rule: &Rule, count: i64) -> RuleSummary {
    RuleSummary {
        rule_id: rule.id,
        reference: rule.reference,
        severity: rule.severity,
        title: rule.title,
        explanation: rule.explanation,
        record_kind: rule.kind,
        count,
    }
}

fn percent(pass: u32, total: u32) -> Option<u32> {
    (total > 0).then(|| pass * 100 / total)
}

/// Adds a rule's weight to its clause and overall, and (for control rules) to every group,
/// passing in each group where none of its gaps fall.
fn judge_rule(
    rule: &Rule,
    gaps: &[Gap],
    found: &Found,
    weights: &mut std::collections::BTreeMap<String, (u32, u32, usize, usize, i64)>,
    overall: &mut (u32, u32),
) {
    let weight = rule.severity.weight();
    let passes = gaps.is_empty();
    let mut add = |area: String, passes: bool, count: i64| {
        let entry = weights.entry(area).or_default();
        entry.1 += weight;
        entry.2 += 1;
        if passes {
            entry.0 += weight;
        } else {
            entry.3 += 1;
            entry.4 += count;
        }
    };
    let total = if matches!(rule.scope, Scope::Absent(_)) { i64::from(!passes) } else { found.total };
    add(top_level(rule.reference), passes, total);
    if rule.area == Area::ControlGroups {
        for (group, _) in GROUPS {
            let count = gaps.iter().filter(|gap| gap.area == *group).count() as i64;
            add((*group).to_owned(), count == 0, count);
        }
    }
    overall.1 += weight;
    if passes {
        overall.0 += weight;
    }
}

fn gaps_of(rule: &'static Rule, found: &Found) -> Vec<Gap> {
    let gap = |record: Option<&Offender>| Gap {
        rule_id: rule.id,
        reference: rule.reference,
        area: match (rule.area, record.and_then(|r| r.reference.as_deref())) {
            (Area::ControlGroups, Some(reference)) => top_level(reference),
            _ => top_level(rule.reference),
        },
        severity: rule.severity,
        title: rule.title,
        explanation: rule.explanation,
        record_kind: rule.kind,
        record_id: record.map(|r| r.id.clone()),
        record_name: record.map(|r| r.name.clone()),
        record_ref: record.and_then(|r| r.reference.clone()),
    };
    match rule.scope {
        Scope::Each(_) => found.records.iter().map(|record| gap(Some(record))).collect(),
        Scope::Absent(_) if found.total == 0 => vec![gap(None)],
        Scope::Absent(_) => Vec::new(),
    }
}

/// Each leaf clause's judgement beside its signal, and a gap for each clause judged in place
/// whose signal shows nothing.
fn clause_evidence(facts: &Facts) -> (Vec<ClauseEvidence>, Vec<Gap>) {
    let mut rows = Vec::new();
    let mut gaps = Vec::new();
    for (requirement, status) in &facts.requirements {
        let Some(clause) = requirement.reference.as_deref() else { continue };
        let Some(index) = SIGNALS.iter().position(|s| s.clause == clause) else { continue };
        let count = facts.signals.get(index).copied().unwrap_or(0);
        if status.as_deref() == Some("in_place") && count == 0 {
            let rule = &UNSUPPORTED_CLAUSE;
            gaps.push(Gap {
                rule_id: rule.id,
                reference: SIGNALS[index].clause,
                area: top_level(clause),
                severity: rule.severity,
                title: rule.title,
                explanation: rule.explanation,
                record_kind: rule.kind,
                record_id: Some(requirement.id.clone()),
                record_name: Some(requirement.name.clone()),
                record_ref: Some(clause.to_owned()),
            });
        }
        rows.push(ClauseEvidence {
            clause: clause.to_owned(),
            requirement_id: requirement.id.clone(),
            judged: status.clone(),
            shows: SIGNALS[index].label,
            count,
        });
    }
    (rows, gaps)
}

/// Stage 1 is about the system's design and documentation: what an auditor checks first.
/// The list is the high-severity rules that fire, then the unsupported clauses, as one line each.
pub fn stage1(evaluation: &Evaluation) -> Vec<&RuleSummary> {
    evaluation.failing.iter().filter(|s| s.severity == Severity::High || s.rule_id == UNSUPPORTED_CLAUSE.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offender(id: &str, reference: Option<&str>) -> Offender {
        Offender { id: id.into(), name: format!("record {id}"), reference: reference.map(Into::into) }
    }

    fn passing_facts() -> Facts {
        let found = RULES
            .iter()
            .map(|rule| match rule.scope {
                Scope::Absent(_) => Found { records: vec![offender("held", None)], total: 1 },
                Scope::Each(_) => Found::default(),
            })
            .collect();
        Facts { found, signals: vec![1; SIGNALS.len()], requirements: Vec::new() }
    }

    #[test]
    fn rule_ids_are_unique_and_references_are_catalogue_ids() {
        let mut ids: Vec<_> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        for rule in RULES {
            let area = top_level(rule.reference);
            assert!(CLAUSES.iter().chain(GROUPS).any(|(id, _)| *id == area), "{} → {area}", rule.id);
        }
    }

    #[test]
    fn a_clean_record_is_fully_ready() {
        let evaluation = evaluate(&passing_facts());
        assert_eq!(evaluation.overall, 100);
        assert!(evaluation.gaps.is_empty());
        assert_eq!(evaluation.clauses.iter().find(|c| c.id == "6").and_then(|c| c.figure), Some(100));
    }

    #[test]
    fn the_figure_weighs_rules_by_severity() {
        let mut facts = passing_facts();
        // One high rule fails: 6.1.2's system without a risk assessment.
        facts.found[0] = Found { records: vec![offender("s1", None)], total: 1 };
        let evaluation = evaluate(&facts);
        let total: u32 = RULES.iter().map(|r| r.severity.weight()).sum();
        assert_eq!(evaluation.overall, (total - 3) * 100 / total);
        assert_eq!(evaluation.gaps.len(), 1);
        assert_eq!(evaluation.gaps[0].record_id.as_deref(), Some("s1"));
        assert_eq!(stage1(&evaluation).len(), 1);
    }

    #[test]
    fn control_rules_count_in_the_group_of_each_control() {
        let mut facts = passing_facts();
        let index = RULES.iter().position(|r| r.id == "R-CONTROL-EVIDENCE-MISSING").unwrap_or(0);
        facts.found[index] = Found { records: vec![offender("c1", Some("A.6.2.4"))], total: 1 };
        let evaluation = evaluate(&facts);
        let group = |id: &str| evaluation.groups.iter().find(|g| g.id == id).cloned();
        assert_eq!(group("A.6").map(|g| g.rules_failing), Some(1));
        assert!(group("A.6").and_then(|g| g.figure).is_some_and(|f| f < 100));
        assert_eq!(group("A.7").map(|g| g.rules_failing), Some(0));
        assert_eq!(evaluation.gaps[0].area, "A.6");
    }

    #[test]
    fn an_absent_record_is_one_gap_for_the_organisation() {
        let mut facts = passing_facts();
        let index = RULES.iter().position(|r| r.id == "R-MANAGEMENT-REVIEW-MISSING").unwrap_or(0);
        facts.found[index] = Found::default();
        let evaluation = evaluate(&facts);
        assert_eq!(evaluation.gaps.len(), 1);
        assert_eq!(evaluation.gaps[0].record_id, None);
        assert_eq!(evaluation.gaps[0].area, "9");
    }

    #[test]
    fn a_clause_in_place_with_nothing_on_record_is_a_gap() {
        let mut facts = passing_facts();
        let index = SIGNALS.iter().position(|s| s.clause == "8.2").unwrap_or(0);
        facts.signals[index] = 0;
        facts.requirements =
            vec![(offender("q82", Some("8.2")), Some("in_place".into())), (offender("q41", Some("4.1")), Some("in_place".into()))];
        let evaluation = evaluate(&facts);
        assert_eq!(evaluation.gaps.len(), 1);
        assert_eq!(evaluation.gaps[0].record_id.as_deref(), Some("q82"));
        assert_eq!(evaluation.clause_evidence.len(), 2);
    }
}
