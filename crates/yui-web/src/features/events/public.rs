//! A tenant's events as the public and talents see them: the list of upcoming (and
//! past) published events with seats left, and an event's page with, for a
//! signed-in person, the registration form or their registration (status, check-in
//! code and QR code, the online URL, cancelling, the logistics form). Drafts are
//! 404; a cancelled event shows as called off, with no form.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::account::FieldError;
use yui_domain::checkin::CheckinCode;
use yui_domain::event::question::{
    Answer, Answers, LOGISTICS, Question, QuestionKind, REGISTRATION,
};
use yui_domain::event::{EventFields, EventStatus, Fee, Format, SeatKind, TravelSubsidy};
use yui_domain::registration::{
    Closed, RegistrationStatus, may_cancel, may_fill_logistics, sees_online_url,
};
use yui_domain::{EventId, Locale};
use yui_store::{Account, Event, Registration};

use super::flow::{place_text, when_text};
use super::{calendar, qr};
use crate::error::PageError;
use crate::extract::{Lang, TenantPath, Viewer};
use crate::features::hosts::form::{Choice, Input, Kind};
use crate::render::{base_context, date_text, datetime_text, labelled_message, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

/// Events a list shows at most.
const LIST_LIMIT: i64 = 100;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{slug}/events", get(list))
        .route("/t/{slug}/events.ics", get(calendar::feed))
        // `{id}` or `{id}.ics`: one segment, as the router cannot split it.
        .route("/t/{slug}/events/{id}", get(detail_or_file))
}

pub(super) fn text(state: &AppState, locale: Locale, key: &str) -> String {
    state.inner.catalogs.text(locale, key).to_owned()
}

/// The page's language: the request's choice, else the person's, else the tenant's.
pub(super) fn locale_of(lang: Lang, viewer: Option<&Account>, tenant: &TenantPath) -> Locale {
    lang.or(viewer.map_or(tenant.record.tenant.default_locale, Account::locale))
}

/// An amount of yen as people read it: 3,000円 / ¥3,000.
pub(super) fn yen(locale: Locale, amount: u64) -> String {
    let digits = amount.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match locale {
        Locale::Ja => format!("{grouped}円"),
        Locale::En => format!("¥{grouped}"),
    }
}

pub(super) fn fee_text(state: &AppState, locale: Locale, fee: Fee) -> String {
    match fee {
        Fee::Free => text(state, locale, "evp_fee_free"),
        Fee::Yen(n) => yen(locale, n),
    }
}

/// Seats of one kind as a list shows them.
#[derive(Debug, Serialize)]
pub(super) struct SeatView {
    kind: String,
    left: u32,
    capacity: u32,
}

/// An event in a list: the tenant's, the one across regions, the person's own.
#[derive(Debug, Serialize)]
pub(super) struct EventRow {
    /// Built from a stored slug and a numeric id only.
    pub href: String,
    pub title: String,
    pub kind: String,
    pub audience: String,
    pub when: String,
    pub format: String,
    pub fee: String,
    pub seats: Vec<SeatView>,
    /// Every kind of seat taken: new registrations join the waitlist.
    pub full: bool,
    pub full_text: String,
    pub cancelled: bool,
    pub region: String,
}

/// An event's row from its stored row alone (no further queries).
pub(super) fn event_row(
    state: &AppState,
    locale: Locale,
    slug: &str,
    event: &Event,
) -> Result<EventRow, WebError> {
    let fields = event.fields()?;
    let seats: Vec<SeatView> = fields
        .format
        .seat_kinds()
        .iter()
        .map(|&k| SeatView {
            kind: k.name(locale).to_owned(),
            left: event.seats_left(k),
            capacity: event.capacity().of(k),
        })
        .collect();
    let full = seats.iter().all(|s| s.left == 0);
    Ok(EventRow {
        href: format!("/t/{slug}/events/{}", event.id),
        title: fields.title(locale).to_owned(),
        kind: fields.kind.name(locale).to_owned(),
        audience: fields.audience.name(locale).to_owned(),
        when: when_text(locale, &fields.days),
        format: fields.format.name(locale).to_owned(),
        fee: fee_text(state, locale, fields.fee),
        seats,
        full,
        full_text: text(state, locale, "evp_full")
            .replace("{n}", &event.waitlisted.max(0).to_string()),
        cancelled: event.status() == EventStatus::Cancelled,
        region: String::new(),
    })
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    past: Option<String>,
}

