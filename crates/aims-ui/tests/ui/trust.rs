//! The public trust pages (A.8): read without an account; only published systems, only their
//! published fields; unpublished, archived, another organisation's or unknown systems are the
//! same 404. Publishing takes the approver's role and a complete disclosure.

use aims_app::AppError;
use aims_domain::identity::Role;
use aims_domain::kinds::AI_SYSTEM;
use aims_store::model::{Actor, Record};
use axum::http::StatusCode;
use serde_json::json;

use crate::{Backend, TestUi, member_of, start_on};

/// The key the in-process services sign with (read once per process; nextest runs each test in
/// a process of its own).
fn with_secret_key() {
    // SAFETY: set before the services start, to the same value by every test of the process.
    unsafe { std::env::set_var("AIMS_SECRET_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff") };
}

async fn demo_system(ui: &TestUi, name_starts: &str) -> Record {
    let owner = member_of(ui, Role::Owner).await;
    let all = ui.app.list_records(&owner, &AI_SYSTEM, false, 0, 200).await.expect("records");
    all.items
        .into_iter()
        .find(|r| r.data["name"].as_str().is_some_and(|n| n.starts_with(name_starts)))
        .unwrap_or_else(|| panic!("no demo AI system {name_starts}"))
}

/// Text of the demo systems that is internal and must never reach a public page.
const INTERNAL: &[&str] = &[
    "Gradient-boosted trees",
    "Annex III",
    "Using the score for pricing or marketing decisions it was not validated for",
    "Declines and referrals are decided by an underwriter who sees the main reasons",
    "Consumer Lending",
    "Estimate the probability of default",
    "CV screening assistant",
    "Sign out",
];

