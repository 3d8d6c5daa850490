//! Server-rendered pages: the platform home, tenant landing pages, the language
//! switch, and the not-found page.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};
use tera::{Context, Tera};
use yui_domain::tenant::EventFormat;
use yui_domain::{Locale, TenantKind, TenantStatus};
use yui_store::TenantRecord;

use crate::assets::IMMUTABLE;
use crate::auth::Viewer;
use crate::i18n::{LANG_COOKIE, Lang};
use crate::{AppState, WebError};

/// Compiles the page templates embedded in the binary. Autoescaping is on for
/// every `.html` template.
pub fn templates() -> Result<Tera, WebError> {
    let mut tera = Tera::default();
    tera.add_raw_templates([
        ("base.html", include_str!("../templates/base.html")),
        ("home.html", include_str!("../templates/home.html")),
        (
            "region_card.html",
            include_str!("../templates/region_card.html"),
        ),
        ("tenant.html", include_str!("../templates/tenant.html")),
        ("message.html", include_str!("../templates/message.html")),
        (
            "form_field.html",
            include_str!("../templates/form_field.html"),
        ),
        (
            "auth_form.html",
            include_str!("../templates/auth_form.html"),
        ),
        ("account.html", include_str!("../templates/account.html")),
        ("ops.html", include_str!("../templates/ops.html")),
        ("staff.html", include_str!("../templates/staff.html")),
        ("tokens.html", include_str!("../templates/tokens.html")),
        ("audit.html", include_str!("../templates/audit.html")),
    ])?;
    Ok(tera)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/lang/{locale}", get(switch_language))
        .route("/t/{slug}", get(tenant_redirect))
        .route("/t/{slug}/", get(tenant_home))
        .route("/t/{slug}/logo.svg", get(tenant_logo))
        .route("/t/{slug}/theme.css", get(tenant_theme))
}

/// Context every page needs: language, messages, the switch to the other language.
pub(crate) fn base_context(state: &AppState, locale: Locale, path: &str) -> Context {
    let other = match locale {
        Locale::Ja => Locale::En,
        Locale::En => Locale::Ja,
    };
    let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
    let mut ctx = Context::new();
    ctx.insert("lang", locale.tag());
    ctx.insert("other_lang", other.tag());
    ctx.insert("t", state.inner.catalogs.get(locale));
    ctx.insert("css_href", &state.inner.assets.css_href());
    ctx.insert("switch_href", &format!("/lang/{}?next={next}", other.tag()));
    ctx
}

pub(crate) fn render(
    state: &AppState,
    template: &str,
    ctx: &Context,
    locale: Locale,
    status: StatusCode,
) -> Response {
    match state.inner.tera.render(template, ctx) {
        Ok(body) => {
            let mut res = (status, Html(body)).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_LANGUAGE,
                HeaderValue::from_static(locale.tag()),
            );
            // The language comes from the cookie or Accept-Language: caches must key on both.
            h.insert(
                header::VARY,
                HeaderValue::from_static("Accept-Language, Cookie"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            res
        }
        Err(e) => {
            tracing::error!(error = ?e, template, "page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!DOCTYPE html><title>500</title><h1>500</h1>"),
            )
                .into_response()
        }
    }
}

/// A page with a heading and one paragraph, for 404, 503 and 500.
pub(crate) fn message_page(
    state: &AppState,
    locale: Locale,
    status: StatusCode,
    heading: &str,
    body: &str,
) -> Response {
    let c = &state.inner.catalogs;
    let mut ctx = base_context(state, locale, "/");
    ctx.insert("heading", c.text(locale, heading));
    ctx.insert("body", c.text(locale, body));
    render(state, "message.html", &ctx, locale, status)
}

pub async fn not_found_page(state: &AppState, lang: Lang) -> Response {
    message_page(
        state,
        lang.or(Locale::Ja),
        StatusCode::NOT_FOUND,
        "not_found_title",
        "not_found_body",
    )
}

/// The fallback for every unknown path.
pub async fn not_found(State(state): State<AppState>, lang: Lang) -> Response {
    not_found_page(&state, lang).await
}

pub(crate) fn error_page(state: &AppState, locale: Locale, err: WebError) -> Response {
    match err {
        WebError::NotFound => message_page(
            state,
            locale,
            StatusCode::NOT_FOUND,
            "not_found_title",
            "not_found_body",
        ),
        other => {
            let status = other.status();
            if status.is_server_error() {
                tracing::error!(error = %other, "page failed");
            }
            message_page(state, locale, status, "error_title", "error_body")
        }
    }
}

fn kind_key(kind: TenantKind) -> &'static str {
    match kind {
        TenantKind::Prefecture => "kind_prefecture",
        TenantKind::Municipality => "kind_municipality",
        TenantKind::Union => "kind_union",
    }
}

#[derive(Serialize)]
struct RegionView {
    slug: String,
    name: String,
    kana: String,
    kind_label: String,
    code: Option<String>,
    intro: String,
    members: Vec<String>,
    children: Vec<RegionView>,
}

