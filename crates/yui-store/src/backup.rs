//! Copies of the whole database for `yui backup` and `yui restore`.
//!
//! SQLite is copied with its online backup API while the platform serves: the copy
//! is one consistent state of the database, whatever writers do meanwhile. A restore
//! replaces the file in one rename, after checking the copy, and only while no one
//! has the database open. PostgreSQL is copied by its own tools (`pg_dump`,
//! `pg_restore`, run by the binary); what needs SQL (who else is connected, which
//! migrations a restored database holds) is here.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use sqlx::sqlite::SqliteConnectOptions;

use crate::{POSTGRES_MIGRATOR, SQLITE_MIGRATOR, Store};

/// Why a backup or a restore did not happen. Each message names what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Someone else has the database open (a running server): restoring under it
    /// would lose its writes or serve a mix of two databases.
    #[error("{0}")]
    InUse(String),
    /// The file is not a sound Yui database, or one this release cannot serve.
    #[error("{0}")]
    Rejected(String),
    /// The destination or a file on the way could not be written or read.
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Database(String),
}

type Result<T> = std::result::Result<T, BackupError>;

fn sqlite_err(what: &str) -> impl FnOnce(rusqlite::Error) -> BackupError + '_ {
    move |e| BackupError::Database(format!("{what}: {e}"))
}

fn io_err(what: String) -> impl FnOnce(std::io::Error) -> BackupError {
    move |e| BackupError::Io(format!("{what}: {e}"))
}

/// The file an `sqlite://` URL names.
pub fn sqlite_path(url: &str) -> Result<PathBuf> {
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| BackupError::Rejected(format!("database_url: {e}")))?;
    Ok(opts.get_filename().to_owned())
}

/// How an SQLite backup paces itself.
#[derive(Debug, Clone, Copy)]
pub struct BackupPace {
    /// Pages copied per step; between steps the source is not locked at all.
    pub pages_per_step: i32,
    /// Rest between steps, so writers get their turn.
    pub pause: Duration,
    /// A write by another connection between two steps makes SQLite start the copy
    /// again. After this many restarts the rest is copied in one step, which in WAL
    /// mode is one read snapshot: writers are not blocked by it, and under a steady
    /// write load the copy still ends.
    pub restarts_before_one_step: u32,
}

impl Default for BackupPace {
    fn default() -> Self {
        BackupPace {
            // 1 MiB with the default 4 KiB page.
            pages_per_step: 256,
            pause: Duration::from_millis(5),
            restarts_before_one_step: 2,
        }
    }
}

/// What a backup copied.
#[derive(Debug, Clone, Copy)]
pub struct BackupReport {
    pub pages: i32,
    pub restarts: u32,
    pub elapsed: Duration,
}

/// Copies the SQLite database at `source` to a new file `dest`, consistently,
/// while others read and write it. `dest` must not exist: the copy is written
/// beside it and renamed into place once checked, so `dest` is either absent or
/// a whole, sound database.
pub async fn backup_sqlite(source: &Path, dest: &Path, pace: BackupPace) -> Result<BackupReport> {
    let source = source.to_owned();
    let dest = dest.to_owned();
    tokio::task::spawn_blocking(move || backup_sqlite_blocking(&source, &dest, pace))
        .await
        .map_err(|e| BackupError::Io(format!("backup task: {e}")))?
}

