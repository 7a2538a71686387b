//! Recurring reviews and notification channels through the API: the contract's refusals name
//! their fields, "Mark done" records the completion and moves the due date by the frequency,
//! paused reviews cannot be marked done, and a channel's password and webhook secret are
//! write-only — never in a response, a list or an activity event.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::workflows::{create, take, taken, user, version};

const BASE: &str = "/api/v1/orgs/acme";
const PASSWORD: &str = "pa55-word-nobody-sees";
const SECRET: &str = "whsec-nobody-sees-this";

/// The key the in-process services seal with (read once per process).
fn with_secret_key() {
    // SAFETY: set before the services start, to the same value by every test of the process.
    unsafe { std::env::set_var("AIMS_SECRET_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff") };
}

fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn sorted(mut fields: Vec<String>) -> Vec<String> {
    fields.sort();
    fields
}

async fn schedules_recur_and_are_marked_done(backend: Backend) {
    with_secret_key();
    let t = TestApp::start(backend).await;
    let editor = user(&t, "editor").await;
    let missing = t.post("editor", &format!("{BASE}/schedules"), &json!({})).await;
    assert_eq!(sorted(missing.problem(422)), ["frequency", "next_due_on", "subject", "title"]);
    let hourly = t
        .post(
            "editor",
            &format!("{BASE}/schedules"),
            &json!({"title": "x", "subject": "audit", "frequency": "hourly", "next_due_on": "2026-01-31"}),
        )
        .await;
    assert_eq!(hourly.problem(422), ["frequency"]);
    assert_eq!(t.post("viewer", &format!("{BASE}/schedules"), &json!({})).await.status, 403);

    let policy = create(&t, "editor", "policies", json!({"title": "AI policy", "topic": "ai_policy", "body": "Text"})).await;
    let policy_id = policy.rsplit('/').next().unwrap_or_default().to_owned();
    let path = create(
        &t,
        "editor",
        "schedules",
        json!({"title": "Review the AI policy", "subject": "policy_review", "frequency": "monthly", "next_due_on": "2024-01-31",
               "owner_id": editor, "policy_ids": [policy_id]}),
    )
    .await;
    let record = t.get("viewer", &path).await.json();
    assert_eq!(record["state"], "active");
    assert_eq!(record["anchor_day"], 31);
    let trace = t.get("viewer", &format!("{path}/trace")).await;
    assert_eq!(trace.status, 200, "{}", trace.text);

    assert_eq!(take(&t, "viewer", &path, "mark-done", &json!({})).await.status, 403);
    assert_eq!(take(&t, "editor", &path, "mark-done", &json!({"when": "today"})).await.problem(422), ["when"]);
    let done = take(&t, "editor", &path, "mark-done", &json!({"note": "Still holds; two typos fixed"})).await;
    taken(&done);
    let done = done.json();
    let next = done["next_due_on"].as_str().unwrap_or_default().to_owned();
    assert!(next > today(), "the next due date is after today: {next}");
    let day: u32 = next[8..].parse().unwrap_or(0);
    assert!(day == 31 || day >= 28, "month ends are kept: {next}");
    assert_eq!(done["last_done_on"], today());
    assert_eq!(done["last_done_by"], editor);
    assert_eq!(done["last_done_note"], "Still holds; two typos fixed");
    assert_eq!(done["state"], "active");
    let events = t.get("viewer", &format!("{BASE}/activity?record_id={}", done["id"].as_str().unwrap_or_default())).await.json();
    let marked: Vec<&Value> = events["items"].as_array().into_iter().flatten().filter(|e| e["action"] == "mark-done").collect();
    assert_eq!(marked.len(), 1, "{events}");
    assert_eq!(marked[0]["changes"]["next_due_on"]["from"], "2024-01-31");

    taken(&take(&t, "editor", &path, "pause", &json!({})).await);
    assert_eq!(take(&t, "editor", &path, "mark-done", &json!({})).await.status, 409);
    let paused = t.get("viewer", &format!("{BASE}/schedules?state=paused")).await.json();
    assert_eq!(paused["items"].as_array().map(Vec::len), Some(1));
    taken(&take(&t, "editor", &path, "resume", &json!({})).await);
    let mine = t.get("viewer", &format!("{BASE}/schedules?owner_id={editor}&subject=policy_review")).await.json();
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(1));
    // The due date moved by hand: the schedule keeps that day of the month from now on.
    let moved = t.patch("editor", &path, version(&t, &path).await, &json!({"next_due_on": "2030-03-15"})).await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(moved.json()["anchor_day"], 15);
    let read_only = t.patch("editor", &path, version(&t, &path).await, &json!({"last_done_on": "2020-01-01"})).await;
    assert_eq!(read_only.problem(422), ["last_done_on"]);
}

