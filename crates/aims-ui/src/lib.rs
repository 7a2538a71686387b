//! The web UI of aims: server-rendered pages over the application services.

use aims_app::App;
use axum::Router;

/// Everything the UI serves. Expects tower-sessions' `SessionManagerLayer` to be applied
/// around it (the server does that for the API and UI together).
pub fn router(app: App) -> Router {
    let _ = app;
    Router::new()
}
