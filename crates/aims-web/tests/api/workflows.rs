//! Separation of duties through the API: the ways round it that were once open are refused
//! with a 403 naming the rule and its part, and every declared transition is exercised — by
//! someone involved in the record (refused when its rule is `independent`, taken when it is
//! `none`) and by someone uninvolved (taken).

use aims_domain::kinds;
use aims_domain::workflow::Sod;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Reply, TestApp};

const BASE: &str = "/api/v1/orgs/acme";

pub(crate) async fn create(t: &TestApp, role: &str, collection: &str, body: Value) -> String {
    let reply = t.post(role, &format!("{BASE}/{collection}"), &body).await;
    assert_eq!(reply.status, 201, "{collection}: {}", reply.text);
    format!("{BASE}/{collection}/{}", reply.json()["id"].as_str().expect("id"))
}

pub(crate) async fn version(t: &TestApp, path: &str) -> i64 {
    t.get("viewer", path).await.json()["version"].as_i64().expect("version")
}

pub(crate) async fn change(t: &TestApp, role: &str, path: &str, patch: Value) {
    let reply = t.patch(role, path, version(t, path).await, &patch).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.text);
}

pub(crate) async fn take(t: &TestApp, role: &str, path: &str, name: &str, body: &Value) -> Reply {
    let if_match = format!("\"{}\"", version(t, path).await);
    t.call(t.token(role), Method::POST, &format!("{path}/{name}"), Some(body), &[("if-match", &if_match)]).await
}

/// Asserts a 403 whose detail names the separation-of-duties rule and the part that refused.
pub(crate) fn refused_by(reply: &Reply, part: &str) {
    reply.problem(403);
    let detail = reply.json()["detail"].as_str().unwrap_or_default().to_owned();
    assert!(detail.starts_with(&format!("rule separation-of-duties: ({part})")), "expected the {part} rule: {detail}");
}

pub(crate) fn taken(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.text);
}

pub(crate) async fn user(t: &TestApp, role: &str) -> String {
    t.member(role).await.user_id
}

async fn risk_owned_by(t: &TestApp, author: &str, owner: &str) -> String {
    let owner_id = user(t, owner).await;
    create(
        t,
        author,
        "risks",
        json!({"title": "Drift", "source_category": "technical", "residual_likelihood": 1, "residual_consequence": 2, "owner_id": owner_id}),
    )
    .await
}

