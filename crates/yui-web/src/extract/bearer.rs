use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use yui_store::TokenPrincipal;

use crate::AppState;
use crate::error::{ApiError, ApiErrorBody};
use crate::security::secret_hash;

/// The caller of an API request, from `Authorization: Bearer <token>`: a person's
/// token for one tenant.
#[derive(Debug, Clone, Copy)]
pub struct Bearer(pub TokenPrincipal);

impl FromRequestParts<AppState> for Bearer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized = || {
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                Json(ApiErrorBody::new(
                    "unauthorized",
                    "A valid personal API token is required.",
                )),
            )
                .into_response()
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            // The scheme name is case-insensitive (RFC 9110 §11.1): `bearer` and
            // `BEARER` are the same scheme as `Bearer`.
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty())
            .ok_or_else(unauthorized)?;
        match state
            .store
            .use_api_token(&secret_hash(token), state.now())
            .await
        {
            Ok(Some(p)) => Ok(Bearer(p)),
            Ok(None) => Err(unauthorized()),
            Err(e) => Err(ApiError::from(e).into_response()),
        }
    }
}