fn backup_sqlite_blocking(source: &Path, dest: &Path, pace: BackupPace) -> Result<BackupReport> {
    if !source.is_file() {
        return Err(BackupError::Rejected(format!(
            "no SQLite database at {}",
            source.display()
        )));
    }
    if dest.exists() {
        return Err(BackupError::Io(format!(
            "{} exists already; name a new file",
            dest.display()
        )));
    }
    let started = Instant::now();
    // Read-write without create: a WAL database is read through its shared index,
    // which a reader takes part in; a missing file is an error, not a new database.
    let src = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_err("opening the database"))?;
    src.busy_timeout(Duration::from_secs(10))
        .map_err(sqlite_err("busy timeout"))?;
    let partial = sibling(dest, "partial");
    remove_if_present(&partial)?;
    let result = (|| {
        let mut dst = Connection::open(&partial).map_err(sqlite_err("creating the backup file"))?;
        let report = copy_pages(&src, &mut dst, pace, started)?;
        // One self-contained file: no -wal beside it to forget when it is moved.
        dst.pragma_update(None, "journal_mode", "DELETE")
            .map_err(sqlite_err("journal mode of the copy"))?;
        integrity(&dst, "the copy")?;
        dst.close()
            .map_err(|(_, e)| BackupError::Database(format!("closing the copy: {e}")))?;
        sync_file(&partial)?;
        std::fs::rename(&partial, dest)
            .map_err(io_err(format!("moving the copy to {}", dest.display())))?;
        sync_dir(dest);
        Ok(report)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn copy_pages(
    src: &Connection,
    dst: &mut Connection,
    pace: BackupPace,
    started: Instant,
) -> Result<BackupReport> {
    let backup = Backup::new(src, dst).map_err(sqlite_err("starting the backup"))?;
    let mut restarts = 0;
    let mut last_remaining = i32::MAX;
    loop {
        let pages = if restarts >= pace.restarts_before_one_step {
            -1
        } else {
            pace.pages_per_step.max(1)
        };
        match backup.step(pages).map_err(sqlite_err("copying pages"))? {
            StepResult::Done => {
                let p = backup.progress();
                return Ok(BackupReport {
                    pages: p.pagecount,
                    restarts,
                    elapsed: started.elapsed(),
                });
            }
            StepResult::More => {
                let remaining = backup.progress().remaining;
                if remaining > last_remaining {
                    restarts += 1;
                }
                last_remaining = remaining;
            }
            // A writer holds a lock the step needs: wait a little and go on.
            StepResult::Busy | StepResult::Locked => {}
            // The enum is non-exhaustive; anything new is treated as "go on".
            _ => {}
        }
        std::thread::sleep(pace.pause);
    }
}

fn integrity(conn: &Connection, what: &str) -> Result<()> {
    let verdict: String = conn
        .query_row("PRAGMA integrity_check(1)", [], |r| r.get(0))
        .map_err(sqlite_err("integrity check"))?;
    if verdict == "ok" {
        Ok(())
    } else {
        Err(BackupError::Rejected(format!(
            "{what} fails SQLite's integrity check: {verdict}"
        )))
    }
}

/// What a restore put in place.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    /// Migrations the restored database holds (all known to this release).
    pub migrations: usize,
    /// Where the database that was replaced was kept, if there was one.
    pub previous: Option<PathBuf>,
}

/// Replaces the SQLite database at `target` with the backup `from`. Refuses while
/// anyone has `target` open (stop the server first), and when the backup fails its
/// integrity check or holds migrations this release does not know. The database
/// that was there is kept beside it as `<name>.pre-restore`; the new one appears in
/// one rename, so `target` is never missing or half written.
pub async fn restore_sqlite(from: &Path, target: &Path) -> Result<RestoreReport> {
    let from = from.to_owned();
    let target = target.to_owned();
    tokio::task::spawn_blocking(move || restore_sqlite_blocking(&from, &target))
        .await
        .map_err(|e| BackupError::Io(format!("restore task: {e}")))?
}

fn restore_sqlite_blocking(from: &Path, target: &Path) -> Result<RestoreReport> {
    if !from.is_file() {
        return Err(BackupError::Io(format!(
            "no backup file at {}",
            from.display()
        )));
    }
    let staged = sibling(target, "restoring");
    remove_if_present(&staged)?;
    let result = (|| {
        std::fs::copy(from, &staged).map_err(io_err(format!(
            "copying {} to {}",
            from.display(),
            staged.display()
        )))?;
        let migrations = {
            let conn = Connection::open_with_flags(&staged, OpenFlags::SQLITE_OPEN_READ_WRITE)
                .map_err(sqlite_err("opening the backup"))?;
            integrity(&conn, "the backup")?;
            let applied = sqlite_applied(&conn)?;
            let n = check_known(&applied, &SQLITE_MIGRATOR)?;
            conn.close()
                .map_err(|(_, e)| BackupError::Database(format!("closing the backup: {e}")))?;
            n
        };
        sync_file(&staged)?;
        let previous = if target.exists() {
            ensure_unused(target)?;
            let kept = sibling_name(target, "pre-restore");
            remove_if_present(&kept)?;
            // A second name for the old file, then the new file takes the first in
            // one rename: there is no moment without a database at `target`.
            std::fs::hard_link(target, &kept)
                .or_else(|_| std::fs::copy(target, &kept).map(|_| ()))
                .map_err(io_err(format!(
                    "keeping the old database as {}",
                    kept.display()
                )))?;
            Some(kept)
        } else {
            None
        };
        std::fs::rename(&staged, target).map_err(io_err(format!(
            "moving the restored database to {}",
            target.display()
        )))?;
        // The old database's write-ahead log belongs to the old file: left beside
        // the new one, SQLite would replay it into it.
        for suffix in ["-wal", "-shm"] {
            remove_if_present(&with_suffix(target, suffix))?;
        }
        sync_dir(target);
        Ok(RestoreReport {
            migrations,
            previous,
        })
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&staged);
    }
    result
}

/// Fails when another connection has the database open. A connection in WAL mode
/// holds a shared lock for as long as it is open, so an exclusive lock is only
/// granted when no server (nor anyone else) uses the file. Closing this last
/// connection checkpoints the log into the file, which the restore then replaces.
fn ensure_unused(target: &Path) -> Result<()> {
    let conn = Connection::open_with_flags(target, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(sqlite_err("opening the database to replace"))?;
    conn.busy_timeout(Duration::from_millis(200))
        .map_err(sqlite_err("busy timeout"))?;
    let locked = conn
        .pragma_update(None, "locking_mode", "EXCLUSIVE")
        .and_then(|()| {
            conn.execute_batch("BEGIN EXCLUSIVE; SELECT count(*) FROM sqlite_master; COMMIT;")
        });
    match locked {
        Ok(()) => conn
            .close()
            .map_err(|(_, e)| BackupError::Database(format!("closing the database: {e}"))),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            Err(BackupError::InUse(format!(
                "{} is in use (is `yui serve` running on it?); stop every server using it, then restore",
                target.display()
            )))
        }
        Err(e) => Err(BackupError::Database(format!("locking the database: {e}"))),
    }
}

fn sqlite_applied(conn: &Connection) -> Result<Vec<(i64, Vec<u8>)>> {
    let has_table: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
            [],
            |r| r.get(0),
        )
        .map_err(sqlite_err("reading the migrations"))?;
    if !has_table {
        return Err(BackupError::Rejected(
            "the backup is not a Yui database (it has no migrations table)".to_owned(),
        ));
    }
    let mut stmt = conn
        .prepare("SELECT version, checksum FROM _sqlx_migrations WHERE success ORDER BY version")
        .map_err(sqlite_err("reading the migrations"))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(sqlite_err("reading the migrations"))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(sqlite_err("reading the migrations"))?;
    Ok(rows)
}

