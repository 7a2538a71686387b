//! Internal and external audit through the API: the four collections follow the contract;
//! an audit's checklist follows its scope and its results are recorded by its auditors; the
//! auditor records audits and findings and still cannot change what is audited; auditor
//! independence is refused on every path (create, adding an auditor, recording a result,
//! raising a finding, and the roundabout way: assigned first, then changing a scoped record);
//! a finding raises its nonconformity in one transaction.

use serde_json::{Value, json};

use crate::helpers::{Backend, Reply, TestApp};
use crate::workflows::{change, create, refused_by, take, taken, user, version};

const BASE: &str = "/api/v1/orgs/acme";

fn id_of(path: &str) -> String {
    path.rsplit('/').next().unwrap_or_default().to_owned()
}

fn fields_of(reply: &Reply, status: u16) -> Vec<String> {
    let mut fields = reply.problem(status);
    fields.sort();
    fields
}

/// An audit over the period that includes today, led by the auditor, covering clause 9.2,
/// control A.6.2.4 and `system` (an AI system path), created by the auditor.
async fn audit_of(t: &TestApp, system: &str, extra: Value) -> String {
    let mut input = json!({
        "title": "Internal audit of the credit models", "audit_type": "internal",
        "requirement_refs": ["9.2.1"], "control_refs": ["A.6.2.4"], "ai_system_ids": [id_of(system)],
        "business_units": ["Lending"], "auditees": ["Head of credit risk"],
        "period_from": "2026-01-01", "period_to": "2099-12-31", "lead_auditor_id": user(t, "auditor").await
    });
    if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
        input.extend(extra.clone());
    }
    create(t, "auditor", "audits", input).await
}

