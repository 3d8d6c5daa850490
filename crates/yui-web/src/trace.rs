//! Request spans named by the matched route (not the raw path, so traces group by
//! endpoint), carrying the tenant slug when the route is inside a tenant.

use axum::extract::MatchedPath;
use axum::http::{Request, Response};
use std::time::Duration;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnBodyChunk, DefaultOnEos, MakeSpan, OnResponse, TraceLayer};
use tracing::{Span, field};

#[derive(Clone, Copy, Debug)]
pub struct RouteSpan;

impl<B> MakeSpan<B> for RouteSpan {
    fn make_span(&mut self, req: &Request<B>) -> Span {
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str)
            .unwrap_or("(unmatched)");
        let tenant = tenant_slug(req.uri().path());
        tracing::info_span!(
            "request",
            otel.name = %format_args!("{} {}", req.method(), route),
            otel.kind = "server",
            http.request.method = %req.method(),
            http.route = route,
            tenant = tenant.unwrap_or(""),
            http.response.status_code = field::Empty,
        )
    }
}

#[derive(Clone, Copy, Debug)]
pub struct RecordStatus;

impl<B> OnResponse<B> for RecordStatus {
    fn on_response(self, res: &Response<B>, latency: Duration, span: &Span) {
        span.record("http.response.status_code", res.status().as_u16());
        tracing::info!(
            status = res.status().as_u16(),
            latency_ms = latency.as_secs_f64() * 1000.0,
            "response"
        );
    }
}

/// The tenant in a `/t/<slug>/…` path.
fn tenant_slug(path: &str) -> Option<&str> {
    path.strip_prefix("/t/")?
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
}

/// Request spans. Failures are not logged here: a failed request logs its own error
/// once (`WebError`), and a deliberate 503 (`/readyz` while draining or without its
/// database, probed every few seconds by a balancer) is an answer, not an error.
pub fn layer() -> TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    RouteSpan,
    (),
    RecordStatus,
    DefaultOnBodyChunk,
    DefaultOnEos,
    (),
> {
    TraceLayer::new_for_http()
        .make_span_with(RouteSpan)
        .on_request(())
        .on_response(RecordStatus)
        .on_failure(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tenant_from_path() {
        assert_eq!(super::tenant_slug("/t/iwate/"), Some("iwate"));
        assert_eq!(super::tenant_slug("/t/amami"), Some("amami"));
        assert_eq!(super::tenant_slug("/api/v1/tenants"), None);
    }
}
