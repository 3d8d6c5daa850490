//! Personal API tokens: created (shown once), listed and revoked on the account
//! pages; accepted as `Authorization: Bearer` on `/api/v1`, in their tenant only.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::account::{FieldError, Problem};
use yui_domain::audit::AuditAction;
use yui_domain::{ApiTokenId, Locale};
use yui_store::{Account, AuditEntry, AuditTx};

use crate::AppState;
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, CsrfOnly, Lang, SignedIn};
use crate::render::{FieldView, base_context, datetime_text, error_views, render};
use crate::security::{csrf_token, new_secret, secret_hash};

pub(crate) const TEMPLATES: &[(&str, &str)] =
    &[("tokens.html", include_str!("templates/tokens.html"))];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/tokens", get(page).post(create))
        .route("/account/tokens/{id}/revoke", post(revoke))
}

/// Tenants the account may make a token for: those it holds a role in, as (slug,
/// name); and, apart, the names of those it holds a role in that are suspended (no
/// token for them, and the page says why). Its cost follows the person's grants, not
/// the number of tenants.
struct TokenPlaces {
    open: Vec<(String, String)>,
    suspended: Vec<String>,
}

async fn token_tenants(
    state: &AppState,
    account: &Account,
    locale: Locale,
) -> Result<TokenPlaces, PageError> {
    let mut places = TokenPlaces {
        open: Vec::new(),
        suspended: Vec::new(),
    };
    let mut slugs: Vec<String> = state
        .authz
        .snapshot()
        .tenant_roles_of(account.id, state.now())
        .into_iter()
        .map(|(slug, _)| slug)
        .collect();
    // A member without a role (a talent) needs a token too: registering for events
    // through the API is theirs to do.
    let mut tx = state.store.account(account.id).read().await?;
    let memberships = tx.memberships().await?;
    tx.commit().await?;
    for m in memberships {
        if m.membership.left_at.is_none() && !slugs.contains(&m.tenant_slug) {
            slugs.push(m.tenant_slug);
        }
    }
    for slug in slugs {
        // One lookup: a suspended tenant is named, not offered.
        match crate::extract::TenantPath::load_even_suspended(state, &slug).await {
            Ok(t) if t.is_suspended() => places
                .suspended
                .push(t.record.tenant.name.get(locale).to_owned()),
            Ok(t) => places
                .open
                .push((slug, t.record.tenant.name.get(locale).to_owned())),
            Err(crate::WebError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(places)
}

/// One live API token as the pages list it (the tokens page and the account page).
#[derive(Debug, Serialize)]
pub(crate) struct TokenRow {
    id: i64,
    name: String,
    /// The region's name; its slug when the region is gone.
    tenant: String,
    created: String,
    last_used: String,
}

/// The account's live API tokens, newest first: what else can act as the person.
pub(crate) async fn token_rows(
    state: &AppState,
    locale: Locale,
    account: &Account,
) -> Result<Vec<TokenRow>, PageError> {
    let c = &state.inner.catalogs;
    let mut tx = state.store.account(account.id).read().await?;
    let tokens = tx.api_tokens().await?;
    tx.commit().await?;
    let mut rows = Vec::with_capacity(tokens.len());
    for k in tokens {
        // A suspended region's token is still listed by its region's name.
        let tenant =
            match crate::extract::TenantPath::load_even_suspended(state, &k.tenant_slug).await {
                Ok(t) => t.record.tenant.name.get(locale).to_owned(),
                Err(crate::WebError::NotFound) => k.tenant_slug,
                Err(e) => return Err(e.into()),
            };
        rows.push(TokenRow {
            id: k.id.get(),
            name: k.name,
            tenant,
            created: datetime_text(locale, k.created_at),
            last_used: k
                .last_used_at
                .map(|t| datetime_text(locale, t))
                .unwrap_or_else(|| c.text(locale, "never_used").to_owned()),
        });
    }
    Ok(rows)
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    /// The page's input is `token_name` (its label is `field_token_name`).
    #[serde(default)]
    token_name: String,
    #[serde(default)]
    tenant: String,
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    revoked: Option<String>,
}

struct TokensView<'a> {
    name: &'a str,
    errors: Vec<FieldError>,
    new_token: Option<String>,
    notice: Option<&'a str>,
    status: StatusCode,
}

async fn render_tokens(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    view: TokensView<'_>,
) -> Result<Response, PageError> {
    let c = &state.inner.catalogs;
    let rows = token_rows(state, locale, account).await?;
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(account), "/account/tokens");
    ctx.insert("tokens", &rows);
    let places = token_tenants(state, account, locale).await?;
    ctx.insert("tenants", &places.open);
    ctx.insert("suspended", &places.suspended.join("、"));
    ctx.insert("csrf", &csrf);
    ctx.insert("new_token", &view.new_token);
    ctx.insert("notice", &view.notice.map(|k| c.text(locale, k)));
    ctx.insert(
        "name_field",
        &FieldView::new(
            state,
            locale,
            "token_name",
            "text",
            view.name.to_owned(),
            "off",
            &view.errors,
        ),
    );
    let tenant_error = view
        .errors
        .iter()
        .find(|e| e.field == "tenant")
        .map(|e| crate::render::field_message(state, locale, e));
    ctx.insert("tenant_error", &tenant_error);
    ctx.insert("errors", &error_views(state, locale, &view.errors));
    let mut res = (jar, render(state, "tokens.html", ctx, locale, view.status)).into_response();
    // The page may carry a secret: keep it out of every cache.
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    jar: CookieJar,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let view = TokensView {
        name: "",
        errors: Vec::new(),
        new_token: None,
        notice: q.revoked.map(|_| "token_revoked"),
        status: StatusCode::OK,
    };
    render_tokens(&state, locale, jar, &account, view).await
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(account.locale());
    let mut errors = Vec::new();
    let name = yui_domain::account::one_line(&form.token_name);
    let name = name.as_str();
    if name.is_empty() {
        errors.push(FieldError {
            field: "token_name",
            problem: Problem::Required,
        });
    } else if name.chars().count() > 60 {
        errors.push(FieldError {
            field: "token_name",
            problem: Problem::TooLong { max: 60 },
        });
    }
    let allowed = token_tenants(&state, &account, locale).await?.open;
    if !allowed.iter().any(|(slug, _)| slug == &form.tenant) {
        errors.push(FieldError {
            field: "tenant",
            problem: Problem::InvalidChoice,
        });
    }
    if !errors.is_empty() {
        let view = TokensView {
            name,
            errors,
            new_token: None,
            notice: None,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        };
        return render_tokens(&state, locale, jar, &account, view).await;
    }
    let tenant = crate::extract::TenantPath::load(&state, &form.tenant).await?;
    let token = format!("yui_{}", new_secret());
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    // Suspended since the page was read: no token that would come back on resume.
    tx.ensure_active().await?;
    let id = tx
        .create_api_token(
            account.id,
            account.credential_epoch,
            name,
            &secret_hash(&token),
            now,
        )
        .await?;
    let entry = AuditEntry {
        actor_id: Some(account.id),
        action: AuditAction::TokenCreated,
        detail: serde_json::json!({ "token": id, "name": name }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    let view = TokensView {
        name: "",
        errors: Vec::new(),
        new_token: Some(token),
        notice: None,
        status: StatusCode::CREATED,
    };
    render_tokens(&state, locale, jar, &account, view).await
}

async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedIn(account): SignedIn,
    ClientIp(ip): ClientIp,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let now = state.now();
    // Someone else's token id is simply not found. The revocation and its audit row
    // (in the token's tenant) commit together.
    let mut tx = state.store.account(account.id).write().await?;
    let tenant = tx.revoke_api_token(ApiTokenId::new(id), now).await?;
    let entry = AuditEntry {
        actor_id: Some(account.id),
        action: AuditAction::TokenRevoked,
        detail: serde_json::json!({ "token": id }),
        ip,
    };
    tx.audit_in_tenant(tenant, &entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to("/account/tokens?revoked=1").into_response())
}
