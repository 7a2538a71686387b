//! An AI system's traceability panel: the controls that name it or that its risks selected (and
//! the way back from the control), its evidence, actions, objectives and communications, the
//! one-line empty groups, and the "and N more" of a group the trace cut.

use aims_domain::identity::Role;
use aims_domain::kinds::{ACTION, AI_SYSTEM, EVIDENCE, RISK};
use aims_store::model::Record;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{TestUi, form_version, member_of, start};

const SCORECARD: &str = "Credit scoring model (ScoreCard v4)";

async fn scorecard(ui: &TestUi) -> Record {
    let admin = member_of(ui, Role::Admin).await;
    let systems = ui.app.list_records(&admin, &AI_SYSTEM, false, 0, 200).await.expect("systems").items;
    systems.into_iter().find(|s| s.data["name"] == SCORECARD).expect("the demo's credit-scoring system")
}

/// The records of a kind that name the system in `ai_system_ids`.
async fn naming(ui: &TestUi, spec: &aims_domain::validate::KindSpec, system: &str) -> Vec<Record> {
    let admin = member_of(ui, Role::Admin).await;
    let records = ui.app.list_records(&admin, spec, false, 0, 200).await.expect("list").items;
    records.into_iter().filter(|r| r.data["ai_system_ids"].as_array().is_some_and(|ids| ids.contains(&json!(system)))).collect()
}

fn text<'a>(record: &'a Record, name: &str) -> &'a str {
    record.data.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// The traceability card of an AI system page.
fn panel(html: &str) -> &str {
    let start = html.find(r#"<section class="card trace" id="trace""#).expect("traceability panel");
    let end = html[start..].find(r#"<section class="card" id="records""#).map_or(html.len(), |e| start + e);
    &html[start..end]
}

/// The list item of the panel that starts with `start`.
fn item<'a>(html: &'a str, start: &str) -> &'a str {
    let at = html.find(start).unwrap_or_else(|| panic!("{start} in {html}"));
    &html[at..html[at..].find("</li>").map_or(html.len(), |e| at + e)]
}

