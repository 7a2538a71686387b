//! The reminder scheduler of `aims serve`, driven through the real binary: two instances on one
//! database send each reminder exactly once (to a webhook receiver here that checks every
//! HMAC signature and timestamp), and a reminder e-mail reaches a real SMTP server (aiosmtpd,
//! pinned, in a virtualenv under the target folder) with the subject, recipient and body it
//! should have. Every test runs on SQLite and on PostgreSQL.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

#[macro_use]
mod support;

use support::{Backend, fresh_database, postgres_url};

/// The sealing key every instance of a test is given.
const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const PUBLIC_URL: &str = "http://aims.test";
const WEBHOOK_SECRET: &str = "whsec-reminders-9f8e7d";
const SMTP_PASSWORD: &str = "smtp-password-never-shown";

fn aims(database: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(args)
        .env("AIMS_DATABASE_URL", database)
        .env("AIMS_SECRET_KEY", KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn aims");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    let out = child.wait_with_output().expect("aims output");
    assert!(out.status.success(), "aims {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// An organisation `acme` with an owner; the owner's token.
fn bootstrap(database: &str) -> String {
    aims(database, &["org", "create", "acme", "--name", "Acme AI"], "");
    aims(database, &["user", "create", "owner@acme.example", "--org", "acme", "--role", "owner"], "correct horse battery staple\n");
    let token = aims(database, &["token", "create", "owner@acme.example", "--org", "acme", "--name", "ci"], "");
    String::from_utf8_lossy(&token.stdout).trim().to_owned()
}

/// `aims serve` on a free port with the scheduler ticking every `interval` seconds (0: off).
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(database: &str, interval: u64) -> Self {
        // The announced URL is the public one, so the test picks the port itself.
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_aims"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("AIMS_DATABASE_URL", database)
            .env("AIMS_LOG", "warn")
            .env("AIMS_PUBLIC_URL", PUBLIC_URL)
            .env("AIMS_SECRET_KEY", KEY)
            .env("AIMS_SCHEDULER_INTERVAL_SECS", interval.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn server");
        let mut reader = BufReader::new(child.stderr.take().expect("stderr"));
        let mut seen = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).expect("read") == 0 {
                panic!("server exited: {seen:?}");
            }
            if line.starts_with("listening on ") {
                break;
            }
            seen.push(line);
        }
        std::thread::spawn(move || for _ in reader.lines() {});
        Self { child, url: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/api/v1/orgs/acme/{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("post");
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    async fn get(&self, path: &str) -> Value {
        let response =
            self.client.get(format!("{}/api/v1/orgs/acme/{path}", self.base)).bearer_auth(&self.token).send().await.expect("get");
        assert!(response.status().is_success(), "GET {path}: {}", response.status());
        response.json().await.expect("json")
    }

    /// The scheduler's `remind` events, all of them.
    async fn reminders(&self) -> Vec<Value> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("activity?actor=system:scheduler&limit=200&cursor={c}"),
                None => "activity?actor=system:scheduler&limit=200".to_owned(),
            };
            let page = self.get(&path).await;
            all.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return all,
            }
        }
    }
}

