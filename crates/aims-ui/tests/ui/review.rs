//! The management review pages (9.3), generated from their declaration: the list with each
//! review's state and its overdue actions, a held review's live inputs (the open
//! nonconformity with its overdue corrective action, an objective's trend chart), the decision
//! form raising an action in the tracker (a refusal keeping what was typed), and a closed
//! review showing its frozen pack. The nonconformity list shows states and overdue actions,
//! and so does the risk register (for treatment actions). On both backends.

use aims_domain::identity::Role;
use aims_domain::kinds::{ACTION, MANAGEMENT_REVIEW};
use axum::http::StatusCode;

use super::{Backend, TestUi, form_version, member_of, start_on};

async fn demo_review(ui: &TestUi, title: &str) -> aims_store::model::Record {
    let owner = member_of(ui, Role::Owner).await;
    let all = ui.app.list_records(&owner, &MANAGEMENT_REVIEW, false, 0, 200).await.expect("reviews");
    all.items.into_iter().find(|r| r.data["title"] == title).unwrap_or_else(|| panic!("no demo review {title}"))
}

async fn pages(backend: Backend) {
    let Some(ui) = start_on(backend).await else { return };
    let admin = ui.sign_in(Role::Admin).await;

    // Lists: states and overdue actions, counted for the page shown.
    let ncs = ui.get("/orgs/demo/nonconformities", Some(&admin)).await;
    assert!(ncs.body.contains(r#"<span class="badge badge-action_planned">Action planned</span>"#), "{}", ncs.body);
    assert!(ncs.body.contains(r#"<span class="badge badge-overdue">1 overdue</span>"#), "{}", ncs.body);
    let csv = ui.get("/orgs/demo/nonconformities?format=csv", Some(&admin)).await;
    assert!(csv.body.lines().next().is_some_and(|h| h.contains("state")), "{}", csv.body);
    let risks = ui.get("/orgs/demo/risks", Some(&admin)).await;
    assert!(risks.body.contains(r#"<span class="badge badge-overdue">1 overdue</span>"#), "the overdue treatment: {}", risks.body);
    let list = ui.get("/orgs/demo/management-reviews", Some(&admin)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("Clause 9.3") && list.body.contains(r#"href="/orgs/demo/nonconformities""#));
    assert!(list.body.contains(r#"<span class="badge badge-closed">Closed</span>"#) && list.body.contains("1 overdue"), "{}", list.body);

    // The closed demo review: its frozen pack and its decisions with their actions.
    let last = demo_review(&ui, "Management review, last quarter").await;
    let page = ui.get(&format!("/orgs/demo/management-reviews/{}", last.id), Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(r#"<span class="badge badge-closed">Frozen</span>"#), "{}", page.body);
    assert!(page.body.contains("Name deputies for recurring AI reviews") && !page.body.contains("Record decision"));

    // The planned one, held: live inputs, then a decision raising an action.
    let next = demo_review(&ui, "Management review, this quarter").await;
    let path = format!("/orgs/demo/management-reviews/{}", next.id);
    let page = ui.get(&path, Some(&admin)).await;
    assert!(page.body.contains("Decisions are recorded once the review is held."), "{}", page.body);
    let held = ui.post(&format!("{path}/transitions/hold"), Some(&admin), &[("version", &next.version.to_string())]).await;
    assert_eq!(held.status, StatusCode::SEE_OTHER, "{}", held.body);
    let page = ui.get(&path, Some(&admin)).await;
    assert!(page.body.contains(r#"<span class="badge badge-open">Live</span>"#), "{}", page.body);
    assert!(page.body.contains("Support assistant quoted an outdated early-repayment fee"));
    assert!(page.body.contains("chart chart-trend"), "the objectives' trend charts");
    assert!(
        page.body.contains("Audit results") && page.body.contains("<dt>Audits</dt>") && page.body.contains("<dt>Findings</dt>"),
        "the demo audit"
    );
    assert!(!page.body.contains(&format!(r#"action="{path}/transitions/decide""#)), "the decision has its own form, not the generic one");

    let version = form_version(&page.body);
    let url = format!("{path}/decisions");
    let refused =
        ui.post(&url, Some(&admin), &[("version", &version), ("decision", "Fund the alert"), ("action_due_date", "2031-02-30")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains(r#"id="rd-title-error""#) && refused.body.contains(">Fund the alert</textarea>"), "{}", refused.body);
    let decided = ui
        .post(&url, Some(&admin), &[("version", &version), ("decision", "Fund the alert"), ("action_title", "Budget the drift alert")])
        .await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.body);
    assert_eq!(decided.location.as_deref(), Some(format!("{path}?done=decided#decisions").as_str()));
    let viewer = member_of(&ui, Role::Viewer).await;
    let review = ui.app.get_record(&viewer, &MANAGEMENT_REVIEW, &next.id).await.expect("review");
    let action_id = review.data["action_ids"][0].as_str().expect("linked action").to_owned();
    let action = ui.app.get_record(&viewer, &ACTION, &action_id).await.expect("action");
    assert_eq!(action.data["source"], "management_review");

    // A viewer sees the inputs but no form.
    let viewer_session = ui.sign_in(Role::Viewer).await;
    let page = ui.get(&path, Some(&viewer_session)).await;
    assert!(page.body.contains("Inputs to the review") && !page.body.contains("Record decision"), "{}", page.body);
    let forged = ui.post(&url, Some(&viewer_session), &[("version", &review.version.to_string()), ("decision", "x")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
}

#[tokio::test]
async fn review_pages_assemble_inputs_record_decisions_and_show_the_frozen_pack() {
    pages(Backend::Sqlite).await;
}

#[tokio::test]
async fn review_pages_assemble_inputs_record_decisions_and_show_the_frozen_pack_postgres() {
    pages(Backend::Postgres).await;
}
