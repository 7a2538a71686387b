//! Request latency by method, route template and status, as a tower layer. Written out rather
//! than with `axum::middleware::from_fn`, which clones and boxes the inner service and boxes
//! its future on every request.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
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
        RequestMetrics { inner, handles: Handles::default() }
    }
}

#[derive(Debug, Clone)]
pub struct RequestMetrics<S> {
    inner: S,
    handles: Handles,
}

/// The histogram handles one route's service has recorded into, by route, method and status.
/// Going through `histogram!` on every request builds a key of three owned labels, hashes it
/// and looks it up in the registry (which clones it once more); the metrics crate's handles
/// are made to be kept instead. A layered service serves one route template and method, so
/// the list stays as short as the statuses it answers with.
#[derive(Debug, Clone, Default)]
struct Handles(Arc<RwLock<Vec<Handle>>>);

#[derive(Debug)]
struct Handle {
    method: &'static str,
    route: MatchedPath,
    status: u16,
    histogram: metrics::Histogram,
}

impl Handles {
    fn record(&self, method: &'static str, route: Option<&MatchedPath>, status: u16, seconds: f64) {
        let route_text = route.map_or(UNMATCHED, MatchedPath::as_str);
        let matches = |h: &Handle| h.status == status && h.method == method && h.route.as_str() == route_text;
        let kept = self.0.read().ok().and_then(|handles| handles.iter().find(|h| matches(h)).map(|h| h.histogram.record(seconds)));
        if kept.is_some() {
            return;
        }
        let labels = [("method", method.to_owned()), ("route", route_text.to_owned()), ("status", status.to_string())];
        let histogram = metrics::histogram!("aims_http_request_duration_seconds", &labels);
        histogram.record(seconds);
        // Requests that matched no route have no template to keep a handle by; they are the
        // rare ones.
        if let (Some(route), Ok(mut handles)) = (route, self.0.write()) {
            if !handles.iter().any(|h| matches(h)) {
                handles.push(Handle { method, route: route.clone(), status, histogram });
            }
        }
    }
}

/// The route label of requests that matched no route.
const UNMATCHED: &str = "unmatched";

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
        let route = request.extensions().get::<MatchedPath>().cloned();
        Recorded { inner: self.inner.call(request), started: Instant::now(), labels: Some((method, route, self.handles.clone())) }
    }
}

pin_project_lite::pin_project! {
    /// The inner service's response future; records the latency when it completes.
    pub struct Recorded<F> {
        #[pin]
        inner: F,
        started: Instant,
        labels: Option<(&'static str, Option<MatchedPath>, Handles)>,
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
        if let (Ok(response), Some((method, route, handles))) = (&outcome, this.labels.take()) {
            handles.record(method, route.as_ref(), response.status().as_u16(), this.started.elapsed().as_secs_f64());
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