/// The holes the issue tracker listed, each reproduced and now refused.
async fn the_roundabout_ways_are_refused(backend: Backend) {
    let t = TestApp::start(backend).await;

    // An editor who owns a risk hands it to someone else, then accepts it.
    let risk = risk_owned_by(&t, "author", "editor").await;
    let viewer = user(&t, "viewer").await;
    change(&t, "editor", &risk, json!({"owner_id": viewer})).await;
    refused_by(&take(&t, "editor", &risk, "accept", &json!({"rationale": "fine"})).await, "owner");
    // The same when someone else reassigned it: the owner at any point since still may not.
    let risk = risk_owned_by(&t, "author", "editor").await;
    change(&t, "admin", &risk, json!({"owner_id": viewer})).await;
    refused_by(&take(&t, "editor", &risk, "accept", &json!({"rationale": "fine"})).await, "owner");
    refused_by(&take(&t, "admin", &risk, "accept", &json!({"rationale": "fine"})).await, "changed-since-approval");
    taken(&take(&t, "approver", &risk, "accept", &json!({"rationale": "Monitored"})).await);

    // The SoA approved by the owner who made two of its three pending changes.
    taken(&take(&t, "approver", &format!("{BASE}/soa"), "approve", &json!({})).await);
    change(&t, "owner", &format!("{BASE}/controls/A.2.2"), json!({"implementation_status": "partial"})).await;
    change(&t, "owner", &format!("{BASE}/controls/A.2.3"), json!({"implementation_status": "partial"})).await;
    change(&t, "editor", &format!("{BASE}/controls/A.2.4"), json!({"implementation_status": "partial"})).await;
    refused_by(&take(&t, "owner", &format!("{BASE}/soa"), "approve", &json!({})).await, "changed-entries");
    taken(&take(&t, "admin", &format!("{BASE}/soa"), "approve", &json!({"comment": "Reviewed"})).await);
    // After that approval, the earlier changes no longer bar the owner.
    taken(&take(&t, "owner", &format!("{BASE}/soa"), "approve", &json!({})).await);

    // An admin edits a requested gate, then approves it.
    let system = create(&t, "editor", "ai-systems", json!({"name": "Scoring"})).await;
    let system_id = system.rsplit('/').next().unwrap_or_default().to_owned();
    let gate = create(&t, "editor", "gates", json!({"ai_system_id": system_id, "to_stage": "design", "reason": "Idea agreed"})).await;
    change(&t, "admin", &gate, json!({"reason": "Idea agreed by the board"})).await;
    refused_by(&take(&t, "admin", &gate, "approve", &json!({})).await, "changed-since-approval");
    taken(&take(&t, "owner", &gate, "approve", &json!({})).await);

    // An impact sign-off by someone who changed it between its creator and its last editor.
    let system_id = system.rsplit('/').next().unwrap_or_default();
    let assessment = create(
        &t,
        "author",
        "impact-assessments",
        json!({"ai_system_id": system_id, "title": "Scoring impact", "affected_parties": [{"party": "individuals", "description": "Applicants"}], "overall_level": "medium"}),
    )
    .await;
    change(&t, "admin", &assessment, json!({"title": "Scoring impact assessment"})).await;
    change(&t, "editor", &assessment, json!({"overall_level": "high"})).await;
    refused_by(&take(&t, "admin", &assessment, "sign-off", &json!({})).await, "changed-since-approval");
    taken(&take(&t, "owner", &assessment, "sign-off", &json!({})).await);

    // Every refusal above left nothing behind: the log still verifies.
    assert_eq!(t.get("viewer", &format!("{BASE}/activity/verify")).await.status, 200);
}

/// A nonconformity owned by the editor, with one finished corrective action owned by the
/// author, in the state transition `name` leaves from.
pub(crate) async fn nonconformity_at(t: &TestApp, name: &str) -> String {
    let author = user(t, "author").await;
    let action = create(
        t,
        "admin",
        "actions",
        json!({"title": "Add a currency check", "source": "corrective_action", "owner_id": author, "status": "done", "completed_on": "2026-02-01"}),
    )
    .await;
    let action_id = action.rsplit('/').next().unwrap_or_default().to_owned();
    let editor = user(t, "editor").await;
    let path = create(
        t,
        "approver",
        "nonconformities",
        json!({"title": "Stale tariff quoted", "source": "complaint", "description": "Wrong fee", "detected_on": "2026-01-10",
               "correction": "Customers refunded", "root_cause": "Stale index", "similar_elsewhere": "no",
               "corrective_action_ids": [action_id], "owner_id": editor}),
    )
    .await;
    let before: &[&str] = match name {
        "analyse" => &["correct"],
        "plan" => &["correct", "analyse"],
        "request-verification" => &["correct", "analyse", "plan"],
        "verify" | "not-effective" => &["correct", "analyse", "plan", "request-verification"],
        _ => &[],
    };
    for step in before {
        taken(&take(t, "editor", &path, step, &json!({})).await);
    }
    path
}

/// One row per declared transition: a record prepared in a state the transition leaves from,
/// someone involved in it who has the role, and someone uninvolved who has the role.
struct Case {
    path: String,
    involved: &'static str,
    /// The part of the rule that refuses the involved person (transitions declared `independent`).
    part: &'static str,
    uninvolved: &'static str,
    body: Value,
}

impl Case {
    fn with_body(self, body: Value) -> Self {
        Case { body, ..self }
    }
}

