//! A fresh database per test: an SQLite file in a temporary folder, or a new
//! PostgreSQL database at `YUI_TEST_POSTGRES_URL`, dropped when the test ends.

use std::time::Duration;

use sqlx::Connection;
use yui_store::{ConnectSettings, Store};

#[derive(Debug)]
pub struct TestDb {
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn settings() -> ConnectSettings {
    ConnectSettings {
        max_connections: 8,
        connect_timeout: Duration::from_secs(5),
    }
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("yui.db").display());
        let store = Store::connect(&url, &settings()).await.unwrap();
        store.migrate().await.unwrap();
        TestDb {
            store,
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// `None` (after saying so) when PostgreSQL is unreachable outside CI.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url =
            std::env::var("YUI_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned());
        let mut admin = match tokio::time::timeout(
            Duration::from_secs(5),
            sqlx::PgConnection::connect(&admin_url),
        )
        .await
        {
            Ok(Ok(conn)) => conn,
            failure => {
                let why = match failure {
                    Ok(Err(e)) => e.to_string(),
                    _ => "timed out".to_owned(),
                };
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("PostgreSQL at YUI_TEST_POSTGRES_URL is required under CI=true: {why}");
                }
                eprintln!(
                    "skipping a PostgreSQL test: cannot connect ({why}); set YUI_TEST_POSTGRES_URL"
                );
                return None;
            }
        };
        let name = format!("yui_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.ok();
        let url = database_url(&admin_url, &name);
        let store = Store::connect(&url, &settings()).await.unwrap();
        store.migrate().await.unwrap();
        Some(TestDb {
            store,
            _dir: None,
            postgres: Some((admin_url, name)),
        })
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

/// The admin URL with its database replaced by `name` (query string kept).
fn database_url(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    format!("{base}/{name}{query}")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async (and after a panic too): use a runtime of our own.
        let db_name = name.clone();
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {name}: {dropped:?}");
        }
    }
}

#[test]
fn database_urls() {
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
}

/// Runs an async test body once per backend: `both!(name, body_fn)` defines
/// `name::sqlite` and `name::postgres`, each calling `body_fn(&TestDb)`.
macro_rules! both {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let db = $crate::db::TestDb::sqlite().await;
                $body(&db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(db) = $crate::db::TestDb::postgres().await else {
                    return;
                };
                $body(&db).await;
            }
        }
    };
}
pub(crate) use both;
