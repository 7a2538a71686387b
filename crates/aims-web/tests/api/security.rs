//! The security settings (`settings/security`) and two-step enforcement over the API: everyone
//! reads the rule, only an owner changes it (with If-Match); while it applies to a member who
//! has not enrolled, their browser session is refused (403 naming the rule) and they may not
//! create API tokens, while their existing bearer tokens keep working.

use aims_store::sessions::{COOKIE_NAME, DbSessionStore, USER_ID_KEY};
use reqwest::Method;
use serde_json::json;
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};

use crate::helpers::{Backend, TestApp};

const PATH: &str = "/api/v1/orgs/acme/settings/security";

/// A signed-in browser session of the member with `role`, as the UI would leave it.
async fn session_cookie(t: &TestApp, role: &str) -> String {
    let member = t.member(role).await;
    let mut record = Record {
        id: Id::default(),
        data: [(USER_ID_KEY.to_owned(), json!(member.user_id))].into_iter().collect(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    DbSessionStore::new(t.app.db.clone()).create(&mut record).await.expect("session");
    format!("{COOKIE_NAME}={}", record.id)
}

async fn with_cookie(t: &TestApp, cookie: &str, method: Method, path: &str, body: Option<serde_json::Value>) -> (u16, String) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", t.base)).header("cookie", cookie);
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.expect("request");
    (response.status().as_u16(), response.text().await.expect("body"))
}

async fn owners_change_the_rule_with_if_match(backend: Backend) {
    let t = TestApp::start(backend).await;
    let read = t.get("viewer", PATH).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.json(), json!({"mfa_required": "off", "version": 1}));
    assert_eq!(read.header("etag"), Some("\"1\""));

    let refused = t.patch("admin", PATH, 1, &json!({"mfa_required": "everyone"})).await;
    refused.problem(403);
    assert!(refused.json()["detail"].as_str().is_some_and(|d| d.contains("rule")));
    assert_eq!(t.patch("owner", PATH, 1, &json!({"mfa_required": "sometimes"})).await.problem(422), vec!["mfa_required"]);
    assert_eq!(t.patch("owner", PATH, 1, &json!({"colour": "red"})).await.problem(422), vec!["colour", "mfa_required"]);
    let events = t.event_count().await;
    let changed = t.patch("owner", PATH, 1, &json!({"mfa_required": "admins"})).await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.json(), json!({"mfa_required": "admins", "version": 2}));
    assert_eq!(t.event_count().await, events + 1, "one event for the change");
    t.patch("owner", PATH, 1, &json!({"mfa_required": "everyone"})).await.problem(412);
    let log = t.get("viewer", "/api/v1/orgs/acme/activity?record_type=security_settings").await.json();
    assert_eq!(log["items"][0]["changes"]["mfa_required"], json!({"from": "off", "to": "admins"}));
}

async fn enforcement_refuses_sessions_and_new_tokens_until_enrolled(backend: Backend) {
    let t = TestApp::start(backend).await;
    let admin_session = session_cookie(&t, "admin").await;
    let editor_session = session_cookie(&t, "editor").await;
    let (status, _) = with_cookie(&t, &admin_session, Method::GET, "/api/v1/orgs/acme/controls", None).await;
    assert_eq!(status, 200, "sessions work while the rule is off");

    assert_eq!(t.patch("owner", PATH, 1, &json!({"mfa_required": "admins"})).await.status, 200);
    let (status, body) = with_cookie(&t, &admin_session, Method::GET, "/api/v1/orgs/acme/controls", None).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("rule mfa-required") && body.contains("owners and admins"), "the rule is named: {body}");
    let (status, _) = with_cookie(&t, &editor_session, Method::GET, "/api/v1/orgs/acme/controls", None).await;
    assert_eq!(status, 200, "the rule applies to owners and admins only");

    // Bearer tokens stay valid; a new token is refused, naming the rule.
    assert_eq!(t.get("admin", "/api/v1/orgs/acme/controls").await.status, 200);
    let refused = t.post("admin", "/api/v1/orgs/acme/tokens", &json!({"name": "ci"})).await;
    refused.problem(403);
    assert!(refused.json()["detail"].as_str().is_some_and(|d| d.contains("mfa-required")));
    assert_eq!(t.post("editor", "/api/v1/orgs/acme/tokens", &json!({"name": "ci"})).await.status, 201);

    // The members list says who has a second step.
    let members = t.get("viewer", "/api/v1/orgs/acme/members").await.json();
    let items = members["items"].as_array().expect("items");
    assert!(items.iter().all(|m| m["mfa"] == json!({"totp": false})), "{items:?}");

    // Everyone: the editor's session is refused too; off again: both work.
    assert_eq!(t.patch("owner", PATH, 2, &json!({"mfa_required": "everyone"})).await.status, 200);
    let (status, _) = with_cookie(&t, &editor_session, Method::GET, "/api/v1/orgs/acme/controls", None).await;
    assert_eq!(status, 403);
    assert_eq!(
        t.call(t.token("owner"), Method::PATCH, PATH, Some(&json!({"mfa_required": "off"})), &[("if-match", "*")]).await.status,
        200
    );
    let (status, _) = with_cookie(&t, &admin_session, Method::GET, "/api/v1/orgs/acme/controls", None).await;
    assert_eq!(status, 200);
}

on_both_backends!(owners_change_the_rule_with_if_match, enforcement_refuses_sessions_and_new_tokens_until_enrolled);
