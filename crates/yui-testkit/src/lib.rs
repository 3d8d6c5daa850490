//! Test support shared by the workspace's suites: a fresh database per test, on SQLite
//! (a file in a temporary folder) and on PostgreSQL (a new database at
//! `YUI_TEST_POSTGRES_URL`, dropped when the test ends). Outside CI an unreachable
//! PostgreSQL skips the test with a note; under `CI=true` it fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

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

fn settings() -> ConnectSettings {
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
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A fresh, empty database, or `None` when PostgreSQL is unavailable outside CI.
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
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create database");
                conn.close().await.ok();
                Some(TestDb {
                    url: database_url(&admin, &name),
                    _dir: None,
                    postgres: Some((admin, name)),
                })
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// A new pool as the tables' owner, without migrating (one per simulated node).
    pub async fn connect(&self) -> Store {
        Store::connect(&self.url, &settings())
            .await
            .expect("connect to the test database")
    }

    /// A pool as the owner, migrated.
    pub async fn migrated(&self) -> Store {
        let store = self.connect().await;
        store.migrate().await.expect("migrate");
        store
    }

    /// Migrates as the owner, then the application's pool: on PostgreSQL as
    /// [`APP_ROLE`], so row-level security holds as in production.
    pub async fn app_store(&self) -> Store {
        let store = self.migrated().await;
        let Store::Postgres(owner) = &store else {
            return store;
        };
        let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_roles WHERE rolname = $1")
            .bind(APP_ROLE)
            .fetch_optional(owner)
            .await
            .unwrap();
        if exists.is_none() {
            // Tests run in parallel: another may create it first.
            let _ = sqlx::query(&format!(
                "CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS"
            ))
            .execute(owner)
            .await;
        }
        for grant in [
            format!("GRANT USAGE ON SCHEMA public TO {APP_ROLE}"),
            format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}"
            ),
            format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}"),
        ] {
            sqlx::query(&grant).execute(owner).await.unwrap();
        }
        store.close().await;
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