/// `/t/{slug}/events`: upcoming published events (`?past=1`: those that ended).
pub(super) async fn list(
    State(state): State<AppState>,
    lang: Lang,
    tenant: TenantPath,
    Viewer(viewer): Viewer,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let locale = locale_of(lang, viewer.as_ref(), &tenant);
    let past = q.past.is_some();
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let events = if past {
        tx.past_events(now, LIST_LIMIT).await?
    } else {
        tx.events(true, None, Some(now), LIST_LIMIT).await?
    };
    tx.commit().await?;
    let slug = tenant.slug();
    let rows = events
        .iter()
        .map(|e| event_row(&state, locale, slug, e))
        .collect::<Result<Vec<_>, _>>()?;
    let path = if past {
        format!("/t/{slug}/events?past=1")
    } else {
        format!("/t/{slug}/events")
    };
    let mut ctx = base_context(&state, locale, viewer.as_ref(), &path);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("past", &past);
    ctx.insert("events", &rows);
    Ok(render(
        &state,
        "evp_events.html",
        ctx,
        locale,
        StatusCode::OK,
    ))
}

/// What the page shows besides the event itself: the form as typed and its
/// errors, a refusal, a notice after a move.
#[derive(Debug, Default)]
pub(super) struct Shown {
    pub pairs: Vec<(String, String)>,
    pub errors: Vec<FieldError>,
    /// A message key for a refusal that is no field's fault.
    pub problem: Option<&'static str>,
    /// A message key for what just happened.
    pub notice: Option<&'static str>,
    /// The logistics form as typed and its errors.
    pub logistics_pairs: Vec<(String, String)>,
    pub logistics_errors: Vec<FieldError>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct DetailQuery {
    done: Option<String>,
}

impl DetailQuery {
    fn notice(&self) -> Option<&'static str> {
        match self.done.as_deref()? {
            "registered" => Some("evp_notice_registered"),
            "cancelled" => Some("evp_notice_cancelled"),
            "logistics" => Some("evp_notice_logistics"),
            _ => None,
        }
    }
}

pub(super) async fn detail_or_file(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    lang: Lang,
    tenant: TenantPath,
    Viewer(viewer): Viewer,
    jar: CookieJar,
    Query(q): Query<DetailQuery>,
) -> Result<Response, PageError> {
    if let Some(id) = id.strip_suffix(".ics") {
        let id: EventId = id.parse().map_err(|_| WebError::NotFound)?;
        return calendar::event_file(&state, &tenant, id).await;
    }
    let id: EventId = id.parse().map_err(|_| WebError::NotFound)?;
    let locale = locale_of(lang, viewer.as_ref(), &tenant);
    let event = shown_event(&state, &tenant, id).await?;
    let shown = Shown {
        notice: q.notice(),
        ..Shown::default()
    };
    render_detail(
        &state,
        locale,
        jar,
        viewer.as_ref(),
        &tenant,
        &event,
        shown,
        StatusCode::OK,
    )
    .await
}

/// A published or cancelled event of this tenant; anything else is 404.
pub(super) async fn shown_event(
    state: &AppState,
    tenant: &TenantPath,
    id: EventId,
) -> Result<Event, WebError> {
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let event = tx.event(id).await?;
    tx.commit().await?;
    if event.status() == EventStatus::Draft {
        return Err(WebError::NotFound);
    }
    Ok(event)
}

/// A fresh idempotency key for one rendering of the registration form: the same
/// form sent twice registers once, a new rendering may register again.
fn fresh_key() -> String {
    // URL-safe base64 is printable ASCII, as `check_idempotency_key` wants.
    crate::security::new_secret()
}

fn answer_text(state: &AppState, locale: Locale, a: &Answer) -> String {
    match a {
        Answer::Text(t) | Answer::Choice(t) => t.clone(),
        Answer::YesNo(true) => text(state, locale, "evp_yes"),
        Answer::YesNo(false) => text(state, locale, "evp_no"),
    }
}

/// The static field name of a question's answer (`q1`, `l2`).
fn answer_field(key: &str) -> &'static str {
    REGISTRATION
        .answer
        .iter()
        .chain(LOGISTICS.answer.iter())
        .copied()
        .find(|k| *k == key)
        .unwrap_or("answers")
}

