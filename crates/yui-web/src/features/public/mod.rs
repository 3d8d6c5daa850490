//! What the public sees: the home page (prefectures and unions, with a search by
//! name or kana), a tenant's page (with its municipalities), its logo and colours,
//! the language switch, and the not-found page for unknown paths.

mod directory;

pub use directory::TopLevelCache;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::settings::LogoKind;
use yui_domain::tenant::EventFormat;
use yui_domain::{Locale, TenantKind};
use yui_store::DirectoryEntry;

use crate::assets::IMMUTABLE;
use crate::error::PageError;
use crate::extract::{Lang, TenantPath, Viewer, lang_cookie};
use crate::render::{base_context, render};
use crate::security::safe_next;
use crate::{AppState, WebError};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("home.html", include_str!("templates/home.html")),
    (
        "region_card.html",
        include_str!("templates/region_card.html"),
    ),
    (
        "region_list.html",
        include_str!("templates/region_list.html"),
    ),
    ("tenant.html", include_str!("templates/tenant.html")),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/lang/{locale}", get(switch_language))
        .route("/t/{slug}", get(tenant_redirect))
        .route("/t/{slug}/", get(tenant_home))
        .route("/t/{slug}/logo.svg", get(tenant_logo))
        .route("/t/{slug}/theme.css", get(tenant_theme))
}

fn kind_key(kind: TenantKind) -> &'static str {
    match kind {
        TenantKind::Prefecture => "kind_prefecture",
        TenantKind::Municipality => "kind_municipality",
        TenantKind::Union => "kind_union",
    }
}

/// A tenant in a list: the home page, a search, a prefecture's municipalities.
#[derive(Serialize)]
struct RegionView {
    slug: String,
    name: String,
    kana: String,
    kind_label: String,
    code: Option<String>,
    children: i64,
}

