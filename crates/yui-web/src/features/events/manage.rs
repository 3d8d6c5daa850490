//! Staff run events: the event form (new, from one of the tenant's templates, and
//! edits), publishing and calling off, the registrants with their answers and the
//! waitlist, a coordinator's approvals and cancellations, travel subsidies,
//! no-shows, and the registrants' and subsidies' CSV.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use chrono::{Days, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use yui_domain::account::FieldError;
use yui_domain::audit::AuditAction;
use yui_domain::event::question::{Answer, LOGISTICS, Question, QuestionInput, REGISTRATION};
use yui_domain::event::{
    Audience, DAYS_MAX, DayInput, EventFields, EventInput, EventKind, EventStatus, Fee, Format,
    Selection, TravelSubsidy, check_event, check_event_edit,
};
use yui_domain::fiscal::{FiscalYear, tokyo};
use yui_domain::program::{check_event_year, event_templates};
use yui_domain::registration::RegistrationStatus;
use yui_domain::{EventId, Locale, Permission, ProgramId, RegistrationId};
use yui_store::{Account, AuditEntry, AuditTx, Event, Program, Registration};

use super::flow;
use super::form::{Field, Form, text, today};
use crate::error::PageError;
use crate::extract::{
    ClientIp, CsrfForm, EventExport, EventManage, EventRead, Lang, RegistrationManage, Staff,
    TenantPath,
};
use crate::render::csv::CsvDoc;
use crate::render::{base_context, date_text, datetime_text, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{slug}/events/new", get(new_page).post(create))
        .route("/t/{slug}/events/{id}/edit", get(edit_page).post(edit))
        .route("/t/{slug}/events/{id}/status", post(status))
        .route("/t/{slug}/events/{id}/registrants", get(registrants))
        .route(
            "/t/{slug}/events/{id}/registrants.csv",
            get(registrants_csv),
        )
        .route("/t/{slug}/events/{id}/subsidies.csv", get(subsidies_csv))
        .route("/t/{slug}/events/{id}/no-shows", post(no_shows))
        .route(
            "/t/{slug}/events/{id}/registrants/{registration}/decide",
            post(decide),
        )
        .route(
            "/t/{slug}/events/{id}/registrants/{registration}/cancel",
            post(cancel),
        )
        .route(
            "/t/{slug}/events/{id}/registrants/{registration}/subsidy",
            post(subsidy),
        )
}

/// Whether `account` holds `p` in the tenant now (for what a page offers).
pub(super) fn may(state: &AppState, account: &Account, tenant: &TenantPath, p: Permission) -> bool {
    state.authz.check(account.id, tenant.slug(), p, state.now())
}

/// Seats taken of each kind the event offers.
#[derive(Debug, Serialize)]
pub(super) struct SeatCount {
    kind: &'static str,
    confirmed: u32,
    capacity: u32,
}

pub(super) fn seat_counts(event: &Event, fields: &EventFields, locale: Locale) -> Vec<SeatCount> {
    fields
        .format
        .seat_kinds()
        .iter()
        .map(|k| SeatCount {
            kind: k.name(locale),
            confirmed: event.confirmed_of(*k),
            capacity: fields.capacity.of(*k),
        })
        .collect()
}

/// A status, kind or seat code by its name in the person's language.
pub(super) fn status_name(state: &AppState, locale: Locale, code: &str) -> String {
    text(state, locale, &format!("evs_status_{code}"))
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

/// The first day a new event from a template is proposed on: a month ahead, within
/// the program's year.
fn proposed_day(year: FiscalYear, today: NaiveDate) -> NaiveDate {
    let ahead = today.checked_add_days(Days::new(30)).unwrap_or(today);
    match (year.first_day(), year.last_day()) {
        (Some(first), _) if ahead < first => first,
        (_, Some(last)) if ahead > last => last,
        _ => ahead,
    }
}

/// A new event's form: from the tenant's template of `template`, or blank.
fn template_input(
    tenant: &TenantPath,
    program: &Program,
    template: &str,
    today: NaiveDate,
) -> EventInput {
    let day = proposed_day(program.fiscal_year(), today);
    let found = event_templates(&tenant.record.tenant.templates)
        .into_iter()
        .find(|(kind, _)| kind.code() == template);
    match found {
        Some((kind, t)) => {
            // Seminars and lectures are evening talks; tours take the day.
            let (starts, ends) = if kind == EventKind::Fieldwork {
                (time(10, 0), time(17, 0))
            } else {
                (time(19, 0), time(21, 0))
            };
            EventInput::from_template(kind, t, day, starts, ends)
        }
        None => EventInput {
            audience: Audience::Talent.code().to_owned(),
            selection: Selection::FirstCome.code().to_owned(),
            subsidy: TravelSubsidy::None.code().to_owned(),
            days: vec![DayInput {
                date: day.format("%Y-%m-%d").to_string(),
                ..DayInput::default()
            }],
            ..EventInput::default()
        },
    }
}

fn local(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(|t| {
        t.with_timezone(&tokyo())
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    })
    .unwrap_or_default()
}

fn question_inputs(questions: &[Question], prefix: char) -> Vec<QuestionInput> {
    let mut out: Vec<QuestionInput> = Vec::new();
    for q in questions {
        // A question keeps its place on the form (`q3` stays third).
        let Some(i) = q
            .key
            .strip_prefix(prefix)
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| n.checked_sub(1))
        else {
            continue;
        };
        if out.len() <= i {
            out.resize(i + 1, QuestionInput::default());
        }
        out[i] = QuestionInput {
            label: q.label.clone(),
            kind: q.kind.code().to_owned(),
            options: q.options.join("\n"),
            required: if q.required {
                "on".to_owned()
            } else {
                String::new()
            },
        };
    }
    out
}

