//! The page an invitation's link opens: which region invites the person, in which
//! role and until when, and the form to choose a password. The link carries the
//! one-time token and the grant; the grant must belong to the token's account, so a
//! changed link shows nothing of anyone else's.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use chrono::Duration;
use serde::Deserialize;
use yui_domain::{GrantId, Locale};
use yui_store::{AccountsTx, TokenPurpose};

use super::links::link_failed;
use super::{FormPage, form_page, new_password_fields};
use crate::AppState;
use crate::error::PageError;
use crate::extract::Lang;
use crate::render::official_date_text;
use crate::security::secret_hash;

#[derive(Debug, Deserialize)]
pub(super) struct InvitationQuery {
    #[serde(default)]
    token: String,
    grant: Option<i64>,
}

/// "Iwate's administrator 花子 invites you to Kamaishi as coordinator, until 31 March 2027."
async fn describe(
    state: &AppState,
    locale: Locale,
    token: &str,
    grant: GrantId,
) -> Result<Option<String>, PageError> {
    let now = state.now();
    let Some(account) = state
        .store
        .peek_token(TokenPurpose::PasswordReset, &secret_hash(token), now)
        .await?
    else {
        return Ok(None);
    };
    let mut tx = state.store.account(account).read().await?;
    let Some(grant) = tx.own_grant(grant).await? else {
        tx.commit().await?;
        return Ok(None);
    };
    let inviter = match grant.granted_by {
        Some(by) => Some(tx.account_by_id(by).await?),
        None => None,
    };
    tx.commit().await?;
    let Some(tenant) = grant.tenant_id else {
        return Ok(None);
    };
    let Some(tenant) = state.store.active_tenant(tenant).await? else {
        return Ok(None);
    };
    let c = &state.inner.catalogs;
    let until = grant.valid_until.map_or_else(
        || c.text(locale, "no_end").to_owned(),
        |u| {
            let last =
                (u.with_timezone(&yui_domain::fiscal::tokyo()) - Duration::seconds(1)).date_naive();
            official_date_text(locale, last)
        },
    );
    let inviter = inviter.map_or_else(String::new, |a| {
        if a.display_name.is_empty() {
            a.email
        } else {
            a.display_name
        }
    });
    Ok(Some(
        c.text(locale, "invitation_lead")
            .replace("{inviter}", &inviter)
            .replace("{tenant}", tenant.name(locale))
            .replace("{role}", c.text(locale, &format!("role_{}", grant.role)))
            .replace("{until}", &until),
    ))
}

pub(super) async fn page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    Query(q): Query<InvitationQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    let described = match q.grant {
        Some(g) => describe(&state, locale, &q.token, GrantId::new(g)).await?,
        None => None,
    };
    let Some(intro) = described else {
        return Ok(link_failed(&state, locale));
    };
    let mut page = FormPage::new("invitation_title", "/reset/confirm", "invitation_accept");
    page.intro = Some(intro);
    page.fields = new_password_fields();
    page.hidden = vec![("token", q.token)];
    Ok(form_page(&state, locale, jar, page, StatusCode::OK))
}
