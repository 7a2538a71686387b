//! API tokens: shown once, act for their membership, revocable with effect on the next request.

use aims_store::model::Actor;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, TestApp};

async fn created_token_works_until_revoked(backend: Backend) {
    let t = TestApp::start(backend).await;
    let created = t.post("auditor", "/api/v1/orgs/acme/tokens", &json!({"name": "scripts", "expires_days": 30})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let body = created.json();
    let secret = body["token"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("aims_") && secret.len() >= 48);
    assert!(body["expires_at"].is_string());
    let id = body["id"].as_str().expect("id").to_owned();
    let works = t.call(&secret, Method::GET, "/api/v1/orgs/acme/controls", None, &[]).await;
    assert_eq!(works.status, 200);
    let listed = t.get("auditor", "/api/v1/orgs/acme/tokens").await.json();
    let items = listed["items"].as_array().expect("items");
    assert!(items.iter().any(|i| i["id"] == id));
    assert!(items.iter().all(|i| i.get("token").is_none()), "secrets are never listed");
    let revoked = t.call(&secret, Method::DELETE, &format!("/api/v1/orgs/acme/tokens/{id}"), None, &[]).await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    let refused = t.call(&secret, Method::GET, "/api/v1/orgs/acme/controls", None, &[]).await;
    refused.problem(401);
    let again = t.call(t.token("admin"), Method::DELETE, &format!("/api/v1/orgs/acme/tokens/{id}"), None, &[]).await;
    again.problem(409);
}

async fn token_input_is_checked(backend: Backend) {
    let t = TestApp::start(backend).await;
    let reply = t.post("viewer", "/api/v1/orgs/acme/tokens", &json!({"expires_days": 0, "colour": "red", "name": 5})).await;
    let mut fields = reply.problem(422);
    fields.sort();
    assert_eq!(fields, vec!["colour", "name"]);
    let reply = t.post("viewer", "/api/v1/orgs/acme/tokens", &json!({"expires_days": 0})).await;
    assert_eq!(reply.problem(422), vec!["expires_days"]);
    let reply = t.post("viewer", "/api/v1/orgs/acme/tokens", &json!({"name": "x".repeat(101)})).await;
    assert_eq!(reply.problem(422), vec!["name"]);
}

async fn a_deactivated_user_loses_access_at_once(backend: Backend) {
    let t = TestApp::start(backend).await;
    assert_eq!(t.get("editor", "/api/v1/orgs/acme/controls").await.status, 200);
    t.app.deactivate_user("editor@acme.example", &Actor::System("test")).await.expect("deactivate");
    t.get("editor", "/api/v1/orgs/acme/controls").await.problem(401);
}

async fn a_token_acts_with_the_current_role(backend: Backend) {
    let t = TestApp::start(backend).await;
    let patch = json!({"notes": "x"});
    assert_eq!(t.patch("viewer", "/api/v1/orgs/acme/requirements/4.1", 1, &patch).await.status, 403);
    t.app.create_member("viewer@acme.example", "acme", "editor", "", None, &Actor::System("test")).await.expect("promote");
    assert_eq!(t.patch("viewer", "/api/v1/orgs/acme/requirements/4.1", 1, &patch).await.status, 200);
}

on_both_backends!(
    created_token_works_until_revoked,
    token_input_is_checked,
    a_deactivated_user_loses_access_at_once,
    a_token_acts_with_the_current_role
);
