//! Single sign-on settings (`settings/sso`): admins read, only owners change, with `If-Match`;
//! the client secret is write-only — never in an answer, the activity log or the database's
//! row in plain text; a bad issuer URL or domain is a 422 naming the field.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

const PATH: &str = "/api/v1/orgs/acme/settings/sso";
const SECRET: &str = "oidc-client-secret-7f3a9c1e";

/// The server's sealing key for this test process (each test runs in its own process).
fn with_secret_key() {
    // SAFETY: set before the test starts any thread that reads the environment.
    unsafe { std::env::set_var("AIMS_SECRET_KEY", "6d".repeat(32)) };
}

fn version_of(reply: &crate::helpers::Reply) -> i64 {
    reply.json()["version"].as_i64().expect("version")
}

/// The raw `client_secret` column of acme's settings row.
async fn stored_secret(t: &TestApp) -> Option<String> {
    let org = t.app.org_by_slug("acme").await.expect("acme");
    let sql = "SELECT client_secret FROM sso_settings WHERE org_id = $1";
    if t.database_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&t.database_url).await.expect("sqlite");
        sqlx::query_scalar::<_, Option<String>>(sql).bind(&org.id).fetch_one(&pool).await.expect("row")
    } else {
        let pool = sqlx::PgPool::connect(&t.database_url).await.expect("postgres");
        sqlx::query_scalar::<_, Option<String>>(sql).bind(&org.id).fetch_one(&pool).await.expect("row")
    }
}

async fn owners_change_the_settings_admins_read_them(backend: Backend) {
    with_secret_key();
    let t = TestApp::start(backend).await;
    let defaults = t.get("admin", PATH).await;
    assert_eq!(defaults.status, 200, "{}", defaults.text);
    assert_eq!(defaults.header("etag"), Some("\"1\""));
    let body = defaults.json();
    assert_eq!(
        (body["enabled"].clone(), body["client_secret_set"].clone(), body["default_role"].clone()),
        (json!(false), json!(false), json!("viewer"))
    );
    assert!(body["redirect_uri"].as_str().is_some_and(|u| u.ends_with("/sso/acme/callback")), "{body}");
    t.get("editor", PATH).await.problem(403);

    let change = json!({"enabled": true, "issuer_url": "https://login.acme.example", "client_id": "aims",
        "client_secret": SECRET, "allowed_domains": ["acme.example"], "jit_enabled": true, "default_role": "editor",
        "role_claim": "groups", "role_map": {"aims-admins": "admin"}});
    let events = t.event_count().await;
    let refused = t.patch("admin", PATH, 1, &change).await;
    refused.problem(403);
    assert!(refused.text.contains("rule role-permission"), "{}", refused.text);
    assert_eq!(t.event_count().await, events, "a refusal writes nothing");

    // If-Match: required, and a stale version is refused.
    let missing = t.call(t.token("owner"), reqwest::Method::PATCH, PATH, Some(&change), &[]).await;
    missing.problem(428);
    t.patch("owner", PATH, 7, &change).await.problem(412);

    let saved = t.patch("owner", PATH, 1, &change).await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(t.event_count().await, events + 1, "one event");
    let body = saved.json();
    assert_eq!(body["client_secret_set"], true);
    assert_eq!(body["role_map"], json!({"aims-admins": "admin"}));
    assert!(!saved.text.contains(SECRET), "the secret is never returned: {}", saved.text);
    assert_eq!(saved.header("etag"), Some(format!("\"{}\"", version_of(&saved)).as_str()));
    let read = t.get("admin", PATH).await;
    assert!(!read.text.contains(SECRET) && read.json()["client_secret_set"] == true);

    // Sealed at rest: the row holds neither the secret's text nor anything readable as it.
    let sealed = stored_secret(&t).await.expect("a sealed secret");
    assert!(!sealed.contains(SECRET) && sealed.starts_with("v1:"), "{sealed}");
    // The log records that the secret changed, never what it is.
    let log = t.get("viewer", "/api/v1/orgs/acme/activity?record_type=sso_settings").await;
    assert!(!log.text.contains(SECRET), "{}", log.text);
    let event = &log.json()["items"][0];
    assert_eq!(event["changes"]["client_secret"], "changed", "{event}");
    assert_eq!(event["changes"]["issuer_url"]["to"], "https://login.acme.example");

    // A change without the secret keeps it; the old version is stale now.
    t.patch("owner", PATH, 1, &json!({"jit_enabled": false})).await.problem(412);
    let kept = t.patch("owner", PATH, version_of(&read), &json!({"jit_enabled": false})).await;
    assert_eq!(kept.status, 200, "{}", kept.text);
    assert_eq!(kept.json()["client_secret_set"], true);
    assert_eq!(stored_secret(&t).await.as_deref(), Some(sealed.as_str()), "untouched");
}