async fn case(t: &TestApp, kind: &str, name: &str) -> Case {
    let body = match name {
        "accept" => json!({"rationale": "Within appetite"}),
        "reject" => json!({"reason": "Not yet"}),
        _ => json!({}),
    };
    let case = |path: String, involved, part, uninvolved| Case { path, involved, part, uninvolved, body: body.clone() };
    match (kind, name) {
        ("gate", _) => {
            let system = create(t, "author", "ai-systems", json!({"name": "Gated"})).await;
            let system_id = system.rsplit('/').next().unwrap_or_default().to_owned();
            let gate = create(t, "author", "gates", json!({"ai_system_id": system_id, "to_stage": "design", "reason": "Go"})).await;
            change(t, "admin", &gate, json!({"reason": "Go, agreed"})).await;
            // Withdrawing is the requester's own step: the author may.
            if name == "cancel" { case(gate, "author", "", "owner") } else { case(gate, "admin", "changed-since-approval", "owner") }
        }
        ("risk", "accept") => case(risk_owned_by(t, "author", "editor").await, "editor", "owner", "admin"),
        ("impact_assessment", "sign-off") => {
            let system = create(t, "author", "ai-systems", json!({"name": "Assessed"})).await;
            let system_id = system.rsplit('/').next().unwrap_or_default().to_owned();
            let path = create(
                t,
                "admin",
                "impact-assessments",
                json!({"ai_system_id": system_id, "title": "Impact", "affected_parties": [{"party": "individuals", "description": "Users"}], "overall_level": "low"}),
            )
            .await;
            case(path, "admin", "author", "owner")
        }
        ("policy", _) => {
            let admin = user(t, "admin").await;
            let path =
                create(t, "author", "policies", json!({"title": "Use of AI", "topic": "ai_policy", "body": "Text.", "owner_id": admin}))
                    .await;
            let steps: &[(&str, &str)] = match name {
                "approve" | "reject" => &[("author", "submit")],
                "publish" => &[("author", "submit"), ("owner", "approve")],
                "retire" | "acknowledge" => &[("author", "submit"), ("owner", "approve"), ("owner", "publish")],
                _ => &[],
            };
            for (role, step) in steps {
                taken(&take(t, role, &path, step, &json!({})).await);
            }
            match name {
                // The policy's owner (the admin) may not decide on it; the submitter submits.
                "approve" | "reject" => case(path, "admin", "owner", "owner"),
                "submit" => case(path, "author", "", "editor"),
                "acknowledge" => case(path, "author", "", "viewer"),
                // Publishing and retiring follow an independent approval: the owner may.
                _ => case(path, "admin", "", "owner"),
            }
        }
        ("soa", "approve") => {
            taken(&take(t, "approver", &format!("{BASE}/soa"), "approve", &json!({})).await);
            change(t, "admin", &format!("{BASE}/controls/A.5.2"), json!({"implementation_status": "partial"})).await;
            case(format!("{BASE}/soa"), "admin", "changed-entries", "owner")
        }
        ("nonconformity", _) => {
            // Owned by the editor, its corrective action owned by the author (an editor too).
            let path = nonconformity_at(t, name).await;
            let body = if matches!(name, "verify" | "not-effective") { json!({"comment": "Checked the logs"}) } else { json!({}) };
            let (involved, part, uninvolved) =
                if matches!(name, "verify" | "not-effective") { ("author", "linked-owner", "admin") } else { ("editor", "", "admin") };
            Case { path, involved, part, uninvolved, body }
        }
        ("improvement", _) => {
            let path = create(
                t,
                "editor",
                "improvements",
                json!({"title": "Drift alerts", "opportunity": "Alert", "source": "review", "outcome": "Live"}),
            )
            .await;
            if name == "implement" {
                taken(&take(t, "owner", &path, "accept", &json!({"rationale": "Agreed"})).await);
            }
            let body = if name == "implement" { json!({}) } else { json!({"rationale": "Decided"}) };
            let involved = if name == "implement" { "editor" } else { "admin" };
            Case { path, involved, part: "", uninvolved: "owner", body }
        }
        ("change", _) => {
            let path = create(t, "editor", "changes", json!({"title": "Widen the scope", "purpose": "Cover HR"})).await;
            if name == "complete" {
                taken(&take(t, "editor", &path, "start", &json!({})).await);
            }
            let body = if name == "start" { json!({}) } else { json!({"note": "As planned"}) };
            Case { path, involved: "editor", part: "", uninvolved: "admin", body }
        }
        ("management_review", _) => {
            let path = create(t, "editor", "management-reviews", json!({"title": "Q1 review", "planned_on": "2026-03-01"})).await;
            if name != "hold" {
                taken(&take(t, "editor", &path, "hold", &json!({})).await);
            }
            let body = if name == "decide" { json!({"decision": "Keep the policy"}) } else { json!({}) };
            let involved = if name == "close" { "admin" } else { "editor" };
            Case { path, involved, part: "", uninvolved: "owner", body }
        }
        // Audit steps declare no separation of duties: auditor independence is judged from the
        // audit's scope instead (tests/api/audit.rs).
        ("audit", _) => {
            let path = t.audit_led_by("acme", "auditor", name == "record-result").await;
            if name == "close" {
                taken(&take(t, "auditor", &path, "report", &json!({})).await);
            }
            let path = if name == "start" {
                let input = t.audit_input("acme", "auditor", false).await;
                create(t, "auditor", "audits", input).await
            } else {
                path
            };
            let body = match name {
                "record-result" => json!({"item": "requirement:6.1.4", "result": "observation"}),
                "close" => json!({"summary": "Two observations"}),
                _ => json!({}),
            };
            Case { path, involved: "auditor", part: "", uninvolved: "admin", body }
        }
        ("finding", _) => {
            let audit = t.audit_led_by("acme", "auditor", false).await;
            let audit_id = audit.rsplit('/').next().unwrap_or_default().to_owned();
            let path = create(
                t,
                "auditor",
                "findings",
                json!({"title": "No audit trail", "audit_id": audit_id, "classification": "major_nonconformity", "description": "None kept"}),
            )
            .await;
            Case { path, involved: "auditor", part: "", uninvolved: "admin", body: json!({}) }
        }
        ("certificate", _) => {
            let path = create(
                t,
                "auditor",
                "certificates",
                json!({"title": "ISO/IEC 42001", "certification_body": "Cert Body", "scope": "AI products", "issued_on": "2026-03-01", "expires_on": "2029-02-28"}),
            )
            .await;
            if name == "reinstate" {
                taken(&take(t, "auditor", &path, "suspend", &json!({"reason": "Overdue surveillance"})).await);
            }
            Case { path, involved: "auditor", part: "", uninvolved: "admin", body: json!({"reason": "As the body stated"}) }
        }
        ("schedule", _) => {
            let editor = user(t, "editor").await;
            let path = create(
                t,
                "editor",
                "schedules",
                json!({"title": "Supplier review", "subject": "supplier_review", "frequency": "quarterly", "next_due_on": "2026-03-31", "owner_id": editor}),
            )
            .await;
            if name == "resume" {
                taken(&take(t, "editor", &path, "pause", &json!({})).await);
            }
            // Its owner marks it done, pauses and resumes it: no decision of others' work.
            Case { path, involved: "editor", part: "", uninvolved: "admin", body: json!({}) }
        }
        ("supplier_review", _) => {
            // Reviewed by the admin (its owner), recorded and submitted by the author.
            let supplier = create(t, "admin", "suppliers", json!({"name": "Lumen"})).await;
            let supplier_id = supplier.rsplit('/').next().unwrap_or_default().to_owned();
            let reviewer = user(t, "admin").await;
            let path = create(
                t,
                "author",
                "supplier-reviews",
                json!({"title": "Annual review", "supplier_id": supplier_id, "reviewer_id": reviewer, "reviewed_on": "2026-03-01",
                       "risk_rating": "medium", "outcome": "approved"}),
            )
            .await;
            if name != "submit" {
                taken(&take(t, "author", &path, "submit", &json!({})).await);
            }
            let (involved, part) = match name {
                "complete" => ("admin", "owner"),
                "return" => ("admin", ""),
                _ => ("author", ""),
            };
            Case { path, involved, part, uninvolved: "owner", body: Value::Null }.with_body(if name == "submit" {
                json!({})
            } else {
                json!({"comment": "Checked"})
            })
        }
        ("incident", _) => {
            let path = create(
                t,
                "editor",
                "incidents",
                json!({"title": "Leak", "description": "Order shown", "detected_on": "2026-03-01", "severity": "high", "containment": "Off"}),
            )
            .await;
            let before: &[&str] = match name {
                "contain" | "resolve" => &["triage"],
                "close" => &["triage", "resolve"],
                _ => &[],
            };
            for step in before {
                taken(&take(t, "editor", &path, step, &json!({})).await);
            }
            Case { path, involved: "editor", part: "", uninvolved: "admin", body: json!({}) }
        }
        ("concern", _) => {
            let path = create(t, "editor", "concerns", json!({"subject": "Rude bot", "description": "It was rude"})).await;
            let body = if name == "close" { json!({"answer": "Fixed"}) } else { json!({"note": "Look into it"}) };
            Case { path, involved: "editor", part: "", uninvolved: "admin", body }
        }
        other => panic!("no separation-of-duties case for {other:?}: add one when declaring a transition"),
    }
}

