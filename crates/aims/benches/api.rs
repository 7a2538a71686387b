//! API benchmark: an authenticated list of 50 realistic records on SQLite and PostgreSQL,
//! beside a minimal axum handler returning a fixed body of the same size (the ceiling), plus
//! fresh-database migration time and the idle memory of the release server.
//!
//! Run: `cargo bench -p aims --bench api` (PostgreSQL from `AIMS_TEST_POSTGRES_URL`, if set).
//! Tunables: `BENCH_SECONDS` (default 5), `BENCH_CONNECTIONS` (default 16), `BENCH_RECORDS`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aims_app::App;
use aims_domain::kinds::CONTROL;
use aims_store::model::Actor;
use serde_json::json;

struct Figures {
    label: String,
    requests: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    bytes: usize,
}

impl Figures {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Drives `url` with `connections` concurrent keep-alive clients for `duration`.
async fn load(label: &str, url: &str, token: Option<&str>, connections: usize, duration: Duration) -> Figures {
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build().expect("client");
    // Warm up connections and caches.
    for _ in 0..connections * 4 {
        let _ = send(&client, url, token).await;
    }
    let started = Instant::now();
    let deadline = started + duration;
    let url = Arc::new(url.to_owned());
    let token = token.map(str::to_owned);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, url, token) = (client.clone(), url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut bytes = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                bytes = send(&client, &url, token.as_deref()).await;
                latencies.push(t.elapsed().as_micros() as u64);
            }
            (latencies, bytes)
        }));
    }
    let mut latencies = Vec::new();
    let mut bytes = 0;
    for task in tasks {
        let (l, b) = task.await.expect("task");
        latencies.extend(l);
        bytes = b;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1))).copied().unwrap_or(0) as f64 / 1000.0
    };
    Figures { label: label.to_owned(), requests: latencies.len(), seconds, p50_ms: pct(0.50), p99_ms: pct(0.99), bytes }
}

async fn send(client: &reqwest::Client, url: &str, token: Option<&str>) -> usize {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    assert!(response.status().is_success(), "{url}: {}", response.status());
    response.bytes().await.expect("body").len()
}

async fn fresh_database(backend: &str) -> Option<String> {
    let name = format!("aims_bench_{}", uuid::Uuid::new_v4().simple());
    if backend == "sqlite" {
        let path = std::env::temp_dir().join(format!("{name}.db"));
        return Some(format!("sqlite:{}", path.display()));
    }
    let admin_url = std::env::var("AIMS_TEST_POSTGRES_URL").ok()?;
    let admin = sqlx::PgPool::connect(&admin_url).await.ok()?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.ok()?;
    let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b).to_owned();
    Some(format!("{base}/{name}"))
}

/// Opens a fresh database (timing the migrations) and fills an organisation with `records`
/// own controls of realistic size, each created through the service with its log event.
async fn seeded_app(url: &str, records: u64) -> (App, String, Duration, Duration) {
    let started = Instant::now();
    let (app, _) = App::open(url).await.expect("open");
    let migrate = started.elapsed();
    let system = Actor::System("bench");
    app.create_org("bench", "Bench Lending", &system).await.expect("org");
    app.create_member("owner@bench.example", "bench", "owner", "correct horse battery staple", None, &system).await.expect("owner");
    let member = app.member_by_email("owner@bench.example", "bench").await.expect("member");
    let token = app.create_token(&member, Some("bench"), None, &system).await.expect("token").secret;
    let started = Instant::now();
    for i in 0..records {
        let status = ["planned", "partial", "implemented"][i as usize % 3];
        let input = json!({
            "ref": format!("NWL-{i:05}"),
            "title": format!("Quarterly fairness and drift review of credit model {i}"),
            "description": "Every quarter the model risk team re-runs approval-rate parity, calibration by segment and population stability checks on the production scorecard, compares them with the thresholds in the model risk policy, and records the outcome with the evidence pack.",
            "implementation_status": status,
            "justification": "Selected by the treatment of risks R-12 (distributional shift) and R-17 (training-data bias).",
            "owner_id": member.user_id,
            "last_reviewed_on": "2026-10-01",
        });
        app.create_record(&member, &CONTROL, &input).await.expect("create");
    }
    let seeding = started.elapsed();
    (app, token, migrate, seeding)
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

fn idle_memory_mb(database: &str) -> Option<f64> {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("AIMS_DATABASE_URL", database)
        .env("AIMS_LOG", "warn")
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_secs(2));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).ok();
    let _ = child.kill();
    let _ = child.wait();
    let kb: f64 = status?.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn print(figures: &Figures, ceiling: Option<&Figures>) {
    let share = ceiling.map(|c| format!("{:>5.1} % of ceiling", 100.0 * figures.rps() / c.rps())).unwrap_or_default();
    println!(
        "{:<44} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  body {:>6} B  {share}",
        figures.label,
        figures.rps(),
        figures.p50_ms,
        figures.p99_ms,
        figures.bytes
    );
}

