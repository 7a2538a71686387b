//! What SQLite's durability setting costs: creates per second with `synchronous = FULL` (every
//! commit fsynced: a power cut loses nothing acknowledged) and `NORMAL` (the WAL fsynced at
//! checkpoints only), for plain records and for evidence uploads with each file store (a folder
//! beside the database, whose files are fsynced before their record commits, or the database).
//!
//! Run: `cargo bench -p aims --bench durability`. Tunables: `BENCH_SECONDS` (default 5 per
//! run), `BENCH_CLIENTS` (default 8 concurrent writers), `BENCH_DIR` (where the databases go;
//! default the target directory, on disk: a tmpfs would make every fsync free).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aims_app::App;
use aims_app::evidence::Upload;
use aims_domain::kinds::AI_SYSTEM;
use aims_store::files::FileStore;
use aims_store::model::Actor;
use serde_json::json;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[derive(Clone, Copy)]
enum Write {
    Record,
    Evidence,
}

fn main() {
    let seconds = env_number("BENCH_SECONDS", 5);
    let clients = env_number("BENCH_CLIENTS", 8) as usize;
    let dir = std::env::var("BENCH_DIR").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    println!("aims durability benchmark: {clients} concurrent writers, {seconds} s per run, databases in {}", dir.display());
    for (label, write, store) in [
        ("AI system create", Write::Record, "folder"),
        ("evidence upload (4 KiB), folder store", Write::Evidence, "folder"),
        ("evidence upload (4 KiB), database store", Write::Evidence, "database"),
    ] {
        let mut line = format!("{label:<42}");
        for synchronous in ["full", "normal"] {
            // Set before any runtime or thread exists: `Db::connect` reads it.
            // SAFETY: single-threaded here; each run's runtime is built after and dropped before.
            unsafe { std::env::set_var(aims_store::SYNCHRONOUS_ENV, synchronous) };
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
            let rate = runtime.block_on(run(&dir, write, store, clients, Duration::from_secs(seconds)));
            drop(runtime);
            line.push_str(&format!("  {synchronous:>6}: {rate:>7.0} creates/s"));
        }
        println!("{line}");
    }
}

/// Creates for `duration` from `clients` tasks on a fresh database; returns creates per second.
async fn run(dir: &std::path::Path, write: Write, store: &str, clients: usize, duration: Duration) -> f64 {
    let base = dir.join(format!("durability-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&base).expect("bench dir");
    let url = format!("sqlite:{}", base.join("aims.db").display());
    let files = match store {
        "database" => FileStore::Database,
        _ => FileStore::Folder(base.join("aims-files").into()),
    };
    let (app, _) = App::open_with(&url, files, aims_app::DEFAULT_MAX_UPLOAD_BYTES).await.expect("open");
    let system = Actor::System("bench");
    app.create_org("bench", "Bench", &system).await.expect("org");
    app.create_member("owner@bench.example", "bench", "owner", "correct horse battery staple", None, &system).await.expect("owner");
    let member = Arc::new(app.member_by_email("owner@bench.example", "bench").await.expect("member"));
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let (app, member, done) = (app.clone(), member.clone(), done.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while Instant::now() < deadline {
                    n += 1;
                    match write {
                        Write::Record => {
                            app.create_record(&member, &AI_SYSTEM, &json!({"name": format!("System {client}-{n}")})).await.expect("create");
                        }
                        Write::Evidence => {
                            let mut bytes = format!("evidence {client}-{n}\n").into_bytes();
                            bytes.resize(4096, b'.');
                            let upload = Upload::from_bytes(format!("e-{client}-{n}.txt"), "text/plain", bytes);
                            app.upload_evidence(&member, &json!({"title": format!("E {client}-{n}")}), upload).await.expect("upload");
                        }
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("writer");
    }
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    app.db.close().await;
    let _ = std::fs::remove_dir_all(&base);
    rate
}
