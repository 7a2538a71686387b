//! API conventions: content types, malformed JSON, If-Match, read-only fields, problem+json.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, TestApp};

const CONTROL: &str = "/api/v1/orgs/acme/controls/A.5.2";

async fn stale_if_match_is_412_and_writes_nothing(backend: Backend) {
    let t = TestApp::start(backend).await;
    let events = t.event_count().await;
    let ok = t.patch("editor", CONTROL, 1, &json!({"implementation_status": "planned"})).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json()["version"], 2);
    assert_eq!(ok.header("etag"), Some("\"2\""));
    assert_eq!(t.event_count().await, events + 1);
    let stale = t.patch("editor", CONTROL, 1, &json!({"implementation_status": "implemented"})).await;
    stale.problem(412);
    let now = t.get("viewer", CONTROL).await.json();
    assert_eq!(now["implementation_status"], "planned");
    assert_eq!(now["version"], 2);
    assert_eq!(t.event_count().await, events + 1, "a refused change adds no event");
}

async fn missing_if_match_is_428(backend: Backend) {
    let t = TestApp::start(backend).await;
    let reply = t.call(t.token("editor"), Method::PATCH, CONTROL, Some(&json!({"implementation_status": "planned"})), &[]).await;
    reply.problem(428);
    let own = t.post("editor", "/api/v1/orgs/acme/controls", &json!({"ref": "X-1", "title": "X"})).await;
    assert_eq!(own.status, 201);
    t.call(t.token("editor"), Method::DELETE, "/api/v1/orgs/acme/controls/X-1", None, &[]).await.problem(428);
}

/// `If-Match: *` matches whichever version is current (RFC 9110 §13.1.1); a value that is no
/// entity tag at all is a malformed request.
async fn if_match_star_matches_the_current_version(backend: Backend) {
    let t = TestApp::start(backend).await;
    let body = json!({"implementation_status": "planned"});
    let any = t.call(t.token("editor"), Method::PATCH, CONTROL, Some(&body), &[("if-match", "*")]).await;
    assert_eq!(any.status, 200, "{}", any.text);
    assert_eq!(any.json()["version"], 2);
    let again = t
        .call(t.token("editor"), Method::PATCH, CONTROL, Some(&json!({"implementation_status": "implemented"})), &[("if-match", "*")])
        .await;
    assert_eq!(again.json()["version"], 3);
    t.call(t.token("editor"), Method::PATCH, CONTROL, Some(&body), &[("if-match", "3")]).await.problem(400);
    t.call(t.token("editor"), Method::PATCH, CONTROL, Some(&body), &[("if-match", "\"0\"")]).await.problem(412);
    assert_eq!(t.get("viewer", CONTROL).await.json()["version"], 3, "refused changes write nothing");
}

/// The authentication scheme is case-insensitive (RFC 9110 §11.1).
async fn the_bearer_scheme_is_case_insensitive(backend: Backend) {
    let t = TestApp::start(backend).await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let reply = t
            .client
            .get(format!("{}{CONTROL}", t.base))
            .header("authorization", format!("{scheme} {}", t.token("viewer")))
            .send()
            .await
            .expect("send");
        assert_eq!(reply.status(), 200, "{scheme}");
    }
}

async fn bad_bodies_get_the_right_status(backend: Backend) {
    let t = TestApp::start(backend).await;
    let url = format!("{}/api/v1/orgs/acme/controls", t.base);
    let malformed = t
        .client
        .post(&url)
        .bearer_auth(t.token("editor"))
        .header("content-type", "application/json")
        .body("{\"ref\": ")
        .send()
        .await
        .expect("send");
    assert_eq!(malformed.status(), 400);
    assert_eq!(malformed.headers()["content-type"], "application/problem+json");
    let wrong_type =
        t.client.post(&url).bearer_auth(t.token("editor")).header("content-type", "text/plain").body("{}").send().await.expect("send");
    assert_eq!(wrong_type.status(), 415);
    // Just over the 1 MiB a JSON body may have (below the 2 MiB axum would allow by default).
    let huge = "x".repeat(1024 * 1024);
    // Its own client: the server may close the connection after refusing the body.
    let too_large = reqwest::Client::new()
        .post(&url)
        .bearer_auth(t.token("editor"))
        .header("content-type", "application/json")
        .body(format!("{{\"title\": \"{huge}\"}}"))
        .send()
        .await
        .expect("send");
    assert_eq!(too_large.status(), 413);
    let not_object = t.post("editor", "/api/v1/orgs/acme/controls", &json!([1, 2])).await;
    not_object.problem(422);
}

async fn every_bad_field_is_named(backend: Backend) {
    let t = TestApp::start(backend).await;
    let reply = t
        .patch(
            "editor",
            CONTROL,
            1,
            &json!({
                "implementation_status": "done",
                "applicable": "yes",
                "owner_id": "not-a-uuid",
                "last_reviewed_on": "31/01/2026",
                "justification": 7,
                "id": "x",
                "version": 9,
                "state": "approved",
                "ref": "A.1",
                "colour": "red"
            }),
        )
        .await;
    let mut fields = reply.problem(422);
    fields.sort();
    let mut expected = vec![
        "applicable",
        "colour",
        "id",
        "implementation_status",
        "justification",
        "last_reviewed_on",
        "owner_id",
        "ref",
        "state",
        "version",
    ];
    expected.sort();
    assert_eq!(fields, expected);
    let errors = &reply.json()["errors"];
    assert!(errors.as_array().expect("errors").iter().all(|e| e["code"].is_string() && e["message"].is_string()));
}

