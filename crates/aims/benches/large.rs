//! Large-organisation benchmark: 10,000 AI systems, 50,000 risks and 20,000 pieces of evidence
//! with 100,000 evidence links, created through the services (each with its activity event),
//! then list, filter and detail requests, each beside a fixed-body handler of the same size
//! (the ceiling), and trace requests one at a time (no other load), on SQLite and PostgreSQL.
//! The web UI's list pages, its search (`?q=`, and the API's), a page whose form carries link
//! pickers (a risk's) and the pickers' search (the typeahead's fragment, and the page sent back
//! with a search without scripts) are measured one at a time too, with p50, p95 and p99.
//!
//! Run: `cargo bench -p aims --bench large` (PostgreSQL from `AIMS_TEST_POSTGRES_URL`, if set).
//! Tunables: `BENCH_SYSTEMS` (10000), `BENCH_RISKS` (50000), `BENCH_EVIDENCE` (20000, five links
//! each), `BENCH_WRITERS` (1: concurrent creators), `BENCH_SECONDS` (4), `BENCH_CONNECTIONS` (16),
//! `BENCH_BACKENDS` (`sqlite,postgres`), `BENCH_DATABASE` (the URL of a database an earlier run
//! loaded, printed at its start: measures the requests again without loading anew),
//! `BENCH_ONLY` (measure only the requests whose label contains this text), `BENCH_ROUNDS` (3:
//! alternating rounds of a request and its ceiling; the median is shown).

use std::time::{Duration, Instant};

mod common;
use common::{Figures, env_number, fresh_database, load, median_round, print, serve};

use aims_app::App;
use aims_app::evidence::Upload;
use aims_domain::kinds::{AI_SYSTEM, RISK};
use aims_store::model::Actor;
use serde_json::json;

/// The Annex A controls, for spreading links over them.
const CONTROLS: &[&str] = &[
    "A.2.2", "A.2.3", "A.2.4", "A.3.2", "A.3.3", "A.4.2", "A.4.3", "A.4.4", "A.4.5", "A.4.6", "A.5.2", "A.5.3", "A.5.4", "A.5.5",
    "A.6.1.2", "A.6.1.3", "A.6.2.2", "A.6.2.3", "A.6.2.4", "A.6.2.5", "A.6.2.6", "A.6.2.7", "A.6.2.8", "A.7.2", "A.7.3", "A.7.4", "A.7.5",
    "A.7.6", "A.8.2", "A.8.3", "A.8.4", "A.8.5", "A.9.2", "A.9.3", "A.9.4", "A.10.2", "A.10.3", "A.10.4",
];

fn system_input(i: u64, owner: &str) -> serde_json::Value {
    let category = ["high", "limited", "minimal"][i as usize % 3];
    json!({
        "name": format!("AI system {i:05}"),
        "purpose": "Decision support in consumer lending operations",
        "intended_use": "Recommendations reviewed by trained staff before any decision about a customer",
        "ai_roles": ["ai_provider"], "eu_ai_act_role": "provider", "owner_id": owner,
        "business_unit": format!("Unit {}", i % 40), "geographies": ["Ireland", "Germany"],
        "model_type": "Gradient-boosted trees", "data_categories": ["personal", "financial"],
        "eu_ai_act_risk_category": category, "eu_ai_act_risk_reason": "Classified by the AI governance board",
        "human_oversight_mode": "human_in_the_loop", "human_oversight_rationale": "Staff confirm each recommendation",
    })
}

fn risk_input(i: u64, system_id: &str, owner: &str) -> serde_json::Value {
    let likelihood = (i % 5 + 1) as i64;
    let consequence = ((i / 5) % 5 + 1) as i64;
    json!({
        "title": format!("Risk {i:05}: drift degrades approval accuracy"),
        "description": "Population changes after rate rises move applicants out of the training distribution",
        "source_category": "technical", "ai_system_ids": [system_id],
        "inherent_likelihood": likelihood, "inherent_consequence": consequence,
        "treatment": "mitigate", "control_refs": [CONTROLS[(i % CONTROLS.len() as u64) as usize]],
        "residual_likelihood": 1, "residual_consequence": consequence, "owner_id": owner,
        "nist_characteristics": ["valid_reliable"],
    })
}

