//! Scale benchmark: the figures that must hold as an organisation grows, without tuning, on
//! SQLite and PostgreSQL, each the median of three runs (ARCHITECTURE.md, "Scale"):
//! - list-50 of 10,000 AI systems beside a fixed-body handler of the same size (the ceiling),
//!   right after 10,000 creates through the services (no ANALYZE but the store's own), then again
//!   after the benchmark's own `VACUUM (ANALYZE)`;
//! - `aims log verify` of an organisation of 50,000 events: the process's time and peak
//!   resident memory, and the walk's rate measured inside one process;
//! - `aims import ai-systems` of 10,000 new rows into an organisation of 40,000 (then 50,000 and
//!   60,000: memory must not follow the organisation's size) and into an empty one;
//! - the idle release server's resident memory on a fresh database, start to `/healthz`, and
//!   fresh migrations.
//!
//! Run: `cargo bench -p aims --bench scale` (PostgreSQL from `AIMS_TEST_POSTGRES_URL`, if set;
//! the PostgreSQL of these machines runs with autovacuum off, as many production servers do).
//! Tunables: `BENCH_BACKENDS` (`sqlite,postgres`), `BENCH_SECONDS` (4), `BENCH_CONNECTIONS` (16),
//! `BENCH_SYSTEMS` (10000: the list's systems and each import's rows).

use std::time::{Duration, Instant};

mod common;
use common::{env_number, fresh_database, idle_memory_mb, median, median_round, print, run_aims, serve, start_to_healthz};

use aims_app::App;
use aims_domain::kinds::AI_SYSTEM;
use aims_store::model::Actor;
use serde_json::json;

const RUNS: usize = 3;
const SYSTEM: Actor = Actor::System("bench");

/// The median of `RUNS` runs of `measure`.
async fn median_of<F, Fut>(mut measure: F) -> f64
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = f64>,
{
    let mut values = Vec::with_capacity(RUNS);
    for run in 0..RUNS {
        values.push(measure(run).await);
    }
    median(&mut values)
}

fn row(backend: &str, label: &str, figures: &str) {
    println!("{:<10} {label:<58} {figures}", format!("[{backend}]"));
}

/// Fresh migrations, start to `/healthz` and the idle server, each on fresh databases.
async fn server_rows(backend: &str) {
    let (mut migrations, mut migrated) = (Vec::new(), String::new());
    for _ in 0..RUNS {
        let url = fresh_database(backend).await.expect("database");
        let started = Instant::now();
        let (app, _) = App::open(&url).await.expect("open");
        migrations.push(started.elapsed().as_secs_f64() * 1000.0);
        app.db.close().await;
        migrated = url;
    }
    let migrations = median(&mut migrations);
    let start = median_of(|_| {
        let url = migrated.clone();
        async move { start_to_healthz(&url).await.as_secs_f64() * 1000.0 }
    })
    .await;
    let idle = median_of(|_| async move { idle_memory_mb(&fresh_database(backend).await.expect("database")).unwrap_or(f64::NAN) }).await;
    row(backend, "idle server, fresh database (VmRSS 2 s after start)", &format!("{idle:.1} MB"));
    row(backend, "start to /healthz (migrated database)", &format!("{start:.0} ms"));
    row(backend, "fresh migrations", &format!("{migrations:.0} ms"));
}

fn system_input(i: u64, owner: &str) -> serde_json::Value {
    json!({
        "name": format!("AI system {i:05}"),
        "purpose": "Decision support in consumer lending operations",
        "intended_use": "Recommendations reviewed by trained staff before any decision about a customer",
        "ai_roles": ["ai_provider"], "eu_ai_act_role": "provider", "owner_id": owner,
        "business_unit": format!("Unit {}", i % 40), "geographies": ["Ireland", "Germany"],
        "model_type": "Gradient-boosted trees", "data_categories": ["personal", "financial"],
        "eu_ai_act_risk_category": (["high", "limited", "minimal"][i as usize % 3]),
        "eu_ai_act_risk_reason": "Classified by the AI governance board",
        "human_oversight_mode": "human_in_the_loop", "human_oversight_rationale": "Staff confirm each recommendation",
    })
}