#[tokio::test]
async fn an_ai_system_shows_its_controls_evidence_and_actions_both_ways() {
    let ui = start().await;
    let system = scorecard(&ui).await;
    let page_path = format!("/orgs/demo/ai-systems/{}", system.id);
    let auditor = ui.sign_in(Role::Auditor).await;

    let page = ui.get(&page_path, Some(&auditor)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = panel(&page.body);
    assert!(html.contains(r#"<h2 id="trace-h">Traceability</h2>"#));

    // Evidence linked to the system: a link to each, its file name and review date.
    let evidence = naming(&ui, &EVIDENCE, &system.id).await;
    assert!(!evidence.is_empty(), "the demo links evidence to ScoreCard");
    for e in &evidence {
        assert!(html.contains(&format!(r#"<a href="/orgs/demo/evidence/{}">{}</a>"#, e.id, text(e, "title"))), "{html}");
        assert!(html.contains(text(e, "file_name")));
        assert!(html.contains(&format!("review by {}", text(e, "review_by"))));
    }

    // Controls selected by the system's risks, each marked with the risk that selected it.
    let risks = naming(&ui, &RISK, &system.id).await;
    let mut selected = 0;
    for risk in &risks {
        for reference in risk.data["control_refs"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            selected += 1;
            let item = item(html, &format!(r#"<a href="/orgs/demo/controls/{reference}"><span class="ref">{reference}</span> "#));
            let via = item.find(r#"<span class="via">via risk: "#).map(|at| &item[at..]).expect("marked as selected by a risk");
            assert!(via.contains(text(risk, "title")), "{item}");
        }
    }
    assert!(selected > 0, "the demo's ScoreCard risks select controls");
    assert!(html.contains(r#"<span class="badge badge-partial">Partial</span>"#), "implementation status shown");

    // Actions naming the system, with their status.
    let actions = naming(&ui, &ACTION, &system.id).await;
    assert!(!actions.is_empty());
    for a in &actions {
        assert!(html.contains(&format!(r#"<a href="/orgs/demo/actions/{}">"#, a.id)));
    }
    assert!(html.contains("In progress · due "));

    // Nothing communicated about ScoreCard: one short line, pointing a reader to the plan.
    assert!(html.contains(r#"No communications planned — <a href="/orgs/demo/communications">see the communication plan</a>"#), "{html}");
    assert!(!html.contains("upload evidence"), "no upload prompt for a read-only role");

    // An editor names the system on a control directly and adds an overdue action.
    let editor = ui.sign_in(Role::Editor).await;
    let control = ui.get("/orgs/demo/controls/A.6.1.2", Some(&editor)).await;
    let version = form_version(&control.body);
    let saved = ui
        .post(
            "/orgs/demo/controls/A.6.1.2",
            Some(&editor),
            &[
                ("version", &version),
                ("applicable", "yes"),
                ("justification", "Objectives for ScoreCard are set per release."),
                ("implementation_status", "implemented"),
                ("owner_id", ""),
                ("last_reviewed_on", ""),
                ("ai_system_ids", &system.id),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let editor_member = member_of(&ui, Role::Editor).await;
    let late = ui
        .app
        .create_record(
            &editor_member,
            &ACTION,
            &json!({"title": "Refresh the validation sample", "source": "other", "due_date": "2020-01-31", "ai_system_ids": [system.id]}),
        )
        .await
        .expect("action");

    let page = ui.get(&page_path, Some(&editor)).await;
    let html = panel(&page.body);
    let item = item(html, r#"<a href="/orgs/demo/controls/A.6.1.2"><span class="ref">A.6.1.2</span> "#);
    assert!(item.contains(r#"<span class="badge badge-implemented">Implemented</span>"#), "{item}");
    assert!(!item.contains("via risk"), "named directly: {item}");
    let overdue = html.find(&format!(r#"<a href="/orgs/demo/actions/{}">"#, late.id)).expect("the new action");
    assert!(html[overdue..].starts_with(&format!(
        r#"<a href="/orgs/demo/actions/{}">Refresh the validation sample</a> <span class="badge badge-overdue">Overdue</span>"#,
        late.id
    )));
    assert!(html.contains("open · 1 overdue"));
    assert!(
        html.contains(&format!(
            r#"No communications planned — <a href="/orgs/demo/communications/new?ai_system_id={}">plan one</a>"#,
            system.id
        )),
        "an editor is invited to plan one for this system"
    );

    // Both ways: the control page lists the system, directly and through the risk.
    let control = ui.get("/orgs/demo/controls/A.6.1.2", Some(&auditor)).await;
    assert!(control.body.contains(&format!(r#"<a href="/orgs/demo/ai-systems/{}">{SCORECARD}</a>"#, system.id)));
    let via = ui.get("/orgs/demo/controls/A.7.4", Some(&auditor)).await;
    let at = via.body.find(&format!(r#"<a href="/orgs/demo/ai-systems/{}">{SCORECARD}</a>"#, system.id)).expect("system on the control");
    assert!(via.body[at..].contains("via risk: Unfair declines for thin-file applicants"));

    // The "plan one" link opens the form with the system already ticked.
    let form = ui.get(&format!("/orgs/demo/communications/new?ai_system_id={}", system.id), Some(&editor)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(&format!(r#"value="{}" checked"#, system.id)), "{}", form.body);
    let upload = ui.get(&format!("/orgs/demo/evidence?ai_system_id={}", system.id), Some(&editor)).await;
    assert!(upload.body.contains(&format!(r#"value="{}" checked"#, system.id)));
}

#[tokio::test]
async fn a_system_with_nothing_linked_collapses_to_short_lines_and_a_cut_group_says_how_many_more() {
    let ui = start().await;
    let editor = ui.sign_in(Role::Editor).await;
    let member = member_of(&ui, Role::Editor).await;
    let system = ui.app.create_record(&member, &AI_SYSTEM, &json!({"name": "Invoice triage"})).await.expect("system");
    let path = format!("/orgs/demo/ai-systems/{}", system.id);

    let page = ui.get(&path, Some(&editor)).await;
    let html = panel(&page.body);
    assert!(html.contains("Nothing linked yet"));
    assert!(!html.contains(r#"class="trace-grid""#), "no empty headings");
    assert!(
        html.contains(&format!(r#"No evidence yet — <a href="/orgs/demo/evidence?ai_system_id={}#upload">upload evidence</a>"#, system.id))
    );
    assert!(html.contains(&format!(r#"No actions yet — <a href="/orgs/demo/actions/new?ai_system_id={}">add an action</a>"#, system.id)));
    assert!(html.contains(r#"No controls yet — <a href="/orgs/demo/controls">"#));
    assert!(!html.contains("Policies"), "policies only show when something names them");

    // Two actions more than a trace returns per group: the panel says how many it left out.
    let limit = aims_app::records::TRACE_GROUP_LIMIT;
    for n in 0..limit + 2 {
        ui.app
            .create_record(&member, &ACTION, &json!({"title": format!("Check batch {n}"), "source": "other", "ai_system_ids": [system.id]}))
            .await
            .expect("action");
    }
    let page = ui.get(&path, Some(&editor)).await;
    let html = panel(&page.body);
    assert!(html.contains(&format!(r#"Actions <span class="trace-count">{}</span>"#, limit + 2)), "{html}");
    assert_eq!(html.matches(r#"<a href="/orgs/demo/actions/"#).count(), usize::try_from(limit).expect("limit"));
    assert!(html.contains(r#"<a href="/orgs/demo/actions">and 2 more</a>"#));
    assert!(html.contains("No evidence yet"), "the other groups still collapse");
}
