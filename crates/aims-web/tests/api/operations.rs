//! Operation through the API: supplier reviews with their AI due diligence, incidents with
//! their reporting deadline and the nonconformity they raise, and concerns — raised by anyone
//! through the public intake without an account, followed through a private status URL that
//! opens that concern's state and answer and nothing else, and triaged into linked records.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Reply, TestApp};
use crate::workflows::{create, take, taken, user};

const BASE: &str = "/api/v1/orgs/acme";

fn id_of(path: &str) -> String {
    path.rsplit('/').next().unwrap_or_default().to_owned()
}

/// A request without any credentials, as the public sends it.
async fn public(t: &TestApp, method: Method, path: &str, body: Option<&Value>) -> Reply {
    let mut request = t.client.request(method, format!("{}{path}", t.base));
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    Reply { status, headers, text }
}

fn sorted(mut fields: Vec<String>) -> Vec<String> {
    fields.sort();
    fields
}

async fn supplier_reviews_record_ai_due_diligence(backend: Backend) {
    let t = TestApp::start(backend).await;
    let supplier = t
        .post(
            "editor",
            &format!("{BASE}/suppliers"),
            &json!({"name": "Lumen AI", "ai_services": [{"name": "Lumen-3 API", "component_type": "model_api"}],
                    "risk_rating": "medium", "review_cadence": "yearly", "next_review_on": "2027-01-31"}),
        )
        .await;
    assert_eq!(supplier.status, 201, "{}", supplier.text);
    let supplier_id = supplier.json()["id"].as_str().expect("id").to_owned();
    // Field names in every refusal.
    let bad = t.post("editor", &format!("{BASE}/suppliers"), &json!({"name": "X", "risk_rating": "huge", "ai_services": [{}]})).await;
    assert_eq!(sorted(bad.problem(422)), ["ai_services[0].component_type", "ai_services[0].name", "risk_rating"]);
    let missing = t.post("editor", &format!("{BASE}/supplier-reviews"), &json!({"title": "Review", "clause_audit_rights": "maybe"})).await;
    assert_eq!(sorted(missing.problem(422)), ["clause_audit_rights", "reviewed_on", "supplier_id"]);

    let reviewer = user(&t, "editor").await;
    let review = create(
        &t,
        "editor",
        "supplier-reviews",
        json!({"title": "Lumen annual review", "supplier_id": supplier_id, "reviewer_id": reviewer, "reviewed_on": "2026-11-20",
               "model_lineage": "Own base model", "data_provenance": "Licensed text", "evaluation_results": "96 % on our test set",
               "intended_use_boundaries": "No advice", "security_posture": "ISO/IEC 27001",
               "clause_incident_notice": "agreed", "clause_audit_rights": "partial", "clause_data_use": "agreed",
               "incident_notice_hours": 24, "incident_commitments": "24 h notice"}),
    )
    .await;
    // Submitting needs the risk rating and the outcome.
    let early = take(&t, "editor", &review, "submit", &json!({})).await;
    early.problem(409);
    assert!(early.json()["detail"].as_str().is_some_and(|d| d.contains("risk rating")), "{}", early.text);
    let current = t.get("viewer", &review).await.json();
    let patched = t
        .patch("editor", &review, current["version"].as_i64().unwrap_or(1), &json!({"risk_rating": "medium", "outcome": "approved"}))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    taken(&take(&t, "editor", &review, "submit", &json!({})).await);
    // The reviewer may not complete their own review; someone independent with the authority does.
    take(&t, "editor", &review, "complete", &json!({})).await.problem(403);
    let done = take(&t, "owner", &review, "complete", &json!({"comment": "Agreed"})).await;
    taken(&done);
    assert_eq!(done.json()["state"], "completed");
    assert_eq!(done.json()["decision_comment"], "Agreed");
    // The supplier's trace lists the review.
    let trace = t.get("viewer", &format!("{BASE}/suppliers/{supplier_id}/trace")).await.json();
    assert!(trace.to_string().contains(&id_of(&review)), "{trace}");
}

