//! A new region's setup: the checklist its administrator works through (introduction,
//! branding and logo, consent wording, mail sender, first program) and the launch
//! that lists it publicly; and a prefecture onboarding its municipalities as its
//! children.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::audit::AuditAction;
use yui_domain::localgov::national_list;
use yui_domain::onboarding::{SetupStep, checklist};
use yui_domain::settings::SettingsSection;
use yui_domain::{Locale, TenantKind};
use yui_store::{AuditEntry, AuditTx, PlatformReason};

use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, CsrfOnly, Lang, Staff, TenantConfigure};
use crate::features::ops::{FormPage, OnboardForm, copy_choices, onboard, render_form};
use crate::render::{base_context, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("setup.html", include_str!("templates/setup.html")),
    (
        "setup_municipalities.html",
        include_str!("templates/setup_municipalities.html"),
    ),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{slug}/setup", get(page))
        .route("/t/{slug}/setup/launch", post(launch))
        .route(
            "/t/{slug}/municipalities",
            get(municipalities).post(invite_municipality),
        )
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    done: Option<String>,
}

/// Which settings section completes a step (the first program is not a setting).
fn section_of(step: SetupStep) -> Option<SettingsSection> {
    match step {
        SetupStep::Introduction => Some(SettingsSection::Introduction),
        SetupStep::Branding => Some(SettingsSection::Branding),
        SetupStep::Consent => Some(SettingsSection::Consent),
        SetupStep::MailSender => Some(SettingsSection::Mail),
        SetupStep::FirstProgram => None,
    }
}

#[derive(Serialize)]
struct StepView {
    label: String,
    hint: String,
    href: String,
    done: bool,
}

/// The checklist and whether the region is still being set up.
async fn load_steps(
    state: &AppState,
    staff: &Staff<TenantConfigure>,
) -> Result<(Vec<(SetupStep, bool)>, bool), PageError> {
    let mut tx = state.store.tenant(staff.tenant.id).read().await?;
    let progress = tx.setup_progress().await?;
    let edited = tx.edited_settings_sections().await?;
    tx.commit().await?;
    let steps = checklist(|step| match section_of(step) {
        Some(section) => edited.iter().any(|(s, _)| *s == section),
        None => progress.has_program,
    });
    Ok((steps, progress.setting_up_since.is_some()))
}