/// Creates records `0..count` with `writers` concurrent callers of the service, as a server's
/// request handlers would; returns the ids in order.
async fn create_concurrently(
    app: &App,
    writers: u64,
    count: u64,
    spec: &'static aims_domain::validate::KindSpec,
    input: impl Fn(u64) -> serde_json::Value + Send + Sync + 'static,
) -> Vec<String> {
    let member = app.member_by_email("owner@large.example", "large").await.expect("member");
    let input = std::sync::Arc::new(input);
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (app, member, input) = (app.clone(), member.clone(), input.clone());
        tasks.push(tokio::spawn(async move {
            let mut made = Vec::new();
            for i in (w..count).step_by(writers as usize) {
                made.push((i, app.create_record(&member, spec, &input(i)).await.expect("create").id));
            }
            made
        }));
    }
    let mut all = Vec::with_capacity(count as usize);
    for task in tasks {
        all.extend(task.await.expect("writer"));
    }
    all.sort();
    all.into_iter().map(|(_, id)| id).collect()
}

/// Creates the organisation; returns the app, a token, the system and risk ids and creates per
/// second (`writers` concurrent callers).
async fn seed(url: &str, systems: u64, risks: u64, writers: u64) -> (App, String, Vec<String>, Vec<String>, f64) {
    let (app, _) = App::open(url).await.expect("open");
    let system = Actor::System("bench");
    app.create_org("large", "Large Lending Group", &system).await.expect("org");
    app.create_member("owner@large.example", "large", "owner", "correct horse battery staple", None, &system).await.expect("owner");
    let member = app.member_by_email("owner@large.example", "large").await.expect("member");
    let token = app.create_token(&member, Some("bench"), None, &system).await.expect("token").secret;
    let started = Instant::now();
    let owner = member.user_id.clone();
    let ids = create_concurrently(&app, writers, systems, &AI_SYSTEM, move |i| system_input(i, &owner)).await;
    let (owner, system_ids) = (member.user_id.clone(), std::sync::Arc::new(ids.clone()));
    let risk_ids = create_concurrently(&app, writers, risks, &RISK, move |i| {
        risk_input(i, &system_ids[(i % system_ids.len() as u64) as usize], &owner)
    })
    .await;
    let rate = (systems + risks) as f64 / started.elapsed().as_secs_f64();
    (app, token, ids, risk_ids, rate)
}

/// Uploads `count` pieces of evidence, each a small distinct file linked to two AI systems, a
/// risk, a control and a requirement (five links each); returns their ids and uploads per second.
async fn seed_evidence(app: &App, systems: &[String], risks: &[String], count: u64) -> (Vec<String>, f64) {
    let member = app.member_by_email("owner@large.example", "large").await.expect("member");
    let requirements = ["4.1", "5.2", "6.1.2", "6.1.4", "7.5.1", "8.2", "8.4", "9.1"];
    let started = Instant::now();
    let mut ids = Vec::with_capacity(count as usize);
    for i in 0..count as usize {
        let metadata = json!({
            "title": format!("Evidence {i:05}: monitoring report"),
            "evidence_type": "report", "owner_id": member.user_id,
            "ai_system_ids": [systems[i % systems.len()], systems[(i * 7 + 3) % systems.len()]],
            "risk_ids": [risks[i % risks.len()]],
            "control_refs": [CONTROLS[i % CONTROLS.len()]],
            "requirement_refs": [requirements[i % requirements.len()]],
        });
        let upload = Upload::from_bytes(format!("report-{i:05}.txt"), "text/plain", format!("Monitoring report {i}\n").into_bytes());
        ids.push(app.upload_evidence(&member, &metadata, upload).await.expect("evidence").id);
    }
    (ids, count as f64 / started.elapsed().as_secs_f64())
}

/// The ids of a kind in a database an earlier run loaded, in creation order.
async fn ids_of(url: &str, kind: &str) -> Vec<String> {
    let sql = "SELECT id FROM records WHERE kind = $1 ORDER BY seq";
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.expect("connect");
        sqlx::query_scalar(sql).bind(kind).fetch_all(&pool).await.expect("ids")
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
        sqlx::query_scalar(sql).bind(kind).fetch_all(&pool).await.expect("ids")
    }
}

/// Opens the organisation an earlier run loaded into `url`, with a new token.
async fn reopen(url: &str) -> (App, String, Vec<String>, Vec<String>, Vec<String>) {
    let (app, _) = App::open(url).await.expect("open");
    let member = app.member_by_email("owner@large.example", "large").await.expect("member");
    let token = app.create_token(&member, Some("bench"), None, &Actor::System("bench")).await.expect("token").secret;
    let (systems, risks, evidence) = (ids_of(url, AI_SYSTEM.kind).await, ids_of(url, RISK.kind).await, ids_of(url, "evidence").await);
    (app, token, systems, risks, evidence)
}