/// List-50 of `systems` AI systems right after creating them one by one through the services,
/// then after the benchmark's own `VACUUM (ANALYZE)`.
async fn list_rows(backend: &str, systems: u64, connections: usize, duration: Duration) {
    let url = fresh_database(backend).await.expect("database");
    let (app, _) = App::open(&url).await.expect("open");
    app.create_org("list", "List Lending", &SYSTEM).await.expect("org");
    app.create_member("owner@list.example", "list", "owner", "correct horse battery staple", None, &SYSTEM).await.expect("owner");
    let member = app.member_by_email("owner@list.example", "list").await.expect("member");
    let token = app.create_token(&member, Some("bench"), None, &SYSTEM).await.expect("token").secret;
    let started = Instant::now();
    for i in 0..systems {
        app.create_record(&member, &AI_SYSTEM, &system_input(i, &member.user_id)).await.expect("create");
    }
    let rate = systems as f64 / started.elapsed().as_secs_f64();
    let settings = aims::server::ServerSettings { public_url: "http://127.0.0.1".into() };
    let base = serve(aims::server::router(app.clone(), &settings)).await;
    let path = format!("{base}/api/v1/orgs/list/ai-systems?limit=50&cursor={}", aims_domain::cursor::encode(systems as i64 / 2));
    let bytes = common::send(&reqwest::Client::new(), &path, Some(&token)).await;
    let body = vec![b'x'; bytes];
    let ceiling = serve(axum::Router::new().route(
        "/fixed",
        axum::routing::get(move || {
            let body = body.clone();
            async move { body }
        }),
    ))
    .await;
    let ceiling = format!("{ceiling}/fixed");
    for stage in ["right after the creates, no manual ANALYZE", "after the benchmark's VACUUM (ANALYZE)"] {
        if stage.starts_with("after") {
            if backend == "sqlite" {
                row(backend, &format!("list-50 of {systems} {stage}"), "(nothing to do: SQLite plans from its indexes)");
                continue;
            }
            app.db.vacuum_analyze().await.expect("vacuum");
        }
        let label = format!("{backend}: list-50 {}", if stage.starts_with("right") { "as created" } else { "analysed" });
        let (measured, fixed) = median_round(&label, &path, Some(&token), &ceiling, connections, duration, RUNS).await;
        row(
            backend,
            &format!("list-50 of {systems} {stage}"),
            &format!(
                "{:.0} req/s, p50 {:.2} ms, {:.2} of the ceiling ({:.0} req/s)",
                measured.rps(),
                measured.p50_ms,
                measured.rps() / fixed.rps(),
                fixed.rps()
            ),
        );
        print(&measured, Some(&fixed));
    }
    row(backend, "(creates through the services, one caller)", &format!("{rate:.0} per second"));
    app.db.close().await;
}