/// Every applied migration must be one this release has, with the same text: a
/// database from a newer release (or with edited migrations) would be served by
/// code that does not match its schema.
fn check_known(applied: &[(i64, Vec<u8>)], migrator: &sqlx::migrate::Migrator) -> Result<usize> {
    if applied.is_empty() {
        return Err(BackupError::Rejected(
            "the backup holds no applied migration; it is not a Yui database".to_owned(),
        ));
    }
    for (version, checksum) in applied {
        match migrator.iter().find(|m| m.version == *version) {
            None => {
                return Err(BackupError::Rejected(format!(
                    "the backup holds migration {version}, which this release of yui does not know; restore it with the release that made it"
                )));
            }
            Some(m) if m.checksum.as_ref() != checksum.as_slice() => {
                return Err(BackupError::Rejected(format!(
                    "the backup's migration {version} differs from this release's; restore it with the release that made it"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(applied.len())
}

/// Checks migrations read out of a PostgreSQL dump (version and checksum of each
/// applied one) before it is restored, as [`restore_sqlite`] checks its backup.
pub fn check_postgres_dump(applied: &[(i64, Vec<u8>)]) -> Result<usize> {
    check_known(applied, &POSTGRES_MIGRATOR)
}

impl Store {
    /// How many other sessions are connected to this PostgreSQL database (`None` on
    /// SQLite, where [`restore_sqlite`] checks by locking the file).
    pub async fn other_sessions(&self) -> std::result::Result<Option<i64>, crate::StoreError> {
        let Store::Postgres(pool) = self else {
            return Ok(None);
        };
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND backend_type = 'client backend'",
        )
        .fetch_one(pool)
        .await?;
        Ok(Some(n))
    }

    /// Whether every migration the database records is one this release knows
    /// (after a PostgreSQL restore, whose dump cannot be read before it is loaded).
    /// Returns how many there are.
    pub async fn check_migrations_known(&self) -> Result<usize> {
        let applied: Vec<(i64, Vec<u8>)> =
            match self {
                Store::Sqlite(pool) => sqlx::query_as(
                    "SELECT version, checksum FROM _sqlx_migrations WHERE success ORDER BY version",
                )
                .fetch_all(pool)
                .await,
                Store::Postgres(pool) => sqlx::query_as(
                    "SELECT version, checksum FROM _sqlx_migrations WHERE success ORDER BY version",
                )
                .fetch_all(pool)
                .await,
            }
            .map_err(|e| BackupError::Rejected(format!("reading the migrations: {e}")))?;
        let migrator = match self {
            Store::Sqlite(_) => &SQLITE_MIGRATOR,
            Store::Postgres(_) => &POSTGRES_MIGRATOR,
        };
        check_known(&applied, migrator)
    }
}

/// `dir/.name.what` beside `path`: hidden, on the same file system (so a rename
/// is atomic), and never mistaken for a finished file.
fn sibling(path: &Path, what: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "yui.db".to_owned());
    path.with_file_name(format!(".{name}.{what}-{}", std::process::id()))
}

/// `dir/name.what`.
fn sibling_name(path: &Path, what: &str) -> PathBuf {
    with_suffix(path, &format!(".{what}"))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(BackupError::Io(format!("removing {}: {e}", path.display()))),
    }
}

fn sync_file(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io_err(format!("syncing {}", path.display())))
}

/// Makes a rename in `path`'s folder durable. Best effort: not every platform can
/// open a folder.
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}
