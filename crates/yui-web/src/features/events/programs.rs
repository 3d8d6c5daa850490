//! A tenant's programs, one per fiscal year: the list and the new program's form
//! (prefilled with the coming year), and each program's page with its events, its
//! title and field-work rule, and new events from the tenant's templates.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::account::{FieldError, Problem};
use yui_domain::audit::AuditAction;
use yui_domain::locale::Localized;
use yui_domain::program::{
    FieldworkRule, ProgramInput, check_program, default_fiscal_year, event_templates,
    fiscal_label_in,
};
use yui_domain::{Locale, Permission, ProgramId};
use yui_store::{Account, AuditEntry, AuditTx, Program, StoreError};

use super::flow;
use super::form::{Field, Form, text, today};
use super::manage::{SeatCount, may, program_title, seat_counts};
use crate::AppState;
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang, ProgramManage, ProgramView, Staff, TenantPath};
use crate::render::{base_context, render};
use crate::security::csrf_token;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{slug}/programs", get(list).post(create))
        .route("/t/{slug}/programs/{program}", get(detail).post(edit))
}

#[derive(Debug, Serialize)]
struct ProgramRow {
    id: i64,
    year: String,
    title: String,
    rule: String,
}

/// The new program's form: the tenant's name and the year programs are planned for.
fn new_input(state: &AppState, tenant: &TenantPath) -> ProgramInput {
    let name = &tenant.record.tenant.name;
    let name = Localized {
        ja: name.ja.clone(),
        en: name.en.clone(),
    };
    ProgramInput::for_year(&name, default_fiscal_year(today(state)))
}

fn rule_field(form: &Form<'_>, chosen: &str) -> Field {
    let options = FieldworkRule::ALL
        .iter()
        .map(|r| {
            (
                r.code().to_owned(),
                text(form.state, form.locale, &format!("evs_rule_{}", r.code())),
            )
        })
        .collect();
    form.choose("fieldwork_rule", "radio", options, chosen, true)
}

#[allow(clippy::too_many_arguments)]
async fn render_list(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    tenant: &TenantPath,
    input: &ProgramInput,
    errors: &[FieldError],
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let programs = tx.programs().await?;
    tx.commit().await?;
    let rows: Vec<ProgramRow> = programs
        .iter()
        .map(|p| ProgramRow {
            id: p.id.get(),
            year: fiscal_label_in(p.fiscal_year(), locale),
            title: program_title(p, locale).to_owned(),
            rule: text(
                state,
                locale,
                &format!("evs_rule_{}", p.fieldwork_rule().code()),
            ),
        })
        .collect();
    let slug = tenant.slug();
    let path = format!("/t/{slug}/programs");
    let form = Form {
        state,
        locale,
        errors,
        year: None,
    };
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(account), &path);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("programs", &rows);
    ctx.insert("csrf", &csrf);
    ctx.insert(
        "can_manage",
        &may(state, account, tenant, Permission::ProgramManage),
    );
    ctx.insert(
        "fields",
        &vec![
            form.hint(
                form.field("fiscal_year", "number", &input.fiscal_year, true),
                "evs_hint_fiscal_year",
            ),
            form.field("title", "text", &input.title, true),
            form.field("title_en", "text", &input.title_en, false),
        ],
    );
    ctx.insert("errors", &form.summary());
    Ok((jar, render(state, "evs_programs.html", ctx, locale, status)).into_response())
}

async fn list(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<ProgramView>,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let input = new_input(&state, &staff.tenant);
    render_list(
        &state,
        locale,
        jar,
        &staff.account,
        &staff.tenant,
        &input,
        &[],
        StatusCode::OK,
    )
    .await
}

/// Creates the program of a year; a second one for the same year is refused on its
/// field, with what was typed kept.
async fn create(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<ProgramManage>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(input): CsrfForm<ProgramInput>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let refuse = |errors: Vec<FieldError>, jar| {
        let (state, staff, input) = (&state, &staff, &input);
        async move {
            render_list(
                state,
                locale,
                jar,
                &staff.account,
                &staff.tenant,
                input,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let fields = match check_program(&input, today(&state)) {
        Ok(f) => f,
        Err(errors) => return refuse(errors, jar).await,
    };
    let taken = vec![FieldError {
        field: "fiscal_year",
        problem: Problem::Taken,
    }];
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    // Asked first so PostgreSQL's transaction is not spoilt by the unique violation;
    // the constraint still decides a race.
    if tx.program_of_year(fields.fiscal_year).await?.is_some() {
        tx.rollback().await?;
        return refuse(taken, jar).await;
    }
    let id = match tx
        .create_program(&fields, FieldworkRule::Preferred, now)
        .await
    {
        Ok(id) => id,
        Err(StoreError::Conflict(f)) if f == "fiscal_year" => {
            tx.rollback().await?;
            return refuse(taken, jar).await;
        }
        Err(e) => return Err(e.into()),
    };
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::ProgramCreated,
        detail: serde_json::json!({ "program": id, "fiscal_year": fields.fiscal_year.0 }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/programs/{id}?done=created",
        staff.tenant.slug()
    ))
    .into_response())
}

/// The program form as edited: the year stays.
#[derive(Debug, Default, Deserialize)]
struct EditForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    title_en: String,
    #[serde(default)]
    fieldwork_rule: String,
}

#[derive(Debug, Serialize)]
struct EventRow {
    id: i64,
    title: String,
    kind: String,
    status: String,
    when: String,
    seats: Vec<SeatCount>,
    waitlisted: i64,
}

