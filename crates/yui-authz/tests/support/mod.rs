//! A fresh database per test, on SQLite and on PostgreSQL (as the application's role,
//! under row-level security), with the repository's four tenants and a few accounts.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use yui_domain::account::Email;
use yui_domain::{AccountId, Locale};
use yui_store::{AccountsTx, NewAccount, PlatformReason, Store};

pub use yui_testkit::{Backend, TestDb, on_both_backends};

/// The instant the tests live at.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 31, 12, 0, 0).unwrap()
}

/// A migrated database with the repository's tenants (iwate with ichinoseki and
/// kamaishi as children, amami) and accounts.
pub struct Fixture {
    /// The application's pool: on PostgreSQL a role that owns no table.
    pub store: Store,
    pub db: TestDb,
    /// Accounts by name: admin, coordinator, contractor, operator, mentor, talent, other.
    pub accounts: std::collections::HashMap<&'static str, AccountId>,
}

impl Fixture {
    pub async fn new(backend: Backend) -> Option<Fixture> {
        let db = TestDb::create(backend).await?;
        let store = db.app_store().await;
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

    pub fn account(&self, name: &str) -> AccountId {
        self.accounts[name]
    }

    /// The id of the tenant with this slug.
    pub async fn tenant(&self, slug: &str) -> yui_domain::TenantId {
        self.store.tenant_by_slug(slug).await.unwrap().id
    }
}

pub async fn create_account(store: &Store, email: &str) -> AccountId {
    let email = Email::parse("email", email).unwrap();
    let mut tx = store.platform(PlatformReason::Admin).write().await.unwrap();
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
        .expect("create account");
    // Roles attach only to proven addresses.
    tx.mark_account_verified(id, t0()).await.unwrap();
    tx.commit().await.unwrap();
    id
}

impl yui_testkit::Fixture for Fixture {}
