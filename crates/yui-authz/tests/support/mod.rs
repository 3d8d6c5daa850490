//! A fresh database per test, on SQLite and on PostgreSQL, with the repository's four
//! tenants and a few accounts.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::Connection;
use yui_store::{ConnectSettings, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The instant the tests live at.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 31, 12, 0, 0).unwrap()
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn postgres_admin_url() -> String {
    std::env::var("YUI_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let query = tail
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

/// A database that exists for one test and is removed afterwards.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A fresh database, or `None` when PostgreSQL is not available outside CI (the test
    /// is skipped). Under `CI=true` a missing PostgreSQL fails the test.
    pub async fn create(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("yui.db").display());
                Some(TestDb {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                })
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = match sqlx::PgConnection::connect(&admin).await {
                    Ok(c) => c,
                    Err(e) if !ci() => {
                        eprintln!(
                            "skipping PostgreSQL test: cannot connect to {admin}: {e} (set YUI_TEST_POSTGRES_URL)"
                        );
                        return None;
                    }
                    Err(e) => panic!("CI=true but PostgreSQL is unavailable at {admin}: {e}"),
                };
                let name = format!("yui_test_{}", uuid::Uuid::new_v4().simple());
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create database");
                conn.close().await.ok();
                Some(TestDb {
                    url: with_database(&admin, &name),
                    _dir: None,
                    postgres: Some((admin, name)),
                })
            }
        }
    }

    /// A new connection pool on the database (one per simulated app node).
    pub async fn connect(&self) -> Store {
        Store::connect(
            &self.url,
            &ConnectSettings {
                max_connections: 4,
                ..Default::default()
            },
        )
        .await
        .expect("connect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.postgres.take() {
            // Drop runs outside async context; a short-lived runtime on its own thread
            // removes the database even when the test panicked.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut conn)
                                .await;
                    }
                });
            })
            .join();
        }
    }
}

/// A migrated database with the repository's tenants (iwate with ichinoseki and
/// kamaishi as children, amami) and accounts.
pub struct Fixture {
    pub store: Store,
    pub db: TestDb,
    /// Accounts by name: admin, coordinator, contractor, operator, mentor, talent, other.
    pub accounts: std::collections::HashMap<&'static str, i64>,
}

impl Fixture {
    pub async fn new(backend: Backend) -> Option<Fixture> {
        let db = TestDb::create(backend).await?;
        let store = db.connect().await;
        store.migrate().await.expect("migrate");
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tenants");
        for slug in ["iwate", "ichinoseki", "kamaishi", "amami"] {
            let text = std::fs::read_to_string(root.join(slug).join("tenant.toml")).unwrap();
            let tenant = yui_domain::tenant::parse_tenant_file(&text).unwrap();
            store.apply_tenant(&tenant, "<svg/>", t0()).await.unwrap();
        }
        let mut accounts = std::collections::HashMap::new();
        for name in [
            "admin",
            "coordinator",
            "contractor",
            "operator",
            "mentor",
            "talent",
            "other",
        ] {
            accounts.insert(
                name,
                create_account(&store, &format!("{name}@example.jp")).await,
            );
        }
        Some(Fixture {
            store,
            db,
            accounts,
        })
    }

    pub fn account(&self, name: &str) -> i64 {
        self.accounts[name]
    }
}

pub async fn create_account(store: &Store, email: &str) -> i64 {
    let sql = "INSERT INTO accounts (email, email_lower, created_at, updated_at) VALUES ($1, $1, $2, $2) RETURNING id";
    let (id,): (i64,) = match store {
        Store::Sqlite(pool) => {
            sqlx::query_as(sql)
                .bind(email)
                .bind(t0())
                .fetch_one(pool)
                .await
        }
        Store::Postgres(pool) => {
            sqlx::query_as(sql)
                .bind(email)
                .bind(t0())
                .fetch_one(pool)
                .await
        }
    }
    .expect("create account");
    id
}

/// Runs each named `async fn(Fixture)` once on SQLite and once on PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(f) = $crate::support::Fixture::new($crate::support::Backend::Sqlite).await {
                        super::$name(f).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(f) = $crate::support::Fixture::new($crate::support::Backend::Postgres).await {
                        super::$name(f).await;
                    }
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;
