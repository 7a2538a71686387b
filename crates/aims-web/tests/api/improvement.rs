//! Nonconformities, improvements and planned changes through the API: each step of a
//! nonconformity needs what it records, its corrective actions come from the one actions
//! tracker, and its effectiveness is verified by someone who did not do the work (not its
//! owner, not any owner of its corrective actions, even after handing one on).

use serde_json::{Value, json};

use crate::helpers::{Backend, Reply, TestApp};
use crate::workflows::{change, create, nonconformity_at, refused_by, take, taken, user, version};

const BASE: &str = "/api/v1/orgs/acme";

fn conflict(reply: &Reply, says: &str) {
    reply.problem(409);
    let detail = reply.json()["detail"].as_str().unwrap_or_default().to_owned();
    assert!(detail.contains(says), "expected “{says}”: {detail}");
}

fn id_of(path: &str) -> String {
    path.rsplit('/').next().unwrap_or_default().to_owned()
}

async fn state(t: &TestApp, path: &str) -> Value {
    t.get("viewer", path).await.json()["state"].clone()
}

async fn a_nonconformity_goes_through_corrective_action_to_closure(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (editor, author) = (user(&t, "editor").await, user(&t, "author").await);
    // Only actions raised as corrective actions may be its corrective actions.
    let gap_action = create(&t, "editor", "actions", json!({"title": "Close a gap", "source": "gap_assessment"})).await;
    let input = json!({"title": "Stale tariff quoted", "source": "complaint", "description": "Wrong fee", "detected_on": "2026-01-10",
                       "owner_id": editor, "corrective_action_ids": [id_of(&gap_action)]});
    let refused = t.post("admin", &format!("{BASE}/nonconformities"), &input).await;
    assert_eq!(refused.problem(422), ["corrective_action_ids[0]"]);
    let missing = t.post("admin", &format!("{BASE}/nonconformities"), &json!({"title": "No source"})).await;
    let mut fields = missing.problem(422);
    fields.sort();
    assert_eq!(fields, ["description", "detected_on", "source"]);

    let mut input = input;
    input["corrective_action_ids"] = json!([]);
    let nc = create(&t, "admin", "nonconformities", input).await;
    assert_eq!(state(&t, &nc).await, "open");
    let list = t.get("viewer", &format!("{BASE}/nonconformities")).await.json();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));

    // Each step needs what it records.
    conflict(&take(&t, "editor", &nc, "correct", &json!({})).await, "record the correction taken first");
    change(&t, "editor", &nc, json!({"correction": "Customers refunded"})).await;
    taken(&take(&t, "editor", &nc, "correct", &json!({})).await);
    conflict(&take(&t, "editor", &nc, "analyse", &json!({})).await, "record the root cause first");
    change(&t, "editor", &nc, json!({"root_cause": "Nothing checks the index is current"})).await;
    conflict(&take(&t, "editor", &nc, "analyse", &json!({})).await, "similar nonconformities");
    change(&t, "editor", &nc, json!({"similar_elsewhere": "yes", "similar_details": "Decline reasons share the store"})).await;
    taken(&take(&t, "editor", &nc, "analyse", &json!({})).await);
    conflict(&take(&t, "editor", &nc, "plan", &json!({})).await, "corrective action");

    let action = create(
        &t,
        "editor",
        "actions",
        json!({"title": "Check index currency", "source": "corrective_action", "owner_id": author, "due_date": "2026-01-31"}),
    )
    .await;
    change(&t, "editor", &nc, json!({"corrective_action_ids": [id_of(&action)]})).await;
    taken(&take(&t, "editor", &nc, "plan", &json!({})).await);
    conflict(&take(&t, "editor", &nc, "request-verification", &json!({})).await, "not finished yet: Check index currency");
    change(&t, "author", &action, json!({"status": "done", "completed_on": "2026-02-02"})).await;
    taken(&take(&t, "editor", &nc, "request-verification", &json!({})).await);
    assert_eq!(state(&t, &nc).await, "verifying");

    // Neither the nonconformity's owner nor the action's owner may verify; a viewer may not at all.
    let comment = json!({"comment": "No stale answers in a month of logs"});
    refused_by(&take(&t, "editor", &nc, "verify", &comment).await, "owner");
    let refused = take(&t, "author", &nc, "verify", &comment).await;
    refused_by(&refused, "linked-owner");
    assert!(refused.json()["detail"].as_str().unwrap_or_default().contains("corrective actions"), "{}", refused.text);
    let role = take(&t, "viewer", &nc, "verify", &comment).await;
    role.problem(403);
    assert!(role.json()["detail"].as_str().unwrap_or_default().starts_with("rule role-permission"));
    assert_eq!(take(&t, "admin", &nc, "verify", &json!({})).await.problem(422), ["comment"]);
    assert_eq!(take(&t, "admin", &nc, "verify", &json!({"comment": "x", "effective": true})).await.problem(422), ["effective"]);

    // Found ineffective: back to planning, then verified and closed.
    let back = take(&t, "admin", &nc, "not-effective", &json!({"comment": "Still one stale answer"})).await;
    taken(&back);
    assert_eq!((back.json()["state"].clone(), back.json()["effective"].clone()), (json!("action_planned"), json!(false)));
    taken(&take(&t, "editor", &nc, "request-verification", &json!({})).await);
    let events = t.event_count().await;
    let closed = take(&t, "admin", &nc, "verify", &comment).await;
    taken(&closed);
    let closed = closed.json();
    let admin = user(&t, "admin").await;
    assert_eq!(
        (&closed["state"], &closed["effective"], &closed["verified_by"], &closed["verification_comment"]),
        (&json!("closed"), &json!(true), &json!(admin), &comment["comment"])
    );
    assert_eq!(t.event_count().await, events + 1);
    let log = t.get("viewer", &format!("{BASE}/activity?record_id={}", id_of(&nc))).await.json();
    let actions: Vec<&str> = log["items"].as_array().expect("items").iter().filter_map(|e| e["action"].as_str()).collect();
    for step in ["create", "correct", "analyse", "plan", "request-verification", "not-effective", "verify"] {
        assert!(actions.contains(&step), "{step} in {actions:?}");
    }
    conflict(&take(&t, "admin", &nc, "verify", &comment).await, "closed");
    // An action linked earlier whose source changed since does not block later edits; a new
    // link to a non-corrective action is refused.
    change(&t, "editor", &action, json!({"source": "other"})).await;
    change(&t, "editor", &nc, json!({"similar_details": "Decline reasons checked too"})).await;
    let v = version(&t, &nc).await;
    let both = json!({"corrective_action_ids": [id_of(&action), id_of(&gap_action)]});
    assert_eq!(t.patch("editor", &nc, v, &both).await.problem(422), ["corrective_action_ids[1]"]);
    // The link is queryable both ways.
    let trace = t.get("viewer", &format!("{action}/trace")).await;
    assert_eq!(trace.status, 200, "{}", trace.text);
    assert!(trace.text.contains(&id_of(&nc)), "{}", trace.text);
}