async fn the_audit_collections_follow_the_contract(backend: Backend) {
    let t = TestApp::start(backend).await;
    // Programmes: 422 naming every missing field, then create, list, patch with If-Match, archive.
    let missing = t.post("auditor", &format!("{BASE}/audit-programmes"), &json!({"title": "2027"})).await;
    assert_eq!(fields_of(&missing, 422), ["frequency", "period_from", "period_to", "scope"]);
    let backwards = t
        .post(
            "auditor",
            &format!("{BASE}/audit-programmes"),
            &json!({"title": "2027", "frequency": "yearly", "scope": "All", "period_from": "2027-12-31", "period_to": "2027-01-01"}),
        )
        .await;
    assert_eq!(fields_of(&backwards, 422), ["period_to"]);
    let programme = create(
        &t,
        "auditor",
        "audit-programmes",
        json!({"title": "Audit programme 2027", "frequency": "half_yearly", "scope": "Clauses 4–10, Annex A", "period_from": "2027-01-01", "period_to": "2027-12-31",
               "criteria": "ISO/IEC 42001:2023", "methods": "Interviews, record sampling"}),
    )
    .await;
    let list = t.get("viewer", &format!("{BASE}/audit-programmes")).await.json();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    assert!(list["next_cursor"].is_null());
    let stale = t.patch("auditor", &programme, 99, &json!({"scope": "Clauses 9 and 10"})).await;
    stale.problem(412);
    change(&t, "auditor", &programme, json!({"scope": "Clauses 9 and 10"})).await;
    let if_match = format!("\"{}\"", version(&t, &programme).await);
    let archived = t.call(t.token("auditor"), reqwest::Method::DELETE, &programme, None, &[("if-match", &if_match)]).await;
    assert_eq!(archived.status, 200, "{}", archived.text);

    // Audits: the type, period and lead auditor are required; a read-only state is refused.
    let missing = t.post("auditor", &format!("{BASE}/audits"), &json!({"title": "Q1"})).await;
    assert_eq!(fields_of(&missing, 422), ["audit_type", "lead_auditor_id", "period_from", "period_to"]);
    let editor = user(&t, "editor").await;
    let not_auditor = t
        .post(
            "auditor",
            &format!("{BASE}/audits"),
            &json!({"title": "Q1", "audit_type": "internal", "period_from": "2026-01-01", "period_to": "2026-03-31", "lead_auditor_id": editor}),
        )
        .await;
    assert_eq!(fields_of(&not_auditor, 422), ["lead_auditor_id"]);
    let system = create(&t, "editor", "ai-systems", json!({"name": "Credit scoring"})).await;
    let audit = audit_of(&t, &system, json!({})).await;
    let body = t.get("viewer", &audit).await.json();
    assert_eq!(body["state"], "planned");
    let items: Vec<&str> = body["checklist"].as_array().expect("checklist").iter().filter_map(|i| i["item"].as_str()).collect();
    assert_eq!(items, ["requirement:9.2.1", "control:A.6.2.4", &format!("ai_system:{}", id_of(&system))]);
    let state = t.patch("auditor", &audit, version(&t, &audit).await, &json!({"state": "closed"})).await;
    assert_eq!(fields_of(&state, 422), ["state"]);

    // Transitions as data: results only while the audit runs; reporting needs every result;
    // closing needs the report's summary.
    let item = |key: &str, result: &str| json!({"item": key, "result": result, "notes": "Sampled three decisions"});
    assert_eq!(take(&t, "auditor", &audit, "record-result", &item("requirement:9.2.1", "conforming")).await.status, 409);
    taken(&take(&t, "auditor", &audit, "start", &json!({})).await);
    let bad = take(&t, "auditor", &audit, "record-result", &json!({"item": "requirement:4.1", "result": "fine"})).await;
    assert_eq!(fields_of(&bad, 422), ["item", "result"]);
    taken(&take(&t, "auditor", &audit, "record-result", &item("requirement:9.2.1", "conforming")).await);
    let early = take(&t, "auditor", &audit, "report", &json!({})).await;
    early.problem(409);
    assert!(early.json()["detail"].as_str().is_some_and(|d| d.contains("A.6.2.4")), "{}", early.text);
    taken(&take(&t, "auditor", &audit, "record-result", &item("control:A.6.2.4", "observation")).await);
    let key = format!("ai_system:{}", id_of(&system));
    taken(&take(&t, "auditor", &audit, "record-result", &item(&key, "minor_nonconformity")).await);
    taken(&take(&t, "auditor", &audit, "report", &json!({})).await);
    let no_summary = take(&t, "auditor", &audit, "close", &json!({})).await;
    assert_eq!(fields_of(&no_summary, 422), ["summary"]);
    let closed = take(&t, "auditor", &audit, "close", &json!({"summary": "Conforming with one minor nonconformity"})).await;
    taken(&closed);
    let closed = closed.json();
    assert_eq!(
        (closed["state"].as_str(), closed["report_summary"].as_str()),
        (Some("closed"), Some("Conforming with one minor nonconformity"))
    );
    assert_eq!(closed["checklist"][2]["result"], "minor_nonconformity");
    assert_eq!(closed["checklist"][0]["recorded_by"], user(&t, "auditor").await);
    // A closed audit is its record.
    t.patch("auditor", &audit, version(&t, &audit).await, &json!({"criteria": "Later"})).await.problem(409);

    // Certificates: at most three years, with their stage audits linked.
    let long = t
        .post(
            "auditor",
            &format!("{BASE}/certificates"),
            &json!({"title": "ISO/IEC 42001", "certification_body": "Cert Body", "scope": "AI products", "issued_on": "2026-03-01", "expires_on": "2030-03-01"}),
        )
        .await;
    assert_eq!(fields_of(&long, 422), ["expires_on"]);
    let certificate = create(
        &t,
        "auditor",
        "certificates",
        json!({"title": "ISO/IEC 42001", "certification_body": "Cert Body", "scope": "AI products", "issued_on": "2026-03-01", "expires_on": "2029-02-28",
               "audit_ids": [id_of(&audit)]}),
    )
    .await;
    assert_eq!(t.get("viewer", &certificate).await.json()["standard"], "ISO/IEC 42001:2023");
    taken(&take(&t, "auditor", &certificate, "suspend", &json!({"reason": "Surveillance audit missed"})).await);
    assert_eq!(t.get("viewer", &certificate).await.json()["status_reason"], "Surveillance audit missed");
    let trace = t.get("viewer", &format!("{audit}/trace")).await.json();
    assert_eq!(trace["counts"]["certificate"], 1, "{trace}");
}

