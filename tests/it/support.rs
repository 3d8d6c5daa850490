//! The test harness: the real application on port 0 with a fresh database per test,
//! on SQLite and on PostgreSQL.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::Utc;
use tokio::sync::oneshot;
use yui_store::Store;

pub use yui_testkit::form::{Form, Page};
pub use yui_testkit::{Backend, TestDb, on_both_backends};

/// The repository's own `tenants/` folder.
pub fn repo_tenants() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tenants")
}

/// The running application.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The application's authorizer, to grant roles in tests.
    pub authz: yui_authz::SharedAuthz,
    /// Mail the application sent, caught by a real SMTP server.
    pub sink: yui_mail::testing::SmtpSink,
    mail_worker: Option<tokio::task::JoinHandle<()>>,
    stop_mail: Option<oneshot::Sender<()>>,
    /// Seconds added to the real clock, so a test can let time pass.
    clock_offset: Arc<AtomicI64>,
    pub store: Store,
    /// Kept so the database outlives the server.
    _db: TestDb,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// What the database holds when a [`TestApp`] starts, cheapest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    /// The schema and nothing else.
    Empty,
    /// The repository's tenants (`tenants/*/tenant.toml`).
    Tenants,
    /// The tenants and their demo content (`tenants/*/demo.toml`).
    Demo,
}

impl TestApp {
    /// The app on an empty database (the schema only).
    pub async fn empty(backend: Backend) -> Option<TestApp> {
        Self::spawn(backend, Seed::Empty, |_| {}).await
    }

    /// The app with the repository's tenants applied.
    pub async fn with_tenants(backend: Backend) -> Option<TestApp> {
        Self::spawn(backend, Seed::Tenants, |_| {}).await
    }

    /// The app with the repository's tenants applied and the demo loaded.
    pub async fn with_demo(backend: Backend) -> Option<TestApp> {
        Self::spawn(backend, Seed::Demo, |_| {}).await
    }

    /// The app on a fresh database holding `seed`, with web settings adjusted (the
    /// public URL is set to the test server's first).
    pub async fn spawn(
        backend: Backend,
        seed: Seed,
        adjust: impl FnOnce(&mut yui_web::WebSettings),
    ) -> Option<TestApp> {
        let db = TestDb::create(backend).await?;
        let store = db.app_store().await;
        if seed != Seed::Empty {
            let dirs = yui::tenants::folders(&repo_tenants()).expect("tenant folders");
            yui::tenants::apply(&store, &dirs, Utc::now())
                .await
                .expect("apply tenants");
        }
        if seed == Seed::Demo {
            yui::demo::load(&store, &repo_tenants(), Utc::now())
                .await
                .expect("demo");
        }
        Some(Self::start(db, store, adjust).await)
    }

