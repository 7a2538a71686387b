//! Tenant isolation: nothing of one organisation can be read, changed or linked from another.

use serde_json::json;

use crate::helpers::{Backend, Route, TestApp};

/// Every organisation route, called with a token of another organisation, answers 404.
async fn every_route_is_404_with_another_organisations_token(backend: Backend) {
    let t = TestApp::start(backend).await;
    for route in Route::all().into_iter().filter(|r| !r.public()) {
        let events = t.event_count().await;
        let prepared = t.prepare(route, "acme", "owner").await;
        let events_after_setup = t.event_count().await;
        let reply = t.send(&t.other_token, &prepared).await;
        reply.problem(404);
        assert_eq!(t.event_count().await, events_after_setup, "{route:?} wrote despite refusal");
        let _ = events;
    }
}

/// A body that points at another organisation's member or record is refused with 422.
async fn links_to_another_organisation_are_refused(backend: Backend) {
    let t = TestApp::start(backend).await;
    let outsider = t.app.member_by_email("owner@other.example", "other").await.expect("outsider");
    let reply = t.patch("editor", "/api/v1/orgs/acme/controls/A.2.2", 1, &json!({"owner_id": outsider.user_id})).await;
    assert_eq!(reply.problem(422), vec!["owner_id"]);
    let insider = t.member("auditor").await;
    let reply = t.patch("editor", "/api/v1/orgs/acme/controls/A.2.2", 1, &json!({"owner_id": insider.user_id})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // A create checks its links as it writes them: a bad one leaves nothing behind, and every
    // bad reference is named at once.
    let theirs =
        t.call(&t.other_token, reqwest::Method::POST, "/api/v1/orgs/other/ai-systems", Some(&json!({"name": "Theirs"})), &[]).await;
    let theirs = theirs.json()["id"].as_str().expect("id").to_owned();
    let ours =
        t.post("editor", "/api/v1/orgs/acme/ai-systems", &json!({"name": "Ours"})).await.json()["id"].as_str().expect("id").to_owned();
    let events = t.event_count().await;
    let risk = |owner: &str, systems: Vec<&str>, controls: Vec<&str>| json!({"title": "R", "source_category": "technical", "owner_id": owner, "ai_system_ids": systems, "control_refs": controls});
    let bad_link =
        t.post("editor", "/api/v1/orgs/acme/risks", &risk(&insider.user_id, vec![ours.as_str(), theirs.as_str()], vec!["A.2.2"])).await;
    assert_eq!(bad_link.problem(422), vec!["ai_system_ids[1]"]);
    let all_bad = t.post("editor", "/api/v1/orgs/acme/risks", &risk(&outsider.user_id, vec![theirs.as_str()], vec!["A.99"])).await;
    assert_eq!(all_bad.problem(422), vec!["owner_id", "ai_system_ids[0]", "control_refs[0]"]);
    assert_eq!(t.event_count().await, events, "a refused create wrote an event");
    assert_eq!(
        t.get("viewer", "/api/v1/orgs/acme/risks").await.json()["items"].as_array().map(Vec::len),
        Some(0),
        "a refused create wrote a risk"
    );
    let good =
        t.post("editor", "/api/v1/orgs/acme/risks", &risk(&insider.user_id, vec![ours.as_str(), ours.as_str()], vec!["A.2.2"])).await;
    assert_eq!(good.status, 201, "the same system twice is one link: {}", good.text);
}

/// The schema itself refuses a cross-organisation link, whatever the code above it does.
async fn the_schema_refuses_cross_organisation_links(backend: Backend) {
    let t = TestApp::start(backend).await;
    let acme = t.app.org_by_slug("acme").await.expect("acme");
    let other = t.app.org_by_slug("other").await.expect("other");
    let ours = t.get("viewer", "/api/v1/orgs/acme/controls/A.2.2").await.json()["id"].as_str().expect("id").to_owned();
    let theirs = t.call(&t.other_token, reqwest::Method::GET, "/api/v1/orgs/other/controls/A.2.2", None, &[]).await.json()["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut tx = t.app.db.begin_write().await.expect("tx");
    let refused = aims_store::records::replace_links(
        &mut tx,
        aims_store::records::LinkSource { org_id: &acme.id, id: &ours, kind: "control" },
        &[("control_ids", aims_store::records::LinkTargets::Ids(&[theirs.clone()]))],
        false,
    )
    .await;
    assert!(refused.is_err(), "a link from acme to other's record must violate the foreign key");
    drop(tx);
    let mut tx = t.app.db.begin_write().await.expect("tx");
    let refused = aims_store::records::replace_links(
        &mut tx,
        aims_store::records::LinkSource { org_id: &other.id, id: &ours, kind: "control" },
        &[("control_ids", aims_store::records::LinkTargets::Ids(&[theirs.clone()]))],
        false,
    )
    .await;
    assert!(refused.is_err(), "a link row in other's name from acme's record must violate the foreign key");
}

on_both_backends!(
    every_route_is_404_with_another_organisations_token,
    links_to_another_organisation_are_refused,
    the_schema_refuses_cross_organisation_links
);
