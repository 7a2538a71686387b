//! Shared by the benchmarks: a keep-alive load generator with latency percentiles, fresh
//! databases, serving a router on a free port, idle memory of the release server, printing.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Figures {
    pub label: String,
    pub requests: usize,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub bytes: usize,
}

impl Figures {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Drives `url` with `connections` concurrent keep-alive clients for `duration`.
pub async fn load(label: &str, url: &str, token: Option<&str>, connections: usize, duration: Duration) -> Figures {
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
    Figures { label: label.to_owned(), requests: latencies.len(), seconds, p50_ms: pct(0.50), p95_ms: pct(0.95), p99_ms: pct(0.99), bytes }
}

/// Alternates `rounds` loads of the ceiling and of `url`, and returns the round (measured,
/// ceiling) with the median ratio, so a passing disturbance on the machine affects both sides
/// alike.
pub async fn median_round(
    label: &str,
    url: &str,
    token: Option<&str>,
    ceiling_url: &str,
    connections: usize,
    duration: Duration,
    rounds: usize,
) -> (Figures, Figures) {
    let mut pairs = Vec::new();
    for _ in 0..rounds.max(1) {
        let ceiling = load("ceiling: fixed body of the same size", ceiling_url, None, connections, duration).await;
        let measured = load(label, url, token, connections, duration).await;
        pairs.push((measured.rps() / ceiling.rps(), measured, ceiling));
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (_, measured, ceiling) = pairs.swap_remove(pairs.len() / 2);
    (measured, ceiling)
}

pub async fn send(client: &reqwest::Client, url: &str, token: Option<&str>) -> usize {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    assert!(response.status().is_success(), "{url}: {}", response.status());
    response.bytes().await.expect("body").len()
}

pub async fn fresh_database(backend: &str) -> Option<String> {
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

pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

pub fn idle_memory_mb(database: &str) -> Option<f64> {
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

pub fn print(figures: &Figures, ceiling: Option<&Figures>) {
    let share = ceiling.map(|c| format!("{:>5.1} % of ceiling", 100.0 * figures.rps() / c.rps())).unwrap_or_default();
    println!(
        "{:<44} {:>9.0} req/s  p50 {:>6.2} ms  p95 {:>6.2} ms  p99 {:>6.2} ms  body {:>6} B  {share}",
        figures.label,
        figures.rps(),
        figures.p50_ms,
        figures.p95_ms,
        figures.p99_ms,
        figures.bytes
    );
}

/// What one run of the `aims` binary took: its output, wall time and peak resident memory.
pub struct Run {
    pub output: std::process::Output,
    pub elapsed: Duration,
    pub peak_mb: f64,
}

/// Runs the release `aims ARGS` against `database`; its peak resident memory is the kernel's
/// `ru_maxrss` of that one child, read when it is reaped.
pub fn run_aims(database: &str, args: &[&str]) -> Run {
    use std::io::Read;
    let started = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(args)
        .env("AIMS_DATABASE_URL", database)
        .env("AIMS_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn aims");
    let pid = child.id() as libc::pid_t;
    // The child's own high-water mark, read from /proc while it runs: wait4's `ru_maxrss` also
    // counts what the forked benchmark process held (Linux keeps the larger of the two across
    // exec), which reported this process's size for every command.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak_kb = 0u64;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(kb) = vm_hwm_kb(pid) {
                    peak_kb = peak_kb.max(kb);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            peak_kb
        })
    };
    let mut status = 0;
    // The commands measured print a line or two: it fits the pipes until the child is reaped.
    // SAFETY: `pid` is our own child, not yet reaped; no resource usage is asked for (null).
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, std::ptr::null_mut()) };
    assert_eq!(reaped, pid, "wait4");
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak_kb = watcher.join().expect("memory watcher");
    let elapsed = started.elapsed();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    child.stdout.take().map(|mut p| p.read_to_end(&mut stdout));
    child.stderr.take().map(|mut p| p.read_to_end(&mut stderr));
    let status = std::os::unix::process::ExitStatusExt::from_raw(status);
    let output = std::process::Output { status, stdout, stderr };
    assert!(output.status.success(), "aims {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    Run { output, elapsed, peak_mb: peak_kb as f64 / 1024.0 }
}

/// `VmHWM` (peak resident memory) of a running process, in kB.
fn vm_hwm_kb(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Time from starting `aims serve` on `database` to its first answer from `/healthz`.
pub async fn start_to_healthz(database: &str) -> Duration {
    use std::io::BufRead;
    let started = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_aims"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("AIMS_DATABASE_URL", database)
        .env("AIMS_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn aims serve");
    let stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let url = stderr
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("listening on ").map(str::to_owned))
        .expect("the server says where it listens");
    let client = reqwest::Client::new();
    loop {
        if client.get(format!("{url}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}

/// The median of `values` (sorted in place).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
