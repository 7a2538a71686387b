//! API benchmark: an authenticated list of 50 realistic records on SQLite and PostgreSQL,
//! beside a minimal axum handler returning a fixed body of the same size (the ceiling), plus
//! fresh-database migration time and the idle memory of the release server.
//!
//! Run: `cargo bench -p aims --bench api` (PostgreSQL from `AIMS_TEST_POSTGRES_URL`, if set).
//! Tunables: `BENCH_SECONDS` (default 5), `BENCH_CONNECTIONS` (default 16), `BENCH_RECORDS`.

use std::time::{Duration, Instant};

mod common;
use common::{env_number, fresh_database, idle_memory_mb, median_round, print, serve};

use aims_app::App;
use aims_domain::kinds::CONTROL;
use aims_store::model::Actor;
use serde_json::json;

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
        let single_url = format!("{base}/api/v1/orgs/bench/controls/NWL-00100");
        let list_bytes =
            reqwest::Client::new().get(&list_url).bearer_auth(&token).send().await.expect("list").bytes().await.expect("body").len();
        let single_bytes =
            reqwest::Client::new().get(&single_url).bearer_auth(&token).send().await.expect("one").bytes().await.expect("body").len();
        let (fixed_list, fixed_single) = (vec![b'x'; list_bytes], vec![b'x'; single_bytes]);
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
        let rounds = env_number("BENCH_ROUNDS", 3) as usize;
        for (label, url, ceiling_url) in [
            (format!("{backend}: GET controls?limit=50 (token)"), list_url, format!("{ceiling_base}/list")),
            (format!("{backend}: GET controls/NWL-00100 (token)"), single_url, format!("{ceiling_base}/single")),
        ] {
            let (measured, ceiling) = median_round(&label, &url, Some(&token), &ceiling_url, connections, duration, rounds).await;
            print(&ceiling, None);
            print(&measured, Some(&ceiling));
        }
        if let Some(mb) = idle_memory_mb(&url) {
            println!("[{backend}] idle memory of `aims serve` (release, VmRSS after start): {mb:.1} MB");
        }
        app.db.close().await;
    }
}