/// Every declared transition, with the separation-of-duties rule it declares.
async fn every_declared_transition_keeps_its_separation_of_duties(backend: Backend) {
    let t = TestApp::start(backend).await;
    let mut exercised = 0;
    for spec in kinds::ALL.iter().copied() {
        let Some(workflow) = spec.workflow else { continue };
        for transition in workflow.transitions {
            let label = format!("{} {}", spec.kind, transition.name);
            let c = case(&t, spec.kind, transition.name).await;
            let by_involved = take(&t, c.involved, &c.path, transition.name, &c.body).await;
            match transition.sod {
                Sod::Independent | Sod::NotOwner { .. } => {
                    refused_by(&by_involved, c.part);
                    let choices = t.get(c.involved, &format!("{}/transitions", c.path)).await.json();
                    let offered = choices["items"].as_array().expect("items").iter().find(|i| i["name"] == transition.name).cloned();
                    let refusal = offered.map(|o| o["refusal"].clone()).unwrap_or(Value::Null);
                    assert_eq!(
                        (refusal["rule"].as_str(), refusal["part"].as_str()),
                        (Some("separation-of-duties"), Some(c.part)),
                        "{label}: {refusal}"
                    );
                    let by_other = take(&t, c.uninvolved, &c.path, transition.name, &c.body).await;
                    assert_eq!(by_other.status, 200, "{label} by the uninvolved {}: {}", c.uninvolved, by_other.text);
                    let state = by_other.json()["state"].clone();
                    assert_eq!(state.as_str(), transition.to, "{label} goes where it says");
                }
                Sod::None => assert_eq!(by_involved.status, 200, "{label} by the involved {}: {}", c.involved, by_involved.text),
            }
            exercised += 1;
        }
    }
    assert_eq!(
        exercised, 50,
        "gate ×3, risk, impact, policy ×6, SoA, nonconformity ×6, improvement ×3, change ×3, management review ×3, audit ×4, finding, certificate ×4, schedule ×3, supplier review ×3, incident ×4, concern ×4"
    );
}

