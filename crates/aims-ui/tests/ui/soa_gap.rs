//! The Statement of Applicability's approval and frozen revisions, a control's traceability,
//! the guided gap-assessment walk, and a gap turned into an action that shows up under its
//! owner's "My actions".

use aims_domain::identity::Role;
use aims_domain::kinds::{ACTION, SOA};
use axum::http::StatusCode;

use super::{TestUi, form_version, id_in, member_of, start};

/// The form of the control page with `changes` applied to what the page shows.
async fn save_control(ui: &TestUi, cookie: &str, reference: &str, changes: &[(&str, &str)]) -> super::Reply {
    let page = ui.get(&format!("/orgs/demo/controls/{reference}"), Some(cookie)).await;
    let version = form_version(&page.body);
    let mut form: Vec<(&str, &str)> = vec![
        ("version", version.as_str()),
        ("applicable", "yes"),
        ("justification", ""),
        ("implementation_status", "partial"),
        ("owner_id", ""),
        ("last_reviewed_on", ""),
    ];
    for (name, value) in changes {
        match form.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = value,
            None => form.push((name, value)),
        }
    }
    ui.post(&format!("/orgs/demo/controls/{reference}"), Some(cookie), &form).await
}

async fn soa_revision_count(ui: &TestUi) -> usize {
    let member = member_of(ui, Role::Owner).await;
    let soa = ui.app.get_singleton(&member, &SOA).await.expect("soa");
    ui.app.revisions(&member, &SOA, &soa.id).await.expect("revisions").len()
}

