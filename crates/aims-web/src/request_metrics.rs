//! Request latency by method, route template and status, as a tower layer. Written out rather
//! than with `axum::middleware::from_fn`, which clones and boxes the inner service and boxes
//! its future on every request.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;

/// Records each request's latency in `aims_http_request_duration_seconds`. The histogram's
/// `_count` series is the request counter, so one registry update per request suffices. Apply
/// it with `Router::layer`, inside the routing, so the route template is known.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestMetricsLayer;

impl<S> tower::Layer<S> for RequestMetricsLayer {
    type Service = RequestMetrics<S>;

    /// Runs once per route when the router is built: the recorder is installed by then, and
    /// requests need not ask.
    fn layer(&self, inner: S) -> Self::Service {
        crate::routes::meta::install_recorder();
        RequestMetrics { inner }
    }
}

#[derive(Debug, Clone)]
pub struct RequestMetrics<S> {
    inner: S,
}

impl<S> tower::Service<Request> for RequestMetrics<S>
where
    S: tower::Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Recorded<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let method = static_method(request.method());
        let route = request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
        Recorded { inner: self.inner.call(request), started: Instant::now(), labels: Some((method, route)) }
    }
}

pin_project_lite::pin_project! {
    /// The inner service's response future; records the latency when it completes.
    pub struct Recorded<F> {
        #[pin]
        inner: F,
        started: Instant,
        labels: Option<(&'static str, String)>,
    }
}

impl<F, E> Future for Recorded<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let outcome = std::task::ready!(this.inner.poll(cx));
        if let (Ok(response), Some((method, route))) = (&outcome, this.labels.take()) {
            let labels = [("method", method.to_owned()), ("route", route), ("status", response.status().as_u16().to_string())];
            metrics::histogram!("aims_http_request_duration_seconds", &labels).record(this.started.elapsed().as_secs_f64());
        }
        Poll::Ready(outcome)
    }
}

fn static_method(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}