fn show(
    state: &AppState,
    locale: Locale,
    staff: &Staff<TenantConfigure>,
    jar: CookieJar,
    (steps, setting_up): (Vec<(SetupStep, bool)>, bool),
    (notice, problem, status): (Option<&str>, Option<&str>, StatusCode),
) -> Response {
    let c = &state.inner.catalogs;
    let slug = staff.tenant.slug();
    let views: Vec<StepView> = steps
        .iter()
        .map(|&(step, done)| StepView {
            label: c
                .text(locale, &format!("setup_step_{}", step.as_str()))
                .to_owned(),
            hint: c
                .text(locale, &format!("setup_hint_{}", step.as_str()))
                .to_owned(),
            href: match section_of(step) {
                Some(section) => format!("/t/{slug}/settings/{}", section.as_str()),
                None => format!("/t/{slug}/programs"),
            },
            done,
        })
        .collect();
    let remaining = steps.iter().filter(|(_, done)| !done).count();
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(
        state,
        locale,
        Some(&staff.account),
        &format!("/t/{slug}/setup"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", staff.tenant.record.tenant.name.get(locale));
    ctx.insert("steps", &views);
    ctx.insert("remaining", &remaining);
    ctx.insert("setting_up", &setting_up);
    ctx.insert("csrf", &csrf);
    ctx.insert("notice", &notice.map(|k| c.text(locale, k)));
    ctx.insert("problem", &problem.map(|k| c.text(locale, k)));
    ctx.insert(
        "is_prefecture",
        &(staff.tenant.record.tenant.kind == TenantKind::Prefecture),
    );
    (jar, render(state, "setup.html", ctx, locale, status)).into_response()
}

/// `GET /t/{slug}/setup`: the checklist, each step with where to do it.
async fn page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let loaded = load_steps(&state, &staff).await?;
    let notice = q.done.as_deref().map(|_| "setup_launched");
    Ok(show(
        &state,
        locale,
        &staff,
        jar,
        loaded,
        (notice, None, StatusCode::OK),
    ))
}

/// `POST /t/{slug}/setup/launch`: lists the region publicly once every step is done.
async fn launch(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let now = state.now();
    let (steps, setting_up) = load_steps(&state, &staff).await?;
    if setting_up && steps.iter().any(|(_, done)| !done) {
        let refused = (None, Some("setup_not_ready"), StatusCode::CONFLICT);
        return Ok(show(
            &state,
            locale,
            &staff,
            jar,
            (steps, setting_up),
            refused,
        ));
    }
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    tx.ensure_active().await?;
    // A second press (or two at once) launches once and logs once.
    if tx.launch(now).await? {
        let entry = AuditEntry {
            actor_id: Some(staff.account.id),
            action: AuditAction::TenantLaunched,
            detail: serde_json::json!({ "tenant": staff.tenant.slug() }),
            ip,
        };
        tx.audit(&entry, now).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/t/{}/setup?done=launched", staff.tenant.slug())).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct MunicipalityPick {
    #[serde(default)]
    code: String,
    done: Option<String>,
}

#[derive(Serialize)]
struct MunicipalityRow {
    code: String,
    name: String,
    kana: String,
    /// The tenant it is, if on Yui.
    slug: Option<String>,
    state: String,
}

/// `GET /t/{slug}/municipalities`: a prefecture's municipalities, which are on Yui,
/// and (with `?code=`) the form that onboards one as its child.
async fn municipalities(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    jar: CookieJar,
    Query(q): Query<MunicipalityPick>,
) -> Result<Response, PageError> {
    let record = &staff.tenant.record;
    let locale = lang.or(record.tenant.default_locale);
    let code = prefecture_code(&staff)?;
    let list = national_list();
    let slug = staff.tenant.slug();
    if let Some(entry) = list
        .municipalities_of(&code)
        .find(|e| e.administered && e.code.as_str() == q.code.trim())
    {
        let (jar, csrf) = csrf_token(&state, jar);
        let copy = copy_choices(&state, Some(entry)).await?;
        let form = OnboardForm::picked(entry, slug);
        let page = FormPage {
            form: &form,
            errors: Vec::new(),
            member_problems: Vec::new(),
            action: format!("/t/{slug}/municipalities"),
            copy_choices: copy,
            status: StatusCode::OK,
        };
        return Ok((
            jar,
            render_form(&state, locale, &staff.account, &csrf, &page),
        )
            .into_response());
    }
    let c = &state.inner.catalogs;
    let mut tx = state
        .store
        .platform(PlatformReason::Directory)
        .read()
        .await?;
    let on_yui = tx
        .tenants_of_prefecture(Some(code.prefecture_prefix()))
        .await?;
    tx.commit().await?;
    let rows: Vec<MunicipalityRow> = list
        .municipalities_of(&code)
        .filter(|e| e.administered)
        .map(|e| {
            let tenant = on_yui
                .iter()
                .find(|t| t.tenant.code.as_ref() == Some(&e.code));
            MunicipalityRow {
                code: e.code.as_str().to_owned(),
                name: e.name.clone(),
                kana: e.kana.clone(),
                slug: tenant.map(|t| t.tenant.slug.clone()),
                state: match tenant {
                    None => String::new(),
                    Some(t) if t.is_setting_up() => {
                        c.text(locale, "ops_state_setting_up").to_owned()
                    }
                    Some(t) if t.status == yui_domain::TenantStatus::Suspended => {
                        c.text(locale, "ops_state_suspended").to_owned()
                    }
                    Some(_) => c.text(locale, "ops_state_active").to_owned(),
                },
            }
        })
        .collect();
    let mut ctx = base_context(
        &state,
        locale,
        Some(&staff.account),
        &format!("/t/{slug}/municipalities"),
    );
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", record.tenant.name.get(locale));
    ctx.insert("rows", &rows);
    ctx.insert(
        "notice",
        &q.done.map(|_| c.text(locale, "setup_municipality_invited")),
    );
    Ok((
        jar,
        render(
            &state,
            "setup_municipalities.html",
            ctx,
            locale,
            StatusCode::OK,
        ),
    )
        .into_response())
}

/// `POST /t/{slug}/municipalities`: onboards one of the prefecture's municipalities
/// as its child and invites its administrator.
async fn invite_municipality(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<TenantConfigure>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<OnboardForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let code = prefecture_code(&staff)?;
    let slug = staff.tenant.slug();
    let entry = national_list()
        .municipalities_of(&code)
        .find(|e| e.code.as_str() == form.code.trim());
    let copy = copy_choices(&state, entry.or(national_list().by_code(code.as_str()))).await?;
    match onboard(
        &state,
        &form,
        &staff.account,
        Some(&staff.tenant),
        &copy,
        ip,
    )
    .await?
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/t/{slug}/municipalities?done=invited")).into_response())
        }
        Err((errors, member_problems)) => {
            let (jar, csrf) = csrf_token(&state, jar);
            let page = FormPage {
                form: &form,
                errors,
                member_problems,
                action: format!("/t/{slug}/municipalities"),
                copy_choices: copy,
                status: StatusCode::UNPROCESSABLE_ENTITY,
            };
            Ok((
                jar,
                render_form(&state, locale, &staff.account, &csrf, &page),
            )
                .into_response())
        }
    }
}

/// The prefecture's code: only a prefecture has municipalities to onboard.
fn prefecture_code(staff: &Staff<TenantConfigure>) -> Result<yui_domain::LocalGovCode, WebError> {
    let t = &staff.tenant.record.tenant;
    match (&t.kind, &t.code) {
        (TenantKind::Prefecture, Some(code)) => Ok(code.clone()),
        _ => Err(WebError::NotFound),
    }
}