async fn bad_settings_are_refused_naming_the_field(backend: Backend) {
    with_secret_key();
    let t = TestApp::start(backend).await;
    let events = t.event_count().await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"issuer_url": "not a url"}), vec!["issuer_url"]),
        (json!({"issuer_url": "http://login.acme.example"}), vec!["issuer_url"]),
        (json!({"allowed_domains": ["acme.example", "exa mple"]}), vec!["allowed_domains[1]"]),
        (json!({"allowed_domains": "acme.example"}), vec!["allowed_domains"]),
        (json!({"allowed_domains": null}), vec!["allowed_domains"]),
        (json!({"allowed_domains": [" acme.example"]}), vec!["allowed_domains[0]"]),
        (json!({"default_role": "owner"}), vec!["default_role"]),
        (json!({"role_map": {"x": "owner"}, "role_claim": "groups"}), vec!["role_map.x"]),
        (json!({"colour": "red"}), vec!["colour"]),
        (json!({"enabled": true}), vec!["issuer_url", "client_id", "allowed_domains"]),
        (json!({"required": true}), vec!["required", "break_glass_owner"]),
        // Enabled without a secret stored.
        (
            json!({"enabled": true, "issuer_url": "https://login.acme.example", "client_id": "aims", "allowed_domains": ["acme.example"]}),
            vec!["client_secret"],
        ),
        // The break-glass owner must be an active owner here.
        (json!({"break_glass_owner": "admin@acme.example"}), vec!["break_glass_owner"]),
    ];
    for (patch, fields) in cases {
        let reply = t.patch("owner", PATH, 1, &patch).await;
        assert_eq!(reply.problem(422), fields, "{patch}");
    }
    assert_eq!(t.event_count().await, events, "nothing was written");
    assert_eq!(t.get("owner", PATH).await.header("etag"), Some("\"1\""));
    // Loopback http is accepted (a provider beside aims), and the break-glass owner by e-mail.
    let ok = t.patch("owner", PATH, 1, &json!({"issuer_url": "http://127.0.0.1:4000", "break_glass_owner": "owner@acme.example"})).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
}

/// Requiring SSO refuses password sign-in (and a reset link) to members, except the
/// break-glass owner; a person with no organisation requiring it is unaffected.
async fn required_sso_refuses_passwords_except_break_glass(backend: Backend) {
    with_secret_key();
    let t = TestApp::start(backend).await;
    let require = json!({"enabled": true, "issuer_url": "https://login.acme.example", "client_id": "aims", "client_secret": SECRET,
        "allowed_domains": ["acme.example"], "required": true, "break_glass_owner": "owner@acme.example"});
    let saved = t.patch("owner", PATH, 1, &require).await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    let password = "correct horse battery staple";
    let refused = t.app.login("editor@acme.example", password, "127.0.0.1").await;
    match refused {
        Err(aims_app::AppError::SignInRefused(why)) => assert!(why.contains("Acme AI requires single sign-on"), "{why}"),
        other => panic!("expected a refusal naming SSO, got {other:?}"),
    }
    // A wrong password is still just a wrong password (the refusal only follows a right one).
    assert!(matches!(t.app.login("editor@acme.example", "wrong password!", "127.0.0.1").await, Err(aims_app::AppError::Unauthorized)));
    t.app.login("owner@acme.example", password, "127.0.0.1").await.expect("the break-glass owner signs in");
    t.app.login("owner@other.example", password, "127.0.0.1").await.expect("another organisation's member signs in");
    let system = aims_store::model::Actor::System("test");
    let link = t.app.issue_password_reset("editor@acme.example", &system).await.expect("link");
    let reset = t.app.complete_password_reset(&link, "violet kayak under nine bridges").await;
    assert!(matches!(reset, Err(aims_app::AppError::SignInRefused(_))), "{reset:?}");
    assert!(t.app.password_reset_valid(&link).await.expect("valid"), "the refused reset left the link unused");
    // Lifting the requirement lets passwords in again.
    let lifted = t.patch("owner", PATH, version_of(&saved), &json!({"required": false})).await;
    assert_eq!(lifted.status, 200, "{}", lifted.text);
    t.app.login("editor@acme.example", password, "127.0.0.1").await.expect("password sign-in again");
}

on_both_backends!(
    owners_change_the_settings_admins_read_them,
    bad_settings_are_refused_naming_the_field,
    required_sso_refuses_passwords_except_break_glass,
);