/// The form of a stored event, for editing.
fn input_of(f: &EventFields) -> EventInput {
    let amount = |n: u64| n.to_string();
    EventInput {
        kind: f.kind.code().to_owned(),
        audience: f.audience.code().to_owned(),
        title: f.title.clone(),
        title_en: f.title_en.clone(),
        description: f.description.clone(),
        format: f.format.code().to_owned(),
        selection: f.selection.code().to_owned(),
        days: f
            .days
            .iter()
            .map(|d| DayInput {
                date: d.date.format("%Y-%m-%d").to_string(),
                starts: d.starts.format("%H:%M").to_string(),
                ends: d.ends.format("%H:%M").to_string(),
                itinerary: d.itinerary.clone(),
            })
            .collect(),
        capacity_onsite: f.capacity.onsite.map(|n| n.to_string()).unwrap_or_default(),
        capacity_online: f.capacity.online.map(|n| n.to_string()).unwrap_or_default(),
        fee: match f.fee {
            Fee::Free => String::new(),
            Fee::Yen(n) => amount(n),
        },
        opens_at: local(f.window.opens_at),
        closes_at: local(f.window.closes_at),
        venue: f.venue.clone(),
        address: f.address.clone(),
        online_url: f.online_url.clone().unwrap_or_default(),
        subsidy: f.subsidy.code().to_owned(),
        subsidy_amount: match f.subsidy {
            TravelSubsidy::None => String::new(),
            TravelSubsidy::Flat(n) | TravelSubsidy::UpTo(n) => amount(n),
        },
        questions: question_inputs(&f.questions, 'q'),
        logistics_form: if f.logistics_form {
            "on".to_owned()
        } else {
            String::new()
        },
        logistics: question_inputs(&f.logistics, 'l'),
    }
}

/// One fieldset of the event form.
#[derive(Debug, Serialize)]
struct Section {
    legend: String,
    fields: Vec<Field>,
    /// Drawn folded (`<details>`) unless `open`: the rarely used days and questions.
    folded: bool,
    open: bool,
}

const DAY_FIELDS: [[&str; 4]; DAYS_MAX] = [
    ["day1_date", "day1_starts", "day1_ends", "day1_itinerary"],
    ["day2_date", "day2_starts", "day2_ends", "day2_itinerary"],
    ["day3_date", "day3_starts", "day3_ends", "day3_itinerary"],
    ["day4_date", "day4_starts", "day4_ends", "day4_itinerary"],
    ["day5_date", "day5_starts", "day5_ends", "day5_itinerary"],
];

fn codes<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    name: impl Fn(T) -> String,
) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (code(*v).to_owned(), name(*v)))
        .collect()
}