fn day(offset: i64) -> String {
    let date = time::OffsetDateTime::now_utc().date() + time::Duration::days(offset);
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// What the webhook receiver got: (schedule id, due date) → how many times.
#[derive(Default)]
struct Received {
    counts: HashMap<(String, String), usize>,
    refused: Vec<String>,
}

/// A webhook receiver on a free port that checks each POST's signature and timestamp.
async fn webhook_receiver() -> (String, Arc<Mutex<Received>>) {
    let received = Arc::new(Mutex::new(Received::default()));
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(|State(received): State<Arc<Mutex<Received>>>, headers: HeaderMap, body: Bytes| async move {
                let mut received = received.lock().expect("lock");
                match check_signature(&headers, &body) {
                    Ok(payload) => {
                        let key = (
                            payload["schedule"]["id"].as_str().unwrap_or_default().to_owned(),
                            payload["schedule"]["due_on"].as_str().unwrap_or_default().to_owned(),
                        );
                        *received.counts.entry(key).or_default() += 1;
                        StatusCode::NO_CONTENT
                    }
                    Err(why) => {
                        received.refused.push(why);
                        StatusCode::UNAUTHORIZED
                    }
                }
            }),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

/// The receiver's check: a timestamp within five minutes, and `sha256=` HMAC-SHA256 of
/// `"{timestamp}.{body}"` under the shared secret.
fn check_signature(headers: &HeaderMap, body: &[u8]) -> Result<Value, String> {
    let timestamp: i64 =
        headers.get("x-aims-timestamp").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).ok_or("no timestamp")?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if (now - timestamp).abs() > 300 {
        return Err(format!("stale timestamp {timestamp}"));
    }
    let signature = headers.get("x-aims-signature").and_then(|v| v.to_str().ok()).ok_or("no signature")?;
    let hex_mac = signature.strip_prefix("sha256=").ok_or("not sha256=")?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(WEBHOOK_SECRET.as_bytes()).map_err(|e| e.to_string())?;
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    if expected != hex_mac {
        return Err("bad signature".into());
    }
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..600 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("gave up waiting for {what}");
}

async fn two_instances_send_each_reminder_once(backend: Backend) {
    let database = fresh_database(backend, "aims_sched").await;
    let token = bootstrap(&database);
    let (hook, received) = webhook_receiver().await;
    let ids = {
        let setup = Server::start(&database, 0);
        let api = Api { client: reqwest::Client::new(), base: setup.url.clone(), token: token.clone() };
        let channel = api
            .post(
                "notification-channels",
                json!({"name": "Ops webhook", "channel_type": "webhook", "enabled": true, "webhook_url": hook, "webhook_secret": WEBHOOK_SECRET}),
            )
            .await;
        assert_eq!(channel["webhook_secret"], "set", "the secret is never echoed");
        let mut due = Vec::new();
        for (i, offset) in [-40, -7, -1, 0, 0, -400].iter().enumerate() {
            let s = api
                .post(
                    "schedules",
                    json!({"title": format!("Review {i}"), "subject": "policy_review", "frequency": "monthly", "next_due_on": day(*offset)}),
                )
                .await;
            due.push(s["id"].as_str().expect("id").to_owned());
        }
        // Neither of these is owed a reminder: one is not due yet, one is paused.
        api.post("schedules", json!({"title": "Later", "subject": "audit", "frequency": "yearly", "next_due_on": day(3)})).await;
        let paused =
            api.post("schedules", json!({"title": "Paused", "subject": "audit", "frequency": "yearly", "next_due_on": day(-3)})).await;
        let response = api
            .client
            .post(format!("{}/api/v1/orgs/acme/schedules/{}/pause", api.base, paused["id"].as_str().expect("id")))
            .bearer_auth(&api.token)
            .header("If-Match", "\"1\"")
            .send()
            .await
            .expect("pause");
        assert!(response.status().is_success(), "pause: {}", response.status());
        due
    };
    // Two instances on the same database, ticking every second, started together.
    let a = Server::start(&database, 1);
    let b = Server::start(&database, 1);
    let api = Api { client: reqwest::Client::new(), base: a.url.clone(), token };
    wait_for("every reminder", async || api.reminders().await.len() >= ids.len()).await;
    // Several more ticks of both instances: nothing is sent again.
    tokio::time::sleep(Duration::from_secs(4)).await;
    drop(b);
    let (counts, refused) = {
        let received = received.lock().expect("lock");
        (received.counts.clone(), received.refused.clone())
    };
    assert!(refused.is_empty(), "every signature checks: {refused:?}");
    assert_eq!(counts.len(), ids.len(), "one reminder per due schedule: {counts:?}");
    for id in &ids {
        let sent: Vec<_> = counts.iter().filter(|((s, _), _)| s == id).collect();
        assert_eq!(sent.len(), 1, "schedule {id}: {sent:?}");
        assert_eq!(*sent[0].1, 1, "schedule {id} reminded exactly once: {sent:?}");
    }
    let events = api.reminders().await;
    assert_eq!(events.len(), ids.len(), "one delivery event per reminder: {events:?}");
    for event in &events {
        assert_eq!(event["actor"], "system:scheduler");
        assert_eq!(event["action"], "remind");
        assert_eq!(event["changes"]["outcome"], "sent", "{event}");
        assert!(!event.to_string().contains(WEBHOOK_SECRET), "events never hold the secret");
    }
    let everything = api.get("activity?limit=200").await.to_string();
    assert!(!everything.contains(WEBHOOK_SECRET), "no event holds the secret");
    drop(a);
}

/// The target folder (where the pinned virtualenv lives between runs).
fn target_dir() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_aims"));
    exe.parent().and_then(Path::parent).map_or_else(std::env::temp_dir, Path::to_path_buf)
}

const AIOSMTPD: &str = "aiosmtpd==1.4.6";

