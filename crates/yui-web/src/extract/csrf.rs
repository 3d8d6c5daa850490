use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::PageError;
use crate::security::csrf_ok;
use crate::{AppState, WebError};

/// A submitted form whose `csrf` field matched this browser's CSRF cookie. A forged
/// or stale form answers 403 (the HTML page) and the handler never runs.
#[derive(Debug, Clone)]
pub struct CsrfForm<T>(pub T);

/// A form with nothing but its CSRF token (a button).
#[derive(Debug, Default, Deserialize)]
pub struct CsrfOnly {}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(req.headers());
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|e| WebError::BadRequest(e.to_string()))?;
        let submitted = form_urlencoded::parse(&body)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if !csrf_ok(state, &jar, &submitted) {
            return Err(WebError::Csrf.into());
        }
        let form = serde_urlencoded::from_bytes::<T>(&body)
            .map_err(|e| WebError::BadRequest(e.to_string()))?;
        Ok(CsrfForm(form))
    }
}
