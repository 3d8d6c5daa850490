//! A fresh, migrated database per test: an SQLite file in a temporary folder, or a new
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
    pub async fn on(backend: Backend) -> Option<TestDb> {
        let db = yui_testkit::TestDb::create(backend).await?;
        Some(TestDb {
            store: db.connect().await,
            db,
        })
    }

    pub fn is_postgres(&self) -> bool {
        self.db.is_postgres()
    }
}

impl yui_testkit::Fixture for TestDb {}
