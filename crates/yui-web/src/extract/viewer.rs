use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use yui_store::Account;

use crate::error::PageError;
use crate::security::{SESSION, cookie_name, secret_hash};
use crate::{AppState, WebError};

/// The signed-in account, if any.
#[derive(Debug, Clone)]
pub struct Viewer(pub Option<Account>);

impl Viewer {
    pub(crate) async fn from_parts(parts: &Parts, state: &AppState) -> Result<Viewer, WebError> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(id) = jar.get(&cookie_name(state, SESSION)) else {
            return Ok(Viewer(None));
        };
        let account = state
            .store
            .session_account(
                &secret_hash(id.value()),
                state.inner.settings.session,
                state.now(),
            )
            .await?;
        Ok(Viewer(account))
    }
}

impl FromRequestParts<AppState> for Viewer {
    /// A database failure answers with the HTML error page.
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Viewer::from_parts(parts, state).await?)
    }
}

/// A signed-in person. Anyone else is sent to sign in, and brought back here after.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Account);

/// Why a page that needs a signed-in person did not run.
#[derive(Debug)]
pub enum NotSignedIn {
    /// To the sign-in page, remembering where the person was going.
    SignIn(String),
    Failed(PageError),
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            NotSignedIn::SignIn(next) => Redirect::to(&next).into_response(),
            NotSignedIn::Failed(e) => e.into_response(),
        }
    }
}

/// `/signin?next=<this page>`, for a GET; a form post returns to the page itself
/// rather than replaying the post.
pub(crate) fn sign_in_path(parts: &Parts) -> String {
    let here = if parts.method == axum::http::Method::GET {
        parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned()
    } else {
        parts.uri.path().to_owned()
    };
    let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
    format!("/signin?next={next}")
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = NotSignedIn;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match Viewer::from_parts(parts, state).await {
            Ok(Viewer(Some(account))) => Ok(SignedIn(account)),
            Ok(Viewer(None)) => Err(NotSignedIn::SignIn(sign_in_path(parts))),
            Err(e) => Err(NotSignedIn::Failed(e.into())),
        }
    }
}
