//! The operator console: the platform's overview by prefecture, each tenant's page
//! (state, figures, its administrator's invitation, suspend and resume), and
//! onboarding new regions from the national list.

mod leaving;
mod onboard;

pub(crate) use onboard::{FormPage, OnboardForm, copy_choices, onboard, render_form};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::account::{Email, FieldError};
use yui_domain::audit::AuditAction;
use yui_domain::localgov::national_list;
use yui_domain::{Locale, TenantKind, TenantStatus};
use yui_store::{AuditEntry, PlatformReason, TenantRecord};

use crate::error::PageError;
use crate::extract::{
    ClientIp, CsrfForm, CsrfOnly, Lang, Operator, TenantOnboard, TenantPath, TenantRead,
    TenantResume, TenantSuspend,
};
use crate::render::{FieldView, base_context, datetime_text, error_views, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("ops.html", include_str!("templates/ops.html")),
    (
        "ops_prefecture.html",
        include_str!("templates/ops_prefecture.html"),
    ),
    ("ops_tenant.html", include_str!("templates/ops_tenant.html")),
    (
        "ops_onboard.html",
        include_str!("templates/ops_onboard.html"),
    ),
    (
        "ops_onboard_search.html",
        include_str!("templates/ops_onboard_search.html"),
    ),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ops/", get(overview))
        .route("/ops/prefectures/{prefix}", get(prefecture))
        .route("/ops/tenants/new", get(onboard::new))
        .route("/ops/tenants", post(onboard::create))
        .route("/ops/tenants/{slug}", get(tenant_page))
        .route("/ops/tenants/{slug}/invite", post(invite))
        .route("/ops/tenants/{slug}/suspend", post(suspend))
        .route("/ops/tenants/{slug}/resume", post(resume))
        .route("/ops/tenants/{slug}/leaving", post(leaving::request))
        .route(
            "/ops/tenants/{slug}/leaving/{id}/confirm",
            post(leaving::confirm),
        )
        .route(
            "/ops/tenants/{slug}/leaving/{id}/cancel",
            post(leaving::cancel),
        )
        .route(
            "/ops/tenants/{slug}/leaving/{id}/erase",
            post(leaving::erase),
        )
        .route(
            "/ops/tenants/{slug}/leaving/{id}/archive.zip",
            get(leaving::archive),
        )
}

#[derive(Debug, Default, Deserialize)]
struct Notice {
    done: Option<String>,
}

/// What `?done=` says after an action, in the viewer's language.
fn notice_text(state: &AppState, locale: Locale, done: Option<&str>) -> Option<String> {
    let c = &state.inner.catalogs;
    done.map(|d| match d {
        "onboarded" => c.text(locale, "onb_done_onboarded"),
        "not_invited" => c.text(locale, "onb_done_not_invited"),
        "invited" => c.text(locale, "onb_done_invited"),
        "leaving_requested" => c.text(locale, "lv_done_requested"),
        "leaving_open" => c.text(locale, "lv_done_open"),
        "leaving_second_operator" => c.text(locale, "lv_done_second_operator"),
        "leaving_not_open" => c.text(locale, "lv_done_not_open"),
        "leaving_confirmed" => c.text(locale, "lv_done_confirmed"),
        "leaving_cancelled" => c.text(locale, "lv_done_cancelled"),
        "leaving_not_yet" => c.text(locale, "lv_done_not_yet"),
        "leaving_erased" => c.text(locale, "lv_done_erased"),
        _ => c.text(locale, "ops_done"),
    })
    .map(str::to_owned)
}

/// The key of a prefecture group in addresses: its two digits, or `unions`.
const UNIONS: &str = "unions";

#[derive(Serialize)]
struct PrefectureRow {
    key: String,
    name: String,
    setting_up: i64,
    active: i64,
    suspended: i64,
}

