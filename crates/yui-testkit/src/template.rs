//! Databases migrated once per test process and copied for each test.
//!
//! PostgreSQL: a template database named after the migrations' content,
//! `yui_tmpl_<hash>`, holds the schema and the application role's grants; each test's
//! database is `CREATE DATABASE … TEMPLATE` of it. A template is built under a name of
//! its own and renamed into place when complete, so a template with the final name is
//! always whole, whichever process (or thread) finished first. Nobody may connect to a
//! finished template (`ALLOW_CONNECTIONS false`), so cloning never finds it in use.
//! Each process holds a shared advisory lock on its template's hash for as long as it
//! runs; a template whose lock nobody holds belongs to no running test process, and
//! is removed once the migrations have moved on.
//!
//! SQLite: one file migrated per process with a rollback journal (so the file alone
//! holds everything), kept in memory and written out for each test.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::OnceCell;
use yui_store::Store;

use crate::{APP_ROLE, database_url};

const TEMPLATE_PREFIX: &str = "yui_tmpl_";

/// The advisory-lock class of template locks. The two-key form never meets the
/// one-key locks that sqlx takes while migrating.
const LOCK_CLASS: i32 = 0x5955_4954; // "YUIT"

/// Changes when a template holds something new other than through the migrations.
const TEMPLATE_FORMAT: u32 = 1;

/// What the application role may do: the same grants as `ops/README.md` gives the
/// production application role.
pub(crate) fn app_grants() -> [String; 3] {
    [
        format!("GRANT USAGE ON SCHEMA public TO {APP_ROLE}"),
        format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}"
        ),
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}"),
    ]
}

/// A hash of everything a PostgreSQL template holds: the migration files (names and
/// text) and the grants. `DefaultHasher` is stable for one toolchain, which is all the
/// name needs; another toolchain at worst builds a second template.
fn postgres_content_hash() -> u64 {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/postgres");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read the migrations in {}: {e}", dir.display()))
        .map(|entry| entry.expect("a migration file").path())
        .collect();
    files.sort();
    let mut hasher = DefaultHasher::new();
    TEMPLATE_FORMAT.hash(&mut hasher);
    app_grants().hash(&mut hasher);
    for file in files {
        file.file_name().hash(&mut hasher);
        std::fs::read(&file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()))
            .hash(&mut hasher);
    }
    hasher.finish()
}

/// The lock key of a template hash.
fn lock_key(hash: u64) -> i32 {
    hash as u32 as i32
}

/// The hash in a template's name (`yui_tmpl_<hash>`, or `yui_tmpl_<hash>_<build>`
/// while it is built).
fn hash_of(name: &str) -> Option<u64> {
    let rest = name.strip_prefix(TEMPLATE_PREFIX)?;
    let hex = rest.split('_').next()?;
    (hex.len() == 16)
        .then(|| u64::from_str_radix(hex, 16).ok())
        .flatten()
}

static POSTGRES_TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// The name of this process's PostgreSQL template, built on first use. Every test
/// runs on its own runtime; the cell holds only a name, nothing tied to one of them.
pub(crate) async fn postgres_template(admin: &str) -> &'static str {
    POSTGRES_TEMPLATE
        .get_or_init(|| build_postgres_template(admin.to_owned()))
        .await
}

async fn build_postgres_template(admin: String) -> String {
    let hash = postgres_content_hash();
    let name = format!("{TEMPLATE_PREFIX}{hash:016x}");
    // Taken before looking, so a cleaner in another process cannot remove the
    // template between our look and our use.
    hold_shared_lock(&admin, lock_key(hash)).await;
    let mut conn = PgConnection::connect(&admin)
        .await
        .expect("connect to PostgreSQL to prepare the template");
    ensure_app_role(&mut conn).await;
    if !database_exists(&mut conn, &name).await {
        let building = format!("{name}_{}", uuid::Uuid::new_v4().simple());
        execute(&mut conn, &format!("CREATE DATABASE {building}")).await;
        // One connection, closed by hand: a pool's close() can return while the
        // connection of its last query is still on its way back, and that session
        // would then block the rename below.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&database_url(&admin, &building))
            .await
            .expect("connect to the template being built");
        Store::Postgres(pool.clone())
            .migrate()
            .await
            .expect("migrate the template");
        let mut session = pool.acquire().await.expect("the template's connection");
        for grant in app_grants() {
            session
                .execute(grant.as_str())
                .await
                .expect("grant the application role");
        }
        session
            .close()
            .await
            .expect("close the template's connection");
        pool.close().await;
        execute(
            &mut conn,
            &format!("ALTER DATABASE {building} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true"),
        )
        .await;
        // RENAME waits up to 5 s for sessions to leave, then fails. Ours is closed, but on
        // a busy server its backend may linger; nobody else knows this name, so any
        // session still there is ours to end.
        let _ = sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
        )
        .bind(&building)
        .execute(&mut conn)
        .await;
        let renamed = conn
            .execute(format!("ALTER DATABASE {building} RENAME TO {name}").as_str())
            .await;
        match renamed {
            Ok(_) => {}
            // Another process finished the same template first: use theirs.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {
                drop_template(&mut conn, &building).await;
            }
            Err(e) => panic!("cannot put the template {name} in place: {e}"),
        }
    }
    remove_stale_templates(&mut conn, hash).await;
    conn.close().await.ok();
    name
}

