use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use yui_store::{Account, Membership};

use super::tenant::TenantPath;
use super::viewer::{NotSignedIn, SignedIn};
use crate::error::PageError;
use crate::{AppState, WebError};

/// A signed-in talent whose consent to the path's tenant is live and given under
/// the tenant's current wording. Anyone else is sent to the tenant's join page: a
/// person who never joined (or left) to join, one whose consent is older than the
/// tenant's wording to read the new one and agree again (`?renew=1`). The pages a
/// talent uses inside a region take this, so no page of a region can be used
/// under consent that no longer holds.
#[derive(Debug, Clone)]
pub struct TalentMember {
    pub account: Account,
    pub tenant: TenantPath,
    pub membership: Membership,
}

impl FromRequestParts<AppState> for TalentMember {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let SignedIn(account) = SignedIn::from_request_parts(parts, state)
            .await
            .map_err(NotSignedIn::into_response)?;
        let tenant = TenantPath::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let failed = |e: yui_store::StoreError| PageError(WebError::from(e)).into_response();
        let mut tx = state
            .store
            .account(account.id)
            .read()
            .await
            .map_err(failed)?;
        let membership = tx.membership(tenant.id).await.map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        let slug = tenant.slug();
        match membership {
            Some(m) if m.is_live() && !m.is_outdated(&tenant.record.tenant.consent) => {
                Ok(TalentMember {
                    account,
                    tenant,
                    membership: m,
                })
            }
            Some(m) if m.is_live() => {
                Err(Redirect::to(&format!("/t/{slug}/join?renew=1")).into_response())
            }
            _ => Err(Redirect::to(&format!("/t/{slug}/join")).into_response()),
        }
    }
}
