//! Members and invitations: role changes and deactivation under one rule (admins and owners;
//! nobody changes their own membership; only owners make or unmake owners; an active owner
//! always remains), deactivation effective at once, single-use invitations, and the log.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, ROLES, TestApp};

async fn member_id(t: &TestApp, role: &str) -> String {
    t.member(role).await.user_id
}

async fn current_version(t: &TestApp, id: &str) -> i64 {
    let reply = t.get("viewer", &format!("/api/v1/orgs/acme/members/{id}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("etag"), Some(format!("\"{}\"", reply.json()["version"]).as_str()));
    reply.json()["version"].as_i64().expect("version")
}

async fn members_are_listed_with_their_role_and_sign_in(backend: Backend) {
    let t = TestApp::start(backend).await;
    t.app.login("editor@acme.example", "correct horse battery staple", "127.0.0.1").await.expect("sign in");
    let mut emails = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/orgs/acme/members?limit=2&cursor={c}"),
            None => "/api/v1/orgs/acme/members?limit=2".into(),
        };
        let page = t.get("viewer", &path).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let body = page.json();
        for item in body["items"].as_array().expect("items") {
            emails.push(item["email"].as_str().expect("email").to_owned());
            assert_eq!(item["active"], true);
            let signed_in = item["last_sign_in_at"].is_string();
            assert_eq!(signed_in, item["email"] == "editor@acme.example", "{item}");
        }
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let mut expected: Vec<String> = ROLES.iter().chain(&["author", "approver"]).map(|r| format!("{r}@acme.example")).collect();
    expected.sort();
    assert_eq!(emails, expected, "every member once, in e-mail order, across pages");
    t.get("viewer", "/api/v1/orgs/acme/members?cursor=c1.0000000000000001").await.problem(422);
    t.get("viewer", "/api/v1/orgs/acme/members?colour=red").await.problem(422);
    let other =
        t.call(&t.other_token, Method::GET, &format!("/api/v1/orgs/acme/members/{}", member_id(&t, "editor").await), None, &[]).await;
    assert_eq!(other.status, 404, "another organisation's member is not found");
}

async fn role_changes_follow_the_one_rule(backend: Backend) {
    let t = TestApp::start(backend).await;
    let editor = member_id(&t, "editor").await;
    let path = format!("/api/v1/orgs/acme/members/{editor}");
    for role in ["editor", "auditor", "viewer"] {
        let refused = t.patch(role, &path, current_version(&t, &editor).await, &json!({"role": "admin"})).await;
        refused.problem(403);
        assert!(refused.text.contains("role-permission"), "{}", refused.text);
    }
    // Nobody raises their own role, not even an owner or admin.
    for role in ["admin", "owner"] {
        let me = member_id(&t, role).await;
        let own =
            t.patch(role, &format!("/api/v1/orgs/acme/members/{me}"), current_version(&t, &me).await, &json!({"role": "owner"})).await;
        own.problem(403);
        assert!(own.text.contains("separation-of-duties: (self)"), "{}", own.text);
    }
    // An admin cannot make an owner, nor change an owner.
    let made_owner = t.patch("admin", &path, current_version(&t, &editor).await, &json!({"role": "owner"})).await;
    made_owner.problem(403);
    let owner = member_id(&t, "owner").await;
    let demoted = t
        .patch("admin", &format!("/api/v1/orgs/acme/members/{owner}"), current_version(&t, &owner).await, &json!({"role": "viewer"}))
        .await;
    demoted.problem(403);
    // An admin changes an editor's role; the token acts with the new role on its next request.
    let before = t.event_count().await;
    let version = current_version(&t, &editor).await;
    let changed = t.patch("admin", &path, version, &json!({"role": "viewer"})).await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.json()["role"], "viewer");
    assert_eq!(changed.json()["version"], version + 1);
    assert_eq!(t.event_count().await, before + 1);
    let edit = t.post("editor", "/api/v1/orgs/acme/context-issues", &json!({"title": "x", "kind": "internal", "description": "x"})).await;
    edit.problem(403);
    // A stale version changes nothing.
    let stale = t.patch("admin", &path, version, &json!({"role": "auditor"})).await;
    stale.problem(412);
    let missing = t.call(t.token("admin"), Method::PATCH, &path, Some(&json!({"role": "auditor"})), &[]).await;
    missing.problem(428);
    let bad = t.patch("admin", &path, version + 1, &json!({"role": "king", "colour": 1, "active": "yes"})).await;
    let mut fields = bad.problem(422);
    fields.sort();
    assert_eq!(fields, vec!["active", "colour", "role"]);
    assert_eq!(t.event_count().await, before + 1, "refusals write nothing");
    let events = t.get("owner", &format!("/api/v1/orgs/acme/activity?record_type=membership&record_id={editor}")).await.json();
    let last = events["items"].as_array().and_then(|items| items.iter().find(|e| e["action"] == "update")).cloned().unwrap_or(Value::Null);
    assert_eq!(last["changes"]["role"], json!({"from": "editor", "to": "viewer"}));
}

