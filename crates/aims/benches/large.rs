//! Large-organisation benchmark: 10,000 AI systems and 50,000 risks created through the
//! services (each with its activity event), then list, filter and detail requests, each beside
//! a fixed-body handler of the same size (the ceiling), on SQLite and PostgreSQL.
//!
//! Run: `cargo bench -p aims --bench large` (PostgreSQL from `AIMS_TEST_POSTGRES_URL`, if set).
//! Tunables: `BENCH_SYSTEMS` (10000), `BENCH_RISKS` (50000), `BENCH_SECONDS` (4), `BENCH_CONNECTIONS` (16).

use std::time::{Duration, Instant};

mod common;
use common::{Figures, env_number, fresh_database, load, print, serve};

use aims_app::App;
use aims_domain::kinds::{AI_SYSTEM, RISK};
use aims_store::model::Actor;
use serde_json::json;

/// Creates the organisation; returns the app, a token, the system ids and creates per second.
async fn seed(url: &str, systems: u64, risks: u64) -> (App, String, Vec<String>, f64) {
    let (app, _) = App::open(url).await.expect("open");
    let system = Actor::System("bench");
    app.create_org("large", "Large Lending Group", &system).await.expect("org");
    app.create_member("owner@large.example", "large", "owner", "correct horse battery staple", None, &system).await.expect("owner");
    let member = app.member_by_email("owner@large.example", "large").await.expect("member");
    let token = app.create_token(&member, Some("bench"), None, &system).await.expect("token").secret;
    let started = Instant::now();
    let mut ids = Vec::with_capacity(systems as usize);
    let categories = ["high", "limited", "minimal"];
    for i in 0..systems {
        let category = categories[i as usize % 3];
        let input = json!({
            "name": format!("AI system {i:05}"),
            "purpose": "Decision support in consumer lending operations",
            "intended_use": "Recommendations reviewed by trained staff before any decision about a customer",
            "ai_roles": ["ai_provider"], "eu_ai_act_role": "provider", "owner_id": member.user_id,
            "business_unit": format!("Unit {}", i % 40), "geographies": ["Ireland", "Germany"],
            "model_type": "Gradient-boosted trees", "data_categories": ["personal", "financial"],
            "eu_ai_act_risk_category": category, "eu_ai_act_risk_reason": "Classified by the AI governance board",
            "human_oversight_mode": "human_in_the_loop", "human_oversight_rationale": "Staff confirm each recommendation",
        });
        ids.push(app.create_record(&member, &AI_SYSTEM, &input).await.expect("system").id);
    }
    for i in 0..risks {
        let likelihood = (i % 5 + 1) as i64;
        let consequence = ((i / 5) % 5 + 1) as i64;
        let input = json!({
            "title": format!("Risk {i:05}: drift degrades approval accuracy"),
            "description": "Population changes after rate rises move applicants out of the training distribution",
            "source_category": "technical", "ai_system_ids": [ids[(i % systems) as usize]],
            "inherent_likelihood": likelihood, "inherent_consequence": consequence,
            "treatment": "mitigate", "control_refs": ["A.6.2.6"],
            "residual_likelihood": 1, "residual_consequence": consequence, "owner_id": member.user_id,
            "nist_characteristics": ["valid_reliable"],
        });
        app.create_record(&member, &RISK, &input).await.expect("risk");
    }
    let rate = (systems + risks) as f64 / started.elapsed().as_secs_f64();
    (app, token, ids, rate)
}

async fn against_ceiling(base: &str, label: &str, path: &str, token: &str, connections: usize, duration: Duration) -> (Figures, Figures) {
    let measured = load(label, &format!("{base}{path}"), Some(token), connections, duration).await;
    let body = vec![b'x'; measured.bytes];
    let ceiling_base = serve(axum::Router::new().route(
        "/fixed",
        axum::routing::get(move || {
            let body = body.clone();
            async move { body }
        }),
    ))
    .await;
    let ceiling = load("ceiling: fixed body of the same size", &format!("{ceiling_base}/fixed"), None, connections, duration).await;
    (measured, ceiling)
}

#[tokio::main]
async fn main() {
    let systems = env_number("BENCH_SYSTEMS", 10_000);
    let risks = env_number("BENCH_RISKS", 50_000);
    let duration = Duration::from_secs(env_number("BENCH_SECONDS", 4));
    let connections = env_number("BENCH_CONNECTIONS", 16) as usize;
    println!("aims large-organisation benchmark: {systems} AI systems, {risks} risks, {connections} connections, release build");
    for backend in ["sqlite", "postgres"] {
        let Some(url) = fresh_database(backend).await else {
            println!("{backend}: skipped (set AIMS_TEST_POSTGRES_URL)");
            continue;
        };
        let (app, token, ids, rate) = seed(&url, systems, risks).await;
        println!("\n[{backend}] creates through the services, each with its activity event: {rate:.0} per second");
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
        for (label, path) in cases {
            let (measured, ceiling) = against_ceiling(&base, &format!("{backend}: {label}"), &path, &token, connections, duration).await;
            print(&ceiling, None);
            print(&measured, Some(&ceiling));
        }
        app.db.close().await;
    }
}