/// The ways round the rule: handing the corrective action (or the nonconformity) to someone
/// else before verifying does not clear who did the work.
async fn handing_on_the_work_does_not_clear_its_doer(backend: Backend) {
    let t = TestApp::start(backend).await;
    let viewer = user(&t, "viewer").await;
    let nc = nonconformity_at(&t, "verify").await;
    let action = t.get("viewer", &nc).await.json()["corrective_action_ids"][0].as_str().expect("action").to_owned();
    let action = format!("{BASE}/actions/{action}");
    // The action's owner hands it on, then verifies.
    change(&t, "author", &action, json!({"owner_id": viewer})).await;
    refused_by(&take(&t, "author", &nc, "verify", &json!({"comment": "Fine"})).await, "linked-owner");
    // Someone else reassigns it: the former owner still may not.
    let admin = user(&t, "admin").await;
    change(&t, "admin", &action, json!({"owner_id": admin})).await;
    refused_by(&take(&t, "author", &nc, "verify", &json!({"comment": "Fine"})).await, "linked-owner");
    // The new owner neither: they own it now.
    refused_by(&take(&t, "admin", &nc, "verify", &json!({"comment": "Fine"})).await, "linked-owner");
    // The nonconformity's owner hands it on after asking for verification.
    change(&t, "approver", &nc, json!({"owner_id": viewer})).await;
    refused_by(&take(&t, "editor", &nc, "not-effective", &json!({"comment": "Fine"})).await, "owner");
    // Someone who never owned either verifies; the transitions list said so beforehand.
    let choices = t.get("owner", &format!("{nc}/transitions")).await.json();
    let verify = choices["items"].as_array().expect("items").iter().find(|c| c["name"] == "verify").cloned().unwrap_or_default();
    assert!(verify["refusal"].is_null(), "{verify}");
    taken(&take(&t, "owner", &nc, "verify", &json!({"comment": "Checked"})).await);
    assert_eq!(t.get("viewer", &format!("{BASE}/activity/verify")).await.status, 200);
}

