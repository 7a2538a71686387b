//! Management reviews through the API: the contract (create, read, patch, transitions with
//! `If-Match`), a decision that raises an action in the one tracker in the same transaction,
//! role rules (a viewer or auditor writes nothing, an editor does not close), and the pack
//! frozen on close that later changes to the record do not alter.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::workflows::{change, create, take, taken, user, version};

const BASE: &str = "/api/v1/orgs/acme";

fn id_of(path: &str) -> String {
    path.rsplit('/').next().unwrap_or_default().to_owned()
}

async fn count(t: &TestApp, collection: &str) -> usize {
    let list = t.get("viewer", &format!("{BASE}/{collection}?limit=200")).await.json();
    list["items"].as_array().map_or(0, Vec::len)
}

async fn a_review_is_held_decided_and_closed(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (editor, owner) = (user(&t, "editor").await, user(&t, "owner").await);
    let missing = t.post("editor", &format!("{BASE}/management-reviews"), &json!({"title": "Q1"})).await;
    assert_eq!(missing.problem(422), ["planned_on"]);
    for role in ["viewer", "auditor"] {
        t.post(role, &format!("{BASE}/management-reviews"), &json!({"title": "Q1", "planned_on": "2026-03-01"})).await.problem(403);
    }
    let created = t
        .post(
            "editor",
            &format!("{BASE}/management-reviews"),
            &json!({"title": "Q1 review", "planned_on": "2026-03-01", "chair_id": owner, "other_attendees": ["Chief risk officer"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert!(created.header("location").is_some_and(|l| l.ends_with(created.json()["id"].as_str().unwrap_or("?"))));
    assert_eq!(created.header("etag"), Some("\"1\""));
    let review = format!("{BASE}/management-reviews/{}", created.json()["id"].as_str().expect("id"));
    assert_eq!(created.json()["state"], "planned");
    assert!(created.json()["pack"].is_null(), "no pack before it closes");
    let v = version(&t, &review).await;
    assert_eq!(t.patch("editor", &review, v, &json!({"state": "closed"})).await.problem(422), ["state"]);
    assert_eq!(t.patch("editor", &review, v, &json!({"pack": {}})).await.problem(422), ["pack"]);
    t.patch("viewer", &review, v, &json!({"agenda": "x"})).await.problem(403);
    change(&t, "editor", &review, json!({"agenda": "The inputs of 9.3"})).await;

    // Decisions only once held; holding is an editor's.
    assert_eq!(take(&t, "editor", &review, "decide", &json!({"decision": "Too early"})).await.status, 409);
    for role in ["viewer", "auditor"] {
        take(&t, role, &review, "hold", &json!({})).await.problem(403);
    }
    let held = take(&t, "editor", &review, "hold", &json!({})).await;
    taken(&held);
    assert!(held.json()["held_at"].is_string());

    // A decision raising an action: the action and the link are written together.
    let actions = count(&t, "actions").await;
    let bad_owner = json!({"decision": "Audit the content sources", "action_title": "Audit sources", "action_owner_id": "00000000-0000-0000-0000-000000000000"});
    assert_eq!(take(&t, "editor", &review, "decide", &bad_owner).await.problem(422), ["action_owner_id"]);
    assert_eq!(take(&t, "editor", &review, "decide", &json!({"action_title": "No decision"})).await.problem(422), ["decision"]);
    let no_title = json!({"decision": "Something", "action_due_date": "2026-04-01"});
    assert_eq!(take(&t, "editor", &review, "decide", &no_title).await.problem(422), ["action_title"]);
    assert_eq!(count(&t, "actions").await, actions, "a refused decision writes no action");
    for role in ["viewer", "auditor"] {
        take(&t, role, &review, "decide", &json!({"decision": "x"})).await.problem(403);
    }
    let decided = take(
        &t,
        "editor",
        &review,
        "decide",
        &json!({"decision": "Audit the content sources", "action_title": "Audit sources", "action_owner_id": editor, "action_due_date": "2026-04-01"}),
    )
    .await;
    taken(&decided);
    let decided = decided.json();
    assert_eq!(decided["state"], "held", "a decision keeps the review held");
    let action_id = decided["action_ids"][0].as_str().expect("the raised action is linked").to_owned();
    assert_eq!(decided["decisions"][0]["text"], "Audit the content sources");
    assert_eq!(decided["decisions"][0]["action_id"], json!(action_id));
    let action = t.get("viewer", &format!("{BASE}/actions/{action_id}")).await.json();
    assert_eq!(
        (&action["title"], &action["source"], &action["owner_id"], &action["due_date"], &action["status"]),
        (&json!("Audit sources"), &json!("management_review"), &json!(editor), &json!("2026-04-01"), &json!("open"))
    );
    let trace = t.get("viewer", &format!("{review}/trace")).await.text;
    assert!(trace.contains(&action_id), "the action is traced from the review");
    taken(&take(&t, "editor", &review, "decide", &json!({"decision": "The AI policy stays as it is"})).await);
    assert_eq!(count(&t, "actions").await, actions + 1, "a decision without an action raises none");

    // Closing is management's; it freezes the pack and a revision.
    for role in ["viewer", "auditor", "editor"] {
        take(&t, role, &review, "close", &json!({})).await.problem(403);
    }
    let closed = take(&t, "admin", &review, "close", &json!({})).await;
    taken(&closed);
    let closed = closed.json();
    assert_eq!(closed["state"], "closed");
    assert!(closed["pack"].is_object() && closed["closed_at"].is_string());
    let revision = t.get("viewer", &format!("{review}/revisions/1")).await;
    assert_eq!(revision.status, 200, "{}", revision.text);
    assert_eq!(take(&t, "editor", &review, "decide", &json!({"decision": "Late"})).await.status, 409);
}

async fn the_pack_is_frozen_when_the_review_closes(backend: Backend) {
    let t = TestApp::start(backend).await;
    let nc = create(
        &t,
        "editor",
        "nonconformities",
        json!({"title": "Stale tariff quoted", "source": "complaint", "description": "Wrong fee", "detected_on": "2026-01-10"}),
    )
    .await;
    let late =
        create(&t, "editor", "actions", json!({"title": "Check the index", "source": "corrective_action", "due_date": "2020-01-31"})).await;
    change(&t, "editor", &nc, json!({"corrective_action_ids": [id_of(&late)]})).await;
    let objective =
        create(&t, "editor", "objectives", json!({"title": "Validate changes", "metric": "Share validated", "unit": "%", "target": 95}))
            .await;
    for (value, on) in [(80, "2026-01-01"), (90, "2026-02-01")] {
        let m = t.post("editor", &format!("{objective}/measurements"), &json!({"value": value, "measured_on": on})).await;
        assert_eq!(m.status, 201, "{}", m.text);
    }
    let review = create(&t, "editor", "management-reviews", json!({"title": "Q1 review", "planned_on": "2026-03-01"})).await;
    taken(&take(&t, "editor", &review, "hold", &json!({})).await);
    taken(&take(&t, "admin", &review, "close", &json!({})).await);
    let pack = t.get("viewer", &review).await.json()["pack"].clone();

    let open = pack["nonconformities"]["open"].as_array().expect("open nonconformities");
    assert_eq!(open.len(), 1);
    assert_eq!((&open[0]["title"], &open[0]["overdue_actions"]), (&json!("Stale tariff quoted"), &json!(1)));
    let objectives = pack["objectives"]["items"].as_array().expect("objectives");
    assert_eq!(objectives[0]["points"].as_array().map(Vec::len), Some(2), "the trend's measurements");
    assert_eq!(pack["audits"]["audits"], 0, "audits are counted, none recorded");

    // Later changes to the record: another nonconformity, a measurement, the action done.
    create(
        &t,
        "editor",
        "nonconformities",
        json!({"title": "Another", "source": "other", "description": "Later", "detected_on": "2026-04-01"}),
    )
    .await;
    t.post("editor", &format!("{objective}/measurements"), &json!({"value": 97, "measured_on": "2026-04-01"})).await;
    change(&t, "editor", &late, json!({"status": "done", "completed_on": "2026-04-02"})).await;
    change(&t, "editor", &review, json!({"minutes": "Written up afterwards"})).await;

    let after = t.get("viewer", &review).await.json();
    assert_eq!(after["pack"], pack, "the pack shown later is the one reviewed");
    let revision: Value = t.get("viewer", &format!("{review}/revisions/1")).await.json();
    let frozen = revision.get("data").unwrap_or(&revision);
    assert_eq!(frozen["pack"], pack, "the closing revision holds the same pack");
}

on_both_backends!(a_review_is_held_decided_and_closed, the_pack_is_frozen_when_the_review_closes);
