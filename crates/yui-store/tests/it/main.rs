//! yui-store integration tests: one binary; each test runs on SQLite and on
//! PostgreSQL, where it connects as the application's role (no table owned, no
//! BYPASSRLS), so row-level security holds as in production.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod applications;
mod events;
mod hosts_projects;
mod outbox;
mod policy;
mod rounds;
mod row_security;
mod search;
mod talent;
mod tenant_data;
mod throttle;

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use yui_domain::account::Email;
use yui_domain::{AccountId, Locale, TenantId};
use yui_store::{AccountsTx, NewAccount, PlatformReason, Store};
use yui_testkit::{Backend, TestDb};

/// 2026-03-31 12:00 UTC, the last day of fiscal year 令和7年度.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 31, 12, 0, 0).unwrap()
}

pub fn secs(n: i64) -> chrono::TimeDelta {
    chrono::TimeDelta::seconds(n)
}

/// A migrated database with the repository's tenants (iwate with its children
/// ichinoseki and kamaishi, amami).
#[derive(Debug)]
pub struct Db {
    /// The application's pool.
    pub store: Store,
    tenants: HashMap<&'static str, TenantId>,
    _db: TestDb,
}

impl Db {
    /// Every stored value as text (see `TestDb::dump_text`).
    pub async fn dump_text(&self) -> String {
        self._db.dump_text().await
    }

    pub async fn new(backend: Backend) -> Option<Db> {
        let db = TestDb::create(backend).await?;
        let store = db.app_store().await;
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tenants");
        let mut tenants = HashMap::new();
        for slug in ["iwate", "ichinoseki", "kamaishi", "amami"] {
            let text = std::fs::read_to_string(root.join(slug).join("tenant.toml")).unwrap();
            let tenant = yui_domain::tenant::parse_tenant_file(&text).unwrap();
            store.apply_tenant(&tenant, "<svg/>", t0()).await.unwrap();
            tenants.insert(slug, store.tenant_by_slug(slug).await.unwrap().id);
        }
        Some(Db {
            store,
            tenants,
            _db: db,
        })
    }

    pub fn tenant(&self, slug: &str) -> TenantId {
        self.tenants[slug]
    }

    /// A new account with this address.
    pub async fn account(&self, email: &str) -> AccountId {
        let email = Email::parse("email", email).unwrap();
        let mut tx = self
            .store
            .platform(PlatformReason::Admin)
            .write()
            .await
            .unwrap();
        let id = tx
            .create_account(
                NewAccount {
                    email: &email,
                    display_name: "",
                    password_hash: None,
                    locale: Locale::Ja,
                },
                t0(),
            )
            .await
            .unwrap();
        // Roles attach only to proven addresses.
        tx.mark_account_verified(id, t0()).await.unwrap();
        tx.commit().await.unwrap();
        id
    }
}

/// Runs each named `async fn(Db)` once on SQLite and once on PostgreSQL.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = $crate::Db::new(yui_testkit::Backend::Sqlite).await {
                        super::$name(db).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = $crate::Db::new(yui_testkit::Backend::Postgres).await {
                        super::$name(db).await;
                    }
                }
            )*
        }
    };
}
pub(crate) use both;
