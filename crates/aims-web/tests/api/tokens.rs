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

/// The hot reads (a list page, one record) reuse a token check this server made, but only with a
/// read that proves nothing it read has changed since: a revocation, a deactivation, a role or
/// an organisation changed by another process on the same database applies to the very next
/// request here too.
async fn remembered_checks_give_way_to_changes_made_elsewhere(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (list, detail) = ("/api/v1/orgs/acme/controls", "/api/v1/orgs/acme/controls/A.6.2.4");
    for role in ["viewer", "auditor"] {
        for _ in 0..2 {
            assert_eq!(t.get(role, list).await.status, 200);
            assert_eq!(t.get(role, detail).await.status, 200);
        }
    }
    // Another process: the CLI, or a second server.
    let (elsewhere, _) = aims_app::App::open(&t.database_url).await.expect("open a second app");
    let system = Actor::System("cli");
    let viewer = elsewhere.member_by_email("viewer@acme.example", "acme").await.expect("viewer");
    let token = elsewhere.list_tokens_of(&viewer).await.expect("tokens").into_iter().next().expect("viewer's token");
    elsewhere.revoke_token_by_id(&token.id, &system).await.expect("revoke");
    t.get("viewer", list).await.problem(401);
    t.get("viewer", detail).await.problem(401);
    elsewhere.deactivate_user("auditor@acme.example", &system).await.expect("deactivate");
    t.get("auditor", detail).await.problem(401);
    t.get("auditor", list).await.problem(401);
    // A token of another organisation is told apart from an invalid one, remembered or not.
    t.get("admin", "/api/v1/orgs/other/controls").await.problem(404);
    assert_eq!(t.get("admin", list).await.status, 200);
    t.get("admin", "/api/v1/orgs/other/controls/A.6.2.4").await.problem(404);
    // A remembered check survives what does not change it: records written, uses recorded.
    let generation = aims_store::tokens::generation(&t.app.db).await.expect("generation");
    assert_eq!(
        t.post("admin", "/api/v1/orgs/acme/context-issues", &json!({"title": "Regulation", "issue_type": "external"})).await.status,
        201
    );
    assert_eq!(t.get("admin", list).await.status, 200);
    assert_eq!(aims_store::tokens::generation(&t.app.db).await.expect("generation"), generation);
}

on_both_backends!(
    remembered_checks_give_way_to_changes_made_elsewhere,
    created_token_works_until_revoked,
    token_input_is_checked,
    a_deactivated_user_loses_access_at_once,
    a_token_acts_with_the_current_role
);
