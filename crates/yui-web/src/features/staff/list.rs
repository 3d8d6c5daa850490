//! The staff page: the tenant's live grants and the invitation form.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use yui_authz::Scope;
use yui_domain::Locale;
use yui_domain::account::FieldError;
use yui_store::AccountsTx;

use super::TENANT_ROLES;
use crate::AppState;
use crate::error::PageError;
use crate::extract::{Lang, Staff, StaffRead};
use crate::render::{
    FieldView, base_context, datetime_text, echo, error_views, official_date_text, render,
};
use crate::security::csrf_token;

#[derive(Debug, Default, Deserialize)]
pub(super) struct Notice {
    done: Option<String>,
}

/// The invitation form as typed.
#[derive(Debug, Default, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    pub(super) email: String,
    #[serde(default)]
    pub(super) role: String,
    #[serde(default)]
    pub(super) until: String,
}

pub(super) struct StaffView<'a> {
    pub form: &'a InviteForm,
    pub errors: Vec<FieldError>,
    pub notice: Option<&'a str>,
    /// A refusal that is no field's fault (e.g. removing the last admin).
    pub problem: Option<&'a str>,
    pub status: StatusCode,
}

/// The last day of a role that ends at `until` (stored as the instant it stops, so
/// the last day is the day before), or "no end".
pub(crate) fn until_text(
    state: &AppState,
    locale: Locale,
    until: Option<chrono::DateTime<chrono::Utc>>,
) -> String {
    until.map_or_else(
        || state.inner.catalogs.text(locale, "no_end").to_owned(),
        |u| {
            let last =
                (u.with_timezone(&yui_domain::fiscal::tokyo()) - Duration::seconds(1)).date_naive();
            official_date_text(locale, last)
        },
    )
}

pub(super) async fn render_staff<P>(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    staff: &Staff<P>,
    view: StaffView<'_>,
) -> Result<Response, PageError> {
    let c = &state.inner.catalogs;
    let tenant = &staff.tenant;
    let slug = tenant.slug();
    #[derive(Serialize)]
    struct GrantRow {
        id: i64,
        name: String,
        email: String,
        role: String,
        until: String,
        /// The viewer's own grant: removing it asks for confirmation first.
        mine: bool,
    }
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let mut grants = Vec::new();
    for g in yui_authz::list_grants_in(&mut tx).await? {
        if !g.live_at(now) || g.scope != Scope::Tenant {
            continue;
        }
        let person = tx.account_by_id(g.account_id).await?;
        grants.push(GrantRow {
            id: g.id.get(),
            name: person.display_name,
            email: person.email,
            mine: g.account_id == staff.account.id,
            role: c
                .text(locale, &format!("role_{}", g.role.as_str()))
                .to_owned(),
            until: until_text(state, locale, g.valid_until),
        });
    }
    #[derive(Serialize)]
    struct InvitationRow {
        id: i64,
        email: String,
        role: String,
        until: String,
        expires: String,
        expired: bool,
    }
    let invitations: Vec<InvitationRow> = tx
        .open_invitations()
        .await?
        .into_iter()
        .map(|i| InvitationRow {
            id: i.id.get(),
            role: c.text(locale, &format!("role_{}", i.role)).to_owned(),
            until: until_text(state, locale, i.valid_until),
            expires: datetime_text(locale, i.expires_at),
            expired: i.expires_at <= now,
            email: i.email,
        })
        .collect();
    tx.commit().await?;
    let roles: Vec<(&str, String)> = TENANT_ROLES
        .iter()
        .map(|r| {
            (
                r.as_str(),
                c.text(locale, &format!("role_{}", r.as_str())).to_owned(),
            )
        })
        .collect();
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(
        state,
        locale,
        Some(&staff.account),
        &format!("/t/{slug}/staff"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    // The rounds link for those who may read rounds (an administrator alone may not).
    ctx.insert(
        "can_rounds",
        &state.authz.check(
            staff.account.id,
            slug,
            yui_domain::Permission::RoundRead,
            state.now(),
        ),
    );
    ctx.insert("grants", &grants);
    ctx.insert("invitations", &invitations);
    ctx.insert("roles", &roles);
    ctx.insert("chosen_role", &view.form.role);
    ctx.insert("until", &echo(view.form.until.clone()));
    ctx.insert("csrf", &csrf);
    ctx.insert("notice", &view.notice.map(|k| c.text(locale, k)));
    ctx.insert("problem", &view.problem.map(|k| c.text(locale, k)));
    ctx.insert(
        "email_field",
        &FieldView::new(
            state,
            locale,
            "email",
            "email",
            view.form.email.clone(),
            "off",
            &view.errors,
        ),
    );
    let until_error = view
        .errors
        .iter()
        .find(|e| e.field == "until")
        .map(|e| crate::render::field_message(state, locale, e));
    ctx.insert("until_error", &until_error);
    let role_error = view
        .errors
        .iter()
        .find(|e| e.field == "role")
        .map(|e| crate::render::field_message(state, locale, e));
    ctx.insert("role_error", &role_error);
    ctx.insert("errors", &error_views(state, locale, &view.errors));
    Ok((jar, render(state, "staff.html", ctx, locale, view.status)).into_response())
}

/// The staff page answering 409 with "the last administrator stays", the invitation
/// form as `form` had it.
pub(super) async fn refuse_last_admin<P>(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    staff: &Staff<P>,
    form: &InviteForm,
) -> Result<Response, PageError> {
    let view = StaffView {
        form,
        errors: Vec::new(),
        notice: None,
        problem: Some("err_last_admin"),
        status: StatusCode::CONFLICT,
    };
    render_staff(state, locale, jar, staff, view).await
}

pub(super) async fn page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<StaffRead>,
    jar: CookieJar,
    Query(q): Query<Notice>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let notice = match q.done.as_deref() {
        Some("invited") => Some("staff_invited"),
        Some("withdrawn") => Some("invitation_withdrawn"),
        Some(_) => Some("staff_revoked"),
        None => None,
    };
    let form = InviteForm {
        role: "coordinator".to_owned(),
        ..Default::default()
    };
    let view = StaffView {
        form: &form,
        errors: Vec::new(),
        notice,
        problem: None,
        status: StatusCode::OK,
    };
    render_staff(&state, locale, jar, &staff, view).await
}