/// Loads the organisation into a fresh database of `backend`, printing the rates; `None` when
/// the backend is not configured.
async fn load_fresh(
    backend: &str,
    systems: u64,
    risks: u64,
    evidence: u64,
    writers: u64,
) -> Option<(App, String, Vec<String>, Vec<String>, Vec<String>)> {
    let Some(url) = fresh_database(backend).await else {
        println!("{backend}: skipped (set AIMS_TEST_POSTGRES_URL)");
        return None;
    };
    println!("\n[{backend}] loading into {url}");
    let statistics = refresh_statistics(&url);
    let (app, token, ids, risk_ids, rate) = seed(&url, systems, risks, writers).await;
    println!("[{backend}] creates through the services ({writers} concurrent callers), each with its activity event: {rate:.0} per second");
    let (evidence_ids, upload_rate) = seed_evidence(&app, &ids, &risk_ids, evidence).await;
    println!("[{backend}] evidence uploads (file stored, five links, revision, event): {upload_rate:.0} per second");
    statistics.abort();
    app.db.vacuum_analyze().await.expect("vacuum");
    Some((app, token, ids, risk_ids, evidence_ids))
}

/// One request at a time (no other load): p50 and p99 over `rounds` requests cycling `paths`.
async fn one_at_a_time(base: &str, label: &str, paths: &[String], token: &str, rounds: usize) -> Figures {
    let client = reqwest::Client::new();
    let send = |path: String| {
        let (client, url) = (&client, format!("{base}{path}"));
        async move { common::send(client, &url, Some(token)).await }
    };
    timed_rounds(label, paths, rounds, send).await
}

/// Warms up on the first 20 paths, then times `rounds` requests cycling `paths`, one at a time.
async fn timed_rounds<F, Fut>(label: &str, paths: &[String], rounds: usize, send: F) -> Figures
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    for path in paths.iter().take(20) {
        send(path.clone()).await;
    }
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(rounds);
    let mut bytes = 0;
    for i in 0..rounds {
        let t = Instant::now();
        bytes = send(paths[i % paths.len()].clone()).await;
        latencies.push(t.elapsed().as_micros() as u64);
    }
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)] as f64 / 1000.0;
    Figures {
        label: label.to_owned(),
        requests: rounds,
        seconds: started.elapsed().as_secs_f64(),
        p50_ms: pct(0.5),
        p95_ms: pct(0.95),
        p99_ms: pct(0.99),
        bytes,
    }
}

/// Loads `path` once (which also tells the size of its body), then alternates rounds of it and
/// of a fixed-body handler of the same size; the round with the median ratio.
async fn against_ceiling(base: &str, label: &str, path: &str, token: &str, connections: usize, duration: Duration) -> (Figures, Figures) {
    let url = format!("{base}{path}");
    let first = load(label, &url, Some(token), connections, duration).await;
    let body = vec![b'x'; first.bytes];
    let ceiling_base = serve(axum::Router::new().route(
        "/fixed",
        axum::routing::get(move || {
            let body = body.clone();
            async move { body }
        }),
    ))
    .await;
    let rounds = env_number("BENCH_ROUNDS", 3) as usize;
    median_round(label, &url, Some(token), &format!("{ceiling_base}/fixed"), connections, duration, rounds).await
}

/// Refreshes PostgreSQL's statistics every two seconds while the organisation is loaded, and
/// (in `main`) vacuums once it is, as autovacuum does on a default server (some servers, like
/// the one this benchmark was written on, run with it off). Without it, plans made when the
/// tables were empty — including the cached ones of the foreign-key checks — scan ever longer
/// ranges, and index-only scans visit the table for every row.
fn refresh_statistics(url: &str) -> tokio::task::JoinHandle<()> {
    let url = url.to_owned();
    tokio::spawn(async move {
        if !url.starts_with("postgres") {
            return;
        }
        let Ok(db) = aims_store::Db::connect(&url).await else { return };
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            if db.analyze().await.is_err() {
                return;
            }
        }
    })
}