#[tokio::test]
async fn approving_the_soa_freezes_a_revision_that_later_edits_leave_unchanged() {
    let ui = start().await;
    let admin = ui.sign_in(Role::Admin).await;
    let editor = ui.sign_in(Role::Editor).await;

    // The editor changes an entry; the admin, who did not, approves (separation of duties).
    let excluded = save_control(
        &ui,
        &editor,
        "A.2.2",
        &[("applicable", "no"), ("justification", "The group AI policy covers this; no separate policy.")],
    )
    .await;
    assert_eq!(excluded.status, StatusCode::SEE_OTHER, "{}", excluded.body);

    let before = soa_revision_count(&ui).await;
    let page = ui.get("/orgs/demo/controls", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(">Approve this SoA</button>"), "admins get the approve form");
    let version = form_version(&page.body);
    let approved =
        ui.post("/orgs/demo/soa/approve", Some(&admin), &[("version", &version), ("comment", "Quarterly review of the SoA")]).await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    assert_eq!(approved.location.as_deref(), Some("/orgs/demo/controls?done=approved#soa-status"));
    let n = before + 1;
    assert_eq!(soa_revision_count(&ui).await, n);

    let page = ui.get("/orgs/demo/controls?done=approved", Some(&admin)).await;
    assert!(page.body.contains("Statement of Applicability approved"), "{}", page.body);
    assert!(page.body.contains(&format!("Approved — revision {n} by Arjun Mehta")), "{}", page.body);
    assert!(page.body.contains("No entry has changed since this approval."));
    let revision_href = format!("/orgs/demo/soa/revisions/{n}");
    assert!(page.body.contains(&format!(r#"href="{revision_href}""#)));

    let revision = ui.get(&revision_href, Some(&editor)).await;
    assert_eq!(revision.status, StatusCode::OK);
    let frozen = revision.body.clone();
    for needle in [
        "The group AI policy covers this; no separate policy.",
        "Quarterly review of the SoA",
        "<span class=\"ref\">A.6</span>",
        "A.6.2.4",
        "<dt>Controls</dt><dd>",
        "<dt>Excluded</dt><dd>",
    ] {
        assert!(frozen.contains(needle), "{needle} in the revision page");
    }

    // An editor sees the state but no approve form, and a forged approval is refused.
    let page = ui.get("/orgs/demo/controls", Some(&editor)).await;
    assert!(!page.body.contains("Approve this SoA"));
    assert!(page.body.contains("An admin or owner approves the Statement of Applicability."));
    let version = form_version(&ui.get("/orgs/demo/controls", Some(&admin)).await.body);
    let forged = ui.post("/orgs/demo/soa/approve", Some(&editor), &[("version", &version), ("comment", "")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.body.contains("rule role-permission"), "{}", forged.body);
    assert_eq!(soa_revision_count(&ui).await, n, "nothing frozen");

    // A later edit shows as a change since approval, but the revision reads as before.
    let edited = save_control(&ui, &editor, "A.2.2", &[("applicable", "no"), ("justification", "Reworded after the approval.")]).await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let page = ui.get("/orgs/demo/controls", Some(&admin)).await;
    assert!(page.body.contains("1 entry changed since the last approval"), "{}", page.body);
    assert!(page.body.contains(r#"<a href="/orgs/demo/controls/A.2.2"><span class="ref">A.2.2</span>"#));
    let again = ui.get(&revision_href, Some(&editor)).await;
    assert!(again.body.contains("The group AI policy covers this; no separate policy."));
    assert!(!again.body.contains("Reworded after the approval."));
    assert_eq!(again.body, frozen, "the revision page reads back unchanged");

    assert_eq!(ui.get("/orgs/demo/soa/revisions/999", Some(&editor)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_control_page_traces_risks_and_the_ai_systems_they_cover() {
    let ui = start().await;
    let editor = ui.sign_in(Role::Editor).await;
    let system = ui.post("/orgs/demo/ai-systems/new", Some(&editor), &[("name", "Trace probe model")]).await;
    assert_eq!(system.status, StatusCode::SEE_OTHER, "{}", system.body);
    let system_id = id_in(system.location.as_deref().unwrap_or_default(), "ai-systems");
    let other = ui.post("/orgs/demo/ai-systems/new", Some(&editor), &[("name", "Directly covered model")]).await;
    let other_id = id_in(other.location.as_deref().unwrap_or_default(), "ai-systems");
    let risk = ui
        .post(
            "/orgs/demo/risks/new",
            Some(&editor),
            &[
                ("title", "Probe drift goes unnoticed"),
                ("source_category", "technical"),
                ("treatment", "mitigate"),
                ("control_refs", "A.6.2.6"),
                ("ai_system_ids", &system_id),
            ],
        )
        .await;
    assert_eq!(risk.status, StatusCode::SEE_OTHER, "{}", risk.body);
    let risk_id = id_in(risk.location.as_deref().unwrap_or_default(), "risks");

    let saved = save_control(&ui, &editor, "A.6.2.6", &[("ai_system_ids", &other_id)]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = ui.get("/orgs/demo/controls/A.6.2.6", Some(&editor)).await;
    assert!(page.body.contains(">Traceability</h2>"));
    assert!(page.body.contains(&format!(r#"<a href="/orgs/demo/risks/{risk_id}">Probe drift goes unnoticed</a>"#)), "{}", page.body);
    assert!(page.body.contains(&format!(r#"<a href="/orgs/demo/ai-systems/{other_id}">Directly covered model</a>"#)));
    assert!(page.body.contains(&format!(
        r#"<a href="/orgs/demo/ai-systems/{system_id}">Trace probe model</a> <span class="via">via risk: Probe drift goes unnoticed</span>"#
    )));
    assert!(page.body.contains("<legend>AI systems covered</legend>"), "the edit form offers the systems");
    assert!(page.body.contains(&format!(r#"value="{other_id}" checked"#)));
}

#[tokio::test]
async fn the_gap_walk_and_a_gap_turned_into_an_action_for_my_actions() {
    let ui = start().await;
    let admin = ui.sign_in(Role::Admin).await;
    let editor = ui.sign_in(Role::Editor).await;
    let editor_id = member_of(&ui, Role::Editor).await.user_id;

    let list = ui.get("/orgs/demo/requirements", Some(&editor)).await;
    assert!(list.body.contains(">Progress per clause</h2>"));
    assert!(list.body.contains(r##"href="#clause-10""##));

    // The walk: position, neighbours in document order, "Save and go to next".
    let page = ui.get("/orgs/demo/requirements/6.1.2", Some(&editor)).await;
    assert!(page.body.contains("of 32</span>"), "position indicator");
    assert!(page.body.contains(r#"href="/orgs/demo/requirements/6.1.1" rel="prev""#), "{}", page.body);
    assert!(page.body.contains(r#"href="/orgs/demo/requirements/6.1.3" rel="next""#));
    let version = form_version(&page.body);
    let next = ui
        .post(
            "/orgs/demo/requirements/6.1.2",
            Some(&editor),
            &[("version", &version), ("status", "partial"), ("owner_id", ""), ("notes", "Method agreed."), ("then", "next")],
        )
        .await;
    assert_eq!(next.status, StatusCode::SEE_OTHER, "{}", next.body);
    assert_eq!(next.location.as_deref(), Some("/orgs/demo/requirements/6.1.3?saved=6.1.2"));
    let landed = ui.get("/orgs/demo/requirements/6.1.3?saved=6.1.2", Some(&editor)).await;
    assert!(landed.body.contains("Saved 6.1.2. This is the next requirement."));
    let first = ui.get("/orgs/demo/requirements/4.1", Some(&editor)).await;
    assert!(first.body.contains("Requirement 1 of 32"));
    assert!(!first.body.contains(r#"rel="prev""#));

    // Turning the gap into an action: refused without a title, then created for the editor.
    let refused =
        ui.post("/orgs/demo/requirements/6.1.2/actions", Some(&admin), &[("title", " "), ("owner_id", ""), ("due_date", "")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(r#"id="action_title-error""#), "{}", refused.body);
    let bad_date =
        ui.post("/orgs/demo/requirements/6.1.2/actions", Some(&admin), &[("title", "X"), ("owner_id", ""), ("due_date", "soon")]).await;
    assert_eq!(bad_date.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_date.body.contains(r#"id="action_due_date-error""#), "{}", bad_date.body);

    let created = ui
        .post(
            "/orgs/demo/requirements/6.1.2/actions",
            Some(&admin),
            &[("title", "Write the AI risk assessment method"), ("owner_id", &editor_id), ("due_date", "2020-01-31")],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.location.as_deref(), Some("/orgs/demo/requirements/6.1.2?done=action#actions"));
    let member = member_of(&ui, Role::Admin).await;
    let actions = ui.app.list_records(&member, &ACTION, false, 0, 200).await.expect("actions").items;
    let action = actions.iter().find(|a| a.data["title"] == "Write the AI risk assessment method").expect("created action");
    assert_eq!(action.data["source"], "gap_assessment");
    assert_eq!(action.data["requirement_refs"], serde_json::json!(["6.1.2"]));
    assert_eq!(action.data["owner_id"], serde_json::json!(editor_id));
    let action_href = format!("/orgs/demo/actions/{}", action.id);

    let page = ui.get("/orgs/demo/requirements/6.1.2?done=action", Some(&admin)).await;
    assert!(page.body.contains("Action created"));
    assert!(page.body.contains(&format!(r#"<a href="{action_href}">Write the AI risk assessment method</a>"#)), "{}", page.body);

    // My actions: the editor's, overdue and highlighted; the admin's list does not show it as theirs.
    let mine = ui.get("/orgs/demo/actions", Some(&editor)).await;
    assert_eq!(mine.status, StatusCode::OK);
    let my_section = &mine.body[mine.body.find(r#"id="mine""#).expect("my actions")..mine.body.find(r#"id="all-h""#).expect("all")];
    assert!(my_section.contains("Write the AI risk assessment method"));
    assert!(my_section.contains("row-overdue") && my_section.contains(">Overdue</span>"));
    let theirs = ui.get("/orgs/demo/actions", Some(&admin)).await;
    let admin_section = &theirs.body[theirs.body.find(r#"id="mine""#).expect("mine")..theirs.body.find(r#"id="all-h""#).expect("all")];
    assert!(!admin_section.contains("Write the AI risk assessment method"));
    let filtered = ui.get(&format!("/orgs/demo/actions?status=&source=gap_assessment&owner={editor_id}"), Some(&admin)).await;
    assert!(filtered.body.contains("Write the AI risk assessment method"));
    let none = ui.get("/orgs/demo/actions?status=done&source=gap_assessment", Some(&admin)).await;
    assert!(!none.body.contains("Write the AI risk assessment method"));
    let dashboard = ui.get("/orgs/demo/", Some(&editor)).await;
    assert!(dashboard.body.contains("My actions"));
    assert!(dashboard.body.contains("kpi-overdue"), "overdue actions make the card stand out");

    // The action page: what raised it, and marking it done needs a date.
    let page = ui.get(&action_href, Some(&editor)).await;
    assert!(page.body.contains(r#"Requirement: <a href="/orgs/demo/requirements/6.1.2">6.1.2 AI risk assessment</a>"#), "{}", page.body);
    let version = form_version(&page.body);
    let undated = ui.post(&format!("{action_href}/done"), Some(&editor), &[("version", &version), ("completed_on", "")]).await;
    assert_eq!(undated.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(undated.body.contains(r#"id="done_completed_on-error""#), "{}", undated.body);
    let done = ui.post(&format!("{action_href}/done"), Some(&editor), &[("version", &version), ("completed_on", "2020-02-03")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = ui.get(&action_href, Some(&editor)).await;
    assert!(page.body.contains("Completed 2020-02-03"));
    let mine = ui.get("/orgs/demo/actions", Some(&editor)).await;
    let my_section = &mine.body[mine.body.find(r#"id="mine""#).expect("mine")..mine.body.find(r#"id="all-h""#).expect("all")];
    assert!(!my_section.contains("Write the AI risk assessment method"), "done actions leave My actions");

    // Viewers read actions but get no forms.
    let viewer = ui.sign_in(Role::Viewer).await;
    let page = ui.get(&action_href, Some(&viewer)).await;
    assert!(!page.body.contains(r#"name="version""#));
}