/// A CSV file of `rows` new AI systems, named apart by `batch`.
fn import_file(batch: &str, rows: u64) -> std::path::PathBuf {
    let mut text = String::from("name,purpose,eu_ai_act_role,ai_roles,business_unit\n");
    for i in 0..rows {
        text.push_str(&format!(
            "{batch} system {i:05},Decision support in consumer lending operations,provider,ai_provider;ai_producer,Unit {}\n",
            i % 40
        ));
    }
    let path = std::env::temp_dir().join(format!("aims-bench-{}-{batch}.csv", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, text).expect("write the import file");
    path
}

/// `aims import ai-systems` into a grown organisation and into empty ones, and `aims log
/// verify` of the grown organisation once it holds 50,000 events.
async fn import_and_verify_rows(backend: &str, rows: u64) {
    let url = fresh_database(backend).await.expect("database");
    let (app, _) = App::open(&url).await.expect("open");
    let grown = app.create_org("grown", "Grown Lending", &SYSTEM).await.expect("org");
    for batch in 0..4 {
        let file = import_file(&format!("seed{batch}"), rows);
        app.import_ai_systems_as(&grown.id, &SYSTEM, &std::fs::read_to_string(&file).expect("read")).await.expect("seed");
        let _ = std::fs::remove_file(file);
    }
    let mut imports = Vec::new();
    let mut verified = false;
    for run in 0..RUNS {
        let before = app.log_head("grown").await.expect("head").0;
        let file = import_file(&format!("run{run}"), rows);
        let import = run_aims(&url, &["import", "ai-systems", file.to_str().expect("path"), "--org", "grown"]);
        let _ = std::fs::remove_file(file);
        imports.push((import.elapsed.as_secs_f64(), import.peak_mb, before));
        if !verified {
            verify_rows(backend, &app, &url).await;
            verified = true;
        }
    }
    let sizes: Vec<String> = imports.iter().map(|(_, _, events)| events.to_string()).collect();
    let mut seconds: Vec<f64> = imports.iter().map(|i| i.0).collect();
    let mut peaks: Vec<f64> = imports.iter().map(|i| i.1).collect();
    row(
        backend,
        &format!("aims import ai-systems, {rows} rows into an org of 40,000"),
        &format!(
            "{:.2} s, {:.1} MB resident (peaks {:?} MB at {} events)",
            median(&mut seconds),
            median(&mut peaks.clone()),
            peaks.iter().map(|p| (p * 10.0).round() / 10.0).collect::<Vec<_>>(),
            sizes.join("/")
        ),
    );
    peaks.clear();
    seconds.clear();
    for run in 0..RUNS {
        let slug = format!("empty{run}");
        app.create_org(&slug, "Empty Lending", &SYSTEM).await.expect("org");
        let file = import_file(&slug, rows);
        let import = run_aims(&url, &["import", "ai-systems", file.to_str().expect("path"), "--org", &slug]);
        let _ = std::fs::remove_file(file);
        seconds.push(import.elapsed.as_secs_f64());
        peaks.push(import.peak_mb);
    }
    row(
        backend,
        &format!("aims import ai-systems, {rows} rows into an empty org"),
        &format!("{:.2} s, {:.1} MB resident", median(&mut seconds), median(&mut peaks)),
    );
    app.db.close().await;
}

/// `aims log verify --org grown`, as a process (time and peak memory) and the walk itself
/// inside this process (events per second).
async fn verify_rows(backend: &str, app: &App, url: &str) {
    let events = app.log_head("grown").await.expect("head").0;
    let (mut seconds, mut peaks) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let run = run_aims(url, &["log", "verify", "--org", "grown"]);
        assert!(String::from_utf8_lossy(&run.output.stderr).contains("intact"), "the chain verifies");
        seconds.push(run.elapsed.as_secs_f64());
        peaks.push(run.peak_mb);
    }
    let walk = median_of(|_| async move {
        let started = Instant::now();
        let outcome = app.verify_log(Some("grown"), None, &mut |_, _| {}).await.expect("verify");
        assert!(outcome.iter().all(|(_, result)| result.is_ok()), "the chain verifies");
        events as f64 / started.elapsed().as_secs_f64()
    })
    .await;
    row(
        backend,
        &format!("aims log verify, {events} events"),
        &format!("{:.3} s, {:.1} MB resident; the walk {:.0} events/s", median(&mut seconds), median(&mut peaks), walk),
    );
}

#[tokio::main]
async fn main() {
    let seconds = env_number("BENCH_SECONDS", 4);
    let connections = env_number("BENCH_CONNECTIONS", 16) as usize;
    let systems = env_number("BENCH_SYSTEMS", 10_000);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    println!("aims scale benchmark: medians of {RUNS} runs, release build, {connections} connections, {seconds} s per load");
    for backend in backends.split(',').map(str::trim) {
        if fresh_database(backend).await.is_none() {
            println!("{backend}: skipped (set AIMS_TEST_POSTGRES_URL)");
            continue;
        }
        server_rows(backend).await;
        list_rows(backend, systems, connections, Duration::from_secs(seconds)).await;
        import_and_verify_rows(backend, systems).await;
    }
}
