//! A fresh database per test, on SQLite and on PostgreSQL, with the repository's four
//! tenants and a few accounts.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use yui_store::Store;

pub use yui_testkit::{Backend, TestDb, on_both_backends};

/// The instant the tests live at.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 31, 12, 0, 0).unwrap()
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

impl yui_testkit::Fixture for Fixture {}