fn event_sections(form: &Form<'_>, input: &EventInput) -> Vec<Section> {
    let (state, locale) = (form.state, form.locale);
    let has_error = |prefix: &str| form.errors.iter().any(|e| e.field.starts_with(prefix));
    let mut sections = vec![Section {
        legend: text(state, locale, "evs_legend_basics"),
        fields: vec![
            form.choose(
                "kind",
                "select",
                codes(EventKind::ALL, EventKind::code, |k| {
                    k.name(locale).to_owned()
                }),
                &input.kind,
                true,
            ),
            form.choose(
                "audience",
                "select",
                codes(Audience::ALL, Audience::code, |k| k.name(locale).to_owned()),
                &input.audience,
                true,
            ),
            form.field("title", "text", &input.title, true),
            form.field("title_en", "text", &input.title_en, false),
            form.field("description", "textarea", &input.description, false),
            form.choose(
                "format",
                "select",
                codes(Format::ALL, Format::code, |k| k.name(locale).to_owned()),
                &input.format,
                true,
            ),
            form.hint(
                form.choose(
                    "selection",
                    "select",
                    codes(Selection::ALL, Selection::code, |k| {
                        k.name(locale).to_owned()
                    }),
                    &input.selection,
                    true,
                ),
                "evs_hint_selection",
            ),
        ],
        folded: false,
        open: true,
    }];
    for (i, names) in DAY_FIELDS.iter().enumerate() {
        let day = input.days.get(i).cloned().unwrap_or_default();
        let filled = !(day.date.is_empty() && day.starts.is_empty() && day.ends.is_empty());
        sections.push(Section {
            legend: text(state, locale, "evs_legend_day").replace("{n}", &(i + 1).to_string()),
            fields: vec![
                form.field(names[0], "date", &day.date, i == 0),
                form.field(names[1], "time", &day.starts, i == 0),
                form.field(names[2], "time", &day.ends, i == 0),
                form.field(names[3], "textarea", &day.itinerary, false),
            ],
            // Tours run two or three days: those blocks are always open.
            folded: i >= 3,
            open: filled || has_error(&format!("day{}_", i + 1)),
        });
    }
    sections.push(Section {
        legend: text(state, locale, "evs_legend_seats"),
        fields: vec![
            form.hint(
                form.field("capacity_onsite", "number", &input.capacity_onsite, false),
                "evs_hint_capacity",
            ),
            form.field("capacity_online", "number", &input.capacity_online, false),
            form.hint(
                form.field("fee", "number", &input.fee, false),
                "evs_hint_fee",
            ),
            form.hint(
                form.field("opens_at", "datetime-local", &input.opens_at, false),
                "evs_hint_window",
            ),
            form.field("closes_at", "datetime-local", &input.closes_at, false),
        ],
        folded: false,
        open: true,
    });
    sections.push(Section {
        legend: text(state, locale, "evs_legend_place"),
        fields: vec![
            form.field("venue", "text", &input.venue, false),
            form.field("address", "text", &input.address, false),
            form.hint(
                form.field("online_url", "url", &input.online_url, false),
                "evs_hint_online_url",
            ),
        ],
        folded: false,
        open: true,
    });
    let subsidy_choices = ["none", "flat", "up_to"]
        .iter()
        .map(|c| {
            (
                (*c).to_owned(),
                text(state, locale, &format!("evs_subsidy_{c}")),
            )
        })
        .collect();
    sections.push(Section {
        legend: text(state, locale, "evs_legend_subsidy"),
        fields: vec![
            form.hint(
                form.choose("subsidy", "select", subsidy_choices, &input.subsidy, false),
                "evs_hint_subsidy",
            ),
            form.field("subsidy_amount", "number", &input.subsidy_amount, false),
        ],
        folded: false,
        open: true,
    });
    let kinds = |form: &Form<'_>| {
        ["text", "choice", "yes_no"]
            .iter()
            .map(|c| {
                (
                    (*c).to_owned(),
                    text(form.state, form.locale, &format!("evs_qkind_{c}")),
                )
            })
            .collect::<Vec<_>>()
    };
    for (keys, list, legend, prefix) in [
        (&REGISTRATION, &input.questions, "evs_legend_question", "q"),
        (
            &LOGISTICS,
            &input.logistics,
            "evs_legend_logistics_question",
            "l",
        ),
    ] {
        if prefix == "l" {
            sections.push(Section {
                legend: text(state, locale, "evs_legend_logistics"),
                fields: vec![form.hint(
                    form.check(
                        "logistics_form",
                        yui_domain::event::question::ticked(&input.logistics_form),
                    ),
                    "evs_hint_logistics",
                )],
                folded: false,
                open: true,
            });
        }
        for i in 0..yui_domain::event::question::QUESTIONS_MAX {
            let q = list.get(i).cloned().unwrap_or_default();
            let filled = !q.label.trim().is_empty();
            let mut options = form.field(keys.options[i], "textarea", &q.options, false);
            options = form.hint(options, "evs_hint_options");
            sections.push(Section {
                legend: text(state, locale, legend).replace("{n}", &(i + 1).to_string()),
                fields: vec![
                    form.field(keys.label[i], "text", &q.label, false),
                    form.choose(
                        keys.kind[i],
                        "select",
                        kinds(form),
                        if q.kind.is_empty() { "text" } else { &q.kind },
                        false,
                    ),
                    options,
                    form.check(
                        keys.required[i],
                        yui_domain::event::question::ticked(&q.required),
                    ),
                ],
                folded: true,
                open: filled || has_error(&format!("{prefix}{}_", i + 1)),
            });
        }
    }
    sections
}

/// What the event form is for.
#[derive(Clone, Copy)]
enum Target<'a> {
    New(&'a Program),
    Edit(&'a Event, &'a Program),
}

#[allow(clippy::too_many_arguments)]
fn render_event_form(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    tenant: &TenantPath,
    target: Target<'_>,
    input: &EventInput,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let slug = tenant.slug();
    let (action, heading, program) = match target {
        Target::New(p) => (
            format!("/t/{slug}/events/new?program={}", p.id),
            text(state, locale, "evs_event_new"),
            p,
        ),
        Target::Edit(e, p) => (
            format!("/t/{slug}/events/{}/edit", e.id),
            text(state, locale, "evs_event_edit"),
            p,
        ),
    };
    let form = Form {
        state,
        locale,
        errors,
        year: Some(program.fiscal_year()),
    };
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(account), &action);
    ctx.insert("slug", slug);
    ctx.insert("heading", &heading);
    ctx.insert("program_id", &program.id.get());
    ctx.insert("program_title", program_title(program, locale));
    ctx.insert("action", &action);
    ctx.insert("csrf", &csrf);
    ctx.insert("sections", &event_sections(&form, input));
    ctx.insert("errors", &form.summary());
    (
        jar,
        render(state, "evs_event_form.html", ctx, locale, status),
    )
        .into_response()
}

