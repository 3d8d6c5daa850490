use yui_store::StoreError;

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
    /// Any other failure of the store (logged, never shown to users).
    #[error("store: {0}")]
    Store(StoreError),
    /// casbin refused the model or a policy.
    #[error("casbin: {0}")]
    Casbin(#[from] casbin::Error),
}

impl From<StoreError> for AuthzError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AuthzError::NotFound,
            StoreError::Invalid(s) => AuthzError::Invalid(s),
            StoreError::Conflict(s) => AuthzError::Conflict(s),
            StoreError::Unavailable(s) => AuthzError::Unavailable(s),
            other => AuthzError::Store(other),
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
