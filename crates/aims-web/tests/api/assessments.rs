//! AI systems and their assessments through the API: lifecycle gates with separation of
//! duties and required records, risk levels from the criteria, acceptance above the threshold,
//! impact assessment sign-off and re-assessment, revisions, CSV import.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

async fn create(t: &TestApp, role: &str, collection: &str, body: Value) -> Value {
    let reply = t.post(role, &format!("/api/v1/orgs/acme/{collection}"), &body).await;
    assert_eq!(reply.status, 201, "{collection}: {}", reply.text);
    reply.json()
}

async fn transition(t: &TestApp, role: &str, path: &str, name: &str, body: Value) -> crate::helpers::Reply {
    let version = t.get("viewer", path).await.json()["version"].as_i64().expect("version");
    t.call(t.token(role), Method::POST, &format!("{path}/{name}"), Some(&body), &[("if-match", &format!("\"{version}\""))]).await
}

async fn gates_need_another_approver_and_the_required_records(backend: Backend) {
    let t = TestApp::start(backend).await;
    let system = create(&t, "editor", "ai-systems", json!({"name": "Scoring", "lifecycle_stage": "development"})).await;
    assert_eq!(system["lifecycle_stage"], "development");
    let id = system["id"].as_str().expect("id");
    let same = t.post("admin", "/api/v1/orgs/acme/gates", &json!({"ai_system_id": id, "to_stage": "development", "reason": "x"})).await;
    assert_eq!(same.problem(422), vec!["to_stage"]);
    let gate =
        create(&t, "admin", "gates", json!({"ai_system_id": id, "to_stage": "verification_validation", "reason": "Model trained"})).await;
    assert_eq!(gate["state"], "requested");
    assert_eq!(gate["from_stage"], "development");
    let path = format!("/api/v1/orgs/acme/gates/{}", gate["id"].as_str().expect("id"));
    let own = transition(&t, "admin", &path, "approve", json!({})).await;
    own.problem(403);
    assert!(own.json()["detail"].as_str().is_some_and(|d| d.contains("separation-of-duties")));
    transition(&t, "editor", &path, "approve", json!({})).await.problem(403);
    let missing = transition(&t, "owner", &path, "approve", json!({})).await;
    missing.problem(409);
    assert!(
        missing.json()["detail"].as_str().is_some_and(|d| d.contains("Requirements specification") && d.contains("Design documentation")),
        "the missing records are named as people read them"
    );
    for (record_type, title) in [("requirements_specification", "Requirements"), ("design_documentation", "Design")] {
        let record =
            create(&t, "editor", "lifecycle-records", json!({"ai_system_id": id, "record_type": record_type, "title": title})).await;
        assert_eq!(record["control_refs"], json!([if record_type == "design_documentation" { "A.6.2.3" } else { "A.6.2.2" }]));
    }
    let approved = transition(&t, "owner", &path, "approve", json!({"reason": "Records complete"})).await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let body = approved.json();
    assert_eq!(body["state"], "approved");
    assert_eq!(body["system_snapshot"]["lifecycle_stage"], "development");
    assert_eq!(body["decided_by"], t.member("owner").await.user_id.as_str());
    let after = t.get("viewer", &format!("/api/v1/orgs/acme/ai-systems/{id}")).await.json();
    assert_eq!(after["lifecycle_stage"], "verification_validation");
    transition(&t, "owner", &path, "reject", json!({"reason": "late"})).await.problem(409);
    let patch = t
        .patch(
            "editor",
            &format!("/api/v1/orgs/acme/ai-systems/{id}"),
            after["version"].as_i64().expect("v"),
            &json!({"lifecycle_stage": "operation"}),
        )
        .await;
    assert_eq!(patch.problem(422), vec!["lifecycle_stage"], "the stage changes only through gates");
    let rejected = create(&t, "editor", "gates", json!({"ai_system_id": id, "to_stage": "deployment", "reason": "Go"})).await;
    let path = format!("/api/v1/orgs/acme/gates/{}", rejected["id"].as_str().expect("id"));
    assert_eq!(transition(&t, "admin", &path, "reject", json!({})).await.problem(422), vec!["reason"]);
    assert_eq!(transition(&t, "admin", &path, "reject", json!({"reason": "No V&V yet"})).await.json()["state"], "rejected");
}