async fn a_deactivated_member_loses_this_organisation_at_once(backend: Backend) {
    let t = TestApp::start(backend).await;
    let editor = member_id(&t, "editor").await;
    let path = format!("/api/v1/orgs/acme/members/{editor}");
    assert_eq!(t.get("editor", "/api/v1/orgs/acme/controls").await.status, 200);
    let off = t.patch("admin", &path, current_version(&t, &editor).await, &json!({"active": false})).await;
    assert_eq!(off.status, 200, "{}", off.text);
    assert_eq!(off.json()["active"], false);
    assert_eq!(off.json()["role"], "editor", "the role is kept for reactivation");
    t.get("editor", "/api/v1/orgs/acme/controls").await.problem(401);
    let on = t.patch("admin", &path, current_version(&t, &editor).await, &json!({"active": true})).await;
    assert_eq!(on.status, 200, "{}", on.text);
    assert_eq!(t.get("editor", "/api/v1/orgs/acme/controls").await.status, 200);
    let actions: Vec<String> =
        t.get("owner", &format!("/api/v1/orgs/acme/activity?record_type=membership&record_id={editor}")).await.json()["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
            .collect();
    assert!(actions.contains(&"deactivate".to_owned()) && actions.contains(&"reactivate".to_owned()), "{actions:?}");
}

async fn an_owner_is_changed_only_by_another_owner(backend: Backend) {
    let t = TestApp::start(backend).await;
    let owner = member_id(&t, "owner").await;
    let admin = member_id(&t, "admin").await;
    let own = t.patch("owner", &format!("/api/v1/orgs/acme/members/{owner}"), 0, &json!({"active": false})).await;
    own.problem(403);
    let promoted =
        t.patch("owner", &format!("/api/v1/orgs/acme/members/{admin}"), current_version(&t, &admin).await, &json!({"role": "owner"})).await;
    assert_eq!(promoted.status, 200, "{}", promoted.text);
    // Now another owner may deactivate the first one; the organisation keeps an active owner,
    // who cannot demote themselves: so it never ends up without one.
    let off =
        t.patch("admin", &format!("/api/v1/orgs/acme/members/{owner}"), current_version(&t, &owner).await, &json!({"active": false})).await;
    assert_eq!(off.status, 200, "{}", off.text);
    t.get("owner", "/api/v1/orgs/acme/controls").await.problem(401);
    let last = t
        .patch("admin", &format!("/api/v1/orgs/acme/members/{admin}"), current_version(&t, &admin).await, &json!({"role": "viewer"}))
        .await;
    last.problem(403);
}

async fn an_invitation_works_once(backend: Backend) {
    let t = TestApp::start(backend).await;
    t.post("editor", "/api/v1/orgs/acme/invitations", &json!({"email": "new@acme.example", "role": "viewer"})).await.problem(403);
    t.post("admin", "/api/v1/orgs/acme/invitations", &json!({"email": "new@acme.example", "role": "owner"})).await.problem(403);
    let bad = t.post("admin", "/api/v1/orgs/acme/invitations", &json!({"email": "not an address", "colour": 1})).await;
    let mut fields = bad.problem(422);
    fields.sort();
    assert_eq!(fields, vec!["colour", "email", "role"]);
    t.post("admin", "/api/v1/orgs/acme/invitations", &json!({"email": "editor@acme.example", "role": "viewer"})).await.problem(409);
    let before = t.event_count().await;
    let created = t.post("admin", "/api/v1/orgs/acme/invitations", &json!({"email": "new@acme.example", "role": "auditor"})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let body = created.json();
    let link = body["accept_url"].as_str().expect("link").to_owned();
    let secret = link.strip_prefix("/invitations/").expect("path").to_owned();
    assert_eq!(body["status"], "pending");
    assert_eq!(t.event_count().await, before + 1);
    let listed = t.get("admin", "/api/v1/orgs/acme/invitations").await.json();
    assert!(listed["items"].as_array().expect("items").iter().all(|i| i.get("accept_url").is_none()), "links are shown once");
    let events = t.get("owner", "/api/v1/orgs/acme/activity?record_type=invitation").await.text;
    assert!(!events.contains(&secret), "no event holds the link");

    let (user, slug) = t.app.accept_invitation(&secret, "a long and unusual passphrase 42", Some("New Person")).await.expect("accept");
    assert_eq!(slug, "acme");
    assert_eq!(user.email, "new@acme.example");
    let again = t.app.accept_invitation(&secret, "a long and unusual passphrase 42", Some("New Person")).await;
    assert!(matches!(again, Err(aims_app::AppError::NotFound(_))), "the link works once");
    let member = t.get("owner", &format!("/api/v1/orgs/acme/members/{}", user.id)).await;
    assert_eq!(member.json()["role"], "auditor");
    let accepted = t.get("admin", "/api/v1/orgs/acme/invitations").await.json();
    assert_eq!(accepted["items"][0]["status"], "accepted");
    t.call(t.token("admin"), Method::DELETE, &format!("/api/v1/orgs/acme/invitations/{}", body["id"].as_str().expect("id")), None, &[])
        .await
        .problem(409);

    let revoked = t.post("admin", "/api/v1/orgs/acme/invitations", &json!({"email": "later@acme.example", "role": "viewer"})).await.json();
    let revoked_secret = revoked["accept_url"].as_str().and_then(|l| l.strip_prefix("/invitations/")).expect("link").to_owned();
    let reply = t
        .call(
            t.token("admin"),
            Method::DELETE,
            &format!("/api/v1/orgs/acme/invitations/{}", revoked["id"].as_str().expect("id")),
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["status"], "revoked");
    assert!(t.app.invitation_preview(&revoked_secret).await.is_err(), "a revoked link opens nothing");
}

async fn an_existing_account_joins_with_its_own_password(backend: Backend) {
    let t = TestApp::start(backend).await;
    // The owner of `other` is invited to acme.
    let created = t.post("owner", "/api/v1/orgs/acme/invitations", &json!({"email": "owner@other.example", "role": "editor"})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let secret = created.json()["accept_url"].as_str().and_then(|l| l.strip_prefix("/invitations/")).expect("link").to_owned();
    assert!(t.app.invitation_preview(&secret).await.expect("preview").existing_user);
    let wrong = t.app.accept_invitation(&secret, "not the password at all", None).await;
    assert!(matches!(wrong, Err(aims_app::AppError::Validation(ref e)) if e.0[0].field == "password"), "{wrong:?}");
    let (user, _) = t.app.accept_invitation(&secret, "correct horse battery staple", None).await.expect("accept");
    let member = t.get("owner", &format!("/api/v1/orgs/acme/members/{}", user.id)).await.json();
    assert_eq!(member["role"], "editor");
}

on_both_backends!(
    members_are_listed_with_their_role_and_sign_in,
    role_changes_follow_the_one_rule,
    a_deactivated_member_loses_this_organisation_at_once,
    an_owner_is_changed_only_by_another_owner,
    an_invitation_works_once,
    an_existing_account_joins_with_its_own_password,
);