async fn public_pages(backend: Backend) {
    with_secret_key();
    let Some(ui) = start_on(backend).await else { return };
    let scorecard = demo_system(&ui, "Credit scoring model").await;
    let assistant = demo_system(&ui, "Customer support assistant").await;
    let screening = demo_system(&ui, "CV screening assistant").await;

    // The trust page, without an account: the two published systems and nothing internal.
    let page = ui.get("/trust/demo", None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = &page.body;
    assert!(html.contains("How Northwind Lending (demo) uses AI"), "{html}");
    assert!(html.contains(&format!(r#"href="/trust/demo/ai-systems/{}""#, scorecard.id)));
    assert!(html.contains(&format!(r#"href="/trust/demo/ai-systems/{}""#, assistant.id)));
    assert!(!html.contains(&screening.id), "an unpublished system is not listed");
    for internal in INTERNAL {
        assert!(!html.contains(internal), "the trust page shows internal text: {internal}");
    }
    assert!(html.contains("Last changed 20"), "the page states when it last changed");
    assert!(html.contains(&format!("Version {}", scorecard.version)), "each system's version");
    assert!(html.contains(r#"href="/trust/demo/concerns/new""#), "how to raise a concern");
    assert!(html.contains("-----BEGIN PUBLIC KEY-----"), "the export-signing key is published");
    assert!(!html.contains("<script"), "works without scripts");

    // A system's disclosure: its public fields, version and date, the concern link naming it.
    let page = ui.get(&format!("/trust/demo/ai-systems/{}", scorecard.id), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = &page.body;
    for public in [
        "Credit scoring model (ScoreCard v4)",
        "Recommend approve, refer or decline for unsecured loans up to EUR 25,000",
        "It only knows what is in your application",
        "The model never declines an application on its own",
        "A person takes every decision (human in the loop)",
        &format!("Version {}", scorecard.version),
        &format!("last changed {}", &scorecard.updated_at[..10]),
        "/trust/demo/concerns/new?ai_system=Credit%20scoring%20model%20%28ScoreCard%20v4%29",
    ] {
        assert!(html.contains(public), "missing {public}: {html}");
    }
    for internal in INTERNAL {
        assert!(!html.contains(internal), "the disclosure shows internal text: {internal}");
    }
    let concern = ui.get("/trust/demo/concerns/new?ai_system=Credit%20scoring%20model%20%28ScoreCard%20v4%29", None).await;
    assert!(concern.body.contains(r#"value="Credit scoring model (ScoreCard v4)""#), "the concern form names the system");

    // The internal page says it is published and links to the public page.
    let admin_cookie = ui.sign_in(Role::Admin).await;
    let internal = ui.get(&format!("/orgs/demo/ai-systems/{}", scorecard.id), Some(&admin_cookie)).await;
    assert!(internal.body.contains("Disclosure published"), "{}", internal.body);
    assert!(internal.body.contains(&format!(r#"href="/trust/demo/ai-systems/{}""#, scorecard.id)));
    let internal = ui.get(&format!("/orgs/demo/ai-systems/{}", screening.id), Some(&admin_cookie)).await;
    assert!(internal.body.contains("Disclosure not published"));

    // Unpublished, unknown, malformed and another organisation's are the same 404.
    let other = other_org_with_published_system(&ui).await;
    for path in [
        format!("/trust/demo/ai-systems/{}", screening.id),
        format!("/trust/demo/ai-systems/{}", uuid::Uuid::new_v4()),
        "/trust/demo/ai-systems/not-an-id".to_owned(),
        format!("/trust/demo/ai-systems/{other}"),
        format!("/trust/other/ai-systems/{}", scorecard.id),
        "/trust/nobody".to_owned(),
    ] {
        let reply = ui.get(&path, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!reply.body.contains("ScoreCard") && !reply.body.contains("Other bot"), "a 404 reveals nothing: {path}");
    }
    assert_eq!(ui.get(&format!("/trust/other/ai-systems/{other}"), None).await.status, StatusCode::OK);
    assert!(!ui.get("/trust/other", None).await.body.contains("ScoreCard"), "each organisation lists its own");

    // Withdrawn or archived: gone from the public at once.
    let admin = member_of(&ui, Role::Admin).await;
    let archived = ui.app.archive_record(&admin, &AI_SYSTEM, &assistant.id, assistant.version).await.expect("archive");
    assert!(archived.archived);
    assert_eq!(ui.get(&format!("/trust/demo/ai-systems/{}", assistant.id), None).await.status, StatusCode::NOT_FOUND);
    assert!(!ui.get("/trust/demo", None).await.body.contains(&assistant.id));
    let withdrawn = ui
        .app
        .patch_record(&admin, &AI_SYSTEM, &scorecard.id, scorecard.version, &json!({"disclosure_published": false}))
        .await
        .expect("withdraw");
    assert_eq!(ui.get(&format!("/trust/demo/ai-systems/{}", scorecard.id), None).await.status, StatusCode::NOT_FOUND);
    assert!(ui.get("/trust/demo", None).await.body.contains("has not published a description"));
    let _ = withdrawn;
}

/// Publishing is the approver's decision and needs a complete disclosure.
async fn publishing_rules(backend: Backend) {
    let Some(ui) = start_on(backend).await else { return };
    let screening = demo_system(&ui, "CV screening assistant").await;
    let editor = member_of(&ui, Role::Editor).await;
    let admin = member_of(&ui, Role::Admin).await;
    let complete = json!({
        "disclosure_published": true, "disclosure_summary": "Ranks applications",
        "disclosure_limitations": "Can rank career breaks low", "disclosure_human_oversight": "Recruiters read every application",
    });
    match ui.app.patch_record(&editor, &AI_SYSTEM, &screening.id, screening.version, &complete).await {
        Err(AppError::Forbidden(denied)) => assert!(denied.to_string().contains("approve"), "{denied}"),
        other => panic!("an editor publishes: {other:?}"),
    }
    let publish = json!({"disclosure_published": true});
    match ui.app.patch_record(&admin, &AI_SYSTEM, &screening.id, screening.version, &publish).await {
        Err(AppError::Validation(errors)) => {
            let mut fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
            fields.sort_unstable();
            assert_eq!(fields, ["disclosure_human_oversight", "disclosure_limitations", "disclosure_summary"]);
        }
        other => panic!("an incomplete disclosure is published: {other:?}"),
    }
    let unchanged = ui.app.get_record(&admin, &AI_SYSTEM, &screening.id).await.expect("record");
    assert_eq!(unchanged.version, screening.version, "nothing written");
    // An editor may still change the disclosure's text of a published system.
    let scorecard = demo_system(&ui, "Credit scoring model").await;
    let edited = ui
        .app
        .patch_record(
            &editor,
            &AI_SYSTEM,
            &scorecard.id,
            scorecard.version,
            &json!({"disclosure_limitations": "Tested on loans up to EUR 25,000 only."}),
        )
        .await
        .expect("edit text");
    let page = ui.get(&format!("/trust/demo/ai-systems/{}", scorecard.id), None).await;
    assert!(page.body.contains("Tested on loans up to EUR 25,000 only.") && page.body.contains(&format!("Version {}", edited.version)));
}

/// An organisation `other` with one published AI system; returns its id.
async fn other_org_with_published_system(ui: &TestUi) -> String {
    let actor = Actor::System("test");
    ui.app.create_org("other", "Other Ltd", &actor).await.expect("org");
    ui.app.create_member("admin@other.example", "other", "admin", "a long enough password 42!", None, &actor).await.expect("member");
    let admin = ui.app.member_by_email("admin@other.example", "other").await.expect("membership");
    let system = ui
        .app
        .create_record(
            &admin,
            &AI_SYSTEM,
            &json!({
                "name": "Other bot", "intended_use": "Answering questions", "disclosure_published": true,
                "disclosure_summary": "A bot", "disclosure_limitations": "Often wrong", "disclosure_human_oversight": "People read its answers",
            }),
        )
        .await
        .expect("published system");
    system.id
}

#[tokio::test]
async fn trust_pages_show_only_published_public_fields_sqlite() {
    public_pages(Backend::Sqlite).await;
}

#[tokio::test]
async fn trust_pages_show_only_published_public_fields_postgres() {
    public_pages(Backend::Postgres).await;
}

#[tokio::test]
async fn publishing_a_disclosure_takes_the_approver_and_complete_text_sqlite() {
    publishing_rules(Backend::Sqlite).await;
}

#[tokio::test]
async fn publishing_a_disclosure_takes_the_approver_and_complete_text_postgres() {
    publishing_rules(Backend::Postgres).await;
}
