//! Errors at the web edge, and how they reach people: pages fail as HTML pages in the
//! person's language ([`PageError`], rendered by `render::failures`), the API as
//! JSON ([`ApiError`]). 5xx causes are logged; nobody is shown their text.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use yui_store::StoreError;

/// What went wrong, whatever the answer's form.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    /// The database (or another dependency) does not answer: 503, never 404.
    #[error("service unavailable")]
    Unavailable,
    /// The tenant is suspended by the platform.
    #[error("tenant suspended")]
    Suspended,
    /// A form came without this browser's CSRF token.
    #[error("csrf token missing or wrong")]
    Csrf,
    /// The request could not be read (a malformed form or path).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A uniqueness rule was broken; names the field or constraint. Forms turn it
    /// into a field error before it gets here.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("template: {0}")]
    Template(#[from] tera::Error),
    #[error("catalog: {0}")]
    Catalog(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => WebError::NotFound,
            StoreError::Unavailable(_) => WebError::Unavailable,
            StoreError::Suspended => WebError::Suspended,
            StoreError::Conflict(what) => WebError::Conflict(what),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<yui_authz::AuthzError> for WebError {
    fn from(e: yui_authz::AuthzError) -> Self {
        match e {
            yui_authz::AuthzError::NotFound => WebError::NotFound,
            yui_authz::AuthzError::Conflict(what) => WebError::Conflict(what),
            yui_authz::AuthzError::Unavailable(_) => WebError::Unavailable,
            yui_authz::AuthzError::Store(s) => WebError::from(s),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<yui_mail::MailError> for WebError {
    fn from(e: yui_mail::MailError) -> Self {
        match e {
            yui_mail::MailError::Store(s) => WebError::from(s),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Unavailable | WebError::Suspended => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Template(_) | WebError::Catalog(_) | WebError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// A stable machine-readable code, e.g. `not_found`.
    pub fn code(&self) -> &'static str {
        match self {
            WebError::NotFound => "not_found",
            WebError::Unavailable => "unavailable",
            WebError::Suspended => "suspended",
            WebError::Csrf => "csrf",
            WebError::BadRequest(_) => "bad_request",
            WebError::Conflict(_) => "conflict",
            WebError::Template(_) | WebError::Catalog(_) | WebError::Internal(_) => "internal",
        }
    }

    fn log(&self) {
        // A suspended tenant is a known state, not a failure to alert on.
        if self.status().is_server_error() && !matches!(self, WebError::Suspended) {
            tracing::error!(error = %self, "request failed");
        }
    }
}

/// A page route's failure. Its response carries only the status and a marker;
/// `render::failures` turns it into the HTML error page in the person's language.
#[derive(Debug)]
pub struct PageError(pub WebError);

/// The marker a failed page leaves for `render::failures`: the message keys of
/// the page to show.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageFailure {
    pub heading: &'static str,
    pub body: &'static str,
}

impl PageFailure {
    pub(crate) fn of(status: StatusCode, code: &str) -> PageFailure {
        let (heading, body) = match (status, code) {
            (_, "csrf") => ("error_title", "err_csrf"),
            (_, "suspended") => ("suspended_title", "suspended_body"),
            (StatusCode::NOT_FOUND, _) => ("not_found_title", "not_found_body"),
            (StatusCode::SERVICE_UNAVAILABLE, _) => ("unavailable_title", "unavailable_body"),
            (StatusCode::CONFLICT, _) => ("error_title", "conflict_body"),
            (s, _) if s.is_client_error() => ("error_title", "bad_request_body"),
            _ => ("error_title", "error_body"),
        };
        PageFailure { heading, body }
    }
}

impl<E: Into<WebError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.log();
        let status = self.0.status();
        let mut res = status.into_response();
        res.extensions_mut()
            .insert(PageFailure::of(status, self.0.code()));
        res
    }
}

/// An API route's failure, as JSON:
/// `{"error": code, "message": text, "fields": {name: problem}}`.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

/// The JSON shape of an API error.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ApiErrorBody {
    /// A stable machine-readable code, e.g. `not_found`.
    pub error: String,
    /// A sentence for the developer reading it (never internal details).
    pub message: String,
    /// Problems per request field, when the request was wrong.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub fields: std::collections::BTreeMap<String, String>,
}

impl ApiErrorBody {
    pub fn new(code: &str, message: &str) -> ApiErrorBody {
        ApiErrorBody {
            error: code.to_owned(),
            message: message.to_owned(),
            fields: Default::default(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        let message = match &self.0 {
            WebError::NotFound => "No such resource.",
            WebError::Unavailable => "The service is unavailable; try again shortly.",
            WebError::Suspended => "This tenant is suspended.",
            WebError::Csrf => "Missing or wrong CSRF token.",
            WebError::BadRequest(_) => "The request could not be read.",
            WebError::Conflict(_) => "That conflicts with what is stored.",
            _ => "Something went wrong on our side.",
        };
        let mut body = ApiErrorBody::new(self.0.code(), message);
        if let WebError::Conflict(field) = &self.0 {
            body.fields.insert(field.clone(), "taken".to_owned());
        }
        (self.0.status(), Json(body)).into_response()
    }
}
