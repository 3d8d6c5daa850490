//! Test support shared by the workspace's suites.
//!
//! - [`TestDb`]: a fresh database per test, on SQLite (a file in a temporary folder)
//!   and on PostgreSQL (a new database at `YUI_TEST_POSTGRES_URL`, dropped when the
//!   test ends), copied from a template migrated once per test process (`template`).
//! - [`on_both_backends!`]: runs a test body once on each backend. Outside CI an
//!   unreachable PostgreSQL skips the test with a note; under `CI=true` it fails it.
//! - [`form`] (feature `forms`): a page's forms, filled in and submitted as a person
//!   does in a browser.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(feature = "forms")]
pub mod form;
mod template;

use std::time::Duration;

use sqlx::Connection;
use yui_store::{ConnectSettings, Store};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL role the application connects as in tests: it owns no table and
/// cannot bypass row-level security, as in production.
pub const APP_ROLE: &str = "yui_app_test";

/// Whether this is a CI run, where nothing may be skipped.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A PostgreSQL server URL whose user may create databases.
pub fn postgres_admin_url() -> String {
    std::env::var("YUI_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `url` with its database replaced by `name` (the query string kept).
pub fn database_url(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// `url` with its user replaced by `user` and no password.
pub fn with_user(url: &str, user: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| start + i);
    let host = match url[start..end].rfind('@') {
        Some(at) => &url[start + at + 1..end],
        None => &url[start..end],
    };
    format!("{}{user}@{host}{}", &url[..start], &url[end..])
}

pub(crate) fn settings() -> ConnectSettings {
    ConnectSettings {
        max_connections: 8,
        connect_timeout: Duration::from_secs(5),
    }
}

/// A database that exists for one test and is removed afterwards.
#[derive(Debug)]
pub struct TestDb {
    /// The owner's URL (on PostgreSQL, the admin user's).
    pub url: String,
    /// Whether the schema and the application role's grants are in place.
    prepared: bool,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A fresh database with the schema in place, copied from a template migrated once
    /// per process; on PostgreSQL the application role's grants come with it. `None`
    /// when PostgreSQL is unavailable outside CI.
    pub async fn create(backend: Backend) -> Option<TestDb> {
        Self::new(backend, true).await
    }

    /// A fresh, empty database, for tests of migrating itself.
    pub async fn create_empty(backend: Backend) -> Option<TestDb> {
        Self::new(backend, false).await
    }

    async fn new(backend: Backend, prepared: bool) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("yui.db");
                if prepared {
                    std::fs::write(&path, template::sqlite_template().await)
                        .expect("copy the SQLite template");
                }
                Some(TestDb {
                    url: format!("sqlite://{}", path.display()),
                    prepared,
                    _dir: Some(dir),
                    postgres: None,
                })
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = match tokio::time::timeout(
                    Duration::from_secs(5),
                    sqlx::PgConnection::connect(&admin),
                )
                .await
                {
                    Ok(Ok(c)) => c,
                    failure => {
                        let why = match failure {
                            Ok(Err(e)) => e.to_string(),
                            _ => "timed out".to_owned(),
                        };
                        assert!(
                            !ci(),
                            "CI=true but PostgreSQL is unavailable at {admin}: {why}"
                        );
                        eprintln!(
                            "skipping PostgreSQL test: cannot connect to {admin}: {why} (set YUI_TEST_POSTGRES_URL)"
                        );
                        return None;
                    }
                };
                let name = format!("yui_test_{}", uuid::Uuid::new_v4().simple());
                let create = if prepared {
                    let template = template::postgres_template(&admin).await;
                    format!("CREATE DATABASE {name} TEMPLATE {template}")
                } else {
                    format!("CREATE DATABASE {name}")
                };
                sqlx::query(&create)
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{create}: {e}"));
                conn.close().await.ok();
                Some(TestDb {
                    url: database_url(&admin, &name),
                    prepared,
                    _dir: None,
                    postgres: Some((admin, name)),
                })
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    pub fn backend(&self) -> Backend {
        if self.is_postgres() {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// A new pool as the tables' owner, without migrating (one per simulated node).
    pub async fn connect(&self) -> Store {
        Store::connect(&self.url, &settings())
            .await
            .expect("connect to the test database")
    }

    /// A pool as the owner, with the schema brought up to date.
    pub async fn migrated(&self) -> Store {
        let store = self.connect().await;
        store.migrate().await.expect("migrate");
        store
    }

    /// The application's pool: on PostgreSQL as [`APP_ROLE`], so row-level security
    /// holds as in production. An empty database is migrated and granted first.
    pub async fn app_store(&self) -> Store {
        if !self.prepared {
            let owner = self.migrated().await;
            if let Store::Postgres(pool) = &owner {
                let mut conn = pool.acquire().await.expect("a connection");
                template::ensure_app_role(&mut conn).await;
                for grant in template::app_grants() {
                    sqlx::query(&grant).execute(&mut *conn).await.unwrap();
                }
            }
            owner.close().await;
        }
        if !self.is_postgres() {
            return self.connect().await;
        }
        Store::connect(&self.app_url(), &settings())
            .await
            .expect("connect as the application role")
    }

    /// The URL the application uses: on PostgreSQL, as [`APP_ROLE`].
    pub fn app_url(&self) -> String {
        match self.postgres {
            Some(_) => with_user(&self.url, APP_ROLE),
            None => self.url.clone(),
        }
    }
}

impl TestDb {
    /// Every value of every column of every table, as text, one value a line, read
    /// as the owner (on PostgreSQL past row-level security): what a test greps to
    /// prove something is stored nowhere.
    pub async fn dump_text(&self) -> String {
        let store = self.connect().await;
        let mut out = String::new();
        match &store {
            Store::Sqlite(pool) => {
                let tables: Vec<(String,)> = sqlx::query_as(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                )
                .fetch_all(pool)
                .await
                .unwrap();
                for (table,) in tables {
                    let columns: Vec<(String,)> =
                        sqlx::query_as("SELECT name FROM pragma_table_info($1)")
                            .bind(&table)
                            .fetch_all(pool)
                            .await
                            .unwrap();
                    for (column,) in columns {
                        // As bytes: a blob may hold text too, and need not be UTF-8.
                        let values: Vec<(Option<Vec<u8>>,)> = sqlx::query_as(&format!(
                            r#"SELECT CAST("{column}" AS BLOB) FROM "{table}""#
                        ))
                        .fetch_all(pool)
                        .await
                        .unwrap();
                        for v in values.into_iter().filter_map(|(v,)| v) {
                            let v = String::from_utf8_lossy(&v);
                            out.push_str(&format!("{table}.{column}: {v}\n"));
                        }
                    }
                }
            }
            Store::Postgres(pool) => {
                let columns: Vec<(String, String)> = sqlx::query_as(
                    "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c
                     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
                     WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'",
                )
                .fetch_all(pool)
                .await
                .unwrap();
                for (table, column) in columns {
                    let values: Vec<(Option<String>,)> =
                        sqlx::query_as(&format!(r#"SELECT "{column}"::text FROM "{table}""#))
                            .fetch_all(pool)
                            .await
                            .unwrap();
                    for v in values.into_iter().filter_map(|(v,)| v) {
                        out.push_str(&format!("{table}.{column}: {v}\n"));
                    }
                }
            }
        }
        store.close().await;
        out
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

/// What a test made by [`on_both_backends!`] runs against: a database, an app, a
/// fixture of a suite's own. The macro hands it to the test body by reference and
/// finishes it afterwards.
pub trait Fixture: Sized {
    /// Ends the fixture after the test body: stops servers, closes pools. Dropping it
    /// is enough by default.
    fn finish(self) -> impl std::future::Future<Output = ()> {
        async {}
    }
}

impl Fixture for TestDb {}

/// Runs each named `async fn name(fixture: &F)` once on SQLite and once on
/// PostgreSQL, as the tests `name::sqlite` and `name::postgres`. `setup` is an
/// `async fn(Backend) -> Option<F>` (`None`: PostgreSQL unavailable outside CI, the
/// test is skipped; under `CI=true` it fails instead) and `F` a [`Fixture`]:
///
/// ```ignore
/// yui_testkit::on_both_backends!(TestApp::with_tenants => staff_page_lists_staff, isolation);
/// yui_testkit::on_both_backends!(MailDb::new, worker_threads = 4 => workers_send_once);
/// ```
///
/// Names in the calling module are in scope for `setup`. Each test runs on a
/// multi-threaded runtime, with 2 worker threads unless `worker_threads` says otherwise.
#[macro_export]
macro_rules! on_both_backends {
    ($setup:expr, worker_threads = $threads:tt => $($name:ident),+ $(,)?) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[::tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn sqlite() {
                let fixture = ($setup)($crate::Backend::Sqlite)
                    .await
                    .expect("SQLite is always available");
                super::$name(&fixture).await;
                $crate::Fixture::finish(fixture).await;
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn postgres() {
                let Some(fixture) = ($setup)($crate::Backend::Postgres).await else {
                    assert!(!$crate::ci(), "CI=true: a PostgreSQL test may not be skipped");
                    return;
                };
                super::$name(&fixture).await;
                $crate::Fixture::finish(fixture).await;
            }
        }
    )+};
    ($setup:expr => $($name:ident),+ $(,)?) => {
        $crate::on_both_backends!($setup, worker_threads = 2 => $($name),+);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            database_url("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            database_url("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
        assert_eq!(
            with_user("postgres://postgres@127.0.0.1:5432/db", "app"),
            "postgres://app@127.0.0.1:5432/db"
        );
        assert_eq!(
            with_user("postgres://u:secret@h/db?x=1", "app"),
            "postgres://app@h/db?x=1"
        );
        assert_eq!(with_user("postgres://h/db", "app"), "postgres://app@h/db");
    }
}
