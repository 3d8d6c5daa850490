//! `yui backup` while the platform serves and writers commit, then `yui restore` into
//! a fresh database: every row committed before the backup began is there, the
//! result is sound, and the platform serves from it.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use yui_store::{AccountsTx, PlatformReason, Store};

use crate::support::{Backend, TestApp, TestDb, on_both_backends, repo_tenants};

on_both_backends!(TestApp::with_tenants, worker_threads = 4 => backup_under_load_keeps_every_committed_row);

/// Runs the `yui` binary on `url`, as an operator does.
async fn yui(url: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yui"));
    cmd.env_remove("YUI_ADDR")
        .env("YUI_DATABASE_URL", url)
        .env("YUI_TENANTS_DIR", repo_tenants())
        .env("RUST_LOG", "warn")
        .args(args);
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// Whether pg_dump and pg_restore can be run; under CI they must.
fn postgres_tools() -> bool {
    let present = ["pg_dump", "pg_restore"].iter().all(|t| {
        Command::new(t)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    assert!(
        present || !yui_testkit::ci(),
        "CI=true but pg_dump/pg_restore are missing"
    );
    present
}

/// An account committed by a writer, with the moment its commit returned.
struct Committed {
    email: String,
    at: Instant,
}

async fn write_accounts(
    store: Store,
    writer: usize,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Committed>>>,
) {
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let email = format!("writer{writer}-{n}@backup.yui.example");
        let parsed = yui_domain::account::Email::parse("email", &email).unwrap();
        let mut tx = store.platform(PlatformReason::Admin).write().await.unwrap();
        tx.create_account(
            yui_store::NewAccount {
                email: &parsed,
                display_name: "backup writer",
                password_hash: None,
                locale: yui_domain::Locale::Ja,
            },
            Utc::now(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        log.lock().unwrap().push(Committed {
            email,
            at: Instant::now(),
        });
    }
}

async fn backup_under_load_keeps_every_committed_row(app: &TestApp) {
    let postgres = app.store.backend() == yui_store::Backend::Postgres;
    if postgres && !postgres_tools() {
        eprintln!("skipping: pg_dump/pg_restore are not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("yui.backup");
    let url = app.owner_database_url().to_owned();

    let stop = Arc::new(AtomicBool::new(false));
    let log = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            tokio::spawn(write_accounts(
                app.store.clone(),
                w,
                stop.clone(),
                log.clone(),
            ))
        })
        .collect();
    // The platform is serving meanwhile.
    let client = app.client();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(app.status(&client, "/readyz").await, 200);

    let started = Instant::now();
    let out = yui(&url, &["backup", file.to_str().unwrap()]).await;
    let finished = Instant::now();
    assert!(out.status.success(), "{out:?}");
    eprintln!(
        "backup: {} in {:?}",
        String::from_utf8_lossy(&out.stdout).trim(),
        finished - started
    );
    // A backup into a file that exists is refused; nothing is overwritten.
    let again = yui(&url, &["backup", file.to_str().unwrap()]).await;
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("exists"),
        "{again:?}"
    );

    // Restoring over the database the platform is using is refused.
    let live = yui(&url, &["restore", file.to_str().unwrap()]).await;
    assert!(!live.status.success(), "{live:?}");
    assert!(
        String::from_utf8_lossy(&live.stderr).contains("in use"),
        "{live:?}"
    );
    assert_eq!(app.status(&client, "/readyz").await, 200);

    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    let log = std::mem::take(&mut *log.lock().unwrap());
    let before: Vec<&Committed> = log.iter().filter(|c| c.at < started).collect();
    let during = log
        .iter()
        .filter(|c| c.at >= started && c.at <= finished)
        .count();
    eprintln!(
        "{} accounts committed before the backup, {during} while it ran, {} in all",
        before.len(),
        log.len()
    );
    assert!(before.len() >= 10, "the writers ran before the backup");
    assert!(during > 0, "writers kept committing while the backup ran");

    let restored = TestDb::create_empty(if postgres {
        Backend::Postgres
    } else {
        Backend::Sqlite
    })
    .await
    .unwrap();
    let out = yui(&restored.url, &["restore", file.to_str().unwrap()]).await;
    assert!(out.status.success(), "{out:?}");

    let store = restored.connect().await;
    if let Store::Sqlite(pool) = &store {
        let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(verdict, "ok");
    }
    let mut missing = Vec::new();
    for c in &before {
        let email = yui_domain::account::Email::parse("email", &c.email).unwrap();
        if store.find_account(&email).await.unwrap().is_none() {
            missing.push(c.email.clone());
        }
    }
    assert!(missing.is_empty(), "lost in the backup: {missing:?}");
    assert_eq!(
        store.check_migrations_known().await.unwrap(),
        migrations_in(postgres)
    );
    store.close().await;

    // The platform starts on the restored database and is ready.
    let store = restored.app_store().await;
    let restored_app = TestApp::start(restored, store, |_| {}).await;
    assert_eq!(restored_app.get("/readyz").await.status(), 200);
    let tenants: Vec<serde_json::Value> = restored_app
        .get("/api/v1/tenants")
        .await
        .json()
        .await
        .unwrap();
    assert!(!tenants.is_empty(), "the tenants came back too");
    restored_app.stop().await;
}

fn migrations_in(postgres: bool) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(if postgres { "postgres" } else { "sqlite" });
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count()
}

/// A file that is not a Yui database, or a backup that was damaged, is refused and
/// the database in place is left as it was.
#[tokio::test]
async fn restore_refuses_what_is_not_a_sound_yui_database() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("yui.db");
    let url = format!("sqlite://{}", target.display());
    let out = yui(&url, &["migrate"]).await;
    assert!(out.status.success(), "{out:?}");
    // Which file is there: a refused restore leaves that very file in place.
    let inode = || {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&target).unwrap().ino()
    };
    let before = inode();

    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    let out = yui(&url, &["restore", junk.to_str().unwrap()]).await;
    assert!(!out.status.success(), "{out:?}");

    // A real SQLite file without Yui's migrations.
    let other = dir.path().join("other.db");
    let other_url = format!("sqlite://{}?mode=rwc", other.display());
    let pool = sqlx::SqlitePool::connect(&other_url).await.unwrap();
    sqlx::query("CREATE TABLE t (x)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let out = yui(&url, &["restore", other.to_str().unwrap()]).await;
    assert!(!out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a Yui database"),
        "{out:?}"
    );

    // A backup from a newer release: a migration this one does not know.
    let backup = dir.path().join("newer.db");
    let out = yui(&url, &["backup", backup.to_str().unwrap()]).await;
    assert!(out.status.success(), "{out:?}");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", backup.display()))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99990101000000, 'from the future', 1, x'00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let out = yui(&url, &["restore", backup.to_str().unwrap()]).await;
    assert!(!out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not know"),
        "{out:?}"
    );

    // A damaged backup: a page in the middle overwritten.
    let good = dir.path().join("good.db");
    let out = yui(&url, &["backup", good.to_str().unwrap()]).await;
    assert!(out.status.success(), "{out:?}");
    let mut bytes = std::fs::read(&good).unwrap();
    let page = 4096;
    assert!(bytes.len() > 8 * page);
    for b in &mut bytes[2 * page..7 * page] {
        *b = 0xa5;
    }
    let damaged = dir.path().join("damaged.db");
    std::fs::write(&damaged, bytes).unwrap();
    let out = yui(&url, &["restore", damaged.to_str().unwrap()]).await;
    assert!(!out.status.success(), "{out:?}");

    assert!(before == inode(), "the database in place was replaced");
    assert!(!dir.path().join("yui.db.pre-restore").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // And the good backup restores, keeping the replaced file beside it.
    let out = yui(&url, &["restore", good.to_str().unwrap()]).await;
    assert!(out.status.success(), "{out:?}");
    assert!(dir.path().join("yui.db.pre-restore").is_file());
    assert!(before != inode());
    let store = yui_store::Store::connect(&url, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        store.check_migrations_known().await.unwrap(),
        migrations_in(false)
    );
    store.close().await;
}

/// A PostgreSQL dump from a newer release is refused before anything is dropped:
/// its migrations are read out of the file first.
#[tokio::test]
async fn a_postgres_dump_from_a_newer_release_is_refused_before_restoring() {
    let Some(source) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    if !postgres_tools() {
        return;
    }
    let store = source.connect().await;
    if let Store::Postgres(pool) = &store {
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (99990101000000, 'from the future', true, '\\x00', 0)",
        )
        .execute(pool)
        .await
        .unwrap();
    }
    store.close().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("newer.dump");
    let out = yui(&source.url, &["backup", file.to_str().unwrap()]).await;
    assert!(out.status.success(), "{out:?}");

    let target = TestDb::create_empty(Backend::Postgres).await.unwrap();
    let out = yui(&target.url, &["restore", file.to_str().unwrap()]).await;
    assert!(!out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not know"),
        "{out:?}"
    );
    let store = target.connect().await;
    assert_eq!(
        store.health().await,
        Err(yui_store::Unhealthy::SchemaMissing),
        "nothing was restored"
    );
    store.close().await;
}