/// The auditor records audits and findings and cannot change what is audited.
async fn the_auditor_records_audits_but_cannot_change_what_is_audited(backend: Backend) {
    let t = TestApp::start(backend).await;
    let system = create(&t, "editor", "ai-systems", json!({"name": "Chat assistant"})).await;
    let risk = create(
        &t,
        "editor",
        "risks",
        json!({"title": "Prompt injection", "source_category": "technical", "residual_likelihood": 2, "residual_consequence": 2}),
    )
    .await;
    for path in [&system, &risk] {
        let refused = t.patch("auditor", path, version(&t, path).await, &json!({"description": "Audited"})).await;
        refused.problem(403);
        assert!(refused.json()["detail"].as_str().is_some_and(|d| d.starts_with("rule role-permission")), "{}", refused.text);
    }
    t.post("auditor", &format!("{BASE}/ai-systems"), &json!({"name": "Shadow"})).await.problem(403);
    // An editor may not write audit records.
    let refused = t.post("editor", &format!("{BASE}/audits"), &t.audit_input("acme", "auditor", false).await).await;
    refused.problem(403);
    let audit = audit_of(&t, &system, json!({})).await;
    taken(&take(&t, "auditor", &audit, "start", &json!({})).await);
    let finding = create(
        &t,
        "auditor",
        "findings",
        json!({"title": "Prompt tests not kept", "audit_id": id_of(&audit), "classification": "observation", "description": "No record of red-team prompts",
               "ai_system_ids": [id_of(&system)]}),
    )
    .await;
    assert_eq!(t.get("viewer", &finding).await.json()["state"], "recorded");
    // Only an auditor of the audit records its findings; a finding stays with its audit.
    let admin_finding = t
        .post(
            "admin",
            &format!("{BASE}/findings"),
            &json!({"title": "X", "audit_id": id_of(&audit), "classification": "observation", "description": "Y"}),
        )
        .await;
    refused_by(&admin_finding, "not-an-auditor-of-the-audit");
    let other = t.audit_led_by("acme", "auditor", false).await;
    let moved = t.patch("auditor", &finding, version(&t, &finding).await, &json!({"audit_id": id_of(&other)})).await;
    assert_eq!(fields_of(&moved, 422), ["audit_id"]);
    // An observation raises no nonconformity.
    take(&t, "auditor", &finding, "raise-nonconformity", &json!({})).await.problem(409);
}

