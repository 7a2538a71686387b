//! The JSON API of aims under `/api/v1`, plus `/healthz`, `/metrics` and `/api/openapi.json`.
//! Only this crate knows about JSON wire shapes, HTTP status codes and OpenAPI; it calls the
//! application services of `aims-app` for everything else.

pub mod auth;
pub mod dto;
pub mod error;
pub mod input;
pub mod openapi;
pub mod request_metrics;
pub mod routes;

use aims_app::App;
use axum::Router;
use utoipa::openapi::OpenApi;

pub use request_metrics::RequestMetricsLayer;

/// Every API route with its OpenAPI document.
pub fn api(app: App) -> (Router, OpenApi) {
    let mut builder = openapi::ApiBuilder::default();
    builder = routes::meta::register(builder);
    for spec in aims_domain::kinds::ALL {
        builder = routes::records::register(builder, spec);
    }
    builder = routes::evidence::register(builder);
    builder = routes::views::register(builder);
    builder = routes::readiness::register(builder);
    builder = routes::import::register(builder);
    builder = routes::tokens::register(builder);
    builder = routes::members::register(builder);
    builder = routes::sso::register(builder);
    builder = routes::activity::register(builder);
    builder = routes::security::register(builder);
    builder = routes::reports::register(builder);
    builder = routes::public::register(builder);
    let (router, doc) = builder.finish();
    let router = router
        .merge(routes::meta::openapi_route(doc.clone()))
        .route("/api/{*rest}", axum::routing::any(routes::meta::api_not_found))
        .with_state(app);
    (router, doc)
}

/// The API router alone.
pub fn router(app: App) -> Router {
    api(app).0
}