#[tokio::main]
async fn main() {
    let seconds = env_number("BENCH_SECONDS", 5);
    let connections = env_number("BENCH_CONNECTIONS", 16) as usize;
    let records = env_number("BENCH_RECORDS", 2_000);
    let duration = Duration::from_secs(seconds);
    println!("aims API benchmark: {connections} connections, {seconds} s per run, {records} own controls + 38 Annex A rows, release build");
    for backend in ["sqlite", "postgres"] {
        let Some(url) = fresh_database(backend).await else {
            println!("{backend}: skipped (set AIMS_TEST_POSTGRES_URL)");
            continue;
        };
        let (app, token, migrate, seeding) = seeded_app(&url, records).await;
        println!(
            "\n[{backend}] fresh-database migrations: {:.1} ms; seeding {records} records with their events: {:.0} creates/s",
            migrate.as_secs_f64() * 1000.0,
            records as f64 / seeding.as_secs_f64()
        );
        let settings = aims::server::ServerSettings { public_url: "http://127.0.0.1".into() };
        let base = serve(aims::server::router(app.clone(), &settings)).await;
        let list_url = format!("{base}/api/v1/orgs/bench/controls?limit=50&cursor={}", aims_domain::cursor::encode(600));
        let list = load(&format!("{backend}: GET controls?limit=50 (token)"), &list_url, Some(&token), connections, duration).await;
        let body = reqwest::get(format!("{base}/healthz")).await.ok();
        drop(body);
        let single_url = format!("{base}/api/v1/orgs/bench/controls/NWL-00100");
        let single = load(&format!("{backend}: GET controls/NWL-00100 (token)"), &single_url, Some(&token), connections, duration).await;
        let fixed_list = vec![b'x'; list.bytes];
        let fixed_single = vec![b'x'; single.bytes];
        let ceiling_base = serve(
            axum::Router::new()
                .route(
                    "/list",
                    axum::routing::get(move || {
                        let body = fixed_list.clone();
                        async move { body }
                    }),
                )
                .route(
                    "/single",
                    axum::routing::get(move || {
                        let body = fixed_single.clone();
                        async move { body }
                    }),
                ),
        )
        .await;
        let ceiling_list = load("ceiling: fixed body, list size", &format!("{ceiling_base}/list"), None, connections, duration).await;
        let ceiling_single = load("ceiling: fixed body, single size", &format!("{ceiling_base}/single"), None, connections, duration).await;
        print(&ceiling_list, None);
        print(&list, Some(&ceiling_list));
        print(&ceiling_single, None);
        print(&single, Some(&ceiling_single));
        if let Some(mb) = idle_memory_mb(&url) {
            println!("[{backend}] idle memory of `aims serve` (release, VmRSS after start): {mb:.1} MB");
        }
        app.db.close().await;
    }
}
