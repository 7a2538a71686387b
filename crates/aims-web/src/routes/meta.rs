//! Unauthenticated service routes: `/healthz`, `/metrics`, `/api/openapi.json`.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use aims_app::App;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
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

/// The process-wide Prometheus recorder, installed on first use.
fn metrics_handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE.get_or_init(|| PrometheusBuilder::new().install_recorder().ok()).as_ref()
}

/// Counts requests and their latency by method, route template and status.
pub async fn track_metrics(request: Request, next: Next) -> Response {
    let _ = metrics_handle();
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let labels = [("method", method), ("route", route), ("status", response.status().as_u16().to_string())];
    metrics::counter!("aims_http_requests_total", &labels).increment(1);
    metrics::histogram!("aims_http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}

/// Answers unknown API paths with a problem document rather than an empty 404.
pub async fn api_not_found() -> impl IntoResponse {
    crate::error::ApiError::NotFound("no such API route".into())
}
