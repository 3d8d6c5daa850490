//! The public pages of a tenant's case studies, and their photos.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use yui_domain::Permission;
use yui_domain::case_study::CaseStatus;
use yui_store::Account;

use super::{case_id, side_of, view};
use crate::error::PageError;
use crate::extract::{Lang, TenantPath, Viewer};
use crate::render::{base_context, render};
use crate::{AppState, WebError};

pub(super) fn router() -> Router<AppState> {
    use axum::routing::get;
    Router::new()
        .route("/t/{slug}/cases", get(list))
        .route("/t/{slug}/cases/{id}", get(page))
        .route("/t/{slug}/cases/{id}/photos/{photo}", get(photo))
}

fn locale_of(lang: Lang, tenant: &TenantPath, viewer: Option<&Account>) -> yui_domain::Locale {
    lang.or(viewer.map_or(tenant.record.tenant.default_locale, Account::locale))
}

async fn list(
    State(state): State<AppState>,
    lang: Lang,
    tenant: TenantPath,
    Viewer(viewer): Viewer,
) -> Result<Response, PageError> {
    let locale = locale_of(lang, &tenant, viewer.as_ref());
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let cases = tx.public_case_studies().await?;
    // The first photo of each, as its card's picture.
    let mut views = Vec::with_capacity(cases.len());
    for c in &cases {
        let photos = tx.case_photos(c.id).await?;
        views.push(view(
            &state,
            locale,
            &tenant,
            c,
            &photos[..photos.len().min(1)],
        ));
    }
    tx.commit().await?;
    let slug = tenant.slug();
    let mut ctx = base_context(&state, locale, viewer.as_ref(), &format!("/t/{slug}/cases"));
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("cases", &views);
    Ok(render(
        &state,
        "cs_public_list.html",
        ctx,
        locale,
        StatusCode::OK,
    ))
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    tenant: TenantPath,
    Viewer(viewer): Viewer,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let locale = locale_of(lang, &tenant, viewer.as_ref());
    let id = case_id(&id)?;
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let case = tx
        .case_study(id)
        .await?
        .filter(|c| c.status() == CaseStatus::Public);
    let photos = match &case {
        Some(_) => tx.case_photos(id).await?,
        None => Vec::new(),
    };
    tx.commit().await?;
    let case = case.ok_or(WebError::NotFound)?;
    let slug = tenant.slug();
    let mut ctx = base_context(
        &state,
        locale,
        viewer.as_ref(),
        &format!("/t/{slug}/cases/{id}"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("case", &view(&state, locale, &tenant, &case, &photos));
    Ok(render(
        &state,
        "cs_public.html",
        ctx,
        locale,
        StatusCode::OK,
    ))
}

/// A photo: to anyone while its case is public; before that (and after it is
/// withdrawn) only to the tenant's coordinators and the case's two sides.
async fn photo(
    State(state): State<AppState>,
    tenant: TenantPath,
    Viewer(viewer): Viewer,
    Path((_, id, photo)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let photo: i64 = photo.parse().map_err(|_| WebError::NotFound)?;
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let Some(case) = tx.case_study(id).await? else {
        tx.commit().await?;
        return Err(WebError::NotFound.into());
    };
    let public = case.status() == CaseStatus::Public;
    let allowed = public
        || match &viewer {
            None => false,
            Some(a) => {
                state.authz.check(
                    a.id,
                    tenant.slug(),
                    Permission::CaseStudyManage,
                    state.now(),
                ) || side_of(&mut tx, &case, a).await?.is_some()
            }
        };
    let data = if allowed {
        tx.case_photo(id, photo).await?
    } else {
        None
    };
    tx.commit().await?;
    let data = data.ok_or(WebError::NotFound)?;
    // A public photo may be kept by caches for a while; a draft's only by the
    // browser that was allowed to see it, and revalidated.
    let cache = if public {
        "public, max-age=3600"
    } else {
        "private, no-cache"
    };
    let content_type =
        HeaderValue::from_str(&data.content_type).unwrap_or(HeaderValue::from_static("image/jpeg"));
    let mut res = data.bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !public {
        h.insert(header::VARY, HeaderValue::from_static("Cookie"));
    }
    Ok(res)
}