/// The inputs of a form of questions, filled with what was typed (`pairs`) or the
/// answers kept (`kept`), each error naming its question by its label.
fn question_inputs(
    state: &AppState,
    locale: Locale,
    questions: &[Question],
    pairs: &[(String, String)],
    kept: Option<&Answers>,
    errors: &[FieldError],
) -> Vec<Input> {
    questions
        .iter()
        .map(|q| {
            let name = answer_field(&q.key);
            let typed = pairs
                .iter()
                .find(|(k, _)| k == &q.key)
                .map(|(_, v)| v.clone())
                .or_else(|| {
                    kept.and_then(|a| a.get(&q.key)).map(|a| match a {
                        Answer::Text(t) | Answer::Choice(t) => t.clone(),
                        Answer::YesNo(true) => "yes".to_owned(),
                        Answer::YesNo(false) => "no".to_owned(),
                    })
                })
                .unwrap_or_default();
            let label = if q.required {
                q.label.clone()
            } else {
                format!("{}{}", q.label, text(state, locale, "evp_optional"))
            };
            let error = errors
                .iter()
                .find(|e| e.field == name)
                .map(|e| labelled_message(state, locale, &q.label, e.problem));
            let choice = |value: &str, label: String| Choice {
                selected: typed == value,
                value: value.to_owned(),
                label,
            };
            let (kind, choices) = match q.kind {
                QuestionKind::Text => (Kind::Textarea, Vec::new()),
                QuestionKind::Choice => {
                    let mut c = vec![choice("", text(state, locale, "evp_choose"))];
                    c.extend(q.options.iter().map(|o| choice(o, o.clone())));
                    (Kind::Select, c)
                }
                QuestionKind::YesNo => (
                    Kind::Select,
                    vec![
                        choice("", text(state, locale, "evp_choose")),
                        choice("yes", text(state, locale, "evp_yes")),
                        choice("no", text(state, locale, "evp_no")),
                    ],
                ),
            };
            Input {
                name,
                label,
                kind,
                value: if kind == Kind::Textarea {
                    crate::features::hosts::form::keep(
                        &typed,
                        yui_domain::event::question::ANSWER_MAX,
                    )
                } else {
                    String::new()
                },
                error,
                required: q.required,
                hint: None,
                choices,
            }
        })
        .collect()
}

/// The attendance choice of a hybrid event (`None` for one format).
fn attendance_input(
    state: &AppState,
    locale: Locale,
    format: Format,
    pairs: &[(String, String)],
    errors: &[FieldError],
) -> Option<Input> {
    if format.seat_kinds().len() < 2 {
        return None;
    }
    let typed = pairs
        .iter()
        .find(|(k, _)| k == "attendance")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let label = text(state, locale, "evp_field_attendance");
    let mut choices = vec![Choice {
        value: String::new(),
        label: text(state, locale, "evp_choose"),
        selected: typed.is_empty(),
    }];
    choices.extend(format.seat_kinds().iter().map(|k| Choice {
        value: k.code().to_owned(),
        label: k.name(locale).to_owned(),
        selected: typed == k.code(),
    }));
    Some(Input {
        name: "attendance",
        error: errors
            .iter()
            .find(|e| e.field == "attendance")
            .map(|e| labelled_message(state, locale, &label, e.problem)),
        label,
        kind: Kind::Select,
        value: String::new(),
        required: true,
        hint: None,
        choices,
    })
}

/// One line of the error summary.
#[derive(Debug, Serialize)]
struct ErrorLine {
    field: &'static str,
    message: String,
}

fn error_lines(inputs: &[&Input]) -> Vec<ErrorLine> {
    inputs
        .iter()
        .filter_map(|i| {
            i.error.as_ref().map(|m| ErrorLine {
                field: i.name,
                message: m.clone(),
            })
        })
        .collect()
}

/// The person's registration as the page shows it.
#[derive(Debug, Serialize)]
struct Mine {
    id: i64,
    status: String,
    status_code: &'static str,
    seat: String,
    /// Waitlisted: the place in the queue for this kind of seat.
    place: Option<usize>,
    code: Option<String>,
    qr_svg: Option<String>,
    checkin_url: Option<String>,
    online_url: Option<String>,
    cancel: Option<String>,
    answers: Vec<(String, String)>,
    logistics: Vec<(String, String)>,
}

