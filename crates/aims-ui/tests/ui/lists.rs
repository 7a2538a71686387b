//! Lists at any scale: filters from the kind's declaration, sorting by the main columns across
//! page boundaries with repeated keys, the CSV download under both, the risk heat maps over
//! every risk and the evidence list beyond 200; on SQLite and PostgreSQL.

use std::collections::HashSet;

use aims_app::evidence::Upload;
use aims_domain::identity::Role;
use aims_domain::kinds::{AI_SYSTEM, CONTEXT_ISSUE, LIFECYCLE_RECORD, RISK};
use axum::http::StatusCode;
use serde_json::json;

use crate::{Backend, TestUi, member_of, start_on};

/// The row links (`href` of each `row-link`) of a list page.
fn rows_of(html: &str) -> Vec<String> {
    html.split(r#"<a class="row-link" href=""#).skip(1).map(|rest| rest[..rest.find('"').expect("href end")].to_owned()).collect()
}

/// Every row of a list, following `rel="next"` from `first`.
async fn walk(ui: &TestUi, cookie: &str, first: &str) -> Vec<String> {
    ui.pages_of(cookie, first).await.iter().flat_map(|(_, body)| rows_of(body)).collect()
}

/// The id at the end of a row link.
fn id_of(href: &str) -> String {
    href.rsplit('/').next().unwrap_or_default().to_owned()
}

async fn filters_and_sorting(ui: TestUi) {
    let editor = member_of(&ui, Role::Editor).await;
    let viewer = member_of(&ui, Role::Viewer).await;
    let cookie = ui.sign_in(Role::Editor).await;
    // 130 issues (more than two pages) under three titles, differing in case only by key, so
    // most keys repeat across page boundaries; every third is external, every fifth owned.
    let titles = ["Bravo drift", "alpha supply", "Charlie staff"];
    let mut ids = HashSet::new();
    let mut external = HashSet::new();
    let mut owned = HashSet::new();
    for n in 0..130 {
        let issue_type = if n % 3 == 0 { "external" } else { "internal" };
        let mut body = json!({ "title": titles[n % 3], "issue_type": issue_type });
        if n % 5 == 0 {
            body["owner_id"] = json!(viewer.user_id);
        }
        let id = ui.app.create_record(&editor, &CONTEXT_ISSUE, &body).await.expect("issue").id;
        if issue_type == "external" {
            external.insert(id.clone());
        }
        if n % 5 == 0 {
            owned.insert(id.clone());
        }
        ids.insert(id);
    }
    let demo: HashSet<String> = {
        let page = ui.app.list_records(&editor, &CONTEXT_ISSUE, false, 0, 200).await.expect("issues");
        page.items.into_iter().map(|r| r.id).filter(|id| !ids.contains(id)).collect()
    };
    let title_of = |id: &str, records: &[aims_store::model::Record]| {
        records.iter().find(|r| r.id == id).and_then(|r| r.data["title"].as_str()).unwrap_or_default().to_lowercase()
    };
    let all = ui.app.list_records(&editor, &CONTEXT_ISSUE, false, 0, 200).await.expect("issues").items;

    // Sorted both ways, every row comes exactly once, in order of the title ignoring case.
    for (sort, descending) in [("title", false), ("-title", true)] {
        let rows: Vec<String> =
            walk(&ui, &cookie, &format!("/orgs/demo/context-issues?sort={sort}")).await.iter().map(|h| id_of(h)).collect();
        let unique: HashSet<&String> = rows.iter().collect();
        assert_eq!(unique.len(), rows.len(), "{sort}: a row repeated");
        assert_eq!(rows.len(), ids.len() + demo.len(), "{sort}: a row lost");
        let keys: Vec<String> = rows.iter().map(|id| title_of(id, &all)).collect();
        let mut expected = keys.clone();
        expected.sort();
        if descending {
            expected.reverse();
        }
        assert_eq!(keys, expected, "{sort}: out of order");
    }
    let first = ui.get("/orgs/demo/context-issues?sort=-title", Some(&cookie)).await;
    assert!(first.body.contains(r#"aria-sort="descending""#), "{}", first.body);
    assert!(first.body.contains(r#"href="/orgs/demo/context-issues?sort=title""#));
    // A cursor made for one order is no page of another.
    let next = crate::next_link(&first.body).expect("a second page");
    assert_eq!(ui.get(&next.replace("sort=-title", "sort=title"), Some(&cookie)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(ui.get(&next.replace("sort=-title&", ""), Some(&cookie)).await.status, StatusCode::NOT_FOUND);

    // A choice and an owner filter, kept by the next page and the sort links.
    let rows: HashSet<String> =
        walk(&ui, &cookie, "/orgs/demo/context-issues?issue_type=external&sort=title").await.iter().map(|h| id_of(h)).collect();
    let demo_external: HashSet<String> =
        all.iter().filter(|r| demo.contains(&r.id) && r.data["issue_type"] == "external").map(|r| r.id.clone()).collect();
    assert_eq!(rows, external.union(&demo_external).cloned().collect());
    let owner_path = format!("/orgs/demo/context-issues?owner_id={}", viewer.user_id);
    let rows: HashSet<String> = walk(&ui, &cookie, &owner_path).await.iter().map(|h| id_of(h)).collect();
    assert!(owned.is_subset(&rows) && rows.iter().all(|id| owned.contains(id) || demo.contains(id)));
    let page = ui.get(&owner_path, Some(&cookie)).await;
    assert!(page.body.contains(&format!(r#"<option value="{}" selected>"#, viewer.user_id)), "{}", page.body);
    // A value the declaration refuses is left out rather than failing the page.
    assert_eq!(ui.get("/orgs/demo/context-issues?issue_type=nonsense&owner_id=x", Some(&cookie)).await.status, StatusCode::OK);

    // The download holds every matching row, in the order asked for.
    let csv = ui.get("/orgs/demo/context-issues?issue_type=external&sort=-title&format=csv", Some(&cookie)).await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.body.lines().skip(1).collect();
    assert_eq!(lines.len(), external.len() + demo_external.len());
    let titles_in_csv: Vec<String> = lines.iter().map(|l| l.split(',').nth(1).unwrap_or_default().to_lowercase()).collect();
    let mut expected = titles_in_csv.clone();
    expected.sort();
    expected.reverse();
    assert_eq!(titles_in_csv, expected);

    // A link filter by id, shown as a chip naming the linked record.
    let scorer = ui.app.create_record(&editor, &AI_SYSTEM, &json!({ "name": "Chip scorer", "intended_use": "x" })).await.expect("system");
    let other = ui.app.create_record(&editor, &AI_SYSTEM, &json!({ "name": "Other", "intended_use": "x" })).await.expect("system");
    let mut mine = HashSet::new();
    for (n, system) in [&scorer, &other, &scorer].iter().enumerate() {
        let body = json!({ "ai_system_id": system.id, "record_type": "design_documentation", "title": format!("Record {n}") });
        let record = ui.app.create_record(&editor, &LIFECYCLE_RECORD, &body).await.expect("record");
        if system.id == scorer.id {
            mine.insert(record.id);
        }
    }
    let path = format!("/orgs/demo/lifecycle-records?ai_system_id={}", scorer.id);
    let page = ui.get(&path, Some(&cookie)).await;
    assert!(page.body.contains("AI system: Chip scorer"), "{}", page.body);
    let rows: HashSet<String> = rows_of(&page.body).iter().map(|h| id_of(h)).collect();
    assert_eq!(rows, mine);
}

#[tokio::test]
async fn lists_filter_and_sort_across_pages_sqlite() {
    let Some(ui) = start_on(Backend::Sqlite).await else { return };
    filters_and_sorting(ui).await;
}

#[tokio::test]
async fn lists_filter_and_sort_across_pages_postgres() {
    let Some(ui) = start_on(Backend::Postgres).await else { return };
    filters_and_sorting(ui).await;
}

async fn risks_and_evidence_at_scale(ui: TestUi) {
    let editor = member_of(&ui, Role::Editor).await;
    let cookie = ui.sign_in(Role::Editor).await;
    let before = ui.app.list_records(&editor, &RISK, false, 0, 200).await.expect("risks").items;
    let rated = |prefix: &str| {
        before
            .iter()
            .filter(|r| r.data[&format!("{prefix}_likelihood")].is_i64() && r.data[&format!("{prefix}_consequence")].is_i64())
            .count()
    };
    let (rated_before, residual_before) = (rated("inherent"), rated("residual"));
    for n in 0..260 {
        let body = json!({
            "title": format!("Scale risk {n:03}"),
            "source_category": "technical",
            "inherent_likelihood": 5,
            "inherent_consequence": 1 + (n % 2),
            "residual_likelihood": if n % 4 == 0 { json!(2) } else { json!(null) },
            "residual_consequence": if n % 4 == 0 { json!(2) } else { json!(null) },
        });
        ui.app.create_record(&editor, &RISK, &body).await.expect("risk");
    }
    // The heat map counts every risk, not the first 200.
    let page = ui.get("/orgs/demo/risks", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let total = rated_before + 260;
    assert!(page.body.contains(&format!("Risk heat map — inherent: {total} risks rated")), "{}", page.body);
    let residual = residual_before + 65;
    assert!(page.body.contains(&format!("Risk heat map — residual: {residual} risks rated")), "{}", page.body);
    // The register pages, searches and filters by state.
    let rows = walk(&ui, &cookie, "/orgs/demo/risks?q=scale+risk&sort=-title").await;
    assert_eq!(rows.len(), 260);
    assert_eq!(rows.iter().collect::<HashSet<_>>().len(), 260);
    let open = walk(&ui, &cookie, "/orgs/demo/risks?state=open&q=scale").await;
    assert_eq!(open.len(), 260);
    let accepted = walk(&ui, &cookie, "/orgs/demo/risks?state=accepted&q=scale").await;
    assert!(accepted.is_empty());

    // 210 pieces of evidence, every other one overdue and a test result.
    for n in 0..210 {
        let overdue = n % 2 == 0;
        let metadata = json!({
            "title": format!("Scale evidence {n:03}"),
            "evidence_type": if overdue { "test_result" } else { "document" },
            "review_by": if overdue { "2020-01-01" } else { "2999-01-01" },
        });
        let upload = Upload::from_bytes(format!("e{n}.txt"), "text/plain", b"evidence".to_vec());
        ui.app.upload_evidence(&editor, &metadata, upload).await.expect("evidence");
    }
    let rows = walk(&ui, &cookie, "/orgs/demo/evidence?q=scale+evidence").await;
    assert_eq!(rows.iter().collect::<HashSet<_>>().len(), 210);
    let overdue = walk(&ui, &cookie, "/orgs/demo/evidence?q=scale+evidence&overdue=1&sort=title").await;
    assert_eq!(overdue.len(), 105);
    let tests = walk(&ui, &cookie, "/orgs/demo/evidence?q=scale+evidence&evidence_type=test_result").await;
    assert_eq!(tests.len(), 105);
    // The link the page has always used for the type still filters.
    let legacy = walk(&ui, &cookie, "/orgs/demo/evidence?q=scale+evidence&kind=document").await;
    assert_eq!(legacy.len(), 105);
    let csv = ui.get("/orgs/demo/evidence?q=scale+evidence&overdue=1&format=csv", Some(&cookie)).await;
    assert_eq!(csv.body.lines().count(), 1 + 105);
}

#[tokio::test]
async fn risks_and_evidence_lists_cover_every_record_sqlite() {
    let Some(ui) = start_on(Backend::Sqlite).await else { return };
    risks_and_evidence_at_scale(ui).await;
}

#[tokio::test]
async fn risks_and_evidence_lists_cover_every_record_postgres() {
    let Some(ui) = start_on(Backend::Postgres).await else { return };
    risks_and_evidence_at_scale(ui).await;
}
