//! One's own sessions on the account page: each with its device (from the User-Agent) and
//! times, the current one marked; one signed out by a handle that is not the cookie's secret;
//! all the others at once; and an admin's "sign out everywhere" ending every session of the
//! member. Each sign-out is an event. On both backends.

use aims_domain::identity::Role;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use super::{Backend, TestUi, encode, member_of, start_on};

const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
const FIREFOX_ANDROID: &str = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0";
const SAFARI_MAC: &str =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15";

/// Signs in as `role` from a browser that says `user_agent`; the session cookie.
async fn sign_in_from(ui: &TestUi, role: Role, user_agent: &str) -> String {
    let user = &ui.users[&role];
    let body = format!("email={}&password={}&next=", encode(&user.email), encode(&user.password));
    let request = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::USER_AGENT, user_agent)
        .body(Body::from(body))
        .expect("request");
    let reply = ui.send(request).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    reply.cookie.expect("session cookie")
}

/// The sign-out form actions of the sessions listed, in page order.
fn sign_out_actions(html: &str) -> Vec<String> {
    html.match_indices(r#"action="/orgs/demo/account/sessions/"#)
        .map(|(at, _)| html[at + 8..].chars().take_while(|c| *c != '"').collect::<String>())
        .filter(|action| action.ends_with("/sign-out"))
        .collect()
}

async fn signed_in(ui: &TestUi, cookie: &str) -> bool {
    ui.get("/orgs/demo/", Some(cookie)).await.status == StatusCode::OK
}

async fn sessions(backend: Backend) {
    let Some(ui) = start_on(backend).await else { return };
    let desktop = sign_in_from(&ui, Role::Editor, CHROME_LINUX).await;
    let phone = sign_in_from(&ui, Role::Editor, FIREFOX_ANDROID).await;
    let laptop = sign_in_from(&ui, Role::Editor, SAFARI_MAC).await;
    let page = ui.get("/orgs/demo/account", Some(&desktop)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for device in ["Chrome on Linux", "Firefox on Android", "Safari on macOS"] {
        assert!(page.body.contains(device), "{device} listed");
    }
    assert_eq!(page.body.matches("This session").count(), 1, "the current session is marked once");
    assert!(page.body.contains("UTC"), "times shown");
    for cookie in [&desktop, &phone, &laptop] {
        let secret = cookie.split_once('=').map(|(_, v)| v).expect("cookie value");
        assert!(!page.body.contains(secret), "a session's id (the cookie's secret) is never in the page");
    }
    // Two others, each with its own sign-out form; the current one signs out by /logout.
    let actions = sign_out_actions(&page.body);
    assert_eq!(actions.len(), 2, "{actions:?}");

    // Sign out the phone: find its row's form.
    let phone_row = page.body.find("Firefox on Android").expect("phone row");
    let phone_action = sign_out_actions(&page.body[phone_row..]).into_iter().next().expect("phone's form");
    let events = ui.app.log_head("demo").await.expect("head").0;
    let out = ui.post(&phone_action, Some(&desktop), &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    assert_eq!(out.location.as_deref(), Some("/orgs/demo/account?done=session"));
    assert!(!signed_in(&ui, &phone).await, "the phone is signed out");
    assert!(signed_in(&ui, &desktop).await && signed_in(&ui, &laptop).await);
    assert_eq!(ui.app.log_head("demo").await.expect("head").0, events + 1, "one event");
    // Its form no longer works, and another person's session cannot be named.
    assert_eq!(ui.post(&phone_action, Some(&desktop), &[]).await.status, StatusCode::NOT_FOUND);
    let owner = sign_in_from(&ui, Role::Owner, CHROME_LINUX).await;
    let laptop_action = sign_out_actions(&ui.get("/orgs/demo/account", Some(&desktop)).await.body).into_iter().next().expect("laptop");
    assert_eq!(ui.post(&laptop_action, Some(&owner), &[]).await.status, StatusCode::NOT_FOUND, "only one's own sessions");
    assert!(signed_in(&ui, &laptop).await);

    // Sign out every other session.
    let others = ui.post("/orgs/demo/account/sessions/sign-out-others", Some(&desktop), &[]).await;
    assert_eq!(others.status, StatusCode::SEE_OTHER, "{}", others.body);
    assert!(!signed_in(&ui, &laptop).await, "the laptop is signed out");
    assert!(signed_in(&ui, &desktop).await, "this session stays");
    let page = ui.get("/orgs/demo/account?done=others", Some(&desktop)).await;
    assert!(page.body.contains("Every other session is signed out.") && sign_out_actions(&page.body).is_empty());
    let log = ui.get("/orgs/demo/activity", Some(&owner)).await.body.to_lowercase();
    assert!(log.contains("sign out session") && log.contains("sign out other sessions"), "both are events");

    // An admin signs the member out everywhere: every one of their sessions ends.
    let again = sign_in_from(&ui, Role::Editor, FIREFOX_ANDROID).await;
    let admin = ui.sign_in(Role::Admin).await;
    let editor_id = member_of(&ui, Role::Editor).await.user_id;
    let everywhere = ui.post(&format!("/orgs/demo/members/{editor_id}/sign-out"), Some(&admin), &[]).await;
    assert_eq!(everywhere.status, StatusCode::SEE_OTHER, "{}", everywhere.body);
    assert!(!signed_in(&ui, &desktop).await && !signed_in(&ui, &again).await, "every session of the member ended");
    assert!(signed_in(&ui, &owner).await, "other people's sessions stay");
}

#[tokio::test]
async fn sessions_are_listed_and_signed_out_sqlite() {
    sessions(Backend::Sqlite).await;
}

#[tokio::test]
async fn sessions_are_listed_and_signed_out_postgres() {
    sessions(Backend::Postgres).await;
}
