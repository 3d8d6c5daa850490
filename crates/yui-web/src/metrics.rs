//! `/metrics` in the Prometheus text format (0.0.4), off unless configured.
//!
//! Requests are counted by method, matched route template and status code, and timed
//! by method and route: the template (`/t/{slug}/events/{id}`), never the raw path,
//! so no tenant slug or id becomes a label value and the number of series is bounded
//! by the routes the code has. The mail outbox and the database pool are read when
//! scraped. The registry belongs to the application state, not to the process, so
//! several applications in one process (the tests) count apart.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use subtle::ConstantTimeEq;

use crate::AppState;

/// The bearer token a scraper presents. Kept out of `Debug` output.
#[derive(Clone)]
pub struct MetricsToken(String);

impl MetricsToken {
    pub fn new(token: impl Into<String>) -> MetricsToken {
        MetricsToken(token.into())
    }

    fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(***)")
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

/// The series this node keeps.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    outbox_pending: Gauge,
    outbox_oldest_age: Gauge<f64, AtomicU64>,
    pool_max: Gauge,
    pool_size: Gauge,
    pool_idle: Gauge,
    pool_in_use: Gauge,
    token: MetricsToken,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// Seconds: from a cached page (a few ms) to a slow export (10 s).
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

impl Metrics {
    pub(crate) fn new(token: MetricsToken) -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("yui");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status code",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(LATENCY_BUCKETS)
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            latency.clone(),
        );
        let outbox_pending = Gauge::default();
        registry.register(
            "mail_outbox_pending",
            "Mails waiting in the outbox to be sent",
            outbox_pending.clone(),
        );
        let outbox_oldest_age = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "mail_outbox_oldest_pending_age_seconds",
            "Seconds since the oldest pending mail was queued (0 when none waits)",
            outbox_oldest_age.clone(),
        );
        let pool_max = Gauge::default();
        registry.register(
            "db_pool_max_connections",
            "The most database connections this node's pool may open",
            pool_max.clone(),
        );
        let pool_size = Gauge::default();
        registry.register(
            "db_pool_connections",
            "Database connections open in this node's pool",
            pool_size.clone(),
        );
        let pool_idle = Gauge::default();
        registry.register(
            "db_pool_idle_connections",
            "Open database connections waiting for work",
            pool_idle.clone(),
        );
        let pool_in_use = Gauge::default();
        registry.register(
            "db_pool_in_use_connections",
            "Open database connections lent to a request or worker",
            pool_in_use.clone(),
        );
        Arc::new(Metrics {
            registry,
            requests,
            latency,
            outbox_pending,
            outbox_oldest_age,
            pool_max,
            pool_size,
            pool_idle,
            pool_in_use,
            token,
        })
    }
}

/// A method as a label: the standard ones by name, anything a client invents as
/// `other`, so a stranger cannot add series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts and times every request. Runs inside the router, where the matched route
/// is known; a request no route matched counts as `(unmatched)`.
pub(crate) async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(metrics) = state.inner.metrics.clone() else {
        return next.run(req).await;
    };
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", MatchedPath::as_str)
        .to_owned();
    let started = Instant::now();
    let res = next.run(req).await;
    let elapsed = started.elapsed().as_secs_f64();
    metrics
        .latency
        .get_or_create(&RouteLabels {
            method,
            route: route.clone(),
        })
        .observe(elapsed);
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: res.status().as_u16(),
        })
        .inc();
    res
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// `GET /metrics`: 401 without the configured bearer token.
pub(crate) async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(metrics) = state.inner.metrics.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !bearer(&headers).is_some_and(|t| metrics.token.matches(t)) {
        let body = serde_json::json!({
            "error": "unauthorized",
            "message": "/metrics needs the configured bearer token",
        });
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
            axum::Json(body),
        )
            .into_response();
    }
    let pool = state.store.pool_stats();
    metrics.pool_max.set(i64::from(pool.max));
    metrics.pool_size.set(i64::from(pool.size));
    metrics.pool_idle.set(i64::from(pool.idle));
    metrics.pool_in_use.set(i64::from(pool.in_use()));
    match pending_mail(&state).await {
        Ok((pending, oldest)) => {
            metrics.outbox_pending.set(pending);
            let age = oldest.map_or(0.0, |t| {
                (state.now() - t).num_milliseconds().max(0) as f64 / 1000.0
            });
            metrics.outbox_oldest_age.set(age);
        }
        // The request and pool series still say something during an outage; the
        // outbox gauges keep their last values and the log says why.
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read the mail outbox"),
    }
    let mut body = String::new();
    if let Err(e) =
        prometheus_client::encoding::prometheus_text::encode(&mut body, &metrics.registry)
    {
        tracing::error!(error = %e, "metrics: encoding failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(prometheus_client::encoding::prometheus_text::CONTENT_TYPE),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn pending_mail(
    state: &AppState,
) -> Result<(i64, Option<chrono::DateTime<chrono::Utc>>), yui_store::StoreError> {
    let mut tx = state
        .store
        .platform(yui_store::PlatformReason::Metrics)
        .read()
        .await?;
    let pending = tx.pending_mail().await?;
    tx.commit().await?;
    Ok(pending)
}
