//! The SQLite file a node started with, and the guard that keeps its pool on it.
//!
//! Deleting or replacing `yui.db` under a running server leaves the open connections
//! writing to the unlinked file (every write lost) while new connections would open
//! whatever now sits at the path. The pool therefore checks, before it hands out a
//! connection, that the path still names the file that was there at start-up; when
//! it does not, the request fails as an outage (503) instead of succeeding into a
//! file nobody will ever read again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::sqlite::SqlitePoolOptions;

/// Why a node should not receive traffic (see [`crate::Store::health`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unhealthy {
    /// The database does not answer, or its file was deleted or replaced.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database answers but holds no schema (never migrated, or dropped).
    #[error("database schema missing")]
    SchemaMissing,
}

impl Unhealthy {
    pub(crate) fn from_sqlx(e: &sqlx::Error) -> Unhealthy {
        Unhealthy::Unavailable(e.to_string())
    }
}

/// Which file an SQLite database is: its device and inode, taken at start-up.
#[derive(Debug, Clone)]
pub(crate) struct SqliteFile {
    path: PathBuf,
    /// `None` for an in-memory database or a platform without inodes: nothing to guard.
    identity: Option<(u64, u64)>,
}

impl SqliteFile {
    pub(crate) fn at(path: &Path) -> SqliteFile {
        SqliteFile {
            path: path.to_owned(),
            identity: identity(path),
        }
    }

    /// Whether the path still names the file this node opened at start-up.
    fn still_there(&self) -> Result<(), sqlx::Error> {
        match self.identity {
            None => Ok(()),
            Some(expected) if identity(&self.path) == Some(expected) => Ok(()),
            Some(_) => Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "the SQLite database {} was deleted or replaced while the server ran; restart it",
                    self.path.display()
                ),
            ))),
        }
    }

    /// Pool options that refuse connections once the file is gone or replaced: an
    /// idle connection is checked before it is handed out (it would write to the
    /// deleted file), a new one right after it opened (it may have opened a
    /// replacement). The check is one `stat` of a local file.
    pub(crate) fn guard(self, options: SqlitePoolOptions) -> SqlitePoolOptions {
        if self.identity.is_none() {
            return options;
        }
        let file = Arc::new(self);
        let on_connect = file.clone();
        options
            .after_connect(move |_, _| {
                let file = on_connect.clone();
                Box::pin(async move { file.still_there() })
            })
            .before_acquire(move |_, _| {
                let file = file.clone();
                Box::pin(async move { file.still_there().map(|()| true) })
            })
    }
}

#[cfg(unix)]
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(_path: &Path) -> Option<(u64, u64)> {
    None
}