/// Auditor independence on every path, each refusal naming its part.
async fn auditors_are_independent_of_what_they_audit(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (auditor, owner) = (user(&t, "auditor").await, user(&t, "owner").await);
    // The auditor owns the AI system: they may not be assigned to audit it.
    let owned = create(&t, "editor", "ai-systems", json!({"name": "Fraud model", "owner_id": auditor})).await;
    let input = json!({"title": "Fraud audit", "audit_type": "internal", "ai_system_ids": [id_of(&owned)],
                       "period_from": "2026-01-01", "period_to": "2099-12-31", "lead_auditor_id": auditor});
    let events = t.event_count().await;
    refused_by(&t.post("admin", &format!("{BASE}/audits"), &input).await, "owns-audited-record");
    assert_eq!(t.event_count().await, events, "a refusal writes nothing");

    // The owner changed the system in the audited period: adding them as co-auditor is refused.
    let system = create(&t, "editor", "ai-systems", json!({"name": "Pricing model"})).await;
    change(&t, "owner", &system, json!({"business_unit": "Retail"})).await;
    let audit = audit_of(&t, &system, json!({})).await;
    let added = t.patch("auditor", &audit, version(&t, &audit).await, &json!({"co_auditor_id": owner})).await;
    refused_by(&added, "changed-audited-record");
    // The same change outside the audited period does not bar them.
    let past = audit_of(&t, &system, json!({"period_to": "2026-06-30", "co_auditor_id": owner})).await;
    assert_eq!(t.get("viewer", &past).await.json()["co_auditor_id"], owner);

    // The roundabout way: assigned while independent, then changes a scoped record, then
    // records a result or raises a finding: both refused.
    let admin = user(&t, "admin").await;
    let quiet = create(&t, "editor", "ai-systems", json!({"name": "Routing model"})).await;
    let audit = audit_of(&t, &quiet, json!({"co_auditor_id": admin})).await;
    taken(&take(&t, "auditor", &audit, "start", &json!({})).await);
    let key = format!("ai_system:{}", id_of(&quiet));
    let result = json!({"item": key, "result": "conforming"});
    let finding =
        json!({"title": "Drift", "audit_id": id_of(&audit), "classification": "minor_nonconformity", "description": "Unmonitored"});
    change(&t, "admin", &quiet, json!({"business_unit": "Operations"})).await;
    let events = t.event_count().await;
    refused_by(&take(&t, "admin", &audit, "record-result", &result).await, "changed-audited-record");
    refused_by(&t.post("admin", &format!("{BASE}/findings"), &finding).await, "changed-audited-record");
    // Handed the system while auditing it: the lead auditor now owns what they audit.
    change(&t, "editor", &quiet, json!({"owner_id": auditor})).await;
    refused_by(&take(&t, "auditor", &audit, "record-result", &result).await, "owns-audited-record");
    refused_by(&t.post("auditor", &format!("{BASE}/findings"), &finding).await, "owns-audited-record");
    assert_eq!(t.event_count().await, events + 1, "refusals write nothing (the one event is the hand-over)");
    // The transition choices say why not, naming the part.
    let choices = t.get("auditor", &format!("{audit}/transitions")).await.json();
    let record = choices["items"].as_array().into_iter().flatten().find(|c| c["name"] == "record-result").cloned().unwrap_or(Value::Null);
    assert_eq!(record["refusal"]["rule"], "separation-of-duties", "{record}");
}

/// A minor or major finding raises its nonconformity, linked both ways, in one transaction.
async fn a_finding_raises_its_nonconformity(backend: Backend) {
    let t = TestApp::start(backend).await;
    let system = create(&t, "editor", "ai-systems", json!({"name": "Claims triage"})).await;
    let audit = audit_of(&t, &system, json!({})).await;
    taken(&take(&t, "auditor", &audit, "start", &json!({})).await);
    let finding = create(
        &t,
        "auditor",
        "findings",
        json!({"title": "Human review skipped", "audit_id": id_of(&audit), "classification": "major_nonconformity",
               "description": "Claims above the threshold were closed without review", "ai_system_ids": [id_of(&system)],
               "control_refs": ["A.9.2"], "requirement_refs": ["8.1"]}),
    )
    .await;
    let set = t.patch("auditor", &finding, version(&t, &finding).await, &json!({"nonconformity_id": id_of(&system)})).await;
    assert_eq!(fields_of(&set, 422), ["nonconformity_id"]);
    let events = t.event_count().await;
    let raised = take(&t, "auditor", &finding, "raise-nonconformity", &json!({})).await;
    taken(&raised);
    assert_eq!(t.event_count().await, events + 2, "the nonconformity and the finding, each with its event");
    let raised = raised.json();
    assert_eq!(raised["state"], "nonconformity_raised");
    let nc_id = raised["nonconformity_id"].as_str().expect("nonconformity id").to_owned();
    let nc = t.get("viewer", &format!("{BASE}/nonconformities/{nc_id}")).await.json();
    assert_eq!((nc["source"].as_str(), nc["state"].as_str()), (Some("audit_finding"), Some("open")));
    assert_eq!(nc["ai_system_ids"], json!([id_of(&system)]));
    assert_eq!(nc["control_refs"], json!(["A.9.2"]));
    let trace = t.get("viewer", &format!("{BASE}/nonconformities/{nc_id}/trace")).await.json();
    assert_eq!(trace["counts"]["finding"], 1, "the nonconformity traces back to its finding: {trace}");
    // Raised once.
    take(&t, "auditor", &finding, "raise-nonconformity", &json!({})).await.problem(409);
}

on_both_backends!(
    the_audit_collections_follow_the_contract,
    the_auditor_records_audits_but_cannot_change_what_is_audited,
    auditors_are_independent_of_what_they_audit,
    a_finding_raises_its_nonconformity
);
