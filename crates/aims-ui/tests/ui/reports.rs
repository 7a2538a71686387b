//! The reports page: every report offered with its formats (links to the API route, a form for
//! the per-record reports listing the demo's closed review and audits), the documents issued,
//! and drift — a control changed after the SoA was issued marks that document drifted and
//! names the control, linked. On both backends.

use aims_domain::identity::Role;
use aims_domain::kinds::CONTROL;
use axum::http::StatusCode;

use super::{Backend, TestUi, member_of, start_on};

async fn issue_soa(ui: &TestUi) -> String {
    let viewer = member_of(ui, Role::Viewer).await;
    let actor = aims_app::access::actor(&viewer);
    let generated = ui.app.generate_report(&viewer, "soa", Some("pdf"), None, &actor, &|_, _, _| {}).await.expect("report");
    generated.issued_id.expect("recorded as issued")
}

async fn reports_page_shows_drift(backend: Backend) {
    let Some(ui) = start_on(backend).await else { return };
    let viewer = ui.sign_in(Role::Viewer).await;
    let empty = ui.get("/orgs/demo/reports", Some(&viewer)).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert!(empty.body.contains(r#"href="/orgs/demo/reports""#), "the sidebar links the page");
    assert!(empty.body.contains(r#"href="/api/v1/orgs/demo/reports/soa?format=pdf""#), "{}", empty.body);
    assert!(empty.body.contains(r#"action="/api/v1/orgs/demo/reports/management-review""#), "{}", empty.body);
    assert!(empty.body.contains("No document issued yet."));

    issue_soa(&ui).await;
    let current = ui.get("/orgs/demo/reports", Some(&viewer)).await;
    assert!(current.body.contains("Statement of Applicability") && current.body.contains(">Current<"), "{}", current.body);
    assert!(!current.body.contains(">Drifted<"));

    let editor = member_of(&ui, Role::Editor).await;
    let control = ui.app.get_record(&editor, &CONTROL, "A.6.2.4").await.expect("control");
    ui.app
        .patch_record(
            &editor,
            &CONTROL,
            "A.6.2.4",
            control.version,
            &serde_json::json!({"justification": "Verified by the model validation team"}),
        )
        .await
        .expect("patch");
    let drifted = ui.get("/orgs/demo/reports", Some(&viewer)).await;
    assert!(drifted.body.contains(">Drifted<"), "{}", drifted.body);
    assert!(drifted.body.contains(r#"<a href="/orgs/demo/controls/A.6.2.4">Control: A.6.2.4"#), "{}", drifted.body);
    assert!(drifted.body.contains(&format!("version {} → {}", control.version, control.version + 1)), "{}", drifted.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_page_shows_drift_on_sqlite() {
    reports_page_shows_drift(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_page_shows_drift_on_postgres() {
    reports_page_shows_drift(Backend::Postgres).await;
}