/// Where the registration form stands.
fn window_text(
    state: &AppState,
    locale: Locale,
    event: &Event,
    now: chrono::DateTime<chrono::Utc>,
) -> (bool, String) {
    match event.registration_open(now) {
        Ok(()) => {
            let t = match event.closes_at {
                Some(c) => text(state, locale, "evp_window_open_until")
                    .replace("{at}", &datetime_text(locale, c)),
                None => text(state, locale, "evp_window_open"),
            };
            (true, t)
        }
        Err(Closed::NotYetOpen) => (
            false,
            text(state, locale, "evp_window_not_yet").replace(
                "{at}",
                &event
                    .opens_at
                    .map(|o| datetime_text(locale, o))
                    .unwrap_or_default(),
            ),
        ),
        Err(Closed::Cancelled) => (false, text(state, locale, "evp_cancelled")),
        Err(_) => (false, text(state, locale, "evp_window_closed")),
    }
}

fn subsidy_text(state: &AppState, locale: Locale, s: TravelSubsidy) -> Option<String> {
    match s {
        TravelSubsidy::None => None,
        TravelSubsidy::Flat(n) => {
            Some(text(state, locale, "evp_subsidy_flat").replace("{amount}", &yen(locale, n)))
        }
        TravelSubsidy::UpTo(n) => {
            Some(text(state, locale, "evp_subsidy_up_to").replace("{amount}", &yen(locale, n)))
        }
    }
}

/// The day's itinerary as lines of text.
#[derive(Debug, Serialize)]
struct DayView {
    date: String,
    time: String,
    itinerary: String,
}