/// A virtualenv holding exactly the pinned aiosmtpd, made once (built aside and renamed into
/// place, so tests running together never see a half-made one).
fn smtp_venv() -> PathBuf {
    let venv = target_dir().join("aiosmtpd-venv");
    let stamp = venv.join(".requirements");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == AIOSMTPD) {
        return venv;
    }
    let aside = target_dir().join(format!("aiosmtpd-venv.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&aside);
    let made = Command::new("python3").args(["-m", "venv"]).arg(&aside).status().expect("python3 -m venv");
    assert!(made.success(), "python3 -m venv failed (is python3-venv installed?)");
    let pip = Command::new(aside.join("bin/pip")).args(["install", "-q", AIOSMTPD]).status().expect("pip");
    assert!(pip.success(), "pip install {AIOSMTPD} failed");
    std::fs::write(aside.join(".requirements"), AIOSMTPD).expect("stamp");
    let _ = std::fs::remove_dir_all(&venv);
    if std::fs::rename(&aside, &venv).is_err() {
        // Another test made it meanwhile; use that one.
        let _ = std::fs::remove_dir_all(&aside);
    }
    venv
}

/// The SMTP server: aiosmtpd's Mailbox handler (every message a file in a Maildir), with
/// AUTH offered over plain connections on loopback and checked against one login.
const SMTP_SERVER: &str = r#"
import sys, threading
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult
port, maildir, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def authenticate(server, session, envelope, mechanism, data):
    return AuthResult(success=data.login.decode() == user and data.password.decode() == password)
Controller(Mailbox(maildir), hostname="127.0.0.1", port=port, auth_require_tls=False, authenticator=authenticate).start()
threading.Event().wait()
"#;

/// aiosmtpd on a free loopback port, writing every message it receives into a Maildir.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl SmtpServer {
    fn start() -> Self {
        let venv = smtp_venv();
        let maildir = std::env::temp_dir().join(format!("aims-smtp-{}", uuid::Uuid::new_v4().simple()));
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let mut child = Command::new(venv.join("bin/python"))
            .args(["-c", SMTP_SERVER, &port.to_string()])
            .arg(&maildir)
            .args(["aims", SMTP_PASSWORD])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Self { child, port, maildir };
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("aiosmtpd did not start");
    }

    fn messages(&self) -> Vec<String> {
        std::fs::read_dir(self.maildir.join("new"))
            .map(|d| d.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok()).collect())
            .unwrap_or_default()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

/// Undoes quoted-printable soft breaks and `=XX` escapes, enough to read a plain-text body.
fn unquote(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(Ok(b)) = joined.get(i + 1..i + 3).map(|hex| u8::from_str_radix(hex, 16))
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn the_reminder_email_reaches_a_real_smtp_server(backend: Backend) {
    let smtp = SmtpServer::start();
    let database = fresh_database(backend, "aims_sched").await;
    let token = bootstrap(&database);
    let (schedule_id, policy_id) = {
        let setup = Server::start(&database, 0);
        let api = Api { client: reqwest::Client::new(), base: setup.url.clone(), token: token.clone() };
        let channel = api
            .post(
                "notification-channels",
                json!({
                    "name": "Governance e-mail", "channel_type": "email", "enabled": true,
                    "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_tls": "none",
                    "from_address": "aims@acme.example", "recipients": ["governance@acme.example"],
                    "smtp_username": "aims", "smtp_password": SMTP_PASSWORD,
                }),
            )
            .await;
        assert_eq!(channel["smtp_password"], "set");
        let policy = api.post("policies", json!({"title": "AI policy", "topic": "ai_policy", "body": "How we use AI."})).await;
        let policy_id = policy["id"].as_str().expect("id").to_owned();
        let schedule = api
            .post(
                "schedules",
                json!({"title": "Yearly review of the AI policy", "subject": "policy_review", "frequency": "yearly",
                       "next_due_on": day(-2), "policy_ids": [policy_id]}),
            )
            .await;
        (schedule["id"].as_str().expect("id").to_owned(), policy_id)
    };
    let server = Server::start(&database, 1);
    let mut messages = Vec::new();
    for _ in 0..600 {
        messages = smtp.messages();
        if !messages.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(messages.len(), 1, "one reminder e-mail");
    let message = &messages[0];
    let (headers, body) = message.split_once("\n\n").or_else(|| message.split_once("\r\n\r\n")).expect("headers and body");
    let due = day(-2);
    assert!(headers.contains(&format!("Subject: [aims] Yearly review of the AI policy overdue since {due}")), "{headers}");
    assert!(headers.contains("To: governance@acme.example"), "{headers}");
    assert!(headers.contains("From: aims@acme.example"), "{headers}");
    let body = unquote(body);
    assert!(body.contains(&format!("overdue since {due}")), "{body}");
    assert!(body.contains("Policy: AI policy"), "the body names the record: {body}");
    assert!(body.contains(&format!("{PUBLIC_URL}/orgs/acme/policies/{policy_id}")), "links to the record: {body}");
    assert!(body.contains(&format!("{PUBLIC_URL}/orgs/acme/schedules/{schedule_id}")), "links to the review: {body}");
    assert!(!message.contains(SMTP_PASSWORD));
    let api = Api { client: reqwest::Client::new(), base: server.url.clone(), token };
    let everything = api.get("activity?limit=200").await.to_string();
    assert!(!everything.contains(SMTP_PASSWORD), "no event holds the password");
    assert!(everything.contains("\"remind\""), "the delivery is logged");
}

on_both_backends!(two_instances_send_each_reminder_once, the_reminder_email_reaches_a_real_smtp_server);
