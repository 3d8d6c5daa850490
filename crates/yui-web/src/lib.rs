//! Yui's web edge: routes, pages, the JSON API, and request tracing.
//!
//! [`router`] builds the whole application from an [`AppState`]; [`serve`] runs it on
//! a listener until a shutdown signal, finishing requests already in flight. Tests
//! start exactly this on port 0.

mod api;
mod assets;
mod error;
pub mod extract;
pub mod features;
mod i18n;
mod metrics;
mod render;
pub mod security;
mod trace;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use chrono::{DateTime, Duration, Utc};
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;
use yui_store::{SessionPolicy, Store};

pub use api::ApiDoc;
pub use error::{ApiError, PageError, WebError};
pub use i18n::Catalogs;
pub use metrics::MetricsToken;
pub use yui_store::Limit;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    /// Who may do what; refreshed from the database when another node changes it.
    pub authz: yui_authz::SharedAuthz,
    inner: Arc<Shared>,
}

/// Where handlers read the time: the real clock in production, a chosen one in tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The real clock; the one place the web layer reads it.
#[allow(clippy::disallowed_methods)]
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// Settings of the web edge.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// The address people reach the platform at; links in mail start with it.
    pub public_url: String,
    /// Served over TLS: cookies get `Secure` and the `__Host-` prefix. An `https://`
    /// public URL implies it (see [`WebSettings::over_tls`]).
    pub secure_cookies: bool,
    pub session: SessionPolicy,
    /// Reverse proxies whose `X-Forwarded-For` is believed. Empty: the TCP peer is the
    /// client, whatever the header says.
    pub trusted_proxies: Vec<extract::ProxyNet>,
    /// How sign-in attempts and mailed links are limited.
    pub throttle: ThrottleSettings,
    /// After a shutdown signal, how long the node keeps serving while `/readyz`
    /// answers 503, so load balancers take it out of rotation before it stops
    /// accepting connections. Zero stops accepting at once.
    pub shutdown_grace: std::time::Duration,
    /// Newsletter mails of one tenant per minute at most: each send schedules its
    /// mails at this pace after the tenant's previous ones.
    pub newsletter_per_minute: u32,
    /// The key that signs certificates when it is held in the configuration rather
    /// than in the database. Its public half is published in the database the first
    /// time it signs; a different key configured later retires the one before (a
    /// rotation), and the retired keys keep verifying what they signed.
    pub certificate_key: Option<yui_domain::certificate::KeyPair>,
    /// `/metrics`, served to whoever presents this bearer token; `None` (the
    /// default): no such route, and requests are not counted.
    pub metrics_token: Option<MetricsToken>,
}

/// The limits of sign-in attempts and mailed links. Each key gets some free attempts,
/// then waits that double up to a cap; a key left alone for a while starts over.
#[derive(Debug, Clone)]
pub struct ThrottleSettings {
    /// One account from one address: the owner mistyping, or a guesser.
    pub account_address: Limit,
    /// One address across accounts: a guesser trying many accounts.
    pub address: Limit,
    /// One account across addresses: a botnet guessing one password.
    pub account: Limit,
    /// One account from a device that signed in to it before. Such a device is
    /// limited on its own and not by the address or account limits above.
    pub device: Limit,
    /// How long a device stays known after signing in.
    pub device_days: i64,
    /// Mailed links (reset, sign-in link, confirmation) to one address.
    pub mail_address: Limit,
    /// Mailed links asked for by one client address.
    pub mail_client: Limit,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        let progressive = |free, base| Limit {
            free,
            base,
            cap: Duration::minutes(30),
            quiet: Duration::hours(1),
        };
        // A burst of `free`, then one an hour; a full hour of quiet starts over. (A
        // shorter quiet would let a few before it and `free` after it fall within one
        // hour.)
        let hourly = |free| Limit {
            free,
            base: Duration::hours(1),
            cap: Duration::hours(1),
            quiet: Duration::hours(1),
        };
        ThrottleSettings {
            account_address: progressive(5, Duration::minutes(1)),
            address: progressive(30, Duration::seconds(10)),
            account: progressive(100, Duration::seconds(10)),
            device: progressive(5, Duration::minutes(1)),
            device_days: 365,
            mail_address: hourly(3),
            mail_client: hourly(20),
        }
    }
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            public_url: "http://127.0.0.1:8080".to_owned(),
            secure_cookies: false,
            session: SessionPolicy {
                idle: Duration::hours(12),
                absolute: Duration::days(14),
            },
            trusted_proxies: Vec::new(),
            throttle: ThrottleSettings::default(),
            shutdown_grace: std::time::Duration::ZERO,
            newsletter_per_minute: yui_domain::newsletter::DEFAULT_PER_MINUTE,
            certificate_key: None,
            metrics_token: None,
        }
    }
}

impl WebSettings {
    /// Whether people reach the platform over TLS: then every cookie is `Secure` and
    /// every response carries `Strict-Transport-Security`. An `https://` public URL is
    /// enough, so a deployment cannot announce TLS and still hand out plain cookies.
    pub fn over_tls(&self) -> bool {
        self.secure_cookies
            || self
                .public_url
                .get(..8)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }
}