/// The person's place in the waitlist for their kind of seat (1 = next).
async fn waitlist_place(
    state: &AppState,
    tenant: &TenantPath,
    r: &Registration,
) -> Result<Option<usize>, WebError> {
    if r.status() != RegistrationStatus::Waitlisted {
        return Ok(None);
    }
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let all = tx.registrations(r.event_id).await?;
    tx.commit().await?;
    let mut queue: Vec<&Registration> = all
        .iter()
        .filter(|o| o.status() == RegistrationStatus::Waitlisted && o.seat_kind() == r.seat_kind())
        .collect();
    queue.sort_by_key(|o| (o.queued_at, o.id));
    Ok(queue.iter().position(|o| o.id == r.id).map(|p| p + 1))
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn render_detail(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    viewer: Option<&Account>,
    tenant: &TenantPath,
    event: &Event,
    shown: Shown,
    status: StatusCode,
) -> Result<Response, PageError> {
    let slug = tenant.slug();
    let now = state.now();
    let fields: EventFields = event.fields()?;
    let path = format!("/t/{slug}/events/{}", event.id);
    let mut ctx = base_context(state, locale, viewer, &path);
    let row = event_row(state, locale, slug, event)?;
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("event_id", &event.id.get());
    ctx.insert("ev", &row);
    ctx.insert("description", &fields.description);
    let days: Vec<DayView> = fields
        .days
        .iter()
        .map(|d| DayView {
            date: date_text(locale, d.date),
            time: format!("{}–{}", d.starts.format("%H:%M"), d.ends.format("%H:%M")),
            itinerary: d.itinerary.clone(),
        })
        .collect();
    ctx.insert("days", &days);
    ctx.insert(
        "place",
        &fields
            .format
            .offers(SeatKind::Onsite)
            .then(|| place_text(locale, &fields, SeatKind::Onsite)),
    );
    ctx.insert("selection", fields.selection.name(locale));
    ctx.insert("subsidy", &subsidy_text(state, locale, fields.subsidy));
    let (open, window) = window_text(state, locale, event, now);
    ctx.insert("window", &window);
    ctx.insert("sign_in_href", &{
        let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
        format!("/signin?next={next}")
    });
    ctx.insert("signed_in", &viewer.is_some());
    ctx.insert("notice", &shown.notice.map(|k| text(state, locale, k)));
    ctx.insert("problem", &shown.problem.map(|k| text(state, locale, k)));

    let mine = match viewer {
        Some(a) => {
            let mut tx = state.store.tenant(tenant.id).read().await?;
            let r = tx.registration_of(event.id, a.id).await?;
            tx.commit().await?;
            r
        }
        None => None,
    };
    let live = mine
        .as_ref()
        .filter(|r| r.status() != RegistrationStatus::Cancelled);
    let (jar, csrf) = csrf_token(state, jar);
    ctx.insert("csrf", &csrf);
    let mut errors: Vec<ErrorLine> = Vec::new();
    if let Some(r) = live {
        let st = r.status();
        let code = CheckinCode::parse(&r.checkin_code);
        let holds = st.holds_seat();
        let checkin_url = code
            .as_ref()
            .filter(|_| holds)
            .map(|c| state.link(&format!("/t/{slug}/checkin/{}", c.as_str())));
        let cancel = may_cancel(st, event.starts_at, now).then(|| {
            text(
                state,
                locale,
                match st {
                    RegistrationStatus::Waitlisted => "evp_leave_waitlist",
                    RegistrationStatus::Pending => "evp_withdraw",
                    _ => "evp_cancel",
                },
            )
        });
        let answers = r
            .answers()
            .0
            .iter()
            .filter_map(|(k, a)| {
                fields
                    .questions
                    .iter()
                    .find(|q| &q.key == k)
                    .map(|q| (q.label.clone(), answer_text(state, locale, a)))
            })
            .collect();
        let kept = r.logistics();
        let logistics = kept
            .as_ref()
            .map(|l| {
                l.0.iter()
                    .filter_map(|(k, a)| {
                        fields
                            .logistics
                            .iter()
                            .find(|q| &q.key == k)
                            .map(|q| (q.label.clone(), answer_text(state, locale, a)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let view = Mine {
            id: r.id.get(),
            status: text(state, locale, &format!("evp_status_{}", st.code())),
            status_code: st.code(),
            seat: r.seat_kind().name(locale).to_owned(),
            place: waitlist_place(state, tenant, r).await?,
            code: code.as_ref().map(CheckinCode::display),
            qr_svg: checkin_url
                .as_deref()
                .and_then(|u| qr::svg(u, &text(state, locale, "evp_qr_label"))),
            checkin_url,
            online_url: sees_online_url(st, r.seat_kind())
                .then(|| fields.online_url.clone())
                .flatten(),
            cancel,
            answers,
            logistics,
        };
        if may_fill_logistics(fields.logistics_form, st, event.ends_at, now) {
            let inputs = question_inputs(
                state,
                locale,
                &fields.logistics,
                &shown.logistics_pairs,
                kept.as_ref(),
                &shown.logistics_errors,
            );
            errors.extend(error_lines(&inputs.iter().collect::<Vec<_>>()));
            ctx.insert("logistics_inputs", &inputs);
        }
        ctx.insert(
            "place_text",
            &view
                .place
                .map(|p| text(state, locale, "evp_waitlist_place").replace("{n}", &p.to_string())),
        );
        ctx.insert("mine", &view);
    } else if open && let Some(a) = viewer {
        let mut inputs = Vec::new();
        if let Some(i) = attendance_input(state, locale, fields.format, &shown.pairs, &shown.errors)
        {
            inputs.push(i);
        }
        inputs.extend(question_inputs(
            state,
            locale,
            &fields.questions,
            &shown.pairs,
            None,
            &shown.errors,
        ));
        errors.extend(error_lines(&inputs.iter().collect::<Vec<_>>()));
        ctx.insert("inputs", &inputs);
        ctx.insert("idempotency_key", &fresh_key());
        ctx.insert("verified", &a.email_verified_at.is_some());
        ctx.insert(
            "screened",
            &(fields.selection == yui_domain::event::Selection::Screened),
        );
        ctx.insert("was_cancelled", &mine.is_some());
    }
    ctx.insert("open", &open);
    ctx.insert("errors", &errors);
    Ok((jar, render(state, "evp_event.html", ctx, locale, status)).into_response())
}

/// One of the person's registrations on `/me`.
#[derive(Debug, Serialize)]
pub(crate) struct MyEventRow {
    href: String,
    title: String,
    when: String,
    status: String,
    upcoming: bool,
}

/// The person's registrations across regions, the latest event first.
pub(crate) async fn my_event_rows(
    state: &AppState,
    locale: Locale,
    account: &Account,
) -> Result<Vec<MyEventRow>, WebError> {
    let mut tx = state.store.account(account.id).read().await?;
    let mine = tx.my_registrations(50).await?;
    tx.commit().await?;
    let now = state.now();
    Ok(mine
        .into_iter()
        .map(|m| {
            let fields: Option<EventFields> = serde_json::from_str(&m.details).ok();
            MyEventRow {
                href: format!("/t/{}/events/{}", m.tenant_slug, m.event_id),
                title: fields
                    .as_ref()
                    .map_or_else(|| m.title.clone(), |f| f.title(locale).to_owned()),
                when: fields.as_ref().map_or_else(
                    || datetime_text(locale, m.starts_at),
                    |f| when_text(locale, &f.days),
                ),
                status: text(state, locale, &format!("evp_status_{}", m.status)),
                upcoming: m.ends_at >= now,
            }
        })
        .collect())
}
