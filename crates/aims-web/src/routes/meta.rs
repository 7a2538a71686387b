//! Unauthenticated service routes: `/healthz`, `/metrics`, `/api/openapi.json`.

use std::sync::{Arc, OnceLock};

use aims_app::App;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use utoipa::openapi::OpenApi;
use utoipa::openapi::path::HttpMethod;

use crate::openapi::{ApiBuilder, Doc};

pub fn register(api: ApiBuilder) -> ApiBuilder {
    api.route(
        HttpMethod::Get,
        "/healthz",
        get(|State(app): State<App>| async move {
            match app.db.ping().await {
                Ok(()) => (StatusCode::OK, axum::Json(json!({"status": "ok", "database": "ok"}))),
                Err(e) => {
                    tracing::error!(error = %e, "health check failed");
                    (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"status": "unavailable", "database": "unreachable"})))
                }
            }
        }),
        Doc::new("service", "healthz", "Liveness and database check").public().ok(200, "Healthy", None).ok(
            503,
            "The database does not answer",
            None,
        ),
    )
    .route(
        HttpMethod::Get,
        "/metrics",
        get(|| async {
            let body = metrics_handle().map(PrometheusHandle::render).unwrap_or_default();
            ([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"))], body)
        }),
        Doc::new("service", "metrics", "Prometheus metrics").public().ok(200, "Metrics in Prometheus text format", None),
    )
}

/// The OpenAPI document route; registered after all others so the document is complete.
pub fn openapi_route(doc: OpenApi) -> axum::Router<App> {
    let json = Arc::new(doc.to_pretty_json().unwrap_or_default());
    axum::Router::new().route(
        "/api/openapi.json",
        get(move || {
            let json = json.clone();
            async move { ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], json.as_str().to_owned()) }
        }),
    )
}

/// The process-wide Prometheus recorder, installed on first use. Latencies go into fixed
/// buckets, and an upkeep thread drains recorded values every few seconds, so memory stays
/// flat whether or not anyone scrapes `/metrics`.
fn metrics_handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            const BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
            let handle = PrometheusBuilder::new().set_buckets(BUCKETS).ok()?.install_recorder().ok()?;
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .ok()?;
            Some(handle)
        })
        .as_ref()
}

/// Installs the process-wide recorder, so requests are recorded from the first one on.
pub(crate) fn install_recorder() {
    let _ = metrics_handle();
}

/// Answers unknown API paths with a problem document rather than an empty 404.
pub async fn api_not_found() -> impl IntoResponse {
    crate::error::ApiError::NotFound("no such API route".into())
}