/// `GET /ops/`: anonymous platform totals and the tenants by prefecture and state.
async fn overview(
    State(state): State<AppState>,
    lang: Lang,
    operator: Operator<TenantRead>,
    jar: CookieJar,
    Query(q): Query<Notice>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    let c = &state.inner.catalogs;
    let mut tx = state
        .store
        .platform(PlatformReason::OperatorConsole)
        .read()
        .await?;
    let states = tx.tenant_states_by_prefecture().await?;
    let totals = tx.platform_totals().await?;
    tx.commit().await?;
    let list = national_list();
    let mut rows: Vec<PrefectureRow> = list
        .prefectures()
        .map(|p| {
            let prefix = p.code.prefecture_prefix();
            let counts = states
                .iter()
                .find(|(k, _)| k.as_deref() == Some(prefix))
                .map(|(_, c)| c.clone())
                .unwrap_or_default();
            PrefectureRow {
                key: prefix.to_owned(),
                name: match locale {
                    Locale::Ja => p.name.clone(),
                    Locale::En => p.name_en.clone(),
                },
                setting_up: counts.setting_up,
                active: counts.active,
                suspended: counts.suspended,
            }
        })
        .collect();
    let unions = states
        .iter()
        .find(|(k, _)| k.is_none())
        .map(|(_, c)| c.clone())
        .unwrap_or_default();
    rows.push(PrefectureRow {
        key: UNIONS.to_owned(),
        name: c.text(locale, "ops_unions").to_owned(),
        setting_up: unions.setting_up,
        active: unions.active,
        suspended: unions.suspended,
    });
    let (jar, _) = csrf_token(&state, jar);
    let mut ctx = base_context(&state, locale, Some(&operator.account), "/ops/");
    ctx.insert("rows", &rows);
    ctx.insert(
        "totals",
        &serde_json::json!({
            "tenants": totals.tenants,
            "accounts": totals.accounts,
            "memberships": totals.memberships,
            "engagements": totals.engagements,
            "mail_pending": totals.mail_pending,
            "mail_failed": totals.mail_failed,
        }),
    );
    ctx.insert("notice", &notice_text(&state, locale, q.done.as_deref()));
    Ok((jar, render(&state, "ops.html", ctx, locale, StatusCode::OK)).into_response())
}

/// A tenant's state as the console names it.
fn state_key(r: &TenantRecord) -> &'static str {
    match (r.status, r.is_setting_up()) {
        (TenantStatus::Suspended, _) => "suspended",
        (TenantStatus::Active, true) => "setting_up",
        (TenantStatus::Active, false) => "active",
    }
}

#[derive(Serialize)]
struct TenantRow {
    slug: String,
    name: String,
    kind: String,
    state: String,
    staff: i64,
    members: i64,
    last_activity: String,
    mail_failures: i64,
}

