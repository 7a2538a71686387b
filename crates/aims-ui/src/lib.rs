//! The web UI of aims: server-rendered pages over the application services.
//!
//! Every page is an askama template (in `templates/`) filled from a small view model built in
//! the page's module; forms are plain HTML posts that call the same `aims_app::App` services as
//! the JSON API, so the rules (validation, roles, optimistic locking) are enforced in one place
//! and the UI only presents their outcome. Assets are embedded files served under `/static/`.

mod actions;
mod activity;
mod assets;
mod audit_pages;
mod auth;
mod catalogue;
mod charts;
mod common;
mod communications;
mod dashboard;
mod error;
mod evidence;
mod forms;
mod gap;
mod hooks;
mod impact;
mod improvement_pages;
mod layout;
mod lists;
mod maturity_pages;
mod members;
mod mfa_pages;
mod objectives;
mod operations_pages;
mod page_index;
mod page_spec;
mod pages;
mod people;
mod picker;
mod policies;
mod posted;
mod readiness;
mod recform;
mod reports;
mod review_pages;
mod risks;
mod schedule_pages;
mod soa;
mod sso_pages;
mod systems;
mod text;
mod tokens;
mod trust;

use std::sync::Arc;

use aims_app::App;
use axum::Router;
use axum::middleware::map_response;
use axum::routing::{get, post};

pub use error::not_found;

/// What every UI handler gets: the services and the per-instance sign-in rate limiter.
#[derive(Clone)]
pub(crate) struct UiState {
    pub app: App,
    pub limiter: Arc<auth::AttemptLimiter>,
}

/// Everything the UI serves. Expects tower-sessions' `SessionManagerLayer` to be applied
/// around it (the server does that for the API and UI together).
///
/// No fallback is set here, because axum refuses to merge two routers that both have one; the
/// server may use [`not_found`] as its fallback for non-API paths.
pub fn router(app: App) -> Router {
    let state = UiState { app, limiter: Arc::new(auth::AttemptLimiter::new()) };
    Router::new()
        .route("/", get(dashboard::home))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/setup/{secret}", get(auth::setup_page).post(auth::setup))
        .route("/reset/{secret}", get(auth::reset_page).post(auth::reset))
        .route("/orgs/{org}", get(dashboard::add_slash))
        .route("/orgs/{org}/", get(dashboard::page))
        .route("/orgs/{org}/readiness", get(readiness::page))
        .route("/orgs/{org}/requirements", get(gap::list))
        .route("/orgs/{org}/requirements/{reference}", get(gap::detail).post(gap::save))
        .route("/orgs/{org}/controls", get(soa::list))
        .route("/orgs/{org}/controls/new", get(soa::new_form).post(soa::create))
        .route("/orgs/{org}/controls/{reference}", get(soa::detail).post(soa::save))
        .route("/orgs/{org}/ai-systems", get(systems::list))
        .route("/orgs/{org}/ai-systems/new", get(systems::new_form).post(systems::create))
        .route("/orgs/{org}/ai-systems/{id}", get(systems::detail).post(systems::save))
        .route("/orgs/{org}/ai-systems/{id}/{what}", post(systems::add))
        .route("/orgs/{org}/gates/{id}/decide", post(systems::decide))
        .route("/orgs/{org}/risks", get(risks::list))
        .route("/orgs/{org}/risks/new", get(risks::new_form).post(risks::create))
        .route("/orgs/{org}/risks/{id}", get(risks::detail).post(risks::save))
        .route("/orgs/{org}/risks/{id}/accept", post(risks::accept))
        .route("/orgs/{org}/risk-criteria", get(risks::criteria_page).post(risks::criteria_save))
        .route("/orgs/{org}/impact-assessments/new", get(impact::new_form).post(impact::create))
        .route("/orgs/{org}/impact-assessments/{id}", get(impact::detail).post(impact::save))
        .route("/orgs/{org}/impact-assessments/{id}/sign-off", post(impact::sign_off))
        .route("/orgs/{org}/impact-assessments/{id}/revisions/{n}", get(impact::revision))
        .route("/orgs/{org}/activity", get(activity::page))
        .route("/orgs/{org}/activity/signed-export", get(activity::signed_export))
        .route("/orgs/{org}/reports", get(reports::page))
        .route("/orgs/{org}/tokens", get(tokens::page).post(tokens::create))
        .route("/orgs/{org}/tokens/{id}/revoke", post(tokens::revoke))
        .route("/orgs/{org}/pick/{collection}", get(picker::results))
        .merge(evidence::routes())
        .merge(policies::routes())
        .merge(objectives::routes())
        .merge(people::routes())
        .merge(communications::routes())
        .merge(actions::routes())
        .merge(members::routes())
        .merge(mfa_pages::routes())
        .merge(sso_pages::routes())
        .merge(schedule_pages::routes())
        .merge(soa::routes())
        .merge(gap::routes())
        .merge(pages::routes())
        .merge(page_index::routes())
        .merge(trust::routes())
        .route("/static/{*path}", get(assets::serve))
        .layer(axum::middleware::from_fn(picker::remember_search))
        .layer(axum::middleware::from_fn(members::note_device))
        .layer(map_response(layout::security_headers))
        .with_state(state)
}
