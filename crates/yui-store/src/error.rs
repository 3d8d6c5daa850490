/// Errors of the store layer. The web layer maps them to statuses; the text of
/// `Internal` is logged, never shown to users.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or reference rule was broken; names the constraint or field.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The tenant was suspended by the platform: nothing of it changes until resumed.
    #[error("tenant suspended")]
    Suspended,
    /// The request makes no sense against the stored data (e.g. an unknown parent).
    #[error("{0}")]
    Invalid(String),
    /// A wrong database URL.
    #[error("{0}")]
    Config(String),
    /// The database could not be reached.
    #[error("{0}")]
    Unavailable(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Internal(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                StoreError::Conflict(db.constraint().unwrap_or("unique").to_owned())
            }
            // A database that cannot be reached (or a pool shutting down) is an
            // outage: 503, never 404 or 500.
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e.to_string())
            }
            // SQLite cannot open its file (SQLITE_CANTOPEN, extended codes keep it in
            // the low byte): the file was deleted under the server, which creates it
            // only at start-up. An outage, not a bug.
            sqlx::Error::Database(ref db)
                if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
                    && db
                        .code()
                        .and_then(|c| c.parse::<i32>().ok())
                        .is_some_and(|c| c & 0xff == 14) =>
            {
                StoreError::Unavailable(e.to_string())
            }
            other => StoreError::Internal(other),
        }
    }
}

impl StoreError {
    /// A database error where a uniqueness rule broken means `field` is already taken
    /// (a conflict the person can fix), anything else as usual.
    pub(crate) fn taken(field: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
        move |e| match e {
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                StoreError::Conflict(field.to_owned())
            }
            other => other.into(),
        }
    }
}