/// `GET /ops/prefectures/{prefix}`: one prefecture's tenants (or the unions) with
/// their state and figures. Its cost follows the prefecture's size alone.
async fn prefecture(
    State(state): State<AppState>,
    lang: Lang,
    operator: Operator<TenantRead>,
    Path(prefix): Path<String>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    let c = &state.inner.catalogs;
    let list = national_list();
    let (title, prefix) = if prefix == UNIONS {
        (c.text(locale, "ops_unions").to_owned(), None)
    } else {
        let p = list
            .prefectures()
            .find(|p| p.code.prefecture_prefix() == prefix)
            .ok_or(WebError::NotFound)?;
        let name = match locale {
            Locale::Ja => p.name.clone(),
            Locale::En => p.name_en.clone(),
        };
        (name, Some(prefix))
    };
    let mut tx = state
        .store
        .platform(PlatformReason::OperatorConsole)
        .read()
        .await?;
    let tenants = tx.tenants_of_prefecture(prefix.as_deref()).await?;
    let ids: Vec<_> = tenants.iter().map(|t| t.id).collect();
    let activity = tx.tenant_activity(&ids).await?;
    tx.commit().await?;
    let rows: Vec<TenantRow> = tenants
        .iter()
        .zip(&activity)
        .map(|(t, a)| TenantRow {
            slug: t.tenant.slug.clone(),
            name: t.tenant.name.get(locale).to_owned(),
            kind: c
                .text(locale, &format!("kind_{}", t.tenant.kind.as_str()))
                .to_owned(),
            state: c
                .text(locale, &format!("ops_state_{}", state_key(t)))
                .to_owned(),
            staff: a.staff,
            members: a.members,
            last_activity: a
                .last_activity
                .map(|at| datetime_text(locale, at))
                .unwrap_or_default(),
            mail_failures: a.mail_failures,
        })
        .collect();
    let not_yet = prefix.as_deref().map(|p| {
        list.all()
            .iter()
            .filter(|e| e.administered && e.code.prefecture_prefix() == p)
            .filter(|e| {
                !tenants
                    .iter()
                    .any(|t| t.tenant.code.as_ref() == Some(&e.code))
            })
            .count()
    });
    let mut ctx = base_context(
        &state,
        locale,
        Some(&operator.account),
        &format!("/ops/prefectures/{}", prefix.as_deref().unwrap_or(UNIONS)),
    );
    ctx.insert("title", &title);
    ctx.insert("rows", &rows);
    ctx.insert("not_yet", &not_yet);
    let query: String = form_urlencoded::byte_serialize(title.as_bytes()).collect();
    ctx.insert("search_href", &format!("/ops/tenants/new?q={query}"));
    Ok(render(&state, "ops_prefecture.html", ctx, locale, StatusCode::OK).into_response())
}

/// The invitation form on a tenant's console page, as posted.
#[derive(Debug, Default, Deserialize)]
struct InviteAdminForm {
    #[serde(default)]
    admin_email: String,
}

/// What the tenant's console page shows besides the tenant: a notice, and the
/// forms as sent when one was refused (with its errors).
#[derive(Default)]
pub(crate) struct Forms<'a> {
    pub notice: Option<String>,
    pub admin_email: &'a str,
    /// The leaving request's kind and reason, as sent.
    pub leaving: Option<(&'a str, &'a str)>,
    pub errors: Vec<FieldError>,
}

#[derive(Serialize)]
struct LeavingView {
    id: i64,
    kind: String,
    is_export: bool,
    reason: String,
    requested: String,
    not_before: String,
    confirmed: Option<String>,
    state: String,
    /// Whether the viewer may confirm it (not their own request).
    can_confirm: bool,
    can_download: bool,
    can_erase: bool,
    open: bool,
}

/// `GET /ops/tenants/{slug}`.
async fn tenant_page(
    State(state): State<AppState>,
    lang: Lang,
    operator: Operator<TenantRead>,
    jar: CookieJar,
    Path(slug): Path<String>,
    Query(q): Query<Notice>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    let notice = notice_text(&state, locale, q.done.as_deref());
    let forms = Forms {
        notice,
        ..Forms::default()
    };
    show_tenant(&state, locale, &operator.account, jar, &slug, forms).await
}