#[derive(Debug, Serialize)]
struct TemplateLink {
    template: &'static str,
    label: String,
}

#[derive(Debug, Default, Deserialize)]
struct Notice {
    done: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn render_program(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    tenant: &TenantPath,
    program: &Program,
    form_values: &EditForm,
    errors: &[FieldError],
    notice: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let events = tx.events(false, Some(program.id), None, 500).await?;
    tx.commit().await?;
    let mut rows = Vec::new();
    for e in &events {
        let f = e.fields()?;
        rows.push(EventRow {
            id: e.id.get(),
            title: f.title(locale).to_owned(),
            kind: f.kind.name(locale).to_owned(),
            status: e.status().name(locale).to_owned(),
            when: flow::when_text(locale, &f.days),
            seats: seat_counts(e, &f, locale),
            waitlisted: e.waitlisted,
        });
    }
    let slug = tenant.slug();
    let path = format!("/t/{slug}/programs/{}", program.id);
    let form = Form {
        state,
        locale,
        errors,
        year: None,
    };
    let templates: Vec<TemplateLink> = event_templates(&tenant.record.tenant.templates)
        .iter()
        .map(|(kind, t)| TemplateLink {
            template: kind.code(),
            label: text(state, locale, "evs_new_from_template")
                .replace("{kind}", kind.name(locale))
                .replace("{title}", t.title.get(locale)),
        })
        .chain(std::iter::once(TemplateLink {
            template: "blank",
            label: text(state, locale, "evs_new_blank"),
        }))
        .collect();
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(account), &path);
    ctx.insert("slug", slug);
    ctx.insert("program_id", &program.id.get());
    ctx.insert("title", program_title(program, locale));
    ctx.insert("year", &fiscal_label_in(program.fiscal_year(), locale));
    ctx.insert(
        "rule",
        &text(
            state,
            locale,
            &format!("evs_rule_{}", program.fieldwork_rule().code()),
        ),
    );
    ctx.insert("events", &rows);
    ctx.insert("templates", &templates);
    ctx.insert("csrf", &csrf);
    ctx.insert(
        "can_manage",
        &may(state, account, tenant, Permission::ProgramManage),
    );
    ctx.insert(
        "can_add",
        &may(state, account, tenant, Permission::EventManage),
    );
    ctx.insert(
        "fields",
        &vec![
            form.field("title", "text", &form_values.title, true),
            form.field("title_en", "text", &form_values.title_en, false),
            form.hint(
                rule_field(&form, &form_values.fieldwork_rule),
                "evs_hint_fieldwork_rule",
            ),
        ],
    );
    ctx.insert("errors", &form.summary());
    ctx.insert("notice", &notice.map(|k| text(state, locale, k)));
    Ok((jar, render(state, "evs_program.html", ctx, locale, status)).into_response())
}

async fn program_of(state: &AppState, tenant: &TenantPath, id: i64) -> Result<Program, PageError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let p = tx.program(ProgramId::new(id)).await?;
    tx.commit().await?;
    Ok(p)
}

async fn detail(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    staff: Staff<ProgramView>,
    jar: CookieJar,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let program = program_of(&state, &staff.tenant, id).await?;
    let values = EditForm {
        title: program.title_ja.clone(),
        title_en: program.title_en.clone(),
        fieldwork_rule: program.fieldwork_rule().code().to_owned(),
    };
    let notice = match notice.done.as_deref() {
        Some("created") => Some("evs_done_program_created"),
        Some("saved") => Some("evs_done_saved"),
        _ => None,
    };
    render_program(
        &state,
        locale,
        jar,
        &staff.account,
        &staff.tenant,
        &program,
        &values,
        &[],
        notice,
        StatusCode::OK,
    )
    .await
}

/// Renames a program and sets how its matching round weighs field work.
async fn edit(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    staff: Staff<ProgramManage>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<EditForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let program = program_of(&state, &staff.tenant, id).await?;
    let input = ProgramInput {
        fiscal_year: program.fiscal_year.to_string(),
        title: form.title.clone(),
        title_en: form.title_en.clone(),
    };
    // The year is not edited: only the titles' errors count (an old year would
    // otherwise be out of the range new programs may take).
    let mut errors: Vec<FieldError> = match check_program(&input, today(&state)) {
        Ok(_) => Vec::new(),
        Err(e) => e.into_iter().filter(|e| e.field != "fiscal_year").collect(),
    };
    let rule = FieldworkRule::parse(form.fieldwork_rule.trim());
    if rule.is_none() {
        errors.push(FieldError {
            field: "fieldwork_rule",
            problem: if form.fieldwork_rule.trim().is_empty() {
                Problem::Required
            } else {
                Problem::InvalidChoice
            },
        });
    }
    let (Some(rule), true) = (rule, errors.is_empty()) else {
        return render_program(
            &state,
            locale,
            jar,
            &staff.account,
            &staff.tenant,
            &program,
            &form,
            &errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let title = yui_domain::account::one_line(&form.title);
    let en = yui_domain::account::one_line(&form.title_en);
    let title = Localized {
        en: if en.is_empty() { title.clone() } else { en },
        ja: title,
    };
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    tx.update_program(program.id, &title, rule, now).await?;
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::ProgramEdited,
        detail: serde_json::json!({ "program": program.id, "fieldwork_rule": rule.code() }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/programs/{}?done=saved",
        staff.tenant.slug(),
        program.id
    ))
    .into_response())
}
