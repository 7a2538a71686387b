//! Certification readiness through the API: each rule fires on a minimal record and clears when
//! that record is fixed (a table over the rules), the answer's shape, and the daily snapshot
//! taken once a day.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, multipart_body};

const BASE: &str = "/api/v1/orgs/acme";

async fn create(t: &TestApp, collection: &str, body: Value) -> String {
    let reply = t.post("editor", &format!("{BASE}/{collection}"), &body).await;
    assert_eq!(reply.status, 201, "{collection}: {}", reply.text);
    reply.json()["id"].as_str().expect("id").to_owned()
}

async fn patch(t: &TestApp, path: &str, body: Value) {
    let version = t.get("viewer", path).await.json()["version"].as_i64().expect("version");
    let reply = t.patch("editor", path, version, &body).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.text);
}

async fn take(t: &TestApp, role: &str, path: &str, name: &str, body: Value) {
    let version = t.get("viewer", path).await.json()["version"].as_i64().expect("version");
    let reply =
        t.call(t.token(role), Method::POST, &format!("{path}/{name}"), Some(&body), &[("if-match", &format!("\"{version}\""))]).await;
    assert!(reply.status.is_success(), "{name} {path}: {}", reply.text);
}

async fn evidence(t: &TestApp, metadata: Value) -> String {
    let (multipart, body) = multipart_body(Some(&metadata), "note.txt", "text/plain", "what shows the control working");
    let reply = t.send_raw("editor", Method::POST, &format!("{BASE}/evidence"), &multipart, body.into_bytes(), &[]).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.json()["id"].as_str().expect("id").to_owned()
}