pub(crate) async fn show_tenant(
    state: &AppState,
    locale: Locale,
    account: &yui_store::Account,
    jar: CookieJar,
    slug: &str,
    forms: Forms<'_>,
) -> Result<Response, PageError> {
    let errors = forms.errors;
    let c = &state.inner.catalogs;
    let tenant = TenantPath::load_even_suspended(state, slug).await?;
    let record = &tenant.record;
    let mut tx = state
        .store
        .platform(PlatformReason::OperatorConsole)
        .read()
        .await?;
    let activity = tx
        .tenant_activity(&[tenant.id])
        .await?
        .pop()
        .ok_or(WebError::NotFound)?;
    let requests = tx.leaving_requests(tenant.id).await?;
    tx.commit().await?;
    // Only how many and until when: the addresses are the invitees' own.
    let mut ttx = state.store.tenant(tenant.id).read().await?;
    let invitations = ttx.open_invitations().await?;
    let progress = ttx.setup_progress().await?;
    ttx.commit().await?;
    let now = state.now();
    let open_admin: Vec<String> = invitations
        .iter()
        .filter(|i| i.role == yui_authz::Role::TenantAdmin.as_str() && i.expires_at > now)
        .map(|i| datetime_text(locale, i.expires_at))
        .collect();
    let (jar, csrf) = csrf_token(state, jar);
    let mut admin_field = FieldView::new(
        state,
        locale,
        "admin_email",
        "email",
        forms.admin_email.to_owned(),
        "off",
        &errors,
    );
    admin_field.hint = Some(c.text(locale, "onb_admin_hint").to_owned());
    let parent = match record.parent_id {
        Some(id) => state
            .store
            .active_tenant(id)
            .await?
            .map(|p| p.name(locale).to_owned()),
        None => None,
    };
    let members: Vec<String> = record
        .tenant
        .members
        .iter()
        .map(|m| format!("{} {}", m.code.as_str(), m.name.get(locale)))
        .collect();
    let mut ctx = base_context(
        state,
        locale,
        Some(account),
        &format!("/ops/tenants/{slug}"),
    );
    ctx.insert("slug", slug);
    ctx.insert("name", record.tenant.name.get(locale));
    ctx.insert(
        "kind",
        c.text(locale, &format!("kind_{}", record.tenant.kind.as_str())),
    );
    ctx.insert("code", &record.tenant.code.as_ref().map(|c| c.as_str()));
    ctx.insert(
        "prefecture_key",
        &record
            .tenant
            .code
            .as_ref()
            .map_or(UNIONS, |c| c.prefecture_prefix()),
    );
    ctx.insert("parent", &parent);
    ctx.insert("members", &members);
    ctx.insert(
        "state",
        c.text(locale, &format!("ops_state_{}", state_key(record))),
    );
    ctx.insert("suspended", &(record.status == TenantStatus::Suspended));
    ctx.insert(
        "setting_up_since",
        &progress
            .setting_up_since
            .map(|at| datetime_text(locale, at)),
    );
    ctx.insert("staff", &activity.staff);
    ctx.insert("members_count", &activity.members);
    ctx.insert(
        "last_activity",
        &activity.last_activity.map(|at| datetime_text(locale, at)),
    );
    ctx.insert("mail_failures", &activity.mail_failures);
    ctx.insert("open_admin", &open_admin);
    ctx.insert("admin_field", &admin_field);
    ctx.insert("errors", &error_views(state, locale, &errors));
    ctx.insert("csrf", &csrf);
    ctx.insert("notice", &forms.notice);
    ctx.insert("is_union", &(record.tenant.kind == TenantKind::Union));
    let leaving: Vec<LeavingView> = requests
        .iter()
        .map(|r| {
            let export = r.kind == yui_store::LeavingKind::Export;
            let state_key = match (r.cancelled_at, r.done_at, r.confirmed_at) {
                (Some(_), _, _) => "lv_state_cancelled",
                (_, Some(_), _) => "lv_state_done",
                (_, _, Some(_)) => "lv_state_confirmed",
                _ => "lv_state_waiting",
            };
            LeavingView {
                id: r.id,
                kind: c
                    .text(locale, &format!("lv_kind_{}", r.kind.as_str()))
                    .to_owned(),
                is_export: export,
                reason: r.reason.clone(),
                requested: datetime_text(locale, r.requested_at),
                not_before: datetime_text(locale, r.not_before),
                confirmed: r.confirmed_at.map(|at| datetime_text(locale, at)),
                state: c.text(locale, state_key).to_owned(),
                can_confirm: r.is_open()
                    && r.confirmed_at.is_none()
                    && r.requested_by != account.id,
                can_download: export
                    && r.is_open()
                    && r.confirmed_at
                        .is_some_and(|at| now < at + chrono::Duration::days(7)),
                can_erase: !export
                    && r.is_open()
                    && r.confirmed_at.is_some()
                    && now >= r.not_before,
                open: r.is_open(),
            }
        })
        .collect();
    ctx.insert("leaving", &leaving);
    let (kind, reason) = forms.leaving.unwrap_or(("export", ""));
    ctx.insert("leaving_kind", kind);
    ctx.insert("leaving_reason", reason);
    let error_of = |name: &str| {
        errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| crate::render::field_message(state, locale, e))
    };
    ctx.insert("kind_error", &error_of("kind"));
    ctx.insert("reason_error", &error_of("reason"));
    ctx.insert("wait_days", &leaving::DELETION_WAIT_DAYS);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((jar, render(state, "ops_tenant.html", ctx, locale, status)).into_response())
}