async fn an_incident_has_a_reporting_deadline_and_raises_a_nonconformity(backend: Backend) {
    let t = TestApp::start(backend).await;
    let incidents = format!("{BASE}/incidents");
    let refused = t
        .post(
            "editor",
            &incidents,
            &json!({"title": "Leak", "description": "Shown", "detected_on": "2026-03-01", "external_report_required": true}),
        )
        .await;
    assert_eq!(refused.problem(422), ["reporting_regime"]);
    let refused = t
        .post("editor", &incidents, &json!({"title": "Leak", "description": "Shown", "detected_on": "2026-03-01", "severity": "grave"}))
        .await;
    assert_eq!(refused.problem(422), ["severity"]);
    let body = json!({"title": "Leak", "description": "Another customer's order shown", "detected_on": "2026-03-01",
                      "external_report_required": true, "reporting_regime": "eu_ai_act_serious_incident"});
    let computed = t.post("editor", &incidents, &body).await;
    assert_eq!(computed.status, 201, "{}", computed.text);
    assert_eq!(computed.json()["report_by"], "2026-03-16", "15 days after detection");
    let mut entered = body.clone();
    entered["report_by"] = json!("2026-03-05");
    assert_eq!(t.post("editor", &incidents, &entered).await.json()["report_by"], "2026-03-05");

    let path = format!("{incidents}/{}", computed.json()["id"].as_str().expect("id"));
    take(&t, "editor", &path, "triage", &json!({})).await.problem(409);
    let version = t.get("viewer", &path).await.json()["version"].as_i64().unwrap_or(1);
    assert_eq!(t.patch("editor", &path, version, &json!({"severity": "high", "containment": "Look-up disabled"})).await.status, 200);
    taken(&take(&t, "editor", &path, "triage", &json!({})).await);
    let contained = take(&t, "editor", &path, "contain", &json!({})).await;
    taken(&contained);
    assert!(contained.json()["contained_on"].is_string(), "the day of containment is recorded");

    // Raising a nonconformity writes it and the incident's link together, each with its event.
    let editor = t.member("editor").await;
    let incident = t.get("viewer", &path).await.json();
    let events = t.event_count().await;
    let nc = t
        .app
        .raise_nonconformity_from_incident(&editor, &id_of(&path), incident["version"].as_i64().unwrap_or(1), &json!({}))
        .await
        .expect("raised");
    assert_eq!(t.event_count().await, events + 2);
    assert_eq!(nc.data["source"], "incident");
    assert_eq!(t.get("viewer", &path).await.json()["nonconformity_ids"], json!([nc.id]));
    // A stale version writes nothing.
    let stale = t.app.raise_nonconformity_from_incident(&editor, &id_of(&path), 1, &json!({})).await;
    assert!(matches!(stale, Err(aims_app::AppError::Stale { .. })), "{stale:?}");
    assert_eq!(t.event_count().await, events + 2);

    // Closing needs the external report made.
    taken(&take(&t, "editor", &path, "resolve", &json!({})).await);
    take(&t, "editor", &path, "close", &json!({})).await.problem(409);
    let version = t.get("viewer", &path).await.json()["version"].as_i64().unwrap_or(1);
    assert_eq!(t.patch("editor", &path, version, &json!({"reported_externally_on": "2026-03-10"})).await.status, 200);
    taken(&take(&t, "editor", &path, "close", &json!({})).await);
}

async fn the_public_raises_a_concern_without_an_account_and_follows_it(backend: Backend) {
    let t = TestApp::start(backend).await;
    let intake = "/api/v1/public/acme/concerns";
    let events = t.event_count().await;
    let sent = public(&t, Method::POST, intake, Some(&json!({"subject": "Rude chatbot", "description": "It insulted me"}))).await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    let status_url = sent.json()["status_url"].as_str().expect("status url").to_owned();
    assert_eq!(sent.header("location"), Some(status_url.as_str()));
    let token = status_url.rsplit('/').next().expect("token").to_owned();
    assert!(token.len() > 40, "a random token: {token}");
    assert_eq!(t.event_count().await, events + 1);

    // The status URL shows the state and the answer, nothing else.
    let status = public(&t, Method::GET, &status_url, None).await;
    assert_eq!(status.status, 200, "{}", status.text);
    assert_eq!(status.json(), json!({"state": "received", "answer": null}));

    // Inside the organisation: attributed to the public intake, never holding the token.
    let concerns = t.get("viewer", &format!("{BASE}/concerns")).await.json();
    let concern = concerns["items"][0].clone();
    assert_eq!(concern["received_via"], "public_intake");
    let log = t.get("viewer", &format!("{BASE}/activity?record_type=concern")).await;
    assert!(log.text.contains("system:public-intake"), "{}", log.text);
    assert!(!log.text.contains(&token), "the event holds no token");
    let csv = t.get("viewer", &format!("{BASE}/activity?format=csv")).await;
    assert!(!csv.text.contains(&token));

    // Only the public fields, named when wrong.
    let wrong = public(&t, Method::POST, intake, Some(&json!({"subject": "", "owner_id": "x", "public_answer": "self-answered"}))).await;
    assert_eq!(sorted(wrong.problem(422)), ["description", "owner_id", "public_answer", "subject"]);
    let unknown_org = public(&t, Method::POST, "/api/v1/public/nobody/concerns", Some(&json!({"subject": "A", "description": "B"}))).await;
    unknown_org.problem(404);

    // Triage into an incident: the incident is created and linked in the same transaction.
    let path = format!("{BASE}/concerns/{}", concern["id"].as_str().expect("id"));
    let events = t.event_count().await;
    let triaged = take(&t, "editor", &path, "to-incident", &json!({"note": "Check the logs"})).await;
    taken(&triaged);
    assert_eq!(t.event_count().await, events + 2, "the concern and the new incident");
    let incident_id = triaged.json()["incident_ids"][0].as_str().expect("linked incident").to_owned();
    let incident = t.get("viewer", &format!("{BASE}/incidents/{incident_id}")).await.json();
    assert_eq!(incident["title"], "Concern: Rude chatbot");
    assert_eq!(incident["state"], "reported");
    assert_eq!(public(&t, Method::GET, &status_url, None).await.json(), json!({"state": "triaged", "answer": null}));
    // Closing answers the reporter.
    taken(&take(&t, "editor", &path, "close", &json!({"answer": "We retrained it."})).await);
    assert_eq!(public(&t, Method::GET, &status_url, None).await.json(), json!({"state": "closed", "answer": "We retrained it."}));
}