pub(super) fn program_title(p: &Program, locale: Locale) -> &str {
    match locale {
        Locale::En if !p.title_en.is_empty() => &p.title_en,
        _ => &p.title_ja,
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct NewQuery {
    program: Option<String>,
    template: Option<String>,
}

/// The program named by `?program=` in the path's tenant; else 404.
async fn program_for_new(
    state: &AppState,
    tenant: &TenantPath,
    q: &NewQuery,
) -> Result<Program, PageError> {
    let id: i64 = q
        .program
        .as_deref()
        .and_then(|p| p.trim().parse().ok())
        .ok_or(WebError::NotFound)?;
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let p = tx.program(ProgramId::new(id)).await?;
    tx.commit().await?;
    Ok(p)
}

async fn new_page(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<EventManage>,
    jar: CookieJar,
    Query(q): Query<NewQuery>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let program = program_for_new(&state, &staff.tenant, &q).await?;
    let input = template_input(
        &staff.tenant,
        &program,
        q.template.as_deref().unwrap_or(""),
        today(&state),
    );
    Ok(render_event_form(
        &state,
        locale,
        jar,
        &staff.account,
        &staff.tenant,
        Target::New(&program),
        &input,
        &[],
        StatusCode::OK,
    ))
}

/// Checks a posted event and that it falls in its program's year.
fn checked(
    input: &EventInput,
    program: &Program,
    new: Option<NaiveDate>,
) -> Result<EventFields, Vec<FieldError>> {
    let fields = match new {
        Some(today) => check_event(input, today),
        None => check_event_edit(input),
    };
    match fields {
        Ok(fields) => {
            check_event_year(program.fiscal_year(), &fields).map_err(|e| vec![e])?;
            Ok(fields)
        }
        Err(mut errors) => {
            // The year is named with the other problems, not after they are fixed.
            let first = input
                .days
                .first()
                .and_then(|d| NaiveDate::parse_from_str(d.date.trim(), "%Y-%m-%d").ok());
            if let Some(first) = first
                && FiscalYear::containing(first) != program.fiscal_year()
                && !errors.iter().any(|e| e.field == "day1_date")
            {
                errors.push(FieldError {
                    field: "day1_date",
                    problem: yui_domain::account::Problem::DateOutOfRange,
                });
            }
            Err(errors)
        }
    }
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff<EventManage>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Query(q): Query<NewQuery>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let program = program_for_new(&state, &staff.tenant, &q).await?;
    let input = EventInput::from_pairs(&pairs);
    let fields = match checked(&input, &program, Some(today(&state))) {
        Ok(f) => f,
        Err(errors) => {
            return Ok(render_event_form(
                &state,
                locale,
                jar,
                &staff.account,
                &staff.tenant,
                Target::New(&program),
                &input,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let id = tx
        .create_event(
            program.id,
            &fields,
            EventStatus::Draft,
            Some(staff.account.id),
            now,
        )
        .await?;
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::EventCreated,
        detail: serde_json::json!({ "event": id, "program": program.id, "kind": fields.kind.code() }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/events/{id}/registrants?done=created",
        staff.tenant.slug()
    ))
    .into_response())
}

/// Event `id` of the path's tenant with its program; 404 for any other id.
async fn event_and_program(
    state: &AppState,
    tenant: &TenantPath,
    id: i64,
) -> Result<(Event, Program), PageError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let event = tx.event(EventId::new(id)).await?;
    let program = tx.program(event.program_id).await?;
    tx.commit().await?;
    Ok((event, program))
}

async fn edit_page(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    staff: Staff<EventManage>,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let (event, program) = event_and_program(&state, &staff.tenant, id).await?;
    let input = input_of(&event.fields()?);
    Ok(render_event_form(
        &state,
        locale,
        jar,
        &staff.account,
        &staff.tenant,
        Target::Edit(&event, &program),
        &input,
        &[],
        StatusCode::OK,
    ))
}

/// Saves an edit; more seats promote waitlisted people, who are told in the same
/// transaction.
async fn edit(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    staff: Staff<EventManage>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let (event, program) = event_and_program(&state, &staff.tenant, id).await?;
    let input = EventInput::from_pairs(&pairs);
    let fields = match checked(&input, &program, None) {
        Ok(f) => f,
        Err(errors) => {
            return Ok(render_event_form(
                &state,
                locale,
                jar,
                &staff.account,
                &staff.tenant,
                Target::Edit(&event, &program),
                &input,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let promoted = tx
        .update_event(event.id, &fields, staff.account.id, now)
        .await?;
    if let Err(e) = flow::tell_promoted(&state, &mut tx, &staff.tenant, &promoted, now).await {
        tx.rollback().await?;
        return Err(e.into());
    }
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::EventEdited,
        detail: serde_json::json!({ "event": event.id, "promoted": promoted.len() }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    state.inner.mail_waker.notify_one();
    Ok(Redirect::to(&format!(
        "/t/{}/events/{}/registrants?done=saved",
        staff.tenant.slug(),
        event.id
    ))
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
struct StatusForm {
    #[serde(default)]
    to: String,
}

/// Publishes or calls off an event; calling off tells every live registrant.
async fn status(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    staff: Staff<EventManage>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let (event, _) = event_and_program(&state, &staff.tenant, id).await?;
    let from = event.status();
    let view = Viewing {
        state: &state,
        locale,
        account: &staff.account,
        tenant: &staff.tenant,
    };
    let problem = Some("evs_err_status_move");
    let Some(to) = EventStatus::parse(&form.to).filter(|to| from.can_become(*to)) else {
        return view
            .page(jar, event.id, None, problem, StatusCode::CONFLICT)
            .await;
    };
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    if !tx.set_event_status(event.id, from, to, now).await? {
        tx.rollback().await?;
        return view
            .page(jar, event.id, None, problem, StatusCode::CONFLICT)
            .await;
    }
    let told = if to == EventStatus::Cancelled {
        match flow::tell_called_off(&state, &mut tx, &staff.tenant, &event, now).await {
            Ok(n) => n,
            Err(e) => {
                tx.rollback().await?;
                return Err(e.into());
            }
        }
    } else {
        0
    };
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::EventStatusChanged,
        detail: serde_json::json!({ "event": event.id, "from": from.code(), "to": to.code(), "told": told }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    state.inner.mail_waker.notify_one();
    Ok(Redirect::to(&format!(
        "/t/{}/events/{}/registrants?done=status",
        staff.tenant.slug(),
        event.id
    ))
    .into_response())
}

/// A registrant's row on the staff page.
#[derive(Debug, Serialize)]
struct RegistrantRow {
    id: i64,
    name: String,
    email: String,
    status: String,
    status_code: &'static str,
    seat: String,
    answers: Vec<(String, String)>,
    logistics: Vec<(String, String)>,
    days: Vec<String>,
    subsidy_eligible: bool,
    subsidy_paid: String,
    subsidy_paid_value: String,
    subsidy_error: Option<String>,
    can_decide: bool,
    can_cancel: bool,
    can_subsidy: bool,
}

fn answer_text(state: &AppState, locale: Locale, a: &Answer) -> String {
    match a {
        Answer::Text(t) | Answer::Choice(t) => t.clone(),
        Answer::YesNo(true) => text(state, locale, "evs_yes"),
        Answer::YesNo(false) => text(state, locale, "evs_no"),
    }
}

fn answers_of(
    state: &AppState,
    locale: Locale,
    questions: &[Question],
    answers: Option<&yui_domain::event::question::Answers>,
) -> Vec<(String, String)> {
    questions
        .iter()
        .map(|q| {
            let a = answers
                .and_then(|a| a.get(&q.key))
                .map(|a| answer_text(state, locale, a))
                .unwrap_or_default();
            (q.label.clone(), a)
        })
        .collect()
}

fn yen(locale: Locale, n: i64) -> String {
    match locale {
        Locale::Ja => format!("{n}円"),
        Locale::En => format!("¥{n}"),
    }
}

/// The notice a page shows after a change (`?done=`).
#[derive(Debug, Default, Deserialize)]
struct Notice {
    done: Option<String>,
}

impl Notice {
    fn key(&self) -> Option<&'static str> {
        match self.done.as_deref() {
            Some("created") => Some("evs_done_created"),
            Some("saved") => Some("evs_done_saved"),
            Some("status") => Some("evs_done_status"),
            Some("decided") => Some("evs_done_decided"),
            Some("cancelled") => Some("evs_done_cancelled"),
            Some("subsidy") => Some("evs_done_subsidy"),
            Some("no_shows") => Some("evs_done_no_shows"),
            _ => None,
        }
    }
}

/// The staff page of one event, for whoever is looking.
struct Viewing<'a> {
    state: &'a AppState,
    locale: Locale,
    account: &'a Account,
    tenant: &'a TenantPath,
}

impl Viewing<'_> {
    async fn page(
        &self,
        jar: CookieJar,
        id: EventId,
        notice: Option<&str>,
        problem: Option<&str>,
        status: StatusCode,
    ) -> Result<Response, PageError> {
        self.page_with(jar, id, notice, problem, &[], status).await
    }

    async fn page_with(
        &self,
        jar: CookieJar,
        id: EventId,
        notice: Option<&str>,
        problem: Option<&str>,
        errors: &[(RegistrationId, FieldError)],
        status: StatusCode,
    ) -> Result<Response, PageError> {
        let (state, locale) = (self.state, self.locale);
        let mut tx = state.store.tenant(self.tenant.id).read().await?;
        let event = tx.event(id).await?;
        let program = tx.program(event.program_id).await?;
        let regs = tx.registrations(id).await?;
        let attendance = tx.attendance(id).await?;
        tx.commit().await?;
        let fields = event.fields()?;
        let mut days: HashMap<RegistrationId, Vec<NaiveDate>> = HashMap::new();
        for a in attendance {
            days.entry(a.registration_id).or_default().push(a.day);
        }
        let manage = may(
            state,
            self.account,
            self.tenant,
            Permission::RegistrationManage,
        );
        let subsidised = fields.subsidy != TravelSubsidy::None;
        let rows: Vec<RegistrantRow> = regs
            .iter()
            .map(|r| {
                let s = r.status();
                let form = Form {
                    state,
                    locale,
                    errors: &[],
                    year: None,
                };
                let subsidy_error = errors
                    .iter()
                    .find(|(rid, _)| *rid == r.id)
                    .map(|(_, e)| form.message(e));
                RegistrantRow {
                    id: r.id.get(),
                    name: r.display_name.clone(),
                    email: r.email.clone(),
                    status: status_name(state, locale, s.code()),
                    status_code: s.code(),
                    seat: r.seat_kind().name(locale).to_owned(),
                    answers: answers_of(state, locale, &fields.questions, Some(&r.answers())),
                    logistics: answers_of(state, locale, &fields.logistics, r.logistics().as_ref()),
                    days: days
                        .get(&r.id)
                        .map(|d| d.iter().map(|d| date_text(locale, *d)).collect())
                        .unwrap_or_default(),
                    subsidy_eligible: r.subsidy_eligible,
                    subsidy_paid: r
                        .subsidy_paid_yen
                        .map(|n| yen(locale, n))
                        .unwrap_or_default(),
                    subsidy_paid_value: r
                        .subsidy_paid_yen
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                    can_decide: manage && s == RegistrationStatus::Pending,
                    can_cancel: manage
                        && matches!(
                            s,
                            RegistrationStatus::Pending
                                | RegistrationStatus::Confirmed
                                | RegistrationStatus::Waitlisted
                        ),
                    subsidy_error,
                    can_subsidy: manage && subsidised && s.holds_seat(),
                }
            })
            .collect();
        let mut waitlist: Vec<&Registration> = regs
            .iter()
            .filter(|r| r.status() == RegistrationStatus::Waitlisted)
            .collect();
        waitlist.sort_by_key(|r| (r.queued_at, r.id));
        let waitlist: Vec<String> = waitlist
            .iter()
            .map(|r| format!("{}（{}）", r.display_name, r.seat_kind().name(locale)))
            .collect();
        let slug = self.tenant.slug();
        let path = format!("/t/{slug}/events/{id}/registrants");
        let (jar, csrf) = csrf_token(state, jar);
        let mut ctx = base_context(state, locale, Some(self.account), &path);
        ctx.insert("slug", slug);
        ctx.insert("event_id", &id.get());
        ctx.insert("title", fields.title(locale));
        ctx.insert("program_id", &program.id.get());
        ctx.insert("program_title", program_title(&program, locale));
        ctx.insert("kind", fields.kind.name(locale));
        ctx.insert("status", &event.status().name(locale).to_owned());
        ctx.insert("when", &flow::when_text(locale, &fields.days));
        ctx.insert("seats", &seat_counts(&event, &fields, locale));
        ctx.insert("waitlisted", &event.waitlisted);
        ctx.insert(
            "questions",
            &fields
                .questions
                .iter()
                .map(|q| q.label.clone())
                .collect::<Vec<_>>(),
        );
        ctx.insert(
            "logistics",
            &fields
                .logistics
                .iter()
                .map(|q| q.label.clone())
                .collect::<Vec<_>>(),
        );
        ctx.insert("subsidised", &subsidised);
        ctx.insert(
            "subsidy_flat",
            &matches!(fields.subsidy, TravelSubsidy::Flat(_)),
        );
        ctx.insert("rows", &rows);
        ctx.insert("waitlist", &waitlist);
        ctx.insert("csrf", &csrf);
        let st = event.status();
        let moves: Vec<(String, String)> = [EventStatus::Published, EventStatus::Cancelled]
            .iter()
            .filter(|to| st.can_become(**to))
            .map(|to| {
                (
                    to.code().to_owned(),
                    text(state, locale, &format!("evs_move_{}", to.code())),
                )
            })
            .collect();
        let can_manage_event = may(state, self.account, self.tenant, Permission::EventManage);
        ctx.insert("can_edit", &can_manage_event);
        ctx.insert("moves", &if can_manage_event { moves } else { Vec::new() });
        let ended = fields.ends_at().is_some_and(|e| e <= state.now());
        ctx.insert("can_no_shows", &(manage && ended));
        ctx.insert(
            "can_checkin",
            &may(state, self.account, self.tenant, Permission::EventCheckIn),
        );
        ctx.insert("can_export", &true);
        ctx.insert("notice", &notice.map(|k| text(state, locale, k)));
        ctx.insert("problem", &problem.map(|k| text(state, locale, k)));
        Ok((
            jar,
            render(state, "evs_registrants.html", ctx, locale, status),
        )
            .into_response())
    }
}

async fn registrants(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    staff: Staff<EventRead>,
    jar: CookieJar,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let view = Viewing {
        state: &state,
        locale,
        account: &staff.account,
        tenant: &staff.tenant,
    };
    view.page(jar, EventId::new(id), notice.key(), None, StatusCode::OK)
        .await
}

/// Registration `rid` of event `id` in the path's tenant; 404 for any other.
async fn registration_of_event(
    state: &AppState,
    tenant: &TenantPath,
    id: i64,
    rid: i64,
) -> Result<Registration, PageError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let r = tx.registration(RegistrationId::new(rid)).await?;
    tx.commit().await?;
    if r.event_id != EventId::new(id) {
        return Err(WebError::NotFound.into());
    }
    Ok(r)
}

async fn audit_registration(
    state: &AppState,
    tenant: &TenantPath,
    actor: &Account,
    ip: String,
    action: AuditAction,
    detail: serde_json::Value,
) -> Result<(), PageError> {
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    let entry = AuditEntry {
        actor_id: Some(actor.id),
        action,
        detail,
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
struct DecideForm {
    #[serde(default)]
    decision: String,
}

/// Approves or declines a pending registration; the person is told either way.
async fn decide(
    State(state): State<AppState>,
    Path((_, id, rid)): Path<(String, i64, i64)>,
    lang: Lang,
    staff: Staff<RegistrationManage>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<DecideForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let r = registration_of_event(&state, &staff.tenant, id, rid).await?;
    let approve = match form.decision.as_str() {
        "approve" => true,
        "decline" => false,
        _ => return Err(WebError::BadRequest("decision".into()).into()),
    };
    let view = Viewing {
        state: &state,
        locale,
        account: &staff.account,
        tenant: &staff.tenant,
    };
    if flow::decide(&state, &staff.tenant, r.id, approve, staff.account.id)
        .await?
        .is_none()
    {
        return view
            .page(
                jar,
                r.event_id,
                None,
                Some("evs_err_registration_moved"),
                StatusCode::CONFLICT,
            )
            .await;
    }
    audit_registration(
        &state,
        &staff.tenant,
        &staff.account,
        ip,
        AuditAction::RegistrationChanged,
        serde_json::json!({ "registration": r.id, "event": r.event_id, "decision": form.decision }),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/t/{}/events/{id}/registrants?done=decided",
        staff.tenant.slug()
    ))
    .into_response())
}

/// Cancels someone's registration; the first waitlisted person of the seat kind is
/// promoted and told.
async fn cancel(
    State(state): State<AppState>,
    Path((_, id, rid)): Path<(String, i64, i64)>,
    lang: Lang,
    staff: Staff<RegistrationManage>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let r = registration_of_event(&state, &staff.tenant, id, rid).await?;
    let view = Viewing {
        state: &state,
        locale,
        account: &staff.account,
        tenant: &staff.tenant,
    };
    if !matches!(
        r.status(),
        RegistrationStatus::Pending
            | RegistrationStatus::Confirmed
            | RegistrationStatus::Waitlisted
    ) {
        return view
            .page(
                jar,
                r.event_id,
                None,
                Some("evs_err_registration_moved"),
                StatusCode::CONFLICT,
            )
            .await;
    }
    let Some(moved) = flow::cancel(&state, &staff.tenant, r.id, staff.account.id).await? else {
        return view
            .page(
                jar,
                r.event_id,
                None,
                Some("evs_err_registration_moved"),
                StatusCode::CONFLICT,
            )
            .await;
    };
    audit_registration(
        &state,
        &staff.tenant,
        &staff.account,
        ip,
        AuditAction::RegistrationChanged,
        serde_json::json!({ "registration": r.id, "event": r.event_id, "cancelled": true, "promoted": moved.promoted.len() }),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/t/{}/events/{id}/registrants?done=cancelled",
        staff.tenant.slug()
    ))
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
struct SubsidyForm {
    #[serde(default)]
    eligible: String,
    #[serde(default)]
    subsidy_paid: String,
}

/// Marks a participant eligible for the travel subsidy and records what was paid.
async fn subsidy(
    State(state): State<AppState>,
    Path((_, id, rid)): Path<(String, i64, i64)>,
    lang: Lang,
    staff: Staff<RegistrationManage>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<SubsidyForm>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let r = registration_of_event(&state, &staff.tenant, id, rid).await?;
    let (event, _) = event_and_program(&state, &staff.tenant, id).await?;
    let fields = event.fields()?;
    let view = Viewing {
        state: &state,
        locale,
        account: &staff.account,
        tenant: &staff.tenant,
    };
    let eligible = yui_domain::event::question::ticked(&form.eligible);
    if fields.subsidy == TravelSubsidy::None || !r.status().holds_seat() {
        return view
            .page(
                jar,
                r.event_id,
                None,
                Some("evs_err_no_subsidy"),
                StatusCode::CONFLICT,
            )
            .await;
    }
    // Nothing typed means not paid yet; a flat subsidy pays its amount once ticked paid.
    let paid = if form.subsidy_paid.trim().is_empty() {
        None
    } else if !eligible {
        let e = FieldError {
            field: "subsidy_paid",
            problem: yui_domain::account::Problem::InvalidChoice,
        };
        return view
            .page_with(
                jar,
                r.event_id,
                None,
                None,
                &[(r.id, e)],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
    } else {
        match fields.subsidy.check_payment(&form.subsidy_paid) {
            Ok(n) => Some(n),
            Err(e) => {
                return view
                    .page_with(
                        jar,
                        r.event_id,
                        None,
                        None,
                        &[(r.id, e)],
                        StatusCode::UNPROCESSABLE_ENTITY,
                    )
                    .await;
            }
        }
    };
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    tx.set_subsidy(r.id, eligible, paid, now).await?;
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::SubsidyRecorded,
        detail: serde_json::json!({ "registration": r.id, "event": r.event_id, "eligible": eligible, "paid_yen": paid }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/events/{id}/registrants?done=subsidy",
        staff.tenant.slug()
    ))
    .into_response())
}

/// Records the confirmed people who never came as no-shows, once the event ended.
async fn no_shows(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    staff: Staff<RegistrationManage>,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let (event, _) = event_and_program(&state, &staff.tenant, id).await?;
    let fields = event.fields()?;
    let now = state.now();
    if fields.ends_at().is_none_or(|e| e > now) {
        let view = Viewing {
            state: &state,
            locale,
            account: &staff.account,
            tenant: &staff.tenant,
        };
        return view
            .page(
                jar,
                event.id,
                None,
                Some("evs_err_not_ended"),
                StatusCode::CONFLICT,
            )
            .await;
    }
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    tx.record_no_shows(event.id, staff.account.id, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/events/{id}/registrants?done=no_shows",
        staff.tenant.slug()
    ))
    .into_response())
}

/// The event's registrants as CSV, with their answers and the days they came.
async fn registrants_csv(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    staff: Staff<EventExport>,
    ClientIp(ip): ClientIp,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let event = tx.event(EventId::new(id)).await?;
    let fields = event.fields()?;
    let regs = tx.registrations(event.id).await?;
    let mut days: HashMap<RegistrationId, Vec<NaiveDate>> = HashMap::new();
    for a in tx.attendance(event.id).await? {
        days.entry(a.registration_id).or_default().push(a.day);
    }
    let mut header: Vec<String> = [
        "evs_col_id",
        "evs_col_name",
        "evs_col_email",
        "evs_col_status",
        "evs_col_seat",
        "evs_col_registered_at",
        "evs_col_days",
        "evs_col_subsidy_eligible",
        "evs_col_subsidy_paid",
    ]
    .iter()
    .map(|k| text(&state, locale, k))
    .collect();
    header.extend(fields.questions.iter().map(|q| q.label.clone()));
    header.extend(fields.logistics.iter().map(|q| q.label.clone()));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut doc = CsvDoc::new(&header)?;
    let sep = if locale == Locale::Ja { "、" } else { "; " };
    for r in &regs {
        let mut row = vec![
            r.id.to_string(),
            r.display_name.clone(),
            r.email.clone(),
            status_name(&state, locale, r.status().code()),
            r.seat_kind().name(locale).to_owned(),
            datetime_text(locale, r.created_at),
            days.get(&r.id)
                .map(|d| {
                    d.iter()
                        .map(|d| date_text(locale, *d))
                        .collect::<Vec<_>>()
                        .join(sep)
                })
                .unwrap_or_default(),
            text(
                &state,
                locale,
                if r.subsidy_eligible {
                    "evs_yes"
                } else {
                    "evs_no"
                },
            ),
            r.subsidy_paid_yen
                .map(|n| n.to_string())
                .unwrap_or_default(),
        ];
        row.extend(
            answers_of(&state, locale, &fields.questions, Some(&r.answers()))
                .into_iter()
                .map(|(_, a)| a),
        );
        row.extend(
            answers_of(&state, locale, &fields.logistics, r.logistics().as_ref())
                .into_iter()
                .map(|(_, a)| a),
        );
        doc.row(row)?;
    }
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::Export,
        detail: serde_json::json!({ "export": "registrants", "event": event.id, "rows": doc.rows() }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(doc.into_response(&format!(
        "registrants-{}-{}.csv",
        staff.tenant.slug(),
        event.id
    ))?)
}

/// The finance office's list: who is eligible for the travel subsidy, what was
/// paid and when, for which tour on which dates.
async fn subsidies_csv(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, i64)>,
    lang: Lang,
    staff: Staff<EventExport>,
    ClientIp(ip): ClientIp,
) -> Result<Response, PageError> {
    let locale = lang.or(staff.tenant.record.tenant.default_locale);
    let now = state.now();
    let mut tx = state.store.tenant(staff.tenant.id).write().await?;
    let event = tx.event(EventId::new(id)).await?;
    let fields = event.fields()?;
    let regs = tx.registrations(event.id).await?;
    let header: Vec<String> = [
        "evs_col_id",
        "evs_col_name",
        "evs_col_email",
        "evs_col_event",
        "evs_col_tour_dates",
        "evs_col_status",
        "evs_col_subsidy_paid",
        "evs_col_subsidy_paid_at",
    ]
    .iter()
    .map(|k| text(&state, locale, k))
    .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut doc = CsvDoc::new(&header)?;
    let dates = flow::when_text(locale, &fields.days);
    for r in regs.iter().filter(|r| r.subsidy_eligible) {
        doc.row([
            r.id.to_string(),
            r.display_name.clone(),
            r.email.clone(),
            fields.title(locale).to_owned(),
            dates.clone(),
            status_name(&state, locale, r.status().code()),
            r.subsidy_paid_yen
                .map(|n| n.to_string())
                .unwrap_or_default(),
            r.subsidy_paid_at
                .map(|t| date_text(locale, t.with_timezone(&tokyo()).date_naive()))
                .unwrap_or_default(),
        ])?;
    }
    let entry = AuditEntry {
        actor_id: Some(staff.account.id),
        action: AuditAction::Export,
        detail: serde_json::json!({ "export": "subsidies", "event": event.id, "rows": doc.rows() }),
        ip,
    };
    tx.audit(&entry, now).await?;
    tx.commit().await?;
    Ok(doc.into_response(&format!(
        "subsidies-{}-{}.csv",
        staff.tenant.slug(),
        event.id
    ))?)
}