/// `POST /ops/tenants/{slug}/invite`: (re-)invites the tenant's administrator, e.g.
/// when the first invitation expired unanswered.
async fn invite(
    State(state): State<AppState>,
    lang: Lang,
    operator: Operator<TenantOnboard>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<InviteAdminForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(Locale::Ja);
    // The tenant exists (or the page is a 404) before the address is judged. Only a
    // region still being set up gets its administrator from the console: in a live
    // one, an operator could otherwise make themselves staff and read its members.
    let tenant = TenantPath::load_even_suspended(&state, &slug).await?;
    if !tenant.record.is_setting_up() {
        return Err(WebError::NotFound.into());
    }
    let email = match Email::parse("admin_email", &form.admin_email) {
        Ok(e) => e,
        Err(e) => {
            return show_tenant(
                &state,
                locale,
                &operator.account,
                jar,
                &slug,
                Forms {
                    admin_email: &form.admin_email,
                    errors: vec![e],
                    ..Forms::default()
                },
            )
            .await;
        }
    };
    match onboard::invite_admin(&state, &slug, &operator.account, &email, ip).await {
        Ok(Ok(())) => {
            Ok(Redirect::to(&format!("/ops/tenants/{slug}?done=invited")).into_response())
        }
        Ok(Err(e)) => {
            show_tenant(
                &state,
                locale,
                &operator.account,
                jar,
                &slug,
                Forms {
                    admin_email: &form.admin_email,
                    errors: vec![e],
                    ..Forms::default()
                },
            )
            .await
        }
        // A suspended tenant takes no new staff until resumed.
        Err(e) => Err(e),
    }
}

/// Suspends or resumes the tenant `slug`, with its audit row, in one transaction.
async fn set_status(
    state: &AppState,
    slug: &str,
    operator: &yui_store::Account,
    ip: String,
    (status, action): (TenantStatus, AuditAction),
) -> Result<Response, PageError> {
    let now = state.now();
    let tenant = match state.store.tenant_by_slug(slug).await {
        Ok(t) => t,
        Err(yui_store::StoreError::NotFound) => return Err(WebError::NotFound.into()),
        Err(e) => return Err(e.into()),
    };
    let mut tx = state
        .store
        .platform(PlatformReason::OperatorConsole)
        .write()
        .await?;
    tx.set_tenant_status(tenant.id, status, now).await?;
    let entry = AuditEntry {
        actor_id: Some(operator.id),
        action,
        detail: serde_json::json!({ "tenant": slug }),
        ip,
    };
    tx.audit_in_tenant(tenant.id, &entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/ops/tenants/{slug}?done=1")).into_response())
}

async fn suspend(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    operator: Operator<TenantSuspend>,
    ClientIp(ip): ClientIp,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let change = (TenantStatus::Suspended, AuditAction::TenantSuspended);
    set_status(&state, &slug, &operator.account, ip, change).await
}

async fn resume(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    operator: Operator<TenantResume>,
    ClientIp(ip): ClientIp,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let change = (TenantStatus::Active, AuditAction::TenantResumed);
    set_status(&state, &slug, &operator.account, ip, change).await
}
