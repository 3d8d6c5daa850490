use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use yui_store::StoreError;

/// Errors at the web edge. 5xx causes are logged; users see only a generic message.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("service unavailable")]
    Unavailable,
    #[error("template: {0}")]
    Template(#[from] tera::Error),
    #[error("catalog: {0}")]
    Catalog(String),
    #[error("store: {0}")]
    Store(StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => WebError::NotFound,
            StoreError::Unavailable(_) => WebError::Unavailable,
            other => WebError::Store(other),
        }
    }
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The JSON shape of an API error.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ApiError {
    /// A stable machine-readable code, e.g. `not_found`.
    pub error: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let code = match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            _ => "internal",
        };
        (
            status,
            Json(ApiError {
                error: code.to_owned(),
            }),
        )
            .into_response()
    }
}