#[tokio::main]
async fn main() {
    let systems = env_number("BENCH_SYSTEMS", 10_000);
    let risks = env_number("BENCH_RISKS", 50_000);
    let evidence = env_number("BENCH_EVIDENCE", 20_000);
    let writers = env_number("BENCH_WRITERS", 1);
    let duration = Duration::from_secs(env_number("BENCH_SECONDS", 4));
    let connections = env_number("BENCH_CONNECTIONS", 16) as usize;
    println!(
        "aims large-organisation benchmark: {systems} AI systems, {risks} risks, {evidence} evidence ({} evidence links), {connections} connections, release build",
        evidence * 5
    );
    let reuse = std::env::var("BENCH_DATABASE").ok();
    let backends = match &reuse {
        Some(url) if url.starts_with("postgres") => "postgres".to_owned(),
        Some(_) => "sqlite".to_owned(),
        None => std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into()),
    };
    for backend in backends.split(',').map(str::trim) {
        let loaded = match &reuse {
            Some(url) => Some(reopen(url).await),
            None => load_fresh(backend, systems, risks, evidence, writers).await,
        };
        let Some((app, token, ids, risk_ids, evidence_ids)) = loaded else { continue };
        let settings = aims::server::ServerSettings { public_url: "http://127.0.0.1".into() };
        let base = serve(aims::server::router(app.clone(), &settings)).await;
        let middle = &ids[ids.len() / 2];
        let cases = [
            ("list: ai-systems?limit=50", format!("/api/v1/orgs/large/ai-systems?limit=50&cursor={}", aims_domain::cursor::encode(5_000))),
            ("list: risks?limit=50", format!("/api/v1/orgs/large/risks?limit=50&cursor={}", aims_domain::cursor::encode(30_000))),
            ("filter: risks?ai_system_ids=…", format!("/api/v1/orgs/large/risks?ai_system_ids={middle}")),
            (
                "filter: ai-systems?eu_ai_act_risk_category=high",
                "/api/v1/orgs/large/ai-systems?eu_ai_act_risk_category=high&limit=50".to_owned(),
            ),
            ("detail: ai-systems/{id}", format!("/api/v1/orgs/large/ai-systems/{middle}")),
        ];
        let only = std::env::var("BENCH_ONLY").unwrap_or_default();
        for (label, path) in cases.into_iter().filter(|(label, _)| label.contains(only.as_str())) {
            let (measured, ceiling) = against_ceiling(&base, &format!("{backend}: {label}"), &path, &token, connections, duration).await;
            print(&ceiling, None);
            print(&measured, Some(&ceiling));
        }
        let spread = |ids: &[String], collection: &str| -> Vec<String> {
            ids.iter().step_by((ids.len() / 200).max(1)).map(|id| format!("/api/v1/orgs/large/{collection}/{id}/trace")).collect()
        };
        let control_paths: Vec<String> = CONTROLS.iter().map(|c| format!("/api/v1/orgs/large/controls/{c}/trace")).collect();
        for (label, paths) in [
            ("trace: ai-systems/{id}/trace", spread(&ids, "ai-systems")),
            ("trace: evidence/{id}/trace", spread(&evidence_ids, "evidence")),
            ("trace: risks/{id}/trace", spread(&risk_ids, "risks")),
            ("trace: controls/{ref}/trace (capped groups)", control_paths),
        ]
        .into_iter()
        .filter(|(label, _)| label.contains(only.as_str()))
        {
            print(&one_at_a_time(&base, &format!("{backend}: {label}"), &paths, &token, 2_000).await, None);
        }
        // Reports: the SoA as PDF (typst lays out 38 controls and the organisation's own) and
        // the AI system register as XLSX (every system, streamed in constant-memory mode).
        for (label, path, rounds) in [
            ("report: soa?format=pdf", "/api/v1/orgs/large/reports/soa?format=pdf", 20),
            ("report: ai-system-register?format=xlsx (every system)", "/api/v1/orgs/large/reports/ai-system-register?format=xlsx", 3),
        ]
        .into_iter()
        .filter(|(label, ..)| label.contains(only.as_str()))
        {
            print(&one_at_a_time(&base, &format!("{backend}: {label}"), &[path.to_owned()], &token, rounds).await, None);
        }
        let cookie = sign_in(&base).await;
        let searches: Vec<String> = (0..50).map(|i| format!("/orgs/large/ai-systems?q=ai+system+0{:02}", i * 2)).collect();
        let api_searches: Vec<String> = (0..50).map(|i| format!("/api/v1/orgs/large/ai-systems?q=ai+system+0{:02}", i * 2)).collect();
        let pickers: Vec<String> =
            risk_ids.iter().step_by((risk_ids.len() / 200).max(1)).map(|id| format!("/orgs/large/risks/{id}")).collect();
        let later_pages: Vec<String> = (0..50)
            .map(|i| format!("/orgs/large/ai-systems?cursor={}", aims_domain::cursor::encode(i * (ids.len() as i64 / 50))))
            .collect();
        // Sorted by name both ways (the row a cursor names is read back for its key), filtered
        // by a choice, and the risk register, whose heat maps count every risk.
        let sorted_pages: Vec<String> = (0..50)
            .map(|i| {
                let sort = if i % 2 == 0 { "name" } else { "-name" };
                let cursor = aims_domain::cursor::encode_sorted(sort, i * (ids.len() as i64 / 50));
                if i < 2 {
                    format!("/orgs/large/ai-systems?sort={sort}")
                } else {
                    format!("/orgs/large/ai-systems?sort={sort}&cursor={cursor}")
                }
            })
            .collect();
        let filtered: Vec<String> = ["high", "limited", "minimal", "prohibited"]
            .iter()
            .cycle()
            .take(50)
            .map(|category| format!("/orgs/large/ai-systems?eu_ai_act_risk_category={category}"))
            .collect();
        let risk_pages: Vec<String> = (0..50)
            .map(|i| format!("/orgs/large/risks?cursor={}", aims_domain::cursor::encode(i * (risk_ids.len() as i64 / 50))))
            .collect();
        // A risk's AI-system picker searched: by the typeahead (the matches only), and without
        // scripts (the risk page sent back with the search and the form as typed).
        let typeahead: Vec<String> =
            (0..50).map(|i| format!("/orgs/large/pick/ai-systems?pick_field=ai_system_ids&q=ai+system+0{:02}", i * 2)).collect();
        let page_searches: Vec<String> = risk_ids
            .iter()
            .step_by((risk_ids.len() / 50).max(1))
            .enumerate()
            .map(|(i, id)| format!("/orgs/large/risks/{id}?pick_field=ai_system_ids&pick_q.ai_system_ids=ai+system+0{:02}", (i % 50) * 2))
            .collect();
        for (label, paths, auth) in [
            ("ui list: ai-systems pages of 50", later_pages, Auth::Cookie(&cookie)),
            ("ui picker search: pick/ai-systems?q=", typeahead, Auth::Cookie(&cookie)),
            ("ui picker search without scripts: risk page", page_searches, Auth::Cookie(&cookie)),
            ("ui search: ai-systems?q=", searches, Auth::Cookie(&cookie)),
            ("ui list sorted: ai-systems?sort=name pages of 50", sorted_pages, Auth::Cookie(&cookie)),
            ("ui list filtered: ai-systems?eu_ai_act_risk_category=", filtered, Auth::Cookie(&cookie)),
            ("ui list: risks pages of 50, heat maps over every risk", risk_pages, Auth::Cookie(&cookie)),
            ("api search: ai-systems?q=", api_searches, Auth::Token(&token)),
            ("ui picker: risk page with its link fields", pickers, Auth::Cookie(&cookie)),
            // Every readiness rule and clause signal over the whole organisation (two grouped
            // reads and the requirements), and the day's snapshot check.
            ("ui readiness dashboard: /readiness", vec!["/orgs/large/readiness".to_owned()], Auth::Cookie(&cookie)),
            ("api readiness: /readiness", vec!["/api/v1/orgs/large/readiness".to_owned()], Auth::Token(&token)),
        ]
        .into_iter()
        .filter(|(label, ..)| label.contains(only.as_str()))
        {
            print(&one_at_a_time_as(&base, &format!("{backend}: {label}"), &paths, auth, 500).await, None);
        }
        app.db.close().await;
    }
}

