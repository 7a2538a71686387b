//! Objectives with measurements and their trend chart; competence gaps that close when a valid
//! training record is added; the communication plan and its record of what was communicated.

use aims_domain::identity::Role;
use aims_domain::kinds::{COMMUNICATION, COMPETENCE, PERSON};
use axum::http::StatusCode;

use super::{TestUi, form_version, member_of, start};

/// The id in a redirect to a record page: `/orgs/demo/{collection}/{id}?done=…`.
fn id_in(location: &str, collection: &str) -> String {
    let prefix = format!("/orgs/demo/{collection}/");
    location.strip_prefix(&prefix).and_then(|rest| rest.split(['?', '#']).next()).expect("record location").to_owned()
}

async fn id_named(ui: &TestUi, spec: &aims_domain::validate::KindSpec, field: &str, value: &str) -> String {
    let member = member_of(ui, Role::Editor).await;
    let page = ui.app.list_records(&member, spec, false, 0, 200).await.expect("list");
    page.items.iter().find(|r| r.data.get(field).and_then(|v| v.as_str()) == Some(value)).map(|r| r.id.clone()).expect("record by name")
}

#[tokio::test]
async fn objective_measurements_draw_a_trend_and_set_the_status() {
    let ui = start().await;
    let editor = ui.sign_in(Role::Editor).await;

    let form = ui.get("/orgs/demo/objectives/new", Some(&editor)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(r#"<label for="metric">Metric</label>"#));
    let refused =
        ui.post("/orgs/demo/objectives/new", Some(&editor), &[("title", "Probe objective"), ("metric", ""), ("target", "95")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(r#"id="metric-error""#), "{}", refused.body);

    let created = ui
        .post(
            "/orgs/demo/objectives/new",
            Some(&editor),
            &[
                ("title", "Probe objective"),
                ("metric", "Share of model changes validated before release"),
                ("unit", "%"),
                ("direction", "at_least"),
                ("target", "95"),
                ("baseline", "80"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = id_in(created.location.as_deref().unwrap_or_default(), "objectives");
    let page = ui.get(&format!("/orgs/demo/objectives/{id}"), Some(&editor)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1>Probe objective</h1>"));
    assert!(page.body.contains(r#"<span class="badge badge-no_data">No data</span>"#));
    assert!(page.body.contains("No measurements yet"));

    // A value that is not a number is refused next to its field; nothing is recorded.
    let bad = ui
        .post(&format!("/orgs/demo/objectives/{id}/measurements"), Some(&editor), &[("value", "lots"), ("measured_on", "2025-01-10")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains(r#"id="value-error""#), "{}", bad.body);

    for (value, on, notes) in [("88", "2025-01-10", "Before the new release checklist"), ("96.5", "2025-02-10", "")] {
        let measured = ui
            .post(
                &format!("/orgs/demo/objectives/{id}/measurements"),
                Some(&editor),
                &[("value", value), ("measured_on", on), ("notes", notes)],
            )
            .await;
        assert_eq!(measured.status, StatusCode::SEE_OTHER, "{}", measured.body);
        assert_eq!(measured.location, Some(format!("/orgs/demo/objectives/{id}?done=measured#measure")));
    }
    let page = ui.get(&format!("/orgs/demo/objectives/{id}?done=measured"), Some(&editor)).await;
    let html = &page.body;
    assert!(html.contains("Measurement recorded."));
    assert!(html.contains(r#"<svg class="chart chart-trend""#), "trend chart");
    assert!(html.contains(r#"class="trend-target""#) && html.contains(r#"class="trend-baseline""#));
    assert!(html.contains("<title>2025-01-10: 88% — misses the target</title>"));
    assert!(html.contains("<title>2025-02-10: 96.5% — meets the target</title>"));
    assert!(html.contains(r#"<span class="badge badge-on_track">On track</span>"#));
    assert!(html.contains(r#"id="latest-value">96.5%</span>"#));
    assert!(html.contains("Before the new release checklist"), "measurement table");
    assert!(!html.contains("Measurement: <a"), "measurements are the panel's, not links named by their ids");

    // A measurement entered by mistake is withdrawn; the status follows the remaining one.
    let start = html.find(r#"name="measurement" value=""#).expect("withdraw form") + r#"name="measurement" value=""#.len();
    let newest: String = html[start..].chars().take_while(|c| *c != '"').collect();
    let withdrawn =
        ui.post(&format!("/orgs/demo/objectives/{id}/withdraw"), Some(&editor), &[("measurement", &newest), ("version", "1")]).await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER, "{}", withdrawn.body);
    let page = ui.get(&format!("/orgs/demo/objectives/{id}?done=withdrawn"), Some(&editor)).await;
    let html = &page.body;
    assert!(html.contains("Measurement withdrawn"));
    assert!(html.contains(r#"<span class="badge badge-off_track">Off track</span>"#));
    assert!(html.contains(r#"id="latest-value">88%</span>"#));
    assert!(!html.contains("96.5%"), "no longer shown");

    // The objective's own edit form saves at its current version (measurements moved it on).
    let version = form_version(&html[html.find(r#"id="edit-h""#).expect("edit form")..]);
    let saved = ui
        .post(
            &format!("/orgs/demo/objectives/{id}"),
            Some(&editor),
            &[
                ("version", &version),
                ("title", "Probe objective"),
                ("metric", "Share of model changes validated before release"),
                ("unit", "%"),
                ("direction", "at_least"),
                ("target", "85"),
                ("baseline", "80"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = ui.get(&format!("/orgs/demo/objectives/{id}"), Some(&editor)).await;
    assert!(page.body.contains(r#"<span class="badge badge-on_track">On track</span>"#), "judged against the new target");

    let list = ui.get("/orgs/demo/objectives", Some(&editor)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Probe objective"));
    assert!(list.body.contains("≥ 85%"));
    assert!(list.body.contains(r#"<svg class="sparkline""#));

    // A viewer reads the chart but gets no forms.
    let viewer = ui.sign_in(Role::Viewer).await;
    let page = ui.get(&format!("/orgs/demo/objectives/{id}"), Some(&viewer)).await;
    assert!(page.body.contains("chart-trend"));
    assert!(!page.body.contains("Record a measurement"));
    assert!(!page.body.contains(r#"name="version""#));
    let refused = ui
        .post(&format!("/orgs/demo/objectives/{id}/measurements"), Some(&viewer), &[("value", "99"), ("measured_on", "2025-03-01")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_competence_gap_closes_when_a_valid_training_is_recorded() {
    let ui = start().await;
    let editor = ui.sign_in(Role::Editor).await;
    let person = ui
        .post("/orgs/demo/people", Some(&editor), &[("name", "Ada Probe"), ("job_title", "Quant analyst"), ("roles", "Fairness reviewer")])
        .await;
    assert_eq!(person.status, StatusCode::SEE_OTHER, "{}", person.body);
    assert_eq!(person.location.as_deref(), Some("/orgs/demo/people?done=person#people"));
    let competence = ui
        .post(
            "/orgs/demo/competences",
            Some(&editor),
            &[("name", "Bias testing methods"), ("required_for_roles", "fairness reviewer"), ("renewal_months", "12")],
        )
        .await;
    assert_eq!(competence.status, StatusCode::SEE_OTHER, "{}", competence.body);
    let person_id = id_named(&ui, &PERSON, "name", "Ada Probe").await;
    let competence_id = id_named(&ui, &COMPETENCE, "name", "Bias testing methods").await;

    let page = ui.get("/orgs/demo/people", Some(&editor)).await;
    assert_eq!(page.status, StatusCode::OK);
    let gaps = &page.body[page.body.find("Who lacks what").expect("gaps section")..page.body.find(r#"id="people""#).expect("people")];
    assert!(gaps.contains("Ada Probe") && gaps.contains("Bias testing methods"), "{gaps}");
    assert!(page.body.contains("/orgs/demo/communications"), "the plan is linked from the people page");

    // Expiry before completion is refused next to the field.
    let path = format!("/orgs/demo/people/{person_id}/trainings");
    let bad = ui
        .post(
            &path,
            Some(&editor),
            &[
                ("title", "Bias workshop"),
                ("training_type", "training"),
                ("competence_ids", &competence_id),
                ("completed_on", "2025-06-01"),
                ("expires_on", "2025-01-01"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains(r#"id="expires_on-error""#), "{}", bad.body);

    // An expired record leaves the gap open, as expired.
    let old = ui
        .post(
            &path,
            Some(&editor),
            &[
                ("title", "Bias workshop 2019"),
                ("training_type", "training"),
                ("competence_ids", &competence_id),
                ("completed_on", "2019-06-01"),
                ("expires_on", "2020-06-01"),
            ],
        )
        .await;
    assert_eq!(old.status, StatusCode::SEE_OTHER, "{}", old.body);
    let page = ui.get(&format!("/orgs/demo/people/{person_id}"), Some(&editor)).await;
    assert!(page.body.contains("What Ada Probe lacks"));
    assert!(page.body.contains(r#"<span class="badge badge-gap-expired">Expired 2020-06-01</span>"#), "{}", page.body);

    let valid = ui
        .post(
            &path,
            Some(&editor),
            &[
                ("title", "Bias testing certificate"),
                ("training_type", "certification"),
                ("competence_ids", &competence_id),
                ("completed_on", "2025-06-01"),
            ],
        )
        .await;
    assert_eq!(valid.status, StatusCode::SEE_OTHER, "{}", valid.body);
    let page = ui.get(&format!("/orgs/demo/people/{person_id}?done=training"), Some(&editor)).await;
    assert!(page.body.contains("Training record added."));
    assert!(page.body.contains("Holds every competence their roles require."));
    assert!(page.body.contains("Bias testing certificate"));
    let member = member_of(&ui, Role::Editor).await;
    let open = ui.app.competence_gaps(&member).await.expect("gaps");
    assert!(!open.iter().any(|g| g.person_id == person_id), "gap closed");
    let people = ui.get("/orgs/demo/people", Some(&editor)).await;
    let gaps = &people.body[people.body.find("Who lacks what").expect("gaps")..people.body.find(r#"id="people""#).expect("people")];
    assert!(!gaps.contains("Ada Probe"), "no longer listed as lacking anything");
    assert!(people.body.contains(r#"<span class="badge badge-gap-expired">Expired</span>"#), "the old record is marked expired");

    let competence = ui.get(&format!("/orgs/demo/competences/{competence_id}"), Some(&editor)).await;
    assert_eq!(competence.status, StatusCode::OK);
    assert!(competence.body.contains("Everyone in these roles holds it."));

    // An auditor reads all of it, with no forms.
    let auditor = ui.sign_in(Role::Auditor).await;
    let page = ui.get("/orgs/demo/people", Some(&auditor)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Who lacks what") && page.body.contains("Bias testing methods"));
    let main = &page.body[page.body.find("<main").expect("main")..];
    assert!(!main.contains("<form"), "no forms for an auditor");
    for path in
        [format!("/orgs/demo/people/{person_id}"), format!("/orgs/demo/competences/{competence_id}"), "/orgs/demo/communications".into()]
    {
        let page = ui.get(&path, Some(&auditor)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(!page.body.contains(r#"name="version""#) && !page.body.contains("Add person"), "{path}");
    }
}

#[tokio::test]
async fn communications_are_planned_and_recorded() {
    let ui = start().await;
    let editor = ui.sign_in(Role::Editor).await;
    let created = ui
        .post(
            "/orgs/demo/communications/new",
            Some(&editor),
            &[
                ("subject", "Probe: AI policy changes"),
                ("audience", "All credit officers"),
                ("audience_type", "internal"),
                ("channel", "email"),
                ("frequency", "quarterly"),
                ("next_on", "2020-01-15"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = id_in(created.location.as_deref().unwrap_or_default(), "communications");
    let plan = ui.get("/orgs/demo/communications", Some(&editor)).await;
    assert_eq!(plan.status, StatusCode::OK);
    let row = plan.body.split("<tr>").find(|r| r.contains("Probe: AI policy changes")).expect("plan row");
    assert!(row.contains("Overdue") && row.contains("Not yet"), "{row}");

    let page = ui.get(&format!("/orgs/demo/communications/{id}"), Some(&editor)).await;
    assert!(page.body.contains("Record that it was communicated"));
    let version = form_version(&page.body);
    let path = format!("/orgs/demo/communications/{id}/records");
    let empty =
        ui.post(&path, Some(&editor), &[("version", &version), ("communicated_on", "2025-03-01"), ("summary", ""), ("next_on", "")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains(r#"id="summary-error""#), "{}", empty.body);

    let recorded = ui
        .post(
            &path,
            Some(&editor),
            &[
                ("version", &version),
                ("communicated_on", "2025-03-01"),
                ("summary", "Sent the policy changes by e-mail"),
                ("next_on", "2099-06-01"),
            ],
        )
        .await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.body);
    // The same (now old) version again is refused, and nothing more is appended.
    let stale = ui
        .post(&path, Some(&editor), &[("version", &version), ("communicated_on", "2025-03-02"), ("summary", "Twice"), ("next_on", "")])
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let record = ui.app.get_record(&member_of(&ui, Role::Editor).await, &COMMUNICATION, &id).await.expect("line");
    let records = record.data["records"].as_array().expect("records");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["summary"], "Sent the policy changes by e-mail");
    assert_eq!(record.data["next_on"], "2099-06-01");

    let page = ui.get(&format!("/orgs/demo/communications/{id}?done=recorded"), Some(&editor)).await;
    assert!(page.body.contains("Sent the policy changes by e-mail"));
    let plan = ui.get("/orgs/demo/communications", Some(&editor)).await;
    let row = plan.body.split("<tr>").find(|r| r.contains("Probe: AI policy changes")).expect("plan row");
    assert!(!row.contains("Overdue") && row.contains("2025-03-01"), "{row}");
}