/// Holds a shared advisory lock on `key` for the rest of the process, on a
/// connection of its own kept by a thread of its own (a test's runtime ends with the
/// test; this one ends with the process, and the server then releases the lock).
async fn hold_shared_lock(admin: &str, key: i32) {
    let (held, is_held) = tokio::sync::oneshot::channel::<Result<(), String>>();
    let admin = admin.to_owned();
    std::thread::Builder::new()
        .name("yui-template-lock".to_owned())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let locked = async {
                    let mut conn = PgConnection::connect(&admin).await?;
                    sqlx::query("SELECT pg_advisory_lock_shared($1, $2)")
                        .bind(LOCK_CLASS)
                        .bind(key)
                        .execute(&mut conn)
                        .await?;
                    Ok::<_, sqlx::Error>(conn)
                }
                .await;
                match locked {
                    Ok(conn) => {
                        let _ = held.send(Ok(()));
                        std::future::pending::<()>().await;
                        drop(conn);
                    }
                    Err(e) => {
                        let _ = held.send(Err(e.to_string()));
                    }
                }
            });
        })
        .expect("start the template lock thread");
    if let Err(e) = is_held.await.expect("the template lock thread answers") {
        panic!("cannot lock the test template: {e}");
    }
}

/// Removes templates of other migrations that no running process uses. Best effort:
/// a failure here leaves a template behind and harms no test.
async fn remove_stale_templates(conn: &mut PgConnection, ours: u64) {
    let names: Vec<(String,)> = sqlx::query_as("SELECT datname::text FROM pg_database")
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_default();
    for (name,) in names {
        let Some(hash) = hash_of(&name) else { continue };
        // A build of our own hash may be another process's work in progress.
        if hash == ours {
            continue;
        }
        let free: Result<(bool,), _> = sqlx::query_as("SELECT pg_try_advisory_lock($1, $2)")
            .bind(LOCK_CLASS)
            .bind(lock_key(hash))
            .fetch_one(&mut *conn)
            .await;
        if let Ok((true,)) = free {
            drop_template(conn, &name).await;
            let _ = sqlx::query("SELECT pg_advisory_unlock($1, $2)")
                .bind(LOCK_CLASS)
                .bind(lock_key(hash))
                .execute(&mut *conn)
                .await;
        }
    }
}

async fn drop_template(conn: &mut PgConnection, name: &str) {
    let _ = conn
        .execute(format!("ALTER DATABASE {name} IS_TEMPLATE false").as_str())
        .await;
    let _ = conn
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await;
}

async fn database_exists(conn: &mut PgConnection, name: &str) -> bool {
    sqlx::query_as::<_, (i32,)>("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(conn)
        .await
        .expect("look up a database")
        .is_some()
}

async fn execute(conn: &mut PgConnection, sql: &str) {
    conn.execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Creates [`APP_ROLE`] when missing. The role belongs to the whole server, so tests
/// in parallel (and other processes) may race to create it.
pub(crate) async fn ensure_app_role(conn: &mut PgConnection) {
    if role_exists(conn).await {
        return;
    }
    let created = conn
        .execute(format!("CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS").as_str())
        .await;
    if let Err(e) = created {
        assert!(
            role_exists(conn).await,
            "cannot create the role {APP_ROLE}: {e}"
        );
    }
}

async fn role_exists(conn: &mut PgConnection) -> bool {
    sqlx::query_as::<_, (i32,)>("SELECT 1 FROM pg_roles WHERE rolname = $1")
        .bind(APP_ROLE)
        .fetch_optional(conn)
        .await
        .expect("look up the application role")
        .is_some()
}

static SQLITE_TEMPLATE: OnceCell<Vec<u8>> = OnceCell::const_new();

/// The bytes of a migrated SQLite database, built once per process.
pub(crate) async fn sqlite_template() -> &'static [u8] {
    SQLITE_TEMPLATE.get_or_init(build_sqlite_template).await
}

async fn build_sqlite_template() -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("template.db");
    // A rollback journal rather than WAL, so that once its one connection is closed
    // the file alone holds the whole database and a byte copy of it is complete.
    // (The tests' own connections turn their copies to WAL again.)
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Delete)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("create the SQLite template");
    Store::Sqlite(pool.clone())
        .migrate()
        .await
        .expect("migrate the SQLite template");
    // Closed by hand, as with PostgreSQL: the pool could still hold it otherwise.
    let session = pool.acquire().await.expect("the template's connection");
    session.close().await.expect("close the SQLite template");
    pool.close().await;
    for leftover in ["template.db-journal", "template.db-wal"] {
        assert!(
            !dir.path().join(leftover).exists(),
            "{leftover} outlived the SQLite template's connection"
        );
    }
    std::fs::read(&path).expect("read the SQLite template")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_carry_their_hash() {
        let hash = 0x0123_4567_89ab_cdef_u64;
        let name = format!("{TEMPLATE_PREFIX}{hash:016x}");
        assert_eq!(hash_of(&name), Some(hash));
        assert_eq!(
            hash_of(&format!("{name}_{}", uuid::Uuid::new_v4().simple())),
            Some(hash)
        );
        assert_eq!(hash_of("yui_test_0123456789abcdef"), None);
        assert_eq!(hash_of("yui_tmpl_xyz"), None);
        assert_eq!(hash_of("postgres"), None);
    }

    #[test]
    fn the_hash_follows_the_migrations() {
        assert_eq!(postgres_content_hash(), postgres_content_hash());
    }
}