/// How a request authenticates: an API token or the UI's session cookie.
#[derive(Clone, Copy)]
enum Auth<'a> {
    Token(&'a str),
    Cookie(&'a str),
}

/// Signs the owner in through the UI; returns the session cookie.
async fn sign_in(base: &str) -> String {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let response = client
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=owner%40large.example&password=correct+horse+battery+staple&next=")
        .send()
        .await
        .expect("sign in");
    let cookie = response.headers().get("set-cookie").and_then(|v| v.to_str().ok()).expect("session cookie");
    cookie.split(';').next().unwrap_or_default().to_owned()
}

/// [`one_at_a_time`] for pages and API requests alike.
async fn one_at_a_time_as(base: &str, label: &str, paths: &[String], auth: Auth<'_>, rounds: usize) -> Figures {
    let cookie = match auth {
        Auth::Token(token) => return one_at_a_time(base, label, paths, token, rounds).await,
        Auth::Cookie(cookie) => cookie,
    };
    let client = reqwest::Client::new();
    let send = |path: String| {
        let request = client.get(format!("{base}{path}")).header("cookie", cookie);
        async move {
            let response = request.send().await.expect("request");
            assert!(response.status().is_success(), "{path}: {}", response.status());
            response.bytes().await.expect("body").len()
        }
    };
    timed_rounds(label, paths, rounds, send).await
}