async fn improvements_are_decided_and_changes_planned(backend: Backend) {
    let t = TestApp::start(backend).await;
    let editor = user(&t, "editor").await;
    let path = create(
        &t,
        "editor",
        "improvements",
        json!({"title": "Drift alerts", "opportunity": "Alert on drift", "source": "review", "owner_id": editor}),
    )
    .await;
    assert_eq!(state(&t, &path).await, "proposed");
    let bad = t.post("editor", &format!("{BASE}/improvements"), &json!({"title": "X", "opportunity": "Y", "source": "hunch"})).await;
    assert_eq!(bad.problem(422), ["source"]);
    let role = take(&t, "editor", &path, "accept", &json!({"rationale": "Yes"})).await;
    role.problem(403);
    assert_eq!(take(&t, "admin", &path, "accept", &json!({})).await.problem(422), ["rationale"]);
    let accepted = take(&t, "admin", &path, "accept", &json!({"rationale": "Cheap and useful"})).await;
    taken(&accepted);
    assert_eq!(
        (accepted.json()["decision"].clone(), accepted.json()["decision_rationale"].clone()),
        (json!("accepted"), json!("Cheap and useful"))
    );
    conflict(&take(&t, "editor", &path, "implement", &json!({})).await, "record the outcome first");
    change(&t, "editor", &path, json!({"outcome": "Live since March"})).await;
    taken(&take(&t, "editor", &path, "implement", &json!({})).await);
    assert_eq!(state(&t, &path).await, "implemented");
    let other = create(&t, "editor", "improvements", json!({"title": "Self-host", "opportunity": "Own model", "source": "planning"})).await;
    taken(&take(&t, "owner", &other, "reject", &json!({"rationale": "Too costly"})).await);
    conflict(&take(&t, "owner", &other, "accept", &json!({"rationale": "Changed mind"})).await, "rejected");

    let change_path = create(
        &t,
        "editor",
        "changes",
        json!({"title": "Widen scope", "purpose": "Cover HR", "planned_on": "2026-03-01", "owner_id": editor}),
    )
    .await;
    assert_eq!(state(&t, &change_path).await, "planned");
    let v = version(&t, &change_path).await;
    let read_only = t.patch("editor", &change_path, v, &json!({"state": "done"})).await;
    assert_eq!(read_only.problem(422), ["state"]);
    taken(&take(&t, "editor", &change_path, "start", &json!({})).await);
    let done = take(&t, "editor", &change_path, "complete", &json!({"note": "Scope revision 3"})).await;
    taken(&done);
    assert!(done.json()["completed_at"].is_string() && done.json()["closing_note"] == "Scope revision 3");
    conflict(&take(&t, "editor", &change_path, "cancel", &json!({"note": "Too late"})).await, "done");
    let dropped = create(&t, "editor", "changes", json!({"title": "New board", "purpose": "Oversight"})).await;
    assert_eq!(take(&t, "editor", &dropped, "cancel", &json!({})).await.problem(422), ["note"]);
    taken(&take(&t, "editor", &dropped, "cancel", &json!({"note": "Merged into another change"})).await);
    let archived = t
        .call(t.token("editor"), reqwest::Method::DELETE, &dropped, None, &[("if-match", &format!("\"{}\"", version(&t, &dropped).await))])
        .await;
    assert_eq!(archived.status, 200, "{}", archived.text);
}

on_both_backends!(
    a_nonconformity_goes_through_corrective_action_to_closure,
    handing_on_the_work_does_not_clear_its_doer,
    improvements_are_decided_and_changes_planned
);
