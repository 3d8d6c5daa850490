//! Personal API tokens: created (shown once), listed and revoked on the account
//! pages; accepted as `Authorization: Bearer` on `/api/v1`, in their tenant only.

use axum::extract::{Form, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yui_domain::Locale;
use yui_domain::account::{FieldError, Problem};
use yui_domain::audit::AuditAction;
use yui_store::TokenPrincipal;

use crate::auth::{
    ClientIp, FieldView, Viewer, audit_entry, csrf_failed, csrf_ok, csrf_token, error_views,
    new_secret, secret_hash,
};
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::pages::{base_context, render};
use crate::{AppState, WebError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/tokens", get(tokens_page).post(create))
        .route("/account/tokens/{id}/revoke", post(revoke))
        .route("/api/v1/tenants/{slug}/staff", get(api_staff))
}

/// Tenants the account may make a token for: those it holds a role in.
async fn token_tenants(
    state: &AppState,
    account_id: i64,
    locale: Locale,
) -> Result<Vec<(String, String)>, WebError> {
    let now = state.now();
    let snapshot = state.authz.snapshot();
    Ok(state
        .store
        .list_tenants()
        .await?
        .into_iter()
        .filter(|r| !snapshot.roles(account_id, &r.tenant.slug, now).is_empty())
        .map(|r| (r.tenant.slug.clone(), r.tenant.name.get(locale).to_owned()))
        .collect())
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    /// The page's input is `token_name` (its label is `field_token_name`).
    #[serde(default, rename = "token_name")]
    name: String,
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
    viewer: &Viewer,
    account_id: i64,
    view: TokensView<'_>,
) -> Result<Response, WebError> {
    let c = &state.inner.catalogs;
    #[derive(Serialize)]
    struct Row {
        id: i64,
        name: String,
        tenant: String,
        last_used: String,
    }
    let tz = yui_domain::fiscal::tokyo();
    let rows: Vec<Row> = state
        .store
        .api_tokens(account_id)
        .await?
        .into_iter()
        .map(|k| Row {
            id: k.id,
            name: k.name,
            tenant: k.tenant_slug,
            last_used: k
                .last_used_at
                .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| c.text(locale, "never_used").to_owned()),
        })
        .collect();
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, "/account/tokens");
    viewer.describe(&mut ctx);
    ctx.insert("tokens", &rows);
    ctx.insert("tenants", &token_tenants(state, account_id, locale).await?);
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
    ctx.insert("errors", &error_views(state, locale, &view.errors));
    let mut res = (jar, render(state, "tokens.html", &ctx, locale, view.status)).into_response();
    // The page may carry a secret: keep it out of every cache.
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

async fn tokens_page(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    jar: CookieJar,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    let Some(account) = viewer.0.clone() else {
        return Ok(Redirect::to("/signin").into_response());
    };
    let locale = lang.or(account.locale());
    let notice = q.revoked.map(|_| "token_revoked");
    render_tokens(
        &state,
        locale,
        jar,
        &viewer,
        account.id,
        TokensView {
            name: "",
            errors: Vec::new(),
            new_token: None,
            notice,
            status: StatusCode::OK,
        },
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Form(form): Form<TokenForm>,
) -> Result<Response, WebError> {
    let Some(account) = viewer.0.clone() else {
        return Ok(Redirect::to("/signin").into_response());
    };
    let locale = lang.or(account.locale());
    if !csrf_ok(&state, &jar, &form.csrf) {
        return Ok(csrf_failed(&state, locale));
    }
    let mut errors = Vec::new();
    let name = form.name.trim();
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
    let allowed = token_tenants(&state, account.id, locale).await?;
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
        return render_tokens(&state, locale, jar, &viewer, account.id, view).await;
    }
    let tenant = state.store.tenant_by_slug(&form.tenant).await?;
    let token = format!("yui_{}", new_secret());
    let now = state.now();
    let id = state
        .store
        .create_api_token(account.id, tenant.id, name, &secret_hash(&token), now)
        .await?;
    let entry = audit_entry(
        Some(account.id),
        AuditAction::TokenCreated,
        serde_json::json!({ "token": id, "name": name }),
        &ip,
    )
    .in_tenant(tenant.id);
    state.store.audit(&entry, now).await?;
    let view = TokensView {
        name: "",
        errors: Vec::new(),
        new_token: Some(token),
        notice: None,
        status: StatusCode::CREATED,
    };
    render_tokens(&state, locale, jar, &viewer, account.id, view).await
}

#[derive(Debug, Default, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    lang: Lang,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let Some(account) = viewer.0 else {
        return Ok(Redirect::to("/signin").into_response());
    };
    if !csrf_ok(&state, &jar, &form.csrf) {
        return Ok(csrf_failed(&state, lang.or(account.locale())));
    }
    let now = state.now();
    // Someone else's token id is simply not found.
    let tenant_id = state.store.revoke_api_token(account.id, id, now).await?;
    let entry = audit_entry(
        Some(account.id),
        AuditAction::TokenRevoked,
        serde_json::json!({ "token": id }),
        &ip,
    )
    .in_tenant(tenant_id);
    state.store.audit(&entry, now).await?;
    Ok(Redirect::to("/account/tokens?revoked=1").into_response())
}

/// The caller of an API request, from `Authorization: Bearer <token>`.
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
                Json(ApiError {
                    error: "unauthorized".to_owned(),
                }),
            )
                .into_response()
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(unauthorized)?;
        match state
            .store
            .use_api_token(&secret_hash(token), state.now())
            .await
        {
            Ok(Some(p)) => Ok(Bearer(p)),
            Ok(None) => Err(unauthorized()),
            Err(e) => Err(WebError::from(e).into_response()),
        }
    }
}

/// A staff member as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffMember {
    pub email: String,
    /// e.g. `coordinator`
    pub role: String,
    /// When the role stops working, if it does.
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// The staff of a tenant, for a token of that tenant whose owner may read its staff.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/staff",
    tag = "tenants",
    params(("slug" = String, Path, description = "Tenant slug")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = [StaffMember]),
        (status = 401, body = ApiError),
        (status = 404, body = ApiError, description = "No such tenant, or not this token's tenant")
    )
)]
pub async fn api_staff(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ClientIp(ip): ClientIp,
    Bearer(p): Bearer,
) -> Result<Json<Vec<StaffMember>>, WebError> {
    let tenant = state.store.tenant_by_slug(&slug).await?;
    let now = state.now();
    // A token works in its own tenant only; anywhere else the tenant does not exist.
    if tenant.id != p.tenant_id || !state.authz.check(p.account_id, &slug, "staff", "read", now) {
        return Err(WebError::NotFound);
    }
    let entry = audit_entry(
        Some(p.account_id),
        AuditAction::TokenUsed,
        serde_json::json!({ "token": p.token_id, "route": "staff" }),
        &ip,
    )
    .in_tenant(tenant.id);
    state.store.audit(&entry, now).await?;
    let mut out = Vec::new();
    for g in yui_authz::list_grants(&state.store, Some(&slug))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
    {
        if g.live_at(now) && g.tenant.as_deref() == Some(slug.as_str()) {
            out.push(StaffMember {
                email: state.store.account(g.account_id).await?.email,
                role: g.role.as_str().to_owned(),
                valid_until: g.valid_until,
            });
        }
    }
    Ok(Json(out))
}