async fn channel_secrets_are_write_only(backend: Backend) {
    with_secret_key();
    let t = TestApp::start(backend).await;
    let collection = format!("{BASE}/notification-channels");
    let bare = t.post("admin", &collection, &json!({"name": "Mail", "channel_type": "email"})).await;
    assert_eq!(sorted(bare.problem(422)), ["from_address", "recipients", "smtp_host"]);
    let bad = t
        .post(
            "admin",
            &collection,
            &json!({"name": "Mail", "channel_type": "email", "smtp_host": "mail.acme.example", "from_address": "not an address",
                    "recipients": ["ok@acme.example", "nope"], "smtp_password": PASSWORD}),
        )
        .await;
    assert_eq!(sorted(bad.problem(422)), ["from_address", "recipients[1]", "smtp_username"]);
    assert!(!bad.text.contains(PASSWORD));
    let hook = t.post("admin", &collection, &json!({"name": "Hook", "channel_type": "webhook", "webhook_url": "ftp://x"})).await;
    assert_eq!(hook.problem(422), ["webhook_url"]);
    let claimed = t
        .post(
            "admin",
            &collection,
            &json!({"name": "Hook", "channel_type": "webhook", "webhook_url": "http://127.0.0.1:9/", "webhook_secret": "set"}),
        )
        .await;
    assert_eq!(claimed.problem(422), ["webhook_secret"]);

    let mail = t
        .post(
            "admin",
            &collection,
            &json!({"name": "Governance mail", "channel_type": "email", "enabled": true, "smtp_host": "mail.acme.example", "smtp_port": 587,
                    "smtp_tls": "starttls", "from_address": "aims@acme.example", "recipients": ["grc@acme.example"],
                    "smtp_username": "aims", "smtp_password": PASSWORD}),
        )
        .await;
    assert_eq!(mail.status, 201, "{}", mail.text);
    assert_eq!(mail.json()["smtp_password"], "set");
    assert!(!mail.text.contains(PASSWORD), "the password is never returned");
    let path = format!("{collection}/{}", mail.json()["id"].as_str().unwrap_or_default());
    assert!(!t.get("viewer", &path).await.text.contains(PASSWORD));
    assert!(!t.get("viewer", &collection).await.text.contains(PASSWORD));
    // Unchanged "set" changes nothing; a new password is stored and still shows "set".
    let same = t.patch("admin", &path, version(&t, &path).await, &json!({"smtp_password": "set"})).await;
    assert_eq!(same.status, 200, "{}", same.text);
    assert_eq!(same.json()["version"], 1);
    let rotated = t.patch("admin", &path, 1, &json!({"smtp_password": format!("{PASSWORD}-2")})).await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    assert_eq!(rotated.json()["smtp_password"], "set");
    assert!(!rotated.text.contains(PASSWORD));
    let cleared = t.patch("admin", &path, 2, &json!({"smtp_password": null, "smtp_username": null})).await;
    assert_eq!(cleared.status, 200, "{}", cleared.text);
    assert_eq!(cleared.json()["smtp_password"], Value::Null);

    let webhook = create(
        &t,
        "admin",
        "notification-channels",
        json!({"name": "Ops hook", "channel_type": "webhook", "webhook_url": "http://127.0.0.1:9/hook", "webhook_secret": SECRET}),
    )
    .await;
    assert_eq!(t.get("viewer", &webhook).await.json()["webhook_secret"], "set");
    assert_eq!(t.post("viewer", &format!("{webhook}/send-test"), &json!({})).await.status, 403);
    let test = t.post("editor", &format!("{webhook}/send-test"), &json!({})).await;
    assert_eq!(test.status, 200, "{}", test.text);
    let result = test.json()["result"].as_str().unwrap_or_default().to_owned();
    assert!(result.starts_with("failed: "), "nothing listens on port 9: {result}");
    assert_eq!(t.get("viewer", &webhook).await.json()["last_test_result"], result);

    let events = t.get("viewer", &format!("{BASE}/activity?record_type=notification_channel&limit=200")).await;
    assert_eq!(events.status, 200);
    assert!(events.json()["items"].as_array().is_some_and(|items| items.len() >= 5), "{}", events.text);
    for secret in [PASSWORD, SECRET] {
        assert!(!events.text.contains(secret), "events never hold secrets");
    }
}

on_both_backends!(schedules_recur_and_are_marked_done, channel_secrets_are_write_only);
