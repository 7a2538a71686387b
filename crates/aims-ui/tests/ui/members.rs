//! The members page: everyone listed with their role and last sign-in; an admin invites
//! (the link shown once), changes a role and deactivates with forms, never their own row; the
//! invited person accepts on the link's page and lands signed in; a viewer reads without forms;
//! one's own account changes name and password. On both backends.

use aims_domain::identity::Role;
use axum::http::StatusCode;

use super::{Backend, member_of, start_on};

/// The invitation link shown on the page, as a path.
fn shown_link(html: &str) -> String {
    let at = html.find(r#"id="invite-link">"#).expect("link shown") + r#"id="invite-link">"#.len();
    let link: String = html[at..].chars().take_while(|c| *c != '<').collect();
    link.split_once("/invitations/").map(|(_, secret)| format!("/invitations/{secret}")).expect("an invitation path")
}

async fn members(backend: Backend) {
    let Some(ui) = start_on(backend).await else { return };
    let admin = ui.sign_in(Role::Admin).await;
    let page = ui.get("/orgs/demo/members", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for role in [Role::Owner, Role::Editor, Role::Viewer] {
        assert!(page.body.contains(&ui.users[&role].email), "{role:?} listed");
    }
    assert!(page.body.contains("(you)"));
    let me = member_of(&ui, Role::Admin).await;
    assert!(!page.body.contains(&format!(r#"action="/orgs/demo/members/{}""#, me.user_id)), "no controls on one's own row");
    let owner = member_of(&ui, Role::Owner).await;
    assert!(!page.body.contains(&format!(r#"action="/orgs/demo/members/{}""#, owner.user_id)), "an admin cannot change an owner");
    assert!(!page.body.contains(r#"<option value="owner""#), "an admin cannot give the owner role");

    // Invite: a bad address keeps what was typed; then the link is shown once.
    let refused = ui.post("/orgs/demo/members", Some(&admin), &[("email", "nobody"), ("role", "editor")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains(r#"id="email-error""#) && refused.body.contains(r#"value="nobody""#));
    let invited = ui.post("/orgs/demo/members", Some(&admin), &[("email", "new.analyst@demo.example"), ("role", "editor")]).await;
    assert_eq!(invited.status, StatusCode::OK, "{}", invited.body);
    let link = shown_link(&invited.body);
    assert!(invited.body.contains("new.analyst@demo.example") && invited.body.contains("pending"));
    let again = ui.get("/orgs/demo/members", Some(&admin)).await;
    assert!(!again.body.contains(&link), "the link is shown only once");

    // The invited person opens it, is refused a weak password, then joins signed in.
    let offer = ui.get(&link, None).await;
    assert_eq!(offer.status, StatusCode::OK, "{}", offer.body);
    assert!(offer.body.contains("Join") && offer.body.contains("editor") && offer.body.contains(r#"id="display_name""#));
    let weak = ui.post(&link, None, &[("display_name", "Nia Analyst"), ("password", "short")]).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains(r#"id="password-error""#) && weak.body.contains(r#"value="Nia Analyst""#));
    let joined = ui.post(&link, None, &[("display_name", "Nia Analyst"), ("password", "violet kayak under nine bridges")]).await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.body);
    assert_eq!(joined.location.as_deref(), Some("/orgs/demo/"));
    let cookie = joined.cookie.expect("signed in");
    assert_eq!(ui.get("/orgs/demo/ai-systems", Some(&cookie)).await.status, StatusCode::OK);
    let used = ui.get(&link, None).await;
    assert_eq!(used.status, StatusCode::NOT_FOUND, "the link works once");

    // The admin makes them a viewer, then deactivates them: their session stops opening pages.
    let nia = ui.app.member_by_email("new.analyst@demo.example", "demo").await.expect("member");
    let listed = ui.get("/orgs/demo/members", Some(&admin)).await;
    let version = version_of(&listed.body, &nia.user_id);
    let changed = ui.post(&format!("/orgs/demo/members/{}", nia.user_id), Some(&admin), &[("version", &version), ("role", "viewer")]).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let stale = ui.post(&format!("/orgs/demo/members/{}", nia.user_id), Some(&admin), &[("version", &version), ("role", "auditor")]).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "a stale form is refused");
    let listed = ui.get("/orgs/demo/members?done=role", Some(&admin)).await;
    assert!(listed.body.contains("Role changed"));
    let version = version_of(&listed.body, &nia.user_id);
    let off = ui.post(&format!("/orgs/demo/members/{}", nia.user_id), Some(&admin), &[("version", &version), ("active", "false")]).await;
    assert_eq!(off.status, StatusCode::SEE_OTHER, "{}", off.body);
    let shut = ui.get("/orgs/demo/ai-systems", Some(&cookie)).await;
    assert_eq!(shut.status, StatusCode::NOT_FOUND, "a deactivated member no longer opens the organisation");
    assert!(ui.get("/orgs/demo/members", Some(&admin)).await.body.contains("Deactivated"));

    // A viewer reads the list without any form; an admin's own role cannot be posted either.
    let viewer = ui.sign_in(Role::Viewer).await;
    let read = ui.get("/orgs/demo/members", Some(&viewer)).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(!read.body.contains("<form method=\"post\" action=\"/orgs/demo/members/") && !read.body.contains("Invite someone"));
    let own = ui.post(&format!("/orgs/demo/members/{}", me.user_id), Some(&admin), &[("version", "0"), ("role", "owner")]).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    assert!(own.body.contains("separation-of-duties"), "{}", own.body);
}

/// The version in a member row's form.
fn version_of(html: &str, user_id: &str) -> String {
    let at = html.find(&format!(r#"action="/orgs/demo/members/{user_id}""#)).expect("the member's form");
    super::form_version(&html[at..])
}

async fn account(backend: Backend) {
    let Some(ui) = start_on(backend).await else { return };
    let editor = ui.sign_in(Role::Editor).await;
    let page = ui.get("/orgs/demo/account", Some(&editor)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let renamed = ui.post("/orgs/demo/account/name", Some(&editor), &[("display_name", "Eddie Editor")]).await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.body);
    assert!(ui.get("/orgs/demo/account?done=name", Some(&editor)).await.body.contains("Eddie Editor"));
    let wrong = ui
        .post(
            "/orgs/demo/account/password",
            Some(&editor),
            &[("current_password", "not it"), ("new_password", "violet kayak under nine bridges")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains(r#"id="current_password-error""#));
    let other_session = ui.sign_in(Role::Editor).await;
    let current = ui.users[&Role::Editor].password.clone();
    let changed = ui
        .post(
            "/orgs/demo/account/password",
            Some(&editor),
            &[("current_password", &current), ("new_password", "violet kayak under nine bridges")],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    assert_eq!(ui.get("/orgs/demo/account", Some(&editor)).await.status, StatusCode::OK, "this session stays");
    let ended = ui.get("/orgs/demo/account", Some(&other_session)).await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER, "the other session ended");
}

#[tokio::test]
async fn members_are_invited_changed_and_deactivated_from_the_page_sqlite() {
    members(Backend::Sqlite).await;
}

#[tokio::test]
async fn members_are_invited_changed_and_deactivated_from_the_page_postgres() {
    members(Backend::Postgres).await;
}

#[tokio::test]
async fn own_account_changes_name_and_password_sqlite() {
    account(Backend::Sqlite).await;
}

#[tokio::test]
async fn own_account_changes_name_and_password_postgres() {
    account(Backend::Postgres).await;
}