/// The choices a page offers: each transition with whether this person may take it now.
async fn choices_say_who_may_and_why_not(backend: Backend) {
    let t = TestApp::start(backend).await;
    let risk = risk_owned_by(&t, "author", "editor").await;
    let by = |role: &'static str| {
        let path = format!("{risk}/transitions");
        let t = &t;
        async move { t.get(role, &path).await.json()["items"][0].clone() }
    };
    let viewer = by("viewer").await;
    assert_eq!((viewer["name"].as_str(), viewer["refusal"]["rule"].as_str()), (Some("accept"), Some("role-permission")));
    assert_eq!(by("editor").await["refusal"]["part"], "owner");
    let admin = by("admin").await;
    assert!(admin["refusal"].is_null(), "{admin}");
    assert_eq!(admin["fields"][0], json!({"name": "rationale", "label": "Rationale", "required": true}));
    taken(&take(&t, "admin", &risk, "accept", &json!({"rationale": "Low"})).await);
    assert_eq!(by("owner").await["refusal"]["rule"], "state");
    // The checks ran in a transaction that was rolled back: asking wrote nothing.
    let events = t.event_count().await;
    by("owner").await;
    assert_eq!(t.event_count().await, events);
}

on_both_backends!(
    the_roundabout_ways_are_refused,
    every_declared_transition_keeps_its_separation_of_duties,
    choices_say_who_may_and_why_not
);
