/// Errors of the authorization layer. Decisions never fail (an unknown tenant, role or
/// name is a denial); loading and changing policies can.
#[derive(Debug, thiserror::Error)]
pub enum AuthzError {
    /// No such grant (or it was already revoked).
    #[error("not found")]
    NotFound,
    /// The request makes no sense: names the field and why, for a person to act on.
    #[error("{0}")]
    Invalid(String),
    /// Two writers raced for the same grant; trying again succeeds.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// casbin refused the model or a policy.
    #[error("casbin: {0}")]
    Casbin(#[from] casbin::Error),
}

impl From<sqlx::Error> for AuthzError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => AuthzError::NotFound,
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                AuthzError::Conflict(db.constraint().unwrap_or("unique").to_owned())
            }
            sqlx::Error::Database(ref db) if db.is_foreign_key_violation() => {
                AuthzError::Invalid(format!(
                    "a referenced account or tenant does not exist ({})",
                    db.constraint().unwrap_or("foreign key")
                ))
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                AuthzError::Unavailable(e.to_string())
            }
            other => AuthzError::Database(other),
        }
    }
}

impl From<yui_store::StoreError> for AuthzError {
    fn from(e: yui_store::StoreError) -> Self {
        match e {
            yui_store::StoreError::NotFound => AuthzError::NotFound,
            yui_store::StoreError::Unavailable(s) => AuthzError::Unavailable(s),
            other => AuthzError::Unavailable(other.to_string()),
        }
    }
}

/// casbin's adapter errors carry any error; ours go in whole and come back out in
/// [`AuthzError::Casbin`].
impl From<AuthzError> for casbin::Error {
    fn from(e: AuthzError) -> Self {
        casbin::Error::AdapterError(casbin::error::AdapterError(Box::new(e)))
    }
}

/// Result of an authorization-layer operation.
pub type Result<T, E = AuthzError> = std::result::Result<T, E>;