/// The records the rule raises gaps on now (an organisation-wide gap as `"-"`).
async fn gaps(t: &TestApp, rule: &str) -> Vec<String> {
    let readiness = t.get("viewer", &format!("{BASE}/readiness")).await.json();
    readiness["gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .filter(|gap| gap["rule_id"] == rule)
        .map(|gap| gap["record_id"].as_str().unwrap_or("-").to_owned())
        .collect()
}

async fn fires(t: &TestApp, rule: &str, id: &str) {
    assert!(gaps(t, rule).await.iter().any(|g| g == id), "{rule} should fire on {id}");
}

async fn clear(t: &TestApp, rule: &str, id: &str) {
    assert!(!gaps(t, rule).await.iter().any(|g| g == id), "{rule} should no longer fire on {id}");
}

async fn control_id(t: &TestApp, reference: &str) -> String {
    t.get("viewer", &format!("{BASE}/controls/{reference}")).await.json()["id"].as_str().expect("control id").to_owned()
}

async fn each_rule_fires_and_clears(backend: Backend) {
    let t = TestApp::start(backend).await;

    // A clause judged in place with nothing on record: 6.3 without a planned change.
    let requirement = format!("{BASE}/requirements/6.3");
    patch(&t, &requirement, json!({"status": "in_place"})).await;
    let requirement_id = t.get("viewer", &requirement).await.json()["id"].as_str().expect("id").to_owned();
    fires(&t, "R-CLAUSE-UNSUPPORTED", &requirement_id).await;
    create(&t, "changes", json!({"title": "Move the chatbot to a new model", "purpose": "Better answers"})).await;
    clear(&t, "R-CLAUSE-UNSUPPORTED", &requirement_id).await;

    // An AI system without risks or a signed-off impact assessment.
    let system = create(&t, "ai-systems", json!({"name": "Triage assistant", "purpose": "Sort tickets"})).await;
    fires(&t, "R-RISK-ASSESSMENT-MISSING", &system).await;
    fires(&t, "R-IMPACT-ASSESSMENT-MISSING", &system).await;
    let risk = create(&t, "risks", json!({"title": "Misrouted tickets", "source_category": "technical", "ai_system_ids": [system]})).await;
    clear(&t, "R-RISK-ASSESSMENT-MISSING", &system).await;
    let assessment =
        create(&t, "impact-assessments", json!({"ai_system_id": system, "title": "Triage impact", "overall_level": "high"})).await;
    fires(&t, "R-IMPACT-ASSESSMENT-MISSING", &system).await;
    take(&t, "approver", &format!("{BASE}/impact-assessments/{assessment}"), "sign-off", json!({})).await;
    clear(&t, "R-IMPACT-ASSESSMENT-MISSING", &system).await;

    // Its assessment says high impact, so oversight must be set with a rationale.
    fires(&t, "R-OVERSIGHT-UNSET", &system).await;
    patch(&t, &format!("{BASE}/ai-systems/{system}"), json!({"human_oversight_mode": "human_in_the_loop"})).await;
    fires(&t, "R-OVERSIGHT-UNSET", &system).await;
    patch(&t, &format!("{BASE}/ai-systems/{system}"), json!({"human_oversight_rationale": "An agent confirms every routing"})).await;
    clear(&t, "R-OVERSIGHT-UNSET", &system).await;

    // A material change flags the assessment; signing it off again clears it.
    patch(&t, &format!("{BASE}/ai-systems/{system}"), json!({"purpose": "Sort and answer tickets"})).await;
    fires(&t, "R-IMPACT-REASSESSMENT-DUE", &assessment).await;
    // Revising it starts a new draft, which is signed off in turn.
    patch(&t, &format!("{BASE}/impact-assessments/{assessment}"), json!({"mitigations": "Agents answer what the model cannot"})).await;
    take(&t, "approver", &format!("{BASE}/impact-assessments/{assessment}"), "sign-off", json!({})).await;
    clear(&t, "R-IMPACT-REASSESSMENT-DUE", &assessment).await;

    // Risks: reconciliation with the enterprise register, treatment above the threshold.
    fires(&t, "R-RISK-NOT-RECONCILED", &risk).await;
    patch(&t, &format!("{BASE}/risks/{risk}"), json!({"enterprise_risk_id": "ERM-42"})).await;
    clear(&t, "R-RISK-NOT-RECONCILED", &risk).await;
    patch(&t, &format!("{BASE}/risks/{risk}"), json!({"residual_likelihood": 5, "residual_consequence": 5})).await;
    fires(&t, "R-RISK-UNTREATED", &risk).await;
    patch(&t, &format!("{BASE}/risks/{risk}"), json!({"treatment": "mitigate", "control_refs": ["A.9.2"]})).await;
    clear(&t, "R-RISK-UNTREATED", &risk).await;

    // Controls: evidence, its review date, selection by a risk, exclusions, implemented ones.
    let control = control_id(&t, "A.6.2.4").await;
    fires(&t, "R-CONTROL-EVIDENCE-MISSING", &control).await;
    fires(&t, "R-CONTROL-NOT-SELECTED", &control).await;
    let proof = evidence(&t, json!({"title": "Validation report", "control_refs": ["A.6.2.4"], "review_by": "2020-01-01"})).await;
    clear(&t, "R-CONTROL-EVIDENCE-MISSING", &control).await;
    fires(&t, "R-CONTROL-EVIDENCE-STALE", &control).await;
    patch(&t, &format!("{BASE}/evidence/{proof}"), json!({"review_by": "2099-01-01"})).await;
    clear(&t, "R-CONTROL-EVIDENCE-STALE", &control).await;
    patch(&t, &format!("{BASE}/risks/{risk}"), json!({"control_refs": ["A.9.2", "A.6.2.4"]})).await;
    clear(&t, "R-CONTROL-NOT-SELECTED", &control).await;
    let implemented = control_id(&t, "A.7.4").await;
    patch(&t, &format!("{BASE}/controls/A.7.4"), json!({"implementation_status": "implemented"})).await;
    fires(&t, "R-CONTROL-IMPLEMENTED-UNEVIDENCED", &implemented).await;
    evidence(&t, json!({"title": "Data quality checks", "control_refs": ["A.7.4"]})).await;
    clear(&t, "R-CONTROL-IMPLEMENTED-UNEVIDENCED", &implemented).await;
    // An excluded control without justification (R-CONTROL-EXCLUSION-UNJUSTIFIED) and a
    // nonconformity closed without verification (R-NONCONFORMITY-UNVERIFIED) are refused by
    // the controls' validation and the nonconformity workflow, so no API call makes one: those
    // rules guard data written before those checks, and are judged in the domain's tests.
    let excluded = format!("{BASE}/controls/A.10.4");
    let version = t.get("viewer", &excluded).await.json()["version"].as_i64().expect("version");
    assert_eq!(t.patch("editor", &excluded, version, &json!({"applicable": false})).await.problem(422), vec!["justification"]);

    // Suppliers of AI: reviewed, and on time.
    let supplier = create(&t, "suppliers", json!({"name": "Model vendor", "supplied_ai": "A hosted language model"})).await;
    fires(&t, "R-SUPPLIER-REVIEW-MISSING", &supplier).await;
    create(&t, "supplier-reviews", json!({"title": "First review", "supplier_id": supplier, "reviewed_on": "2026-01-10"})).await;
    clear(&t, "R-SUPPLIER-REVIEW-MISSING", &supplier).await;
    patch(&t, &format!("{BASE}/suppliers/{supplier}"), json!({"next_review_on": "2020-01-01"})).await;
    fires(&t, "R-SUPPLIER-REVIEW-OVERDUE", &supplier).await;
    patch(&t, &format!("{BASE}/suppliers/{supplier}"), json!({"next_review_on": "2099-01-01"})).await;
    clear(&t, "R-SUPPLIER-REVIEW-OVERDUE", &supplier).await;

    // Policies: reviewed on time, and acknowledged once published.
    let policy =
        create(&t, "policies", json!({"title": "AI policy", "body": "We use AI responsibly.", "next_review_on": "2020-01-01"})).await;
    fires(&t, "R-POLICY-REVIEW-OVERDUE", &policy).await;
    patch(&t, &format!("{BASE}/policies/{policy}"), json!({"next_review_on": "2099-01-01"})).await;
    clear(&t, "R-POLICY-REVIEW-OVERDUE", &policy).await;
    let policy_path = format!("{BASE}/policies/{policy}");
    take(&t, "editor", &policy_path, "submit", json!({})).await;
    take(&t, "approver", &policy_path, "approve", json!({})).await;
    take(&t, "approver", &policy_path, "publish", json!({})).await;
    fires(&t, "R-POLICY-UNACKNOWLEDGED", &policy).await;
    take(&t, "viewer", &policy_path, "acknowledge", json!({})).await;
    clear(&t, "R-POLICY-UNACKNOWLEDGED", &policy).await;

    // Objectives are measured.
    let objective = create(&t, "objectives", json!({"title": "Fewer misroutes", "metric": "Misroute rate", "target": 2})).await;
    fires(&t, "R-OBJECTIVE-UNMEASURED", &objective).await;
    create(&t, &format!("objectives/{objective}/measurements"), json!({"value": 3, "measured_on": "2026-11-01"})).await;
    clear(&t, "R-OBJECTIVE-UNMEASURED", &objective).await;

    // Corrective actions on time.
    let action =
        create(&t, "actions", json!({"title": "Retrain the router", "source": "corrective_action", "due_date": "2020-01-01"})).await;
    fires(&t, "R-CORRECTIVE-ACTION-OVERDUE", &action).await;
    patch(&t, &format!("{BASE}/actions/{action}"), json!({"status": "done", "completed_on": "2026-01-05"})).await;
    clear(&t, "R-CORRECTIVE-ACTION-OVERDUE", &action).await;

    // Organisation-wide: an internal audit and a management review within the year.
    fires(&t, "R-INTERNAL-AUDIT-MISSING", "-").await;
    t.audit_led_by("acme", "auditor", false).await;
    clear(&t, "R-INTERNAL-AUDIT-MISSING", "-").await;
    fires(&t, "R-MANAGEMENT-REVIEW-MISSING", "-").await;
    let review = create(&t, "management-reviews", json!({"title": "Annual review", "planned_on": "2026-11-20"})).await;
    take(&t, "approver", &format!("{BASE}/management-reviews/{review}"), "hold", json!({})).await;
    clear(&t, "R-MANAGEMENT-REVIEW-MISSING", "-").await;
}

async fn the_answer_has_figures_links_and_a_stage1_list(backend: Backend) {
    let t = TestApp::start(backend).await;
    let system = create(&t, "ai-systems", json!({"name": "Scoring model"})).await;
    let readiness = t.get("viewer", &format!("{BASE}/readiness")).await.json();
    assert_eq!(readiness["clauses"].as_array().map(Vec::len), Some(7));
    assert_eq!(readiness["groups"].as_array().map(Vec::len), Some(9));
    assert_eq!(readiness["groups"][0]["id"], "A.2");
    let overall = readiness["overall"].as_i64().expect("overall");
    assert!((0..100).contains(&overall), "a fresh organisation is not ready: {overall}");
    let gap = readiness["gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .find(|g| g["rule_id"] == "R-RISK-ASSESSMENT-MISSING")
        .cloned()
        .expect("the system's gap");
    assert_eq!(gap["severity"], "high");
    assert_eq!(gap["reference"], "6.1.2");
    assert_eq!(gap["record_kind"], "ai_system");
    assert_eq!(gap["record_name"], "Scoring model");
    assert_eq!(gap["link"], format!("/orgs/acme/ai-systems/{system}"));
    let control_gap = readiness["gaps"].as_array().expect("gaps").iter().find(|g| g["rule_id"] == "R-CONTROL-EVIDENCE-MISSING").cloned();
    let control_gap = control_gap.expect("a control without evidence");
    assert!(control_gap["link"].as_str().is_some_and(|l| l.starts_with("/orgs/acme/controls/A.")), "{control_gap}");
    assert!(readiness["stage1"].as_array().expect("stage1").iter().any(|s| s["rule_id"] == "R-MANAGEMENT-REVIEW-MISSING"));
    assert!(readiness["gap_counts"]["high"].as_i64().is_some_and(|n| n >= 3));
    // Unknown parameters are refused, naming them.
    assert_eq!(t.get("viewer", &format!("{BASE}/readiness?x=1")).await.problem(422), vec!["x"]);
}

async fn one_snapshot_a_day(backend: Backend) {
    let t = TestApp::start(backend).await;
    let history = format!("{BASE}/readiness/history");
    assert_eq!(t.get("viewer", &history).await.json()["items"], json!([]));
    let first = t.get("viewer", &format!("{BASE}/readiness")).await.json();
    create(&t, "ai-systems", json!({"name": "Another system"})).await;
    let second = t.get("viewer", &format!("{BASE}/readiness")).await.json();
    assert_ne!(first["gap_counts"], second["gap_counts"], "the reading follows the record");
    let items = t.get("viewer", &history).await.json()["items"].clone();
    assert_eq!(items.as_array().map(Vec::len), Some(1), "one snapshot a day: {items}");
    assert_eq!(items[0]["day"], first["day"]);
    assert_eq!(items[0]["overall"], first["overall"]);
    assert_eq!(items[0]["gap_counts"], first["gap_counts"], "the first reading of the day stands");
    assert_eq!(items[0]["figures"]["6"], first["clauses"][2]["figure"]);
    // The scheduler's round takes none when the day has one.
    assert!(!t.app.readiness_snapshot_if_due(&t.member("viewer").await).await.expect("snapshot"));
    let later = t.get("viewer", &format!("{history}?since=2999-01-01")).await.json();
    assert_eq!(later["items"], json!([]));
    assert_eq!(t.get("viewer", &format!("{history}?since=yesterday")).await.problem(422), vec!["since"]);
    // Another organisation's readiness is its own.
    assert_eq!(t.get("viewer", "/api/v1/orgs/other/readiness/history").await.status, 404);
}

on_both_backends!(each_rule_fires_and_clears, the_answer_has_figures_links_and_a_stage1_list, one_snapshot_a_day);
