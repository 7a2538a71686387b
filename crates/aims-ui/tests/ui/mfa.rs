//! Two-step sign-in through the UI, on both backends: enrolment refuses a wrong code and takes
//! a right one; the second step at sign-in refuses a replayed code, takes a recovery code once;
//! wrong codes are throttled like wrong passwords; an organisation's rule leads an unenrolled
//! member to enrolment from every other page (the API's refusal is in aims-web's tests); the activity log
//! records every change and holds no secret or code.

use aims_domain::identity::Role;
use aims_store::activity::ActivityFilter;
use axum::http::StatusCode;
use totp_rs::{Secret, Totp};

use super::{Backend, TestUi, member_of, start_on};

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// Tests never create the default key file: they give the server its key.
fn set_key() {
    // SAFETY: each test runs in its own process (nextest) and sets this before any thread reads it.
    unsafe { std::env::set_var("AIMS_SECRET_KEY", KEY) };
}

fn authenticator(base32: &str) -> Totp {
    let secret = Secret::try_from_base32(base32).expect("base32 secret");
    totp_rs::Builder::new().with_secret(secret).build().expect("totp")
}

fn now() -> u64 {
    u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).expect("after 1970")
}

/// The text of the element with this id.
fn element_text(html: &str, id: &str) -> String {
    let marker = format!(r#"id="{id}">"#);
    let at = html.find(&marker).unwrap_or_else(|| panic!("{id} in page")) + marker.len();
    html[at..].chars().take_while(|c| *c != '<').collect()
}

fn recovery_codes(html: &str) -> Vec<String> {
    let at = html.find(r#"id="recovery-codes""#).expect("codes shown");
    let end = html[at..].find("</ul>").expect("list end") + at;
    html[at..end].split("<code>").skip(1).map(|c| c.split('<').next().unwrap_or_default().to_owned()).collect()
}

/// Enrols the signed-in member: a wrong code first, then the right one. Returns the
/// authenticator, the recovery codes and the base32 secret.
async fn enrol(ui: &TestUi, cookie: &str) -> (Totp, Vec<String>, String) {
    let started = ui.post("/orgs/demo/account/two-step/start", Some(cookie), &[]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let page = ui.get("/orgs/demo/account/two-step", Some(cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(r#"<svg class="qr" role="img""#), "a QR code drawn by the server");
    let secret: String = element_text(&page.body, "totp-secret").split_whitespace().collect();
    let totp = authenticator(&secret);
    let right = totp.generate(now()).to_string();
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let refused = ui.post("/orgs/demo/account/two-step/confirm", Some(cookie), &[("code", wrong)]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains(r#"id="code-error""#));
    let confirmed = ui.post("/orgs/demo/account/two-step/confirm", Some(cookie), &[("code", &right)]).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    let codes = recovery_codes(&confirmed.body);
    assert_eq!(codes.len(), 10);
    let again = ui.get("/orgs/demo/account/two-step", Some(cookie)).await;
    assert!(again.body.contains("On: authenticator app") && again.body.contains("10 unused recovery codes"));
    assert!(!again.body.contains(&codes[0]), "recovery codes are shown once");
    (totp, codes, secret)
}

/// Password step of a sign-in: the session is only pending, and leads to the second step.
async fn password_step(ui: &TestUi, role: Role) -> String {
    let user = &ui.users[&role];
    let reply = ui.post("/login", None, &[("email", &user.email), ("password", &user.password), ("next", "/orgs/demo/risks")]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location.as_deref(), Some("/login/second-step"));
    let cookie = reply.cookie.expect("pending session");
    let blocked = ui.get("/orgs/demo/", Some(&cookie)).await;
    assert_eq!(blocked.location.as_deref(), Some("/login?next=/orgs/demo/"), "a pending session opens nothing");
    cookie
}

async fn whole_log(ui: &TestUi) -> String {
    let owner = member_of(ui, Role::Owner).await;
    let mut text = String::new();
    let mut after = 0;
    loop {
        let page = ui.app.list_activity(&owner, &ActivityFilter::default(), after, Some(200)).await.expect("log");
        for event in &page.items {
            text.push_str(&format!("{event:?}\n"));
        }
        match page.next_after {
            Some(next) => after = next,
            None => return text,
        }
    }
}

async fn enrolment_and_sign_in(backend: Backend) {
    set_key();
    let Some(ui) = start_on(backend).await else { return };
    let cookie = ui.sign_in(Role::Editor).await;
    let account = ui.get("/orgs/demo/account", Some(&cookie)).await;
    assert!(account.body.contains("Two-step sign-in") && account.body.contains("/orgs/demo/account/two-step"));
    let (totp, codes, secret) = enrol(&ui, &cookie).await;

    // Members list and API show it.
    let admin = ui.sign_in(Role::Admin).await;
    let members = ui.get("/orgs/demo/members", Some(&admin)).await;
    assert!(members.body.contains("Authenticator app"), "the members list shows the editor's second step");

    // Sign in again: the code just used for enrolment is a replay and is refused.
    ui.post("/logout", Some(&cookie), &[]).await;
    let pending = password_step(&ui, Role::Editor).await;
    let page = ui.get("/login/second-step", Some(&pending)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"<label for="code">Code</label>"#));
    let replayed = totp.generate(now()).to_string();
    let refused = ui.post("/login/second-step", Some(&pending), &[("code", &replayed)]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "the same time step twice: {}", refused.body);

    // A recovery code works once, typed loosely.
    let loose = codes[3].to_lowercase().replace('-', " ");
    let passed = ui.post("/login/second-step", Some(&pending), &[("code", &loose)]).await;
    assert_eq!(passed.status, StatusCode::SEE_OTHER, "{}", passed.body);
    assert_eq!(passed.location.as_deref(), Some("/orgs/demo/risks"));
    let signed_in = passed.cookie.expect("new session id on sign-in");
    assert_eq!(ui.get("/orgs/demo/risks", Some(&signed_in)).await.status, StatusCode::OK);
    let pending = password_step(&ui, Role::Editor).await;
    let used = ui.post("/login/second-step", Some(&pending), &[("code", &codes[3])]).await;
    assert_eq!(used.status, StatusCode::UNAUTHORIZED, "a recovery code works once");

    // A later code signs in (the service at the next time step).
    let editor = member_of(&ui, Role::Editor).await;
    let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(30);
    let next_code = totp.generate(u64::try_from(later.unix_timestamp()).expect("time")).to_string();
    let step = ui.app.second_step_at(&editor.user_id, &next_code, "203.0.113.5", later).await.expect("a fresh code");
    assert_eq!(step, aims_app::mfa::SecondStep::Code);
    assert!(ui.app.second_step_at(&editor.user_id, &next_code, "203.0.113.5", later).await.is_err(), "and only once");

    // New recovery codes need the password; turning off needs it too and deletes the codes.
    let wrong = ui.post("/orgs/demo/account/two-step/recovery-codes", Some(&signed_in), &[("proof", "not my password")]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let password = ui.users[&Role::Editor].password.clone();
    let regenerated = ui.post("/orgs/demo/account/two-step/recovery-codes", Some(&signed_in), &[("proof", &password)]).await;
    assert_eq!(regenerated.status, StatusCode::OK, "{}", regenerated.body);
    let new_codes = recovery_codes(&regenerated.body);
    assert_eq!(new_codes.len(), 10);
    let pending = password_step(&ui, Role::Editor).await;
    let old = ui.post("/login/second-step", Some(&pending), &[("code", &codes[5])]).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED, "regenerating replaces the old codes");
    let off = ui.post("/orgs/demo/account/two-step/off", Some(&signed_in), &[("proof", &password)]).await;
    assert_eq!(off.status, StatusCode::SEE_OTHER, "{}", off.body);
    assert!(!ui.app.mfa_status(&editor.user_id).await.expect("status").totp);
    let plain = ui.post("/login", None, &[("email", &ui.users[&Role::Editor].email), ("password", &password), ("next", "")]).await;
    assert_eq!(plain.location.as_deref(), Some("/"), "no second step once off");

    // The log records each change, attributed, and holds no secret or code.
    let log = whole_log(&ui).await;
    for action in ["enable_totp", "use_recovery_code", "regenerate_recovery_codes", "disable_totp"] {
        assert!(log.contains(&format!("action: \"{action}\"")), "{action} logged");
    }
    let mut secrets = vec![secret.clone(), secret.to_lowercase(), replayed, next_code];
    for code in codes.iter().chain(&new_codes) {
        secrets.push(code.clone());
        secrets.push(code.replace('-', ""));
    }
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "the log holds no secret or code ({secret})");
    }
}

async fn second_step_throttled(backend: Backend) {
    set_key();
    let Some(ui) = start_on(backend).await else { return };
    let cookie = ui.sign_in(Role::Editor).await;
    let (totp, _, _) = enrol(&ui, &cookie).await;
    let pending = password_step(&ui, Role::Editor).await;
    for _ in 0..aims_domain::signin::FREE_FAILURES {
        let wrong = ui.post("/login/second-step", Some(&pending), &[("code", "WRONG-CODE-0000-0000")]).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let right = totp.generate(now() + 30).to_string();
    let held = ui.post("/login/second-step", Some(&pending), &[("code", &right)]).await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS, "{}", held.body);
    assert!(held.body.contains("Too many wrong codes"));
}

async fn enforcement(backend: Backend) {
    set_key();
    let Some(ui) = start_on(backend).await else { return };
    let editor = ui.sign_in(Role::Editor).await;
    let owner = ui.sign_in(Role::Owner).await;
    let settings = ui.get("/orgs/demo/settings/security", Some(&owner)).await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.body);
    assert!(settings.body.contains(r#"<legend>Required of</legend>"#));
    let viewer = ui.sign_in(Role::Viewer).await;
    let read_only = ui.get("/orgs/demo/settings/security", Some(&viewer)).await;
    assert!(read_only.body.contains("Only an owner changes this."));
    // The owner enrols first, or the rule would lead them to enrolment too.
    enrol(&ui, &owner).await;
    let saved = ui.post("/orgs/demo/settings/security", Some(&owner), &[("mfa_required", "everyone"), ("version", "1")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let stale = ui.post("/orgs/demo/settings/security", Some(&owner), &[("mfa_required", "admins"), ("version", "1")]).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "a stale version is refused");

    // The editor is led to enrolment from any page of the organisation.
    let led = ui.get("/orgs/demo/risks", Some(&editor)).await;
    assert_eq!(led.status, StatusCode::SEE_OTHER);
    assert_eq!(led.location.as_deref(), Some("/orgs/demo/account/two-step?required=1"));
    let page = ui.get("/orgs/demo/account/two-step?required=1", Some(&editor)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("This organisation requires two-step sign-in of every member"));
    let tokens = ui.post("/orgs/demo/tokens", Some(&editor), &[("name", "ci")]).await;
    assert_eq!(tokens.status, StatusCode::SEE_OTHER, "no token page either");

    // Once enrolled, everything opens again.
    enrol(&ui, &editor).await;
    assert_eq!(ui.get("/orgs/demo/risks", Some(&editor)).await.status, StatusCode::OK);

    let log = whole_log(&ui).await;
    assert!(log.contains("record_type: \"security_settings\"") && log.contains("everyone"), "the change is logged");
}

#[tokio::test]
async fn enrolment_and_sign_in_sqlite() {
    enrolment_and_sign_in(Backend::Sqlite).await;
}

#[tokio::test]
async fn enrolment_and_sign_in_postgres() {
    enrolment_and_sign_in(Backend::Postgres).await;
}

#[tokio::test]
async fn second_step_throttled_sqlite() {
    second_step_throttled(Backend::Sqlite).await;
}

#[tokio::test]
async fn second_step_throttled_postgres() {
    second_step_throttled(Backend::Postgres).await;
}

#[tokio::test]
async fn enforcement_sqlite() {
    enforcement(Backend::Sqlite).await;
}

#[tokio::test]
async fn enforcement_postgres() {
    enforcement(Backend::Postgres).await;
}
