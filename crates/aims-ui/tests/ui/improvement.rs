//! The improvement pages (clause 10, 6.3), generated from their declarations: lists that link
//! the area's three registers, a nonconformity's corrective actions with the overdue ones
//! marked and a form raising one in the actions tracker, a transition taken from the page, and
//! a verification of effectiveness refused to the owner of the work with the comment kept.
//! On both backends.

use aims_domain::identity::Role;
use aims_domain::kinds::{ACTION, CHANGE, IMPROVEMENT, NONCONFORMITY};
use aims_domain::validate::KindSpec;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{Backend, TestUi, form_version, member_of, start_on};

/// The demo record of `spec` titled `title`.
async fn demo_record(ui: &TestUi, spec: &KindSpec, title: &str) -> aims_store::model::Record {
    let owner = member_of(ui, Role::Owner).await;
    let all = ui.app.list_records(&owner, spec, false, 0, 200).await.expect("records");
    all.items.into_iter().find(|r| r.data["title"] == title).unwrap_or_else(|| panic!("no demo {} {title}", spec.kind))
}

async fn pages(backend: Backend) {
    let Some(ui) = start_on(backend).await else { return };
    let editor = ui.sign_in(Role::Editor).await;

    // The lists: each says what it serves and links the area's three registers.
    for (spec, serves) in [(&NONCONFORMITY, "Clause 10.2"), (&IMPROVEMENT, "Clause 10.1"), (&CHANGE, "Clause 6.3")] {
        let list = ui.get(&format!("/orgs/demo/{}", spec.collection), Some(&editor)).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert!(list.body.contains(serves), "{serves}");
        for other in ["nonconformities", "improvements", "changes"] {
            assert!(list.body.contains(&format!(r#"href="/orgs/demo/{other}""#)), "{} links {other}", spec.collection);
        }
        assert!(list.body.contains(r#"aria-current="page">Improvement"#) || list.body.contains("Improvement</span>"), "the nav entry");
    }
    let list = ui.get("/orgs/demo/nonconformities", Some(&editor)).await;
    assert!(list.body.contains("Support assistant quoted an outdated early-repayment fee"));

    // The nonconformity's page: its corrective actions, the overdue one marked.
    let fee = demo_record(&ui, &NONCONFORMITY, "Support assistant quoted an outdated early-repayment fee").await;
    let path = format!("/orgs/demo/nonconformities/{}", fee.id);
    let page = ui.get(&path, Some(&editor)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Clause 10.2") && page.body.contains(r#"<h2 id="ca-h">Corrective actions</h2>"#), "{}", page.body);
    assert!(page.body.contains(r#"<span class="badge badge-overdue">1 overdue</span>"#), "{}", page.body);
    assert!(
        page.body.contains("Check content-source currency in the assistant&#x27;s retrieval pipeline")
            || page.body.contains("Check content-source currency")
    );

    // Raising one from the page: a refusal keeps what was typed; then it is raised.
    let version = form_version(&page.body);
    let url = format!("{path}/corrective-actions");
    let refused = ui.post(&url, Some(&editor), &[("version", &version), ("title", ""), ("due_date", "2031-01-01")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains(r#"id="ca-title-error""#) && refused.body.contains(r#"value="2031-01-01""#), "{}", refused.body);
    let raised =
        ui.post(&url, Some(&editor), &[("version", &version), ("title", "Alert on stale sources"), ("due_date", "2031-01-01")]).await;
    assert_eq!(raised.status, StatusCode::SEE_OTHER, "{}", raised.body);
    assert_eq!(raised.location.as_deref(), Some(format!("{path}?done=raised#corrective-actions").as_str()));
    let viewer = member_of(&ui, Role::Viewer).await;
    let fee = ui.app.get_record(&viewer, &NONCONFORMITY, &fee.id).await.expect("nonconformity");
    let ids = fee.data["corrective_action_ids"].as_array().cloned().unwrap_or_default();
    assert_eq!(ids.len(), 3);
    let action = ui.app.get_record(&viewer, &ACTION, ids[2].as_str().unwrap_or_default()).await.expect("action");
    assert_eq!(
        (action.data["title"].as_str(), action.data["source"].as_str()),
        (Some("Alert on stale sources"), Some("corrective_action"))
    );
    let stale = ui.post(&url, Some(&editor), &[("version", &version), ("title", "Again")]).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "a stale page raises nothing: {}", stale.body);
    let again = ui.app.get_record(&viewer, &NONCONFORMITY, &fee.id).await.expect("nonconformity");
    assert_eq!(again.data["corrective_action_ids"].as_array().map(Vec::len), Some(3));

    // A transition from the page: the open demo nonconformity corrected.
    let open = demo_record(&ui, &NONCONFORMITY, "CV screening used on live applications before its gate was approved").await;
    let open_path = format!("/orgs/demo/nonconformities/{}", open.id);
    // Not offered until the correction is recorded, and the page says so.
    let admin = member_of(&ui, Role::Admin).await;
    let cleared = ui.app.patch_record(&admin, &NONCONFORMITY, &open.id, open.version, &json!({"correction": null})).await.expect("patch");
    let page = ui.get(&open_path, Some(&editor)).await;
    assert!(page.body.contains("Record the correction is not offered to you: record the correction taken first"), "{}", page.body);
    let patched = ui
        .app
        .patch_record(&admin, &NONCONFORMITY, &open.id, cleared.version, &json!({"correction": "Access suspended"}))
        .await
        .expect("patch");
    let page = ui.get(&open_path, Some(&editor)).await;
    assert!(page.body.contains(&format!(r#"action="{open_path}/transitions/correct""#)), "{}", page.body);
    let taken = ui.post(&format!("{open_path}/transitions/correct"), Some(&editor), &[("version", &patched.version.to_string())]).await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.body);
    assert_eq!(ui.app.get_record(&viewer, &NONCONFORMITY, &open.id).await.expect("nc").state.as_deref(), Some("correction_taken"));

    // The owner of a corrective action may not verify its effectiveness: 403 naming the
    // rule, what they typed kept; someone who did no part of the work then verifies it.
    let editor_member = member_of(&ui, Role::Editor).await;
    let done = json!({"title": "Fix it", "source": "corrective_action", "owner_id": editor_member.user_id, "status": "done", "completed_on": "2026-01-05"});
    let action = ui.app.create_record(&admin, &ACTION, &done).await.expect("action");
    let nc = ui
        .app
        .create_record(&admin, &NONCONFORMITY, &json!({"title": "Checked by whom?", "source": "review", "description": "D", "detected_on": "2026-01-01",
            "correction": "C", "root_cause": "R", "similar_elsewhere": "no", "corrective_action_ids": [action.id], "owner_id": admin.user_id}))
        .await
        .expect("nc");
    let mut nc = nc;
    for step in ["correct", "analyse", "plan", "request-verification"] {
        nc = ui.app.transition(&admin, &NONCONFORMITY, &nc.id, step, nc.version, &json!({})).await.expect(step);
    }
    let nc_path = format!("/orgs/demo/nonconformities/{}", nc.id);
    let page = ui.get(&nc_path, Some(&editor)).await;
    assert!(page.body.contains("Verify effectiveness is not offered to you: rule separation-of-duties"), "{}", page.body);
    let typed = "Looked at a month of answers myself";
    let refused =
        ui.post(&format!("{nc_path}/transitions/verify"), Some(&editor), &[("version", &nc.version.to_string()), ("comment", typed)]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("rule separation-of-duties: (linked-owner)"), "{}", refused.body);
    assert!(refused.body.contains(&format!(">{typed}</textarea>")), "what was typed is kept: {}", refused.body);
    let owner = ui.sign_in(Role::Owner).await;
    let verified = ui
        .post(
            &format!("{nc_path}/transitions/verify"),
            Some(&owner),
            &[("version", &nc.version.to_string()), ("comment", "Sampled 50 answers")],
        )
        .await;
    assert_eq!(verified.status, StatusCode::SEE_OTHER, "{}", verified.body);
    let closed = ui.app.get_record(&viewer, &NONCONFORMITY, &nc.id).await.expect("nc");
    assert_eq!((closed.state.as_deref(), &closed.data["effective"]), (Some("closed"), &Value::Bool(true)));
    let page = ui.get(&nc_path, Some(&editor)).await;
    assert!(page.body.contains("Verification of effectiveness") && page.body.contains("Sampled 50 answers"), "{}", page.body);

    // Improvement and change pages render with their decisions and states.
    let drift = demo_record(&ui, &IMPROVEMENT, "Alert on ScoreCard drift automatically").await;
    let page = ui.get(&format!("/orgs/demo/improvements/{}", drift.id), Some(&editor)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Clause 10.1") && page.body.contains(r#"<span class="badge">Implemented</span>"#), "{}", page.body);
    // What the decision recorded is shown: the choice, its rationale and who took it.
    assert!(
        page.body.contains(r#"<h2 id="decision-h">Decision</h2>"#) && page.body.contains("Cheap to build on the existing monitoring"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Olivia Okafor"), "the decider by name");
    let board = demo_record(&ui, &CHANGE, "Give model validation its own seat on the AI governance board").await;
    let page = ui.get(&format!("/orgs/demo/changes/{}", board.id), Some(&editor)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Clause 6.3")
            && page.body.contains(&format!(r#"action="/orgs/demo/changes/{}/transitions/complete""#, board.id)),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn improvement_pages_raise_actions_take_transitions_and_refuse_the_doer_sqlite() {
    pages(Backend::Sqlite).await;
}

#[tokio::test]
async fn improvement_pages_raise_actions_take_transitions_and_refuse_the_doer_postgres() {
    pages(Backend::Postgres).await;
}