struct Shared {
    tera: tera::Tera,
    catalogs: Catalogs,
    /// Each template's share of the catalogs, the `t` of its context.
    messages: render::messages::TemplateMessages,
    assets: assets::Assets,
    settings: WebSettings,
    clock: Clock,
    outbox: yui_mail::Outbox,
    /// Wakes the mail workers after a commit that queued mail.
    mail_waker: Arc<tokio::sync::Notify>,
    /// The home page's prefectures and unions, read again only when a tenant changes.
    top_level: features::public::TopLevelCache,
    /// Tenants named by paths, read again after a second or a change made here.
    tenants: extract::TenantCache,
    /// Set when shutdown begins: `/readyz` then answers 503 while requests are served.
    draining: std::sync::atomic::AtomicBool,
    /// Request counters and the `/metrics` registry, when metrics are on.
    metrics: Option<Arc<metrics::Metrics>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Builds the state: templates and message catalogs are compiled into the binary
    /// and checked here, so a broken template fails at start-up, not on a request.
    pub fn new(
        store: Store,
        authz: yui_authz::SharedAuthz,
        outbox: yui_mail::Outbox,
    ) -> Result<AppState, WebError> {
        Self::with_settings(
            store,
            authz,
            outbox,
            WebSettings::default(),
            system_clock(),
            Arc::default(),
        )
    }

    pub fn with_settings(
        store: Store,
        authz: yui_authz::SharedAuthz,
        outbox: yui_mail::Outbox,
        settings: WebSettings,
        clock: Clock,
        mail_waker: Arc<tokio::sync::Notify>,
    ) -> Result<AppState, WebError> {
        let catalogs = Catalogs::load()?;
        let metrics = settings.metrics_token.clone().map(metrics::Metrics::new);
        Ok(AppState {
            store,
            authz,
            inner: Arc::new(Shared {
                tera: templates()?,
                messages: render::messages::TemplateMessages::new(template_sources(), &catalogs),
                catalogs,
                assets: assets::Assets::new(),
                settings,
                clock,
                outbox,
                mail_waker,
                top_level: features::public::TopLevelCache::default(),
                tenants: extract::TenantCache::default(),
                draining: std::sync::atomic::AtomicBool::new(false),
                metrics,
            }),
        })
    }

    /// The current time, from the state's clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.inner.clock)()
    }

    /// Whether shutdown has begun (see [`WebSettings::shutdown_grace`]).
    pub fn draining(&self) -> bool {
        self.inner
            .draining
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// An absolute link to `path` on this platform, for mail.
    pub fn link(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.inner.settings.public_url.trim_end_matches('/'),
            path
        )
    }
}

/// Every template: the shared ones and each feature's, compiled into the binary.
/// Autoescaping is on for every `.html` template.
fn template_sources() -> impl Iterator<Item = (&'static str, &'static str)> {
    render::SHARED_TEMPLATES
        .iter()
        .chain(features::TEMPLATES.iter().flat_map(|t| t.iter()))
        .copied()
}

fn templates() -> Result<tera::Tera, WebError> {
    let mut tera = tera::Tera::default();
    tera.add_raw_templates(template_sources())?;
    Ok(tera)
}

/// The complete application.
pub fn router(state: AppState) -> Router {
    let security_headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (HeaderName::from_static("x-frame-options"), "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; \
             object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    ];
    let over_tls = state.inner.settings.over_tls();
    let mut routes = Router::new()
        .merge(features::router())
        .merge(api::router())
        .merge(assets::router());
    if state.inner.metrics.is_some() {
        routes = routes.route("/metrics", axum::routing::get(metrics::scrape));
    }
    let mut routes =
        routes
            .fallback(features::public::not_found)
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                render::failures::render_failures,
            ));
    if state.inner.metrics.is_some() {
        // Inside the router, where the matched route template is known.
        routes = routes.layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::record,
        ));
    }
    let mut app = routes
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state,
            extract::remember_query_lang,
        ))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(trace::layer());
    for (name, value) in security_headers {
        app = app.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    if over_tls {
        // Browsers that saw the platform once over TLS never try plain HTTP again,
        // so a network attacker cannot strip TLS from the next visit (or a subdomain).
        app = app.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    app
}

/// Serves the application until `shutdown` resolves; then `/readyz` answers 503 for
/// the settings' shutdown grace while requests are still served (balancers notice
/// and stop sending), and only then it stops accepting connections and waits for
/// requests in flight to finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let draining = state.clone();
    let grace = state.inner.settings.shutdown_grace;
    // The hourly digest of application messages runs beside the server on every
    // node; the claim in the database keeps nodes from sending one twice.
    let digests = tokio::spawn(features::applications::digest::run(state.clone()));
    // Reminders before events, likewise claimed once in the database.
    let reminders = tokio::spawn(features::events::reminders::run(state.clone()));
    // The coordinators' daily at-risk digest, claimed once a day in the database.
    let at_risk = tokio::spawn(features::engagements::digest::run(state.clone()));
    // The peer address feeds sign-in throttling and the audit log.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            draining
                .inner
                .draining
                .store(true, std::sync::atomic::Ordering::SeqCst);
            if !grace.is_zero() {
                tracing::info!(
                    seconds = grace.as_secs_f64(),
                    "draining: /readyz answers 503, requests are still served"
                );
                tokio::time::sleep(grace).await;
            }
        })
        .await;
    digests.abort();
    reminders.abort();
    at_risk.abort();
    served
}