async fn risks_are_rated_by_the_criteria_and_accepted_by_authority(backend: Backend) {
    let t = TestApp::start(backend).await;
    let editor = t.member("editor").await;
    let bad = t.post("editor", "/api/v1/orgs/acme/risks", &json!({"title": "x", "source_category": "technical", "inherent_likelihood": 6, "inherent_consequence": 2, "treatment": "mitigate"})).await;
    assert_eq!(bad.problem(422), vec!["inherent_likelihood"]);
    let uncontrolled =
        t.post("editor", "/api/v1/orgs/acme/risks", &json!({"title": "x", "source_category": "technical", "treatment": "mitigate"})).await;
    assert_eq!(uncontrolled.problem(422), vec!["control_refs"], "a mitigated risk names its controls");
    let only_one =
        t.post("editor", "/api/v1/orgs/acme/risks", &json!({"title": "x", "source_category": "technical", "residual_likelihood": 2})).await;
    assert_eq!(only_one.problem(422), vec!["residual_consequence"]);
    let unknown = t
        .post("editor", "/api/v1/orgs/acme/risks", &json!({"title": "x", "source_category": "technical", "control_refs": ["A.99.1"]}))
        .await;
    assert_eq!(unknown.problem(422), vec!["control_refs[0]"]);
    let risk = create(
        &t,
        "editor",
        "risks",
        json!({
            "title": "Prompt injection exposes account data",
            "source_category": "technical",
            "inherent_likelihood": 3, "inherent_consequence": 5,
            "treatment": "mitigate", "control_refs": ["A.6.2.4"],
            "residual_likelihood": 2, "residual_consequence": 5,
            "owner_id": editor.user_id,
            "owasp_llm": ["LLM01"], "nist_characteristics": ["secure_resilient"]
        }),
    )
    .await;
    assert_eq!(risk["inherent_score"], 15);
    assert_eq!(risk["inherent_level"], "High");
    assert_eq!(risk["residual_score"], 10);
    assert_eq!(risk["residual_level"], "High");
    assert_eq!(risk["residual_above_threshold"], true);
    assert_eq!(risk["state"], "open");
    let path = format!("/api/v1/orgs/acme/risks/{}", risk["id"].as_str().expect("id"));
    transition(&t, "admin", &path, "accept", json!({"rationale": "ok"})).await.problem(403);
    assert_eq!(transition(&t, "owner", &path, "accept", json!({})).await.problem(422), vec!["rationale"]);
    let accepted = transition(&t, "owner", &path, "accept", json!({"rationale": "Compensating monitoring in place"})).await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    assert_eq!(accepted.json()["state"], "accepted");
    assert_eq!(accepted.json()["accepted_by"], t.member("owner").await.user_id.as_str());
    // The risk owner may not accept their own risk.
    let own = create(&t, "editor", "risks", json!({"title": "Small", "source_category": "operational", "residual_likelihood": 1, "residual_consequence": 2, "owner_id": editor.user_id})).await;
    let own_path = format!("/api/v1/orgs/acme/risks/{}", own["id"].as_str().expect("id"));
    transition(&t, "editor", &own_path, "accept", json!({"rationale": "fine"})).await.problem(403);
    assert_eq!(transition(&t, "admin", &own_path, "accept", json!({"rationale": "fine"})).await.status, 200);
    // Changing the criteria never rescales old assessments.
    let criteria = t.get("viewer", "/api/v1/orgs/acme/risk-criteria").await;
    let version = criteria.json()["version"].as_i64().expect("v");
    let three = json!({"likelihood_levels": ["Low", "Medium", "High"], "consequence_levels": ["Low", "Medium", "High"], "risk_levels": [{"name": "Low", "min_score": 1}, {"name": "High", "min_score": 4}], "acceptance_threshold": "Low"});
    let changed = t
        .call(t.token("admin"), Method::PATCH, "/api/v1/orgs/acme/risk-criteria", Some(&three), &[("if-match", &format!("\"{version}\""))])
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let unchanged = t.get("viewer", &path).await.json();
    assert_eq!(unchanged["residual_level"], "High");
    assert_eq!(unchanged["criteria_revision"], 1);
    let revisions = t.get("viewer", "/api/v1/orgs/acme/risk-criteria/revisions").await.json();
    assert_eq!(revisions["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(t.get("viewer", "/api/v1/orgs/acme/risk-criteria/revisions/1").await.json()["data"]["acceptance_threshold"], "Medium");
    let bad_criteria = json!({"likelihood_levels": ["A", "B"], "acceptance_threshold": "Nope"});
    let refused = t
        .call(
            t.token("admin"),
            Method::PATCH,
            "/api/v1/orgs/acme/risk-criteria",
            Some(&bad_criteria),
            &[("if-match", &format!("\"{}\"", version + 1))],
        )
        .await;
    let mut fields = refused.problem(422);
    fields.sort();
    assert_eq!(fields, vec!["acceptance_threshold", "likelihood_levels"]);
}

async fn impact_assessments_are_signed_off_and_flagged_on_material_change(backend: Backend) {
    let t = TestApp::start(backend).await;
    let system = create(&t, "editor", "ai-systems", json!({"name": "CV screening", "intended_use": "Rank applicants"})).await;
    let system_id = system["id"].as_str().expect("id");
    let bad = t.post("editor", "/api/v1/orgs/acme/impact-assessments", &json!({"ai_system_id": system_id, "title": "IA", "overall_level": "high", "impacts": [{"area": "fairness", "description": "x", "severity": "major", "likelihood": "likely"}, {"area": "mood", "description": "y", "severity": "huge", "likelihood": "likely"}]})).await;
    let mut fields = bad.problem(422);
    fields.sort();
    assert_eq!(fields, vec!["impacts[1].area", "impacts[1].severity"]);
    let assessment = create(&t, "editor", "impact-assessments", json!({
        "ai_system_id": system_id, "title": "CV screening impact", "overall_level": "high",
        "affected_parties": [{"party": "individuals", "description": "Applicants"}],
        "impacts": [{"area": "fairness", "description": "Career breaks penalised", "severity": "major", "likelihood": "likely", "mitigation": "Human review"}]
    }))
    .await;
    assert_eq!(assessment["state"], "draft");
    let path = format!("/api/v1/orgs/acme/impact-assessments/{}", assessment["id"].as_str().expect("id"));
    transition(&t, "editor", &path, "sign-off", json!({})).await.problem(403);
    let signed = transition(&t, "admin", &path, "sign-off", json!({"comment": "Approved by the AI board"})).await;
    assert_eq!(signed.status, 200, "{}", signed.text);
    assert_eq!(signed.json()["state"], "signed_off");
    assert_eq!(signed.json()["signed_off_revision"], 1);
    let version = t.get("viewer", &format!("/api/v1/orgs/acme/ai-systems/{system_id}")).await.json()["version"].as_i64().expect("v");
    let events = t.event_count().await;
    let changed = t
        .patch(
            "editor",
            &format!("/api/v1/orgs/acme/ai-systems/{system_id}"),
            version,
            &json!({"intended_use": "Rank and reject applicants"}),
        )
        .await;
    assert_eq!(changed.status, 200);
    assert_eq!(t.event_count().await, events + 2, "the system and its assessment each get an event");
    let flagged = t.get("viewer", &path).await.json();
    assert_eq!(flagged["reassessment_due"], true);
    assert!(flagged["reassessment_reason"].as_str().is_some_and(|r| r.contains("Intended use")));
    let edited =
        t.patch("editor", &path, flagged["version"].as_i64().expect("v"), &json!({"residual_impact": "Reduced by human review"})).await;
    assert_eq!(edited.json()["state"], "draft");
    assert_eq!(transition(&t, "owner", &path, "sign-off", json!({})).await.json()["reassessment_due"], false);
    let revisions = t.get("viewer", &format!("{path}/revisions")).await.json();
    assert_eq!(revisions["items"].as_array().map(Vec::len), Some(2));
    let first = t.get("viewer", &format!("{path}/revisions/1")).await.json();
    assert_eq!(first["data"]["residual_impact"], Value::Null, "revision 1 stays as it was signed");
    t.get("viewer", &format!("{path}/revisions/9")).await.problem(404);
    let trace = t.get("viewer", &format!("/api/v1/orgs/acme/ai-systems/{system_id}/trace")).await.json();
    assert_eq!(trace["links"]["impact_assessment"].as_array().map(Vec::len), Some(1));
}

async fn resources_live_under_their_system(backend: Backend) {
    let t = TestApp::start(backend).await;
    let system = create(&t, "editor", "ai-systems", json!({"name": "Chatbot"})).await;
    let base = format!("/api/v1/orgs/acme/ai-systems/{}/resources", system["id"].as_str().expect("id"));
    let created = t.post("editor", &base, &json!({"resource_type": "tooling", "name": "Vector store"})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(t.post("editor", &base, &json!({"resource_type": "gpu", "name": "x"})).await.problem(422), vec!["resource_type"]);
    let list = t.get("viewer", &base).await.json();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    let other = create(&t, "editor", "ai-systems", json!({"name": "Other"})).await;
    let wrong = format!(
        "/api/v1/orgs/acme/ai-systems/{}/resources/{}",
        other["id"].as_str().expect("id"),
        created.json()["id"].as_str().expect("id")
    );
    t.get("viewer", &wrong).await.problem(404);
}

async fn the_inventory_imports_from_csv_all_or_nothing(backend: Backend) {
    let t = TestApp::start(backend).await;
    let url = format!("{}/api/v1/orgs/acme/ai-systems/import", t.base);
    let send = |body: &'static str| t.client.post(&url).bearer_auth(t.token("editor")).header("content-type", "text/csv").body(body).send();
    let bad = send("name,eu_ai_act_role,owner_email\nScoring,provider,owner@acme.example\n,deployer,\nBot,shipper,nobody@acme.example\n")
        .await
        .expect("send");
    assert_eq!(bad.status(), 422);
    let problem: Value = bad.json().await.expect("json");
    let fields: Vec<&str> = problem["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, vec!["rows[2].name", "rows[3].owner_email", "rows[3].eu_ai_act_role"]);
    assert_eq!(
        t.get("viewer", "/api/v1/orgs/acme/ai-systems").await.json()["items"].as_array().map(Vec::len),
        Some(0),
        "nothing half-written"
    );
    let good = "name,eu_ai_act_role,ai_roles,geographies,lifecycle_stage\nScoring,provider,ai_provider;ai_producer,IE;DE,operation\nBot,deployer,ai_customer,IE,deployment\n";
    let first: Value = send(good).await.expect("send").json().await.expect("json");
    assert_eq!(first, json!({"created": 2, "updated": 0, "unchanged": 0}));
    let again: Value = send(good).await.expect("send").json().await.expect("json");
    assert_eq!(again, json!({"created": 0, "updated": 0, "unchanged": 2}));
    let items = t.get("viewer", "/api/v1/orgs/acme/ai-systems").await.json();
    assert_eq!(items["items"][0]["lifecycle_stage"], "operation");
    assert_eq!(items["items"][0]["geographies"], json!(["IE", "DE"]));
    let wrong_type = t
        .client
        .post(&url)
        .bearer_auth(t.token("editor"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(wrong_type.status(), 415);
    let viewer =
        t.client.post(&url).bearer_auth(t.token("viewer")).header("content-type", "text/csv").body(good).send().await.expect("send");
    assert_eq!(viewer.status(), 403);
}

async fn lists_filter_by_links_choices_states_and_system_fields(backend: Backend) {
    let t = TestApp::start(backend).await;
    let a = create(&t, "editor", "ai-systems", json!({"name": "A", "lifecycle_stage": "operation"})).await;
    create(&t, "editor", "ai-systems", json!({"name": "B"})).await;
    let a_id = a["id"].as_str().expect("id");
    create(&t, "editor", "risks", json!({"title": "On A", "source_category": "technical", "ai_system_ids": [a_id], "status": "assessed"}))
        .await;
    create(&t, "editor", "risks", json!({"title": "Elsewhere", "source_category": "technical"})).await;
    // The filter's value written out elsewhere in a record does not make it match.
    create(
        &t,
        "editor",
        "risks",
        json!({"title": "\"status\":\"assessed\"", "description": "status assessed", "source_category": "technical"}),
    )
    .await;
    let count = |v: Value| v["items"].as_array().map_or(0, Vec::len);
    let wrong = t.get("viewer", &format!("/api/v1/orgs/acme/risks?ai_system_id={a_id}")).await;
    assert_eq!(wrong.problem(422), vec!["ai_system_id"], "risks link ai_system_ids, not ai_system_id");
    assert_eq!(count(t.get("viewer", &format!("/api/v1/orgs/acme/risks?ai_system_ids={a_id}")).await.json()), 1);
    assert_eq!(count(t.get("viewer", "/api/v1/orgs/acme/risks?status=assessed").await.json()), 1);
    assert_eq!(count(t.get("viewer", "/api/v1/orgs/acme/risks?state=open").await.json()), 3);
    assert_eq!(count(t.get("viewer", "/api/v1/orgs/acme/ai-systems?lifecycle_stage=operation").await.json()), 1);
    assert_eq!(t.get("viewer", "/api/v1/orgs/acme/risks?status=done").await.problem(422), vec!["status"]);
    assert_eq!(t.get("viewer", "/api/v1/orgs/acme/risks?ai_system_ids=nope").await.problem(422), vec!["ai_system_ids"]);
}

async fn context_and_scope_keep_revisions(backend: Backend) {
    let t = TestApp::start(backend).await;
    let scope = t.get("viewer", "/api/v1/orgs/acme/scope").await;
    assert_eq!(scope.status, 200);
    let version = scope.json()["version"].as_i64().expect("v");
    let statement = json!({"statement": "All AI systems of Consumer Lending", "ai_roles": [{"role": "ai_provider", "context": "credit scoring"}, {"role": "pilot"}]});
    let refused = t
        .call(t.token("admin"), Method::PATCH, "/api/v1/orgs/acme/scope", Some(&statement), &[("if-match", &format!("\"{version}\""))])
        .await;
    assert_eq!(refused.problem(422), vec!["ai_roles[1].role"]);
    let ok = json!({"statement": "All AI systems of Consumer Lending", "ai_roles": [{"role": "ai_provider", "context": "credit scoring"}]});
    let changed =
        t.call(t.token("admin"), Method::PATCH, "/api/v1/orgs/acme/scope", Some(&ok), &[("if-match", &format!("\"{version}\""))]).await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let first = t.get("viewer", "/api/v1/orgs/acme/scope/revisions/1").await.json();
    assert_eq!(first["data"]["statement"], Value::Null);
    let party = t.post("editor", "/api/v1/orgs/acme/interested-parties", &json!({"name": "Applicants", "category": "affected_person", "needs_expectations": "Fair decisions", "addressed_by_aims": true})).await;
    assert_eq!(party.problem(422), vec!["how_addressed"]);
}

on_both_backends!(
    gates_need_another_approver_and_the_required_records,
    risks_are_rated_by_the_criteria_and_accepted_by_authority,
    impact_assessments_are_signed_off_and_flagged_on_material_change,
    resources_live_under_their_system,
    the_inventory_imports_from_csv_all_or_nothing,
    lists_filter_by_links_choices_states_and_system_fields,
    context_and_scope_keep_revisions,
);
