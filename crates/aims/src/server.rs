//! The one app factory: the API and the UI behind the cross-cutting layers (sessions, CSRF
//! protection, security headers, metrics, request tracing), and serving it.

use std::net::SocketAddr;

use aims_app::App;
use aims_store::sessions::DbSessionStore;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::csrf::CsrfLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// Settings of a running server.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// The URL people reach the server at; `https://…` makes cookies `Secure`.
    pub public_url: String,
}

impl ServerSettings {
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Builds the whole HTTP application.
pub fn router(app: App, settings: &ServerSettings) -> Router {
    let secure = settings.secure_cookies();
    let sessions = SessionManagerLayer::new(DbSessionStore::new(app.db.clone()))
        // The __Host- prefix pins the cookie to this host and path; browsers only accept it
        // on Secure cookies.
        .with_name(if secure { aims_store::sessions::SECURE_COOKIE_NAME } else { aims_store::sessions::COOKIE_NAME })
        .with_secure(secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(12)));
    // Only the UI runs the session middleware; the API reads a session cookie itself when a
    // request has no token, so token-authenticated calls pay nothing for sessions.
    // The cross-cutting layers go on as one stack, in one `layer` call: axum boxes every route
    // again at each call and clones the whole chain of boxes per request: a single-record
    // read went from 53 % to 58 % of the benchmark's ceiling with one call. Inside the routing,
    // so metrics see the route template. The first layer listed is the outermost.
    let cross_cutting = tower::ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ))
        .layer(security_header(header::REFERRER_POLICY, "same-origin"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(aims_web::RequestMetricsLayer)
        .layer(CsrfLayer::new());
    Router::new().merge(aims_web::router(app.clone())).merge(aims_ui::router(app).layer(sessions)).layer(cross_cutting)
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
