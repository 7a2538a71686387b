//! The activity log through the API: event shape, filters, CSV, head and verification.

use serde_json::json;

use crate::helpers::{Backend, TestApp};

async fn changes_are_logged_with_actor_and_diff(backend: Backend) {
    let t = TestApp::start(backend).await;
    let reply = t.patch("editor", "/api/v1/orgs/acme/requirements/5.2", 1, &json!({"status": "partial", "notes": "Draft AI policy"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let id = reply.json()["id"].as_str().expect("id").to_owned();
    let page = t.get("auditor", &format!("/api/v1/orgs/acme/activity?record_id={id}")).await.json();
    let events = page["items"].as_array().expect("items");
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event["actor"], "editor@acme.example");
    assert_eq!(event["action"], "update");
    assert_eq!(event["record_type"], "requirement");
    assert_eq!(event["changes"]["status"], json!({"from": "missing", "to": "partial"}));
    for key in ["id", "seq", "at", "prev_hash", "hash"] {
        assert!(!event[key].is_null(), "{key}");
    }
    let by_type = t.get("auditor", "/api/v1/orgs/acme/activity?record_type=requirement").await.json();
    assert_eq!(by_type["items"].as_array().map(Vec::len), Some(1));
    let by_actor = t.get("auditor", "/api/v1/orgs/acme/activity?actor=editor@acme.example&limit=200").await.json();
    assert!(by_actor["items"].as_array().expect("items").iter().all(|e| e["actor"] == "editor@acme.example"));
    let future = t.get("auditor", "/api/v1/orgs/acme/activity?since=2999-01-01T00:00:00Z").await.json();
    assert_eq!(future["items"].as_array().map(Vec::len), Some(0));
    let past = t.get("auditor", "/api/v1/orgs/acme/activity?until=2000-01-01T00:00:00Z").await.json();
    assert_eq!(past["items"].as_array().map(Vec::len), Some(0));
    t.get("auditor", "/api/v1/orgs/acme/activity?since=yesterday").await.problem(422);
    t.get("auditor", "/api/v1/orgs/acme/activity?format=xml").await.problem(422);
}

async fn events_chain_and_page(backend: Backend) {
    let t = TestApp::start(backend).await;
    let mut all = Vec::new();
    let mut url = "/api/v1/orgs/acme/activity?limit=3".to_owned();
    loop {
        let page = t.get("viewer", &url).await.json();
        all.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => url = format!("/api/v1/orgs/acme/activity?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert!(all.len() >= 10);
    for pair in all.windows(2) {
        assert_eq!(pair[1]["seq"].as_i64(), pair[0]["seq"].as_i64().map(|s| s + 1));
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
    }
    let head = t.get("viewer", "/api/v1/orgs/acme/activity/head").await.json();
    assert_eq!(head["hash"], all.last().expect("last")["hash"]);
    assert_eq!(t.get("viewer", "/api/v1/orgs/acme/activity/verify").await.json()["intact"], true);
    // From a checkpoint: only the events after it are walked.
    let checkpoint = format!("{}:{}", head["seq"], head["hash"].as_str().expect("hash"));
    let since = t.get("viewer", &format!("/api/v1/orgs/acme/activity/verify?from={checkpoint}")).await.json();
    assert_eq!(
        (since["intact"].clone(), since["from_seq"].clone(), since["head"].clone()),
        (json!(true), head["seq"].clone(), head.clone())
    );
    let forged = format!("{}:{}", head["seq"], "0".repeat(64));
    let broken = t.get("viewer", &format!("/api/v1/orgs/acme/activity/verify?from={forged}")).await.json();
    assert_eq!((broken["intact"].clone(), broken["seq"].clone()), (json!(false), head["seq"].clone()));
    t.get("viewer", "/api/v1/orgs/acme/activity/verify?from=nonsense").await.problem(422);
}

async fn csv_export_has_every_matching_event(backend: Backend) {
    let t = TestApp::start(backend).await;
    let reply = t.patch("editor", "/api/v1/orgs/acme/controls/A.3.3", 1, &json!({"justification": "=HYPERLINK(\"http://evil\")"})).await;
    assert_eq!(reply.status, 200);
    let csv = t.get("auditor", "/api/v1/orgs/acme/activity?format=csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").is_some_and(|c| c.starts_with("text/csv")));
    let rows: Vec<&str> = csv.text.lines().collect();
    assert_eq!(rows[0], "seq,id,at,actor,action,record_type,record_id,changes,prev_hash,hash");
    assert_eq!(rows.len() as i64 - 1, t.event_count().await);
    let filtered = t.get("auditor", "/api/v1/orgs/acme/activity?format=csv&record_type=control").await;
    assert_eq!(filtered.text.lines().count(), 2);
}

async fn events_never_hold_secrets(backend: Backend) {
    let t = TestApp::start(backend).await;
    let created = t.post("viewer", "/api/v1/orgs/acme/tokens", &json!({"name": "ci"})).await.json();
    let secret = created["token"].as_str().expect("token shown once").to_owned();
    let csv = t.get("auditor", "/api/v1/orgs/acme/activity?format=csv").await;
    for token in t.tokens.values().map(String::as_str).chain([secret.as_str()]) {
        assert!(!csv.text.contains(token), "a token leaked into the log");
    }
    assert!(!csv.text.contains("argon2"), "a password hash leaked into the log");
}

/// Newest first is the same events as chain order, reversed, paged by the same cursor.
async fn newest_first_pages_back_from_the_head(backend: Backend) {
    let t = TestApp::start(backend).await;
    let mut newest = Vec::new();
    let mut url = "/api/v1/orgs/acme/activity?order=newest&limit=4".to_owned();
    loop {
        let page = t.get("viewer", &url).await.json();
        newest.extend(page["items"].as_array().expect("items").iter().map(|e| e["seq"].as_i64().expect("seq")));
        match page["next_cursor"].as_str() {
            Some(cursor) => url = format!("/api/v1/orgs/acme/activity?order=newest&limit=4&cursor={cursor}"),
            None => break,
        }
    }
    let head = t.get("viewer", "/api/v1/orgs/acme/activity/head").await.json();
    assert_eq!(newest.first().copied(), head["seq"].as_i64());
    let expected: Vec<i64> = (1..=t.event_count().await).rev().collect();
    assert_eq!(newest, expected);
    let controls = t.get("viewer", "/api/v1/orgs/acme/activity?order=newest&record_type=requirement&format=csv").await;
    assert_eq!(controls.status, 200);
    let chain = t.get("viewer", "/api/v1/orgs/acme/activity?order=chain&limit=1").await.json();
    assert_eq!(chain["items"][0]["seq"], 1);
    let errors = t.get("viewer", "/api/v1/orgs/acme/activity?order=oldest").await.problem(422);
    assert!(errors.iter().any(|e| e.contains("order")), "{errors:?}");
}

/// An event lists only what changed: "" over nothing is no change, a cleared field is one.
async fn events_list_only_real_changes(backend: Backend) {
    let t = TestApp::start(backend).await;
    let before = t.event_count().await;
    let unchanged = t.patch("editor", "/api/v1/orgs/acme/requirements/5.2", 1, &json!({"notes": ""})).await;
    assert_eq!(unchanged.status, 200, "{}", unchanged.text);
    assert_eq!(unchanged.json()["version"], 1, "nothing changed, nothing written");
    assert_eq!(t.event_count().await, before);
    let reply = t.patch("editor", "/api/v1/orgs/acme/requirements/5.2", 1, &json!({"status": "partial", "notes": ""})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let id = reply.json()["id"].as_str().expect("id").to_owned();
    let noted = t.patch("editor", "/api/v1/orgs/acme/requirements/5.2", 2, &json!({"notes": "Draft"})).await;
    assert_eq!(noted.status, 200, "{}", noted.text);
    let cleared = t.patch("editor", "/api/v1/orgs/acme/requirements/5.2", 3, &json!({"notes": null})).await;
    assert_eq!(cleared.status, 200, "{}", cleared.text);
    let page = t.get("auditor", &format!("/api/v1/orgs/acme/activity?record_id={id}")).await.json();
    let changes: Vec<Vec<String>> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["changes"].as_object().expect("changes").keys().cloned().collect())
        .collect();
    assert_eq!(changes, [vec!["status".to_owned()], vec!["notes".to_owned()], vec!["notes".to_owned()]]);
    assert_eq!(page["items"][2]["changes"]["notes"], json!({"from": "Draft", "to": null}));
}

on_both_backends!(
    newest_first_pages_back_from_the_head,
    events_list_only_real_changes,
    changes_are_logged_with_actor_and_diff,
    events_chain_and_page,
    csv_export_has_every_matching_event,
    events_never_hold_secrets
);