    /// The app on an existing database, as it is.
    pub async fn start(
        db: TestDb,
        store: Store,
        adjust: impl FnOnce(&mut yui_web::WebSettings),
    ) -> TestApp {
        // `YUI_TEST_LOG=warn cargo test …` shows what the app logged (a 500's cause).
        if let Ok(filter) = std::env::var("YUI_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let clock_offset = Arc::new(AtomicI64::new(0));
        let offset = clock_offset.clone();
        let clock: yui_web::Clock =
            Arc::new(move || Utc::now() + chrono::Duration::seconds(offset.load(Ordering::SeqCst)));
        // Mail leaves through the real SMTP transport to a sink started here.
        let sink = yui_mail::testing::SmtpSink::start()
            .await
            .expect("smtp sink");
        let transport = yui_mail::Transport::Smtp(
            yui_mail::SmtpTransport::new(&sink.smtp_settings()).expect("smtp"),
        );
        let config = yui_mail::WorkerConfig {
            poll_interval: std::time::Duration::from_millis(200),
            ..Default::default()
        };
        let waker = Arc::new(tokio::sync::Notify::new());
        let worker = yui_mail::Worker::new(store.clone(), transport, "test", config)
            .expect("worker")
            .with_waker(waker.clone());
        let (stop_mail, mail_stopping) = oneshot::channel::<()>();
        let worker_clock = clock.clone();
        let mail_worker = tokio::spawn(worker.run(move || worker_clock(), async move {
            let _ = mail_stopping.await;
        }));
        let templates = yui_mail::Templates::load(Some(&repo_tenants())).expect("mail templates");
        let sender = yui_domain::tenant::MailSender {
            sender_name: "Yui".to_owned(),
            sender_address: "no-reply@yui.example".to_owned(),
        };
        let outbox = yui_mail::Outbox::new(templates, sender).expect("outbox");
        let authz = yui_authz::SharedAuthz::new(
            yui_authz::Authz::load(&store, Utc::now())
                .await
                .expect("authz"),
        );
        let mut settings = yui_web::WebSettings {
            public_url: format!("http://{addr}"),
            ..Default::default()
        };
        adjust(&mut settings);
        let state = yui_web::AppState::with_settings(
            store.clone(),
            authz.clone(),
            outbox,
            settings,
            clock,
            waker,
        )
        .expect("app state");
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(yui_web::serve(listener, state, async move {
            let _ = rx.await;
        }));
        TestApp {
            addr,
            authz,
            sink,
            mail_worker: Some(mail_worker),
            stop_mail: Some(stop_mail),
            clock_offset,
            store,
            _db: db,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// The database's URL as its owner (the role that migrates, and that backups
    /// need: the application's role cannot read past row-level security).
    pub fn owner_database_url(&self) -> &str {
        &self._db.url
    }

    /// Every stored value as text (see [`TestDb::dump_text`]).
    pub async fn dump_database(&self) -> String {
        self._db.dump_text().await
    }

    /// The application's current time.
    pub fn now(&self) -> chrono::DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.clock_offset.load(Ordering::SeqCst))
    }

    /// Lets time pass for the application.
    pub fn advance(&self, by: chrono::Duration) {
        self.clock_offset
            .fetch_add(by.num_seconds(), Ordering::SeqCst);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A client that keeps cookies and does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// The status of a GET by `client` (which keeps its cookies).
    pub async fn status(&self, client: &reqwest::Client, path: &str) -> reqwest::StatusCode {
        client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
            .status()
    }

    /// The page at `path` as `client` sees it, to take a form from.
    pub async fn open(&self, client: &reqwest::Client, path: &str) -> Page {
        Page::get(client, &self.url(path)).await
    }

    /// The body of a GET by `client`.
    pub async fn page(&self, client: &reqwest::Client, path: &str) -> String {
        client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("body")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client()
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server");
        }
        if let Some(stop) = self.stop_mail.take() {
            let _ = stop.send(());
        }
        if let Some(worker) = self.mail_worker.take() {
            worker.await.expect("mail worker");
        }
        self.store.close().await;
    }
}

impl yui_testkit::Fixture for TestApp {
    fn finish(self) -> impl std::future::Future<Output = ()> {
        self.stop()
    }
}
/// The newest audit entries, of one tenant or (with `None`) of the whole platform.
pub async fn audit_entries(
    store: &Store,
    tenant: Option<yui_domain::TenantId>,
    limit: i64,
) -> Result<Vec<yui_store::AuditRecord>, yui_store::StoreError> {
    match tenant {
        Some(t) => {
            let mut tx = store.tenant(t).read().await?;
            let rows = tx.audit_entries(limit).await?;
            tx.commit().await?;
            Ok(rows)
        }
        None => {
            let mut tx = store
                .platform(yui_store::PlatformReason::OperatorConsole)
                .read()
                .await?;
            let rows = tx.audit_entries(limit).await?;
            tx.commit().await?;
            Ok(rows)
        }
    }
}

/// The account with this address, if any.
pub async fn account_by_email(
    store: &Store,
    email: &yui_domain::account::Email,
) -> Option<yui_store::Account> {
    store.find_account(email).await.expect("find account")
}