impl RegionView {
    fn new(state: &AppState, locale: Locale, e: &DirectoryEntry) -> RegionView {
        RegionView {
            slug: e.slug.clone(),
            name: e.name(locale).to_owned(),
            kana: e.name_kana.clone(),
            kind_label: state
                .inner
                .catalogs
                .text(locale, kind_key(e.kind))
                .to_owned(),
            code: e.code.clone(),
            children: e.children,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct HomeQuery {
    q: Option<String>,
}

/// Search results shown at most.
const SEARCH_LIMIT: i64 = 50;

async fn home(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(query): Query<HomeQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    let q = query.q.as_deref().map(str::trim).unwrap_or("");
    let q: String = q.chars().filter(|c| !c.is_control()).take(50).collect();
    let searched = !q.is_empty();
    let list_html = |list: &[DirectoryEntry]| -> Result<String, WebError> {
        let regions: Vec<RegionView> = list
            .iter()
            .map(|e| RegionView::new(&state, locale, e))
            .collect();
        let mut ctx = tera::Context::new();
        ctx.insert("lang", locale.tag());
        ctx.insert("t", state.inner.messages.get("region_list.html", locale));
        ctx.insert("regions", &regions);
        ctx.insert("searched", &searched);
        Ok(state.inner.tera.render("region_list.html", &ctx)?)
    };
    let regions_html: std::sync::Arc<str> = if searched {
        list_html(&state.store.search_tenants(&q, SEARCH_LIMIT).await?)?.into()
    } else {
        state
            .inner
            .top_level
            .html(&state.store, locale, list_html)
            .await?
    };
    let mut ctx = base_context(&state, locale, viewer.0.as_ref(), "/");
    // Rendered from an autoescaping template: safe to insert as it is.
    ctx.insert("regions_html", &*regions_html);
    ctx.insert("q", &q);
    ctx.insert("searched", &searched);
    Ok(render(&state, "home.html", ctx, locale, StatusCode::OK))
}

async fn tenant_redirect(Path(slug): Path<String>) -> Redirect {
    let slug: String = form_urlencoded::byte_serialize(slug.as_bytes()).collect();
    Redirect::permanent(&format!("/t/{slug}/"))
}

#[derive(Serialize)]
struct EventView {
    kind_label: String,
    title: String,
    format_label: String,
    capacity: u32,
    days_text: String,
}

#[derive(Serialize)]
struct LinkView {
    slug: String,
    name: String,
}

#[derive(Serialize)]
struct TenantView {
    slug: String,
    name: String,
    kana: String,
    kind_label: String,
    code: Option<String>,
    summary: String,
    parent: Option<LinkView>,
    children: Vec<RegionView>,
    members: Vec<String>,
    events: Vec<EventView>,
    preference_limit: u32,
}

async fn tenant_home(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    tenant: TenantPath,
) -> Result<Response, PageError> {
    let record = &tenant.record;
    let t = &record.tenant;
    let locale = lang.or(t.default_locale);
    let c = &state.inner.catalogs;
    let parent = match record.parent_id {
        Some(p) => state.store.active_tenant(p).await?.map(|p| LinkView {
            name: p.name(locale).to_owned(),
            slug: p.slug,
        }),
        None => None,
    };
    let children = state
        .store
        .children_of(tenant.id)
        .await?
        .iter()
        .map(|e| RegionView::new(&state, locale, e))
        .collect();
    let format_key = |f: EventFormat| match f {
        EventFormat::Online => "format_online",
        EventFormat::Onsite => "format_onsite",
        EventFormat::Hybrid => "format_hybrid",
    };
    let events = [
        ("template_seminar", &t.templates.seminar),
        ("template_lecture", &t.templates.lecture),
        ("template_fieldwork", &t.templates.fieldwork),
    ]
    .into_iter()
    .map(|(key, e)| EventView {
        kind_label: c.text(locale, key).to_owned(),
        title: e.title.get(locale).to_owned(),
        format_label: c.text(locale, format_key(e.format)).to_owned(),
        capacity: e.capacity,
        days_text: days_text(locale, e.days),
    })
    .collect();
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let intro = tx.introduction(locale).await?;
    tx.commit().await?;
    let view = TenantView {
        slug: t.slug.clone(),
        name: t.name.get(locale).to_owned(),
        kana: t.name.kana.clone(),
        kind_label: c.text(locale, kind_key(t.kind)).to_owned(),
        code: t.code.as_ref().map(|c| c.to_string()),
        summary: t.intro.get(locale).to_owned(),
        parent,
        children,
        members: t
            .members
            .iter()
            .map(|m| m.name.get(locale).to_owned())
            .collect(),
        events,
        preference_limit: t.templates.matching_round.talent_preference_limit,
    };
    let mut ctx = base_context(
        &state,
        locale,
        viewer.0.as_ref(),
        &format!("/t/{}/", t.slug),
    );
    ctx.insert("tenant", &view);
    ctx.insert("intro", &intro);
    // Reachable by its address while being set up (its administrator previews it),
    // but not listed, not indexed, and saying so.
    ctx.insert("setting_up", &record.is_setting_up());
    ctx.insert(
        "theme_href",
        &format!(
            "/t/{}/theme.css?v={}",
            t.slug,
            record.updated_at.timestamp()
        ),
    );
    ctx.insert(
        "logo_href",
        &format!("/t/{}/logo.svg?v={}", t.slug, record.updated_at.timestamp()),
    );
    Ok(render(&state, "tenant.html", ctx, locale, StatusCode::OK))
}

/// "2日間" / "2 days" / "1 day".
fn days_text(locale: Locale, days: u32) -> String {
    match (locale, days) {
        (Locale::Ja, n) => format!("{n}日間"),
        (Locale::En, 1) => "1 day".to_owned(),
        (Locale::En, n) => format!("{n} days"),
    }
}

async fn tenant_logo(
    State(state): State<AppState>,
    tenant: TenantPath,
) -> Result<Response, PageError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let (logo, _) = tx.logo_file().await?;
    tx.commit().await?;
    // The kind was decided by the bytes when the logo was stored, never by a name.
    let mut res = (
        [
            (header::CONTENT_TYPE, logo.kind.content_type()),
            // Short: an admin may upload a new logo at any time, and its address
            // stays the same on every page that shows it.
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        logo.bytes,
    )
        .into_response();
    if logo.kind == LogoKind::Svg {
        // An SVG was checked for script when stored; opened on its own it still must
        // not run any, whatever a checker missed.
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; script-src 'none'; sandbox",
            ),
        );
    }
    Ok(res)
}

async fn tenant_theme(tenant: TenantPath) -> Response {
    // Both colours were validated as #rrggbb with AA contrast when applied.
    let b = &tenant.record.tenant.branding;
    let css = format!(
        ":root {{ --brand: {}; --accent: {}; }}\n",
        b.primary, b.accent
    );
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, IMMUTABLE),
        ],
        css,
    )
        .into_response()
}

#[derive(Deserialize)]
struct SwitchQuery {
    next: Option<String>,
}

/// Remembers the chosen language in a cookie and returns to the page the switch
/// was on. Only local paths are followed, so the switch cannot redirect elsewhere.
async fn switch_language(
    State(state): State<AppState>,
    Path(locale): Path<String>,
    Query(q): Query<SwitchQuery>,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let locale = Locale::parse(&locale).ok_or(WebError::NotFound)?;
    let next = q
        .next
        .as_deref()
        .and_then(safe_next)
        .unwrap_or_else(|| "/".to_owned());
    Ok((jar.add(lang_cookie(&state, locale)), Redirect::to(&next)).into_response())
}

/// The fallback for every unknown path: the not-found page.
pub(crate) async fn not_found() -> PageError {
    PageError(WebError::NotFound)
}