impl RegionView {
    fn new(state: &AppState, locale: Locale, r: &TenantRecord) -> RegionView {
        let t = &r.tenant;
        RegionView {
            slug: t.slug.clone(),
            name: t.name.get(locale).to_owned(),
            kana: t.name.kana.clone(),
            kind_label: state
                .inner
                .catalogs
                .text(locale, kind_key(t.kind))
                .to_owned(),
            code: t.code.as_ref().map(|c| c.to_string()),
            intro: t.intro.get(locale).to_owned(),
            members: t
                .members
                .iter()
                .map(|m| m.name.get(locale).to_owned())
                .collect(),
            children: Vec::new(),
        }
    }
}

/// Arranges active tenants as the home page shows them: each prefecture with its
/// municipalities nested, other tenants at the top level.
fn region_tree(state: &AppState, locale: Locale, records: &[TenantRecord]) -> Vec<RegionView> {
    let active: Vec<&TenantRecord> = records
        .iter()
        .filter(|r| r.status == TenantStatus::Active)
        .collect();
    let is_active_parent = |slug: &str| active.iter().any(|p| p.tenant.slug == slug);
    active
        .iter()
        .filter(|r| !r.tenant.parent.as_deref().is_some_and(is_active_parent))
        .map(|r| {
            let mut view = RegionView::new(state, locale, r);
            view.children = active
                .iter()
                .filter(|c| c.tenant.parent.as_deref() == Some(r.tenant.slug.as_str()))
                .map(|c| RegionView::new(state, locale, c))
                .collect();
            view
        })
        .collect()
}

async fn home(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Response {
    let locale = lang.or(Locale::Ja);
    let records = match state.store.list_tenants().await {
        Ok(r) => r,
        Err(e) => return error_page(&state, locale, e.into()),
    };
    let mut ctx = base_context(&state, locale, "/");
    ctx.insert("regions", &region_tree(&state, locale, &records));
    viewer.describe(&mut ctx);
    render(&state, "home.html", &ctx, locale, StatusCode::OK)
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
    children: Vec<LinkView>,
    members: Vec<String>,
    events: Vec<EventView>,
    preference_limit: u32,
}

async fn tenant_home(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    lang: Lang,
    viewer: Viewer,
) -> Response {
    let record = match state.store.tenant_by_slug(&slug).await {
        Ok(r) => r,
        Err(e) => return error_page(&state, lang.or(Locale::Ja), e.into()),
    };
    let t = &record.tenant;
    let locale = lang.or(t.default_locale);
    if record.status == TenantStatus::Suspended {
        return message_page(
            &state,
            locale,
            StatusCode::SERVICE_UNAVAILABLE,
            "suspended_title",
            "suspended_body",
        );
    }
    match tenant_view(&state, locale, &record).await {
        Ok((view, intro)) => {
            let mut ctx = base_context(&state, locale, &format!("/t/{}/", t.slug));
            ctx.insert("tenant", &view);
            viewer.describe(&mut ctx);
            ctx.insert("intro", &intro);
            ctx.insert(
                "theme_href",
                &format!(
                    "/t/{}/theme.css?v={}",
                    t.slug,
                    record.updated_at.timestamp()
                ),
            );
            render(&state, "tenant.html", &ctx, locale, StatusCode::OK)
        }
        Err(e) => error_page(&state, locale, e),
    }
}

async fn tenant_view(
    state: &AppState,
    locale: Locale,
    record: &TenantRecord,
) -> Result<(TenantView, Option<yui_domain::Introduction>), WebError> {
    let t = &record.tenant;
    let c = &state.inner.catalogs;
    let all = state.store.list_tenants().await?;
    let link = |r: &TenantRecord| LinkView {
        slug: r.tenant.slug.clone(),
        name: r.tenant.name.get(locale).to_owned(),
    };
    let parent = t
        .parent
        .as_deref()
        .and_then(|p| {
            all.iter()
                .find(|r| r.tenant.slug == p && r.status == TenantStatus::Active)
        })
        .map(link);
    let children = all
        .iter()
        .filter(|r| {
            r.status == TenantStatus::Active && r.tenant.parent.as_deref() == Some(t.slug.as_str())
        })
        .map(link)
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
    let intro = state.store.introduction(record.id, locale).await?;
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
    Ok((view, intro))
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
    Path(slug): Path<String>,
    lang: Lang,
) -> Response {
    match state.store.tenant_logo(&slug).await {
        Ok((svg, _)) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "public, max-age=3600"),
                // An SVG can carry script; served on its own it must not run any.
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'; sandbox",
                ),
            ],
            svg,
        )
            .into_response(),
        Err(e) => error_page(&state, lang.or(Locale::Ja), e.into()),
    }
}

async fn tenant_theme(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    lang: Lang,
) -> Response {
    match state.store.tenant_by_slug(&slug).await {
        Ok(r) => {
            // Both colours were validated as #rrggbb with AA contrast when applied.
            let b = &r.tenant.branding;
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
        Err(e) => error_page(&state, lang.or(Locale::Ja), e.into()),
    }
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
    lang: Lang,
) -> Response {
    let Some(locale) = Locale::parse(&locale) else {
        return not_found_page(&state, lang).await;
    };
    let next = q
        .next
        .filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/".to_owned());
    let cookie = Cookie::build((LANG_COOKIE, locale.tag()))
        .path("/")
        .max_age(time_year())
        .same_site(SameSite::Lax)
        .http_only(true)
        .build();
    (jar.add(cookie), Redirect::to(&next)).into_response()
}

fn time_year() -> cookie::time::Duration {
    cookie::time::Duration::days(365)
}
