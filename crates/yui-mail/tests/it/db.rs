//! A fresh database per test: an SQLite file in a temporary folder, or a new
//! PostgreSQL database at `YUI_TEST_POSTGRES_URL`, dropped when the test ends.

use yui_store::Store;
use yui_testkit::Backend;

/// A migrated database for one test, kept alive as long as its store.
#[derive(Debug)]
pub struct TestDb {
    pub store: Store,
    db: yui_testkit::TestDb,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        Self::on(Backend::Sqlite)
            .await
            .expect("SQLite is always available")
    }

    /// `None` (after saying so) when PostgreSQL is unreachable outside CI.
    pub async fn postgres() -> Option<TestDb> {
        Self::on(Backend::Postgres).await
    }

    async fn on(backend: Backend) -> Option<TestDb> {
        let db = yui_testkit::TestDb::create(backend).await?;
        Some(TestDb {
            store: db.migrated().await,
            db,
        })
    }

    pub fn is_postgres(&self) -> bool {
        self.db.is_postgres()
    }
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