async fn exclusion_needs_a_justification(backend: Backend) {
    let t = TestApp::start(backend).await;
    let refused = t.patch("editor", "/api/v1/orgs/acme/controls/A.10.4", 1, &json!({"applicable": false})).await;
    assert_eq!(refused.problem(422), vec!["justification"]);
    let accepted = t
        .patch(
            "editor",
            "/api/v1/orgs/acme/controls/A.10.4",
            1,
            &json!({"applicable": false, "justification": "We supply no AI to customers."}),
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    assert_eq!(accepted.json()["applicable"], false);
    // Clearing the justification of an excluded control is refused too.
    let cleared = t.patch("editor", "/api/v1/orgs/acme/controls/A.10.4", 2, &json!({"justification": null})).await;
    assert_eq!(cleared.problem(422), vec!["justification"]);
}

async fn catalogue_text_is_read_only(backend: Backend) {
    let t = TestApp::start(backend).await;
    let reply = t.patch("editor", CONTROL, 1, &json!({"title": "Renamed"})).await;
    assert_eq!(reply.problem(422), vec!["title"]);
    let reply = t.patch("editor", "/api/v1/orgs/acme/requirements/4.1", 1, &json!({"guidance": "x", "clause": "5"})).await;
    let mut fields = reply.problem(422);
    fields.sort();
    assert_eq!(fields, vec!["clause", "guidance"]);
}

async fn unknown_routes_and_records_are_404(backend: Backend) {
    let t = TestApp::start(backend).await;
    t.get("viewer", "/api/v1/orgs/acme/controls/A.99.9").await.problem(404);
    t.get("viewer", "/api/v1/orgs/acme/requirements/11.1").await.problem(404);
    t.get("viewer", "/api/v1/orgs/acme/no-such-collection").await.problem(404);
    t.get("viewer", "/api/v1/orgs/nowhere/controls").await.problem(404);
}

async fn unauthenticated_is_401(backend: Backend) {
    let t = TestApp::start(backend).await;
    let none = t.client.get(format!("{}/api/v1/orgs/acme/controls", t.base)).send().await.expect("send");
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    let bad = t.call("aims_notarealtoken", Method::GET, "/api/v1/orgs/acme/controls", None, &[]).await;
    bad.problem(401);
    let garbage = t.call("garbage", Method::GET, "/api/v1/orgs/acme/controls", None, &[]).await;
    garbage.problem(401);
}

async fn concurrent_edits_never_lose_an_update(backend: Backend) {
    let t = TestApp::start(backend).await;
    let attempts = (0..8).map(|i| {
        let t = &t;
        async move { t.patch("editor", CONTROL, 1, &json!({"justification": format!("writer {i}")})).await.status.as_u16() }
    });
    let statuses = futures::future::join_all(attempts).await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 412), "{statuses:?}");
    let now = t.get("viewer", CONTROL).await.json();
    assert_eq!(now["version"], 2);
}

/// Many writers at once — creates linking the same records, and changes to those records —
/// all succeed (no deadlock, no lost event) and the chain stays intact.
async fn concurrent_writers_all_land(backend: Backend) {
    let t = TestApp::start(backend).await;
    let system = t.post("admin", "/api/v1/orgs/acme/ai-systems", &json!({"name": "Shared"})).await.json();
    let id = system["id"].as_str().expect("id").to_owned();
    let events = t.event_count().await;
    let creates = (0..16).map(|i| {
        let (t, id) = (&t, id.clone());
        async move {
            let body = json!({"title": format!("Risk {i}"), "source_category": "technical", "ai_system_ids": [id], "control_refs": ["A.6.2.6", "A.7.4"]});
            t.post(if i % 2 == 0 { "editor" } else { "admin" }, "/api/v1/orgs/acme/risks", &body).await.status.as_u16()
        }
    });
    let actions = (0..8).map(|i| {
        let t = &t;
        async move { t.post("editor", "/api/v1/orgs/acme/actions", &json!({"title": format!("Action {i}")})).await.status.as_u16() }
    });
    let (created, acted) = futures::future::join(futures::future::join_all(creates), futures::future::join_all(actions)).await;
    assert!(created.iter().chain(&acted).all(|s| *s == 201), "{created:?} {acted:?}");
    assert_eq!(t.event_count().await, events + 24);
    let verify = t.get("auditor", "/api/v1/orgs/acme/activity/verify").await;
    assert_eq!(verify.status, 200, "{}", verify.text);
    let trace = t.get("viewer", &format!("/api/v1/orgs/acme/ai-systems/{id}/trace")).await.json();
    assert_eq!(trace["counts"]["risk"], 16);
}

async fn service_routes_answer(backend: Backend) {
    let t = TestApp::start(backend).await;
    let health = t.client.get(format!("{}/healthz", t.base)).send().await.expect("send");
    assert_eq!(health.status(), 200);
    let _ = t.get("viewer", "/api/v1/orgs/acme/controls").await;
    let metrics = t.client.get(format!("{}/metrics", t.base)).send().await.expect("send");
    assert_eq!(metrics.status(), 200);
    assert!(metrics.headers()["content-type"].to_str().is_ok_and(|c| c.starts_with("text/plain")));
    let openapi: serde_json::Value =
        t.client.get(format!("{}/api/openapi.json", t.base)).send().await.expect("send").json().await.expect("json");
    assert_eq!(openapi["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
}

on_both_backends!(
    stale_if_match_is_412_and_writes_nothing,
    missing_if_match_is_428,
    if_match_star_matches_the_current_version,
    the_bearer_scheme_is_case_insensitive,
    bad_bodies_get_the_right_status,
    every_bad_field_is_named,
    exclusion_needs_a_justification,
    catalogue_text_is_read_only,
    unknown_routes_and_records_are_404,
    unauthenticated_is_401,
    concurrent_edits_never_lose_an_update,
    concurrent_writers_all_land,
    service_routes_answer,
);