async fn triage_creates_a_nonconformity_or_an_improvement(backend: Backend) {
    let t = TestApp::start(backend).await;
    for (name, collection, field) in
        [("to-nonconformity", "nonconformities", "nonconformity_ids"), ("to-improvement", "improvements", "improvement_ids")]
    {
        let path = create(&t, "editor", "concerns", json!({"subject": "Biased ranking", "description": "Women ranked lower"})).await;
        let triaged = take(&t, "editor", &path, name, &json!({})).await;
        taken(&triaged);
        let id = triaged.json()[field][0].as_str().expect("linked").to_owned();
        let record = t.get("viewer", &format!("{BASE}/{collection}/{id}")).await;
        assert_eq!(record.status, 200, "{}", record.text);
        assert_eq!(triaged.json()["triaged_into"], name.trim_start_matches("to-"));
        // Once triaged, it is not triaged again.
        take(&t, "editor", &path, name, &json!({})).await.problem(409);
    }
}

async fn the_status_token_opens_its_own_concern_only(backend: Backend) {
    let t = TestApp::start(backend).await;
    let send = |subject: &'static str| {
        let t = &t;
        async move {
            let sent =
                public(t, Method::POST, "/api/v1/public/acme/concerns", Some(&json!({"subject": subject, "description": "D"}))).await;
            assert_eq!(sent.status, 201, "{}", sent.text);
            sent.json()["status_url"].as_str().expect("url").rsplit('/').next().expect("token").to_owned()
        }
    };
    let (first, second) = (send("First").await, send("Second").await);
    let items = t.get("viewer", &format!("{BASE}/concerns")).await.json()["items"].clone();
    let second_path = format!("{BASE}/concerns/{}", items[1]["id"].as_str().expect("id"));
    taken(&take(&t, "editor", &second_path, "close", &json!({"answer": "Second's answer"})).await);
    let of = |token: String, org: &'static str| {
        let t = &t;
        async move { public(t, Method::GET, &format!("/api/v1/public/{org}/concerns/{token}"), None).await }
    };
    assert_eq!(of(first.clone(), "acme").await.json(), json!({"state": "received", "answer": null}));
    assert_eq!(of(second.clone(), "acme").await.json()["answer"], "Second's answer");
    // Another organisation's slug, a made-up token, a changed one: 404.
    of(first.clone(), "other").await.problem(404);
    of("aims_concern_madeup".into(), "acme").await.problem(404);
    of(format!("{first}x"), "acme").await.problem(404);
    // The token is no credential: as a bearer token it opens nothing.
    for path in
        [format!("{BASE}/concerns"), format!("{BASE}/concerns/{}", items[0]["id"].as_str().expect("id")), format!("{BASE}/activity")]
    {
        let reply = t.call(&first, Method::GET, &path, None, &[]).await;
        reply.problem(401);
    }
    assert_eq!(public(&t, Method::GET, &format!("{BASE}/concerns"), None).await.status, 401);
    // An archived concern's link shows nothing any more.
    let first_path = format!("{BASE}/concerns/{}", items[0]["id"].as_str().expect("id"));
    let archived = t.call(t.token("editor"), Method::DELETE, &first_path, None, &[("if-match", "*")]).await;
    assert_eq!(archived.status, 200, "{}", archived.text);
    of(first, "acme").await.problem(404);
}

async fn the_public_intake_is_rate_limited_per_source(backend: Backend) {
    let t = TestApp::start(backend).await;
    let body = json!({"subject": "Spam", "description": "Again"});
    for _ in 0..aims_app::operations::INTAKE_BURST {
        assert_eq!(public(&t, Method::POST, "/api/v1/public/acme/concerns", Some(&body)).await.status, 201);
    }
    let events = t.event_count().await;
    let refused = public(&t, Method::POST, "/api/v1/public/acme/concerns", Some(&body)).await;
    refused.problem(429);
    assert_eq!(t.event_count().await, events, "a refused concern writes nothing");
    // Members' token-authenticated API use is not limited.
    assert_eq!(t.post("editor", &format!("{BASE}/concerns"), &body).await.status, 201);
}

on_both_backends!(
    supplier_reviews_record_ai_due_diligence,
    an_incident_has_a_reporting_deadline_and_raises_a_nonconformity,
    the_public_raises_a_concern_without_an_account_and_follows_it,
    triage_creates_a_nonconformity_or_an_improvement,
    the_status_token_opens_its_own_concern_only,
    the_public_intake_is_rate_limited_per_source
);
