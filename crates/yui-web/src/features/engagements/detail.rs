//! One engagement's page and its forms. What it shows depends on the viewer's
//! seat: staff and the assigned mentor read every check-in, note and reflection;
//! the talent and the host's members read only their own side's check-ins and
//! reflections. Each side writes candidly about the other (a concern about the
//! host, a low satisfaction) only if the other cannot read it; the secretariat
//! and the mentor are the ones who act on it, so they see both. Mentors' notes
//! are for staff and the mentor alone, for the same reason.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use yui_domain::Locale;
use yui_domain::account::FieldError;
use yui_domain::audit::AuditAction;
use yui_domain::engagement::{
    CheckinInput, CheckinSide, ContinueWish, EndInput, EndReason, EngagementStatus, MoveError,
    NoteInput, PROGRESS_MAX, ReflectionInput, TEXT_MAX, TermsChange, TermsInput, check_checkin,
    check_end, check_move, check_note, check_reflection, check_renewal, check_start, check_terms,
    japan_day, japan_month, term_over,
};
use yui_store::{Account, AuditEntry, AuditTx, EngagementRecord, TenantTx, TermsOutcome};

use super::{Seat, options, reason_text, risk_texts, terms_inputs, text, visible};
use crate::error::PageError;
use crate::extract::{ClientIp, CsrfForm, Lang, SignedIn, TenantPath};
use crate::features::hosts::form::{Builder, Input, Kind, error_lines};
use crate::features::projects::yen;
use crate::render::{base_context, date_text, datetime_text, render};
use crate::security::csrf_token;
use crate::{AppState, WebError};

/// Which form a failed post came from: it is drawn again with what was typed.
#[derive(Debug, Default)]
struct Typed {
    terms: Option<TermsForm>,
    status: Option<StatusForm>,
    checkin: Option<CheckinInput>,
    note: Option<NoteInput>,
    reflection: Option<ReflectionInput>,
    errors: Vec<FieldError>,
    /// A refusal that is no field's fault (a move the machine does not allow).
    problem: Option<String>,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    done: Option<String>,
}

#[derive(Debug, Serialize)]
struct View {
    id: i64,
    talent: String,
    host: String,
    project: String,
    status: String,
    status_text: String,
    started_on: Option<String>,
    ended_on: Option<String>,
    end_reason: Option<String>,
    end_note: Option<String>,
    mentor: Option<String>,
    term_no: i64,
}

#[derive(Debug, Serialize)]
struct TermsRow {
    term_no: i64,
    change: String,
    period: String,
    hours: Option<i64>,
    style: String,
    compensation: String,
    amount: Option<String>,
    note: Option<String>,
    recorded: String,
}

#[derive(Debug, Serialize)]
struct CheckinRow {
    side: String,
    author: Option<String>,
    month: String,
    progress: String,
    satisfaction: Option<i64>,
    concern: Option<String>,
    at: String,
}

#[derive(Debug, Serialize)]
struct ReflectionRow {
    term_no: i64,
    side: String,
    author: Option<String>,
    achieved: String,
    learned: String,
    wish: String,
}

#[derive(Debug, Serialize)]
struct MoveRow {
    from: String,
    to: String,
    actor: Option<String>,
    at: String,
}

/// A one-button move (pause, resume, complete).
#[derive(Debug, Serialize)]
struct Button {
    to: &'static str,
    label: String,
}

fn view_of(state: &AppState, locale: Locale, e: &EngagementRecord) -> View {
    View {
        id: e.id.get(),
        talent: e.talent_name.clone(),
        host: e.host_name.clone(),
        project: e.project_title.clone(),
        status: e.status.clone(),
        status_text: text(state, locale, &format!("eg_status_{}", e.status)),
        started_on: e.started_on.map(|d| date_text(locale, d)),
        ended_on: e.ended_on.map(|d| date_text(locale, d)),
        end_reason: e
            .end_reason
            .as_deref()
            .map(|r| reason_text(state, locale, r)),
        end_note: e.end_note.clone().filter(|n| !n.is_empty()),
        mentor: e.mentor_name.clone(),
        term_no: e.term_no,
    }
}

/// The terms form: the terms, and whether they change the current term or begin
/// a new one (renewal).
#[derive(Debug, Default, Deserialize)]
pub(super) struct TermsForm {
    #[serde(default)]
    term_change: String,
    /// The term the page showed: terms for an engagement that moved on since are
    /// refused rather than recorded twice.
    #[serde(default)]
    at_term: String,
    #[serde(flatten)]
    terms: TermsInput,
}

/// A status move: `to`, with a start date (activation) or a reason (end).
#[derive(Debug, Default, Deserialize)]
pub(super) struct StatusForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    started_on: String,
    #[serde(flatten)]
    end: EndInput,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct MentorForm {
    #[serde(default)]
    mentor: String,
}

#[allow(clippy::too_many_arguments)]
async fn render_page(
    state: &AppState,
    locale: Locale,
    jar: CookieJar,
    account: &Account,
    tenant: &TenantPath,
    e: &EngagementRecord,
    seat: Seat,
    typed: Typed,
    status: StatusCode,
) -> Result<Response, PageError> {
    let now = state.now();
    let today = japan_day(now);
    let reads_all = matches!(seat, Seat::Staff | Seat::Mentor);
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let terms = tx.engagement_terms(e.id).await?;
    let moves = tx.engagement_transitions(e.id).await?;
    let checkins = tx.checkins(e.id, seat.side()).await?;
    let reflections = tx.reflections(e.id, seat.side()).await?;
    let mentors = if seat == Seat::Staff {
        tx.role_holders("mentor", now).await?
    } else {
        Vec::new()
    };
    let risks = if reads_all {
        tx.at_risk_engagements(now)
            .await?
            .into_iter()
            .find(|r| r.engagement.id == e.id)
            .map(|r| r.causes)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    tx.commit().await?;
    let current = terms.last();
    let st = e.status();
    let errors = &typed.errors;
    let b = Builder {
        state,
        locale,
        errors,
    };

    let terms_rows: Vec<TermsRow> = terms
        .iter()
        .map(|t| TermsRow {
            term_no: t.term_no,
            change: text(state, locale, &format!("eg_change_{}", t.change)),
            period: match t.ends_on {
                Some(end) => format!(
                    "{} – {}",
                    date_text(locale, t.starts_on),
                    date_text(locale, end)
                ),
                None => format!("{} –", date_text(locale, t.starts_on)),
            },
            hours: t.hours_per_month,
            style: text(state, locale, &format!("eg_style_{}", t.work_style)),
            compensation: text(state, locale, &format!("eg_comp_{}", t.compensation)),
            amount: t.amount_yen.map(|a| yen(locale, a)),
            note: t.note.clone(),
            recorded: format!(
                "{}{}",
                datetime_text(locale, t.recorded_at),
                t.recorded_by_name
                    .as_deref()
                    .filter(|n| !n.is_empty())
                    .map(|n| format!(" · {n}"))
                    .unwrap_or_default()
            ),
        })
        .collect();
    let checkin_rows: Vec<CheckinRow> = checkins
        .iter()
        .map(|c| CheckinRow {
            side: text(state, locale, &format!("eg_side_{}", c.side)),
            author: c.author_name.clone().filter(|n| !n.is_empty()),
            month: crate::features::certificates::month_text(locale, &c.month),
            progress: c.progress.clone(),
            satisfaction: c.satisfaction,
            concern: c.concern.clone(),
            at: datetime_text(locale, c.updated_at),
        })
        .collect();
    let reflection_rows: Vec<ReflectionRow> = reflections
        .iter()
        .map(|r| ReflectionRow {
            term_no: r.term_no,
            side: text(state, locale, &format!("eg_side_{}", r.side)),
            author: r.author_name.clone().filter(|n| !n.is_empty()),
            achieved: r.achieved.clone(),
            learned: r.learned.clone(),
            wish: text(state, locale, &format!("eg_wish_{}", r.continue_wish)),
        })
        .collect();
    let move_rows: Vec<MoveRow> = moves
        .iter()
        .map(|m| MoveRow {
            from: text(state, locale, &format!("eg_status_{}", m.from_status)),
            to: text(state, locale, &format!("eg_status_{}", m.to_status)),
            actor: m.actor_name.clone().filter(|n| !n.is_empty()),
            at: datetime_text(locale, m.at),
        })
        .collect();

    // Staff forms.
    let staff = seat == Seat::Staff;
    let may_renew = check_renewal(st).is_ok();
    let terms_form: Option<Vec<Input>> = (staff && st != EngagementStatus::Ended).then(|| {
        let empty = TermsForm::default();
        let typed_terms = typed.terms.as_ref().unwrap_or(&empty);
        let mut inputs = Vec::new();
        if may_renew && !terms.is_empty() {
            let chosen = if typed_terms.term_change.is_empty() {
                "change".to_owned()
            } else {
                typed_terms.term_change.clone()
            };
            inputs.push(b.choices(
                "term_change",
                Kind::Select,
                options(
                    state,
                    locale,
                    "eg_change_",
                    ["change", "renewal"].into_iter(),
                    false,
                ),
                &[chosen],
                true,
            ));
        }
        let prefill;
        let shown = if typed.terms.is_some() {
            &typed_terms.terms
        } else {
            prefill = current.map(|t| TermsInput {
                term_starts_on: t.starts_on.to_string(),
                term_ends_on: t.ends_on.map(|d| d.to_string()).unwrap_or_default(),
                hours_per_month: t.hours_per_month.map(|h| h.to_string()).unwrap_or_default(),
                term_work_style: t.work_style.clone(),
                compensation: t.compensation.clone(),
                amount_yen: t.amount_yen.map(|a| a.to_string()).unwrap_or_default(),
                terms_note: String::new(),
            });
            prefill.as_ref().unwrap_or(&typed_terms.terms)
        };
        inputs.extend(terms_inputs(state, locale, shown, errors));
        inputs
    });
    let empty_status = StatusForm::default();
    let typed_status = typed.status.as_ref().unwrap_or(&empty_status);
    let activate: Option<Vec<Input>> = (staff && st == EngagementStatus::Proposed).then(|| {
        let start = if typed.status.is_some() {
            typed_status.started_on.clone()
        } else {
            current.map(|t| t.starts_on.to_string()).unwrap_or_default()
        };
        vec![b.hint(
            b.input("started_on", Kind::Text, &start, 20, true),
            "hs_date_hint",
        )]
    });
    let buttons: Vec<Button> = if staff {
        st.next()
            .into_iter()
            .filter(|to| {
                !(st == EngagementStatus::Proposed && *to == EngagementStatus::Active)
                    && *to != EngagementStatus::Ended
            })
            .map(|to| Button {
                to: to.as_str(),
                label: text(
                    state,
                    locale,
                    &format!("eg_move_{}_{}", st.as_str(), to.as_str()),
                ),
            })
            .collect()
    } else {
        Vec::new()
    };
    let end_form: Option<Vec<Input>> =
        (staff && st.can_move_to(EngagementStatus::Ended)).then(|| {
            vec![
                b.choices(
                    "end_reason",
                    Kind::Select,
                    options(
                        state,
                        locale,
                        "eg_reason_",
                        EndReason::ALL.iter().map(|r| r.as_str()),
                        true,
                    ),
                    std::slice::from_ref(&typed_status.end.end_reason),
                    true,
                ),
                b.input(
                    "end_note",
                    Kind::Textarea,
                    &typed_status.end.end_note,
                    TEXT_MAX,
                    false,
                ),
            ]
        });
    let mentor_form: Option<Vec<Input>> = staff.then(|| {
        let mut choices = vec![(String::new(), text(state, locale, "eg_no_mentor"))];
        choices.extend(
            mentors
                .iter()
                .map(|m| (m.account_id.to_string(), m.display_name.clone())),
        );
        let chosen = e.mentor_id.map(|m| m.to_string()).unwrap_or_default();
        vec![b.choices("mentor", Kind::Select, choices, &[chosen], false)]
    });

    // Participants' forms: check-ins while it runs, a reflection once a term is over.
    let side = seat.side();
    let checkin_form: Option<Vec<Input>> = (side.is_some() && st.is_running()).then(|| {
        let empty = CheckinInput {
            checkin_month: japan_month(now),
            ..CheckinInput::default()
        };
        let c = typed.checkin.as_ref().unwrap_or(&empty);
        let mut sat = vec![(String::new(), text(state, locale, "eg_choose"))];
        sat.extend((1..=5).rev().map(|n| {
            (
                n.to_string(),
                text(state, locale, &format!("eg_satisfaction_{n}")),
            )
        }));
        vec![
            b.hint(
                b.input("checkin_month", Kind::Text, &c.checkin_month, 10, true),
                "eg_month_hint",
            ),
            b.input("progress", Kind::Textarea, &c.progress, PROGRESS_MAX, true),
            b.choices(
                "satisfaction",
                Kind::Select,
                sat,
                std::slice::from_ref(&c.satisfaction),
                true,
            ),
            b.hint(
                b.input("concern", Kind::Textarea, &c.concern, TEXT_MAX, false),
                "eg_concern_hint",
            ),
        ]
    });
    let current_end = current.and_then(|t| t.ends_on);
    let reflection_form: Option<Vec<Input>> = (side.is_some() && term_over(st, current_end, today))
        .then(|| {
            let empty = ReflectionInput::default();
            let r = typed.reflection.as_ref().unwrap_or(&empty);
            vec![
                b.input("achieved", Kind::Textarea, &r.achieved, TEXT_MAX, true),
                b.input("learned", Kind::Textarea, &r.learned, TEXT_MAX, true),
                b.choices(
                    "continue_wish",
                    Kind::Select,
                    options(
                        state,
                        locale,
                        "eg_wish_",
                        ContinueWish::ALL.iter().map(|w| w.as_str()),
                        true,
                    ),
                    std::slice::from_ref(&r.continue_wish),
                    true,
                ),
            ]
        });
    let note_form: Option<Vec<Input>> = reads_all.then(|| {
        let empty = NoteInput::default();
        let n = typed.note.as_ref().unwrap_or(&empty);
        vec![
            b.input("note", Kind::Textarea, &n.note, PROGRESS_MAX, true),
            b.input(
                "note_concern",
                Kind::Textarea,
                &n.note_concern,
                TEXT_MAX,
                false,
            ),
        ]
    });

    let slug = tenant.slug();
    let path = format!("/t/{slug}/engagements/{}", e.id);
    let (jar, csrf) = csrf_token(state, jar);
    let mut ctx = base_context(state, locale, Some(account), &path);
    ctx.insert("slug", slug);
    ctx.insert("tenant_name", tenant.record.tenant.name.get(locale));
    ctx.insert("path", &path);
    ctx.insert("seat", &seat);
    ctx.insert("e", &view_of(state, locale, e));
    ctx.insert("risks", &risk_texts(state, locale, &risks));
    ctx.insert("terms", &terms_rows);
    ctx.insert("moves", &move_rows);
    ctx.insert("checkins", &checkin_rows);
    ctx.insert("reflections", &reflection_rows);
    ctx.insert("reads_all", &reads_all);
    ctx.insert("terms_form", &terms_form);
    ctx.insert("activate", &activate);
    ctx.insert("buttons", &buttons);
    ctx.insert("end_form", &end_form);
    ctx.insert("mentor_form", &mentor_form);
    ctx.insert("checkin_form", &checkin_form);
    ctx.insert("reflection_form", &reflection_form);
    ctx.insert("note_form", &note_form);
    ctx.insert("csrf", &csrf);
    ctx.insert("errors", &error_lines(state, locale, errors));
    ctx.insert("problem", &typed.problem);
    ctx.insert("notice", &typed.notice);
    Ok((jar, render(state, "eg_detail.html", ctx, locale, status)).into_response())
}

/// The viewer, the path's tenant and the engagement with the viewer's seat.
struct Ctx {
    account: Account,
    tenant: TenantPath,
    e: EngagementRecord,
    seat: Seat,
    locale: Locale,
}

async fn load(
    state: &AppState,
    lang: Lang,
    account: Account,
    tenant: TenantPath,
    raw: &str,
) -> Result<Ctx, PageError> {
    let (e, seat) = visible(state, &tenant, account.id, raw).await?;
    let locale = lang.or(tenant.record.tenant.default_locale);
    Ok(Ctx {
        account,
        tenant,
        e,
        seat,
        locale,
    })
}

impl Ctx {
    async fn again(
        self,
        state: &AppState,
        jar: CookieJar,
        typed: Typed,
        status: StatusCode,
    ) -> Result<Response, PageError> {
        render_page(
            state,
            self.locale,
            jar,
            &self.account,
            &self.tenant,
            &self.e,
            self.seat,
            typed,
            status,
        )
        .await
    }

    fn back(&self, done: &str) -> Response {
        Redirect::to(&format!(
            "/t/{}/engagements/{}?done={done}",
            self.tenant.slug(),
            self.e.id
        ))
        .into_response()
    }

    fn refusal(&self, state: &AppState, key: &str) -> Typed {
        Typed {
            problem: Some(text(state, self.locale, key)),
            ..Typed::default()
        }
    }

    async fn audit(
        &self,
        tx: &mut TenantTx,
        action: AuditAction,
        detail: serde_json::Value,
        ip: String,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), PageError> {
        tx.audit(
            &AuditEntry {
                actor_id: Some(self.account.id),
                action,
                detail,
                ip,
            },
            now,
        )
        .await?;
        Ok(())
    }
}

const DONE: &[&str] = &[
    "created",
    "moved",
    "terms",
    "renewed",
    "mentor",
    "checkin",
    "note",
    "reflection",
];

pub(super) async fn page(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let c = load(&state, lang, account, tenant, &id).await?;
    let notice = q
        .done
        .as_deref()
        .filter(|d| DONE.contains(d))
        .map(|d| text(&state, c.locale, &format!("eg_done_{d}")));
    let typed = Typed {
        notice,
        ..Typed::default()
    };
    c.again(&state, jar, typed, StatusCode::OK).await
}

/// A status move by staff: activation with a start date (terms recorded first),
/// pause, resume, completion, or an end with a reason. A move the machine does not
/// allow from the current status draws the page again with the refusal.
#[allow(clippy::too_many_arguments)]
pub(super) async fn status(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Result<Response, PageError> {
    let c = load(&state, lang, account, tenant, &id).await?;
    if c.seat != Seat::Staff {
        return Err(WebError::NotFound.into());
    }
    let now = state.now();
    let from = c.e.status();
    let Some(to) = EngagementStatus::parse(&form.to) else {
        return Err(WebError::BadRequest("to".to_owned()).into());
    };
    let mut errors = Vec::new();
    let started_on = if from == EngagementStatus::Proposed && to == EngagementStatus::Active {
        match check_start(&form.started_on, japan_day(now)) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.extend(e);
                None
            }
        }
    } else {
        None
    };
    let end = if to == EngagementStatus::Ended {
        match check_end(&form.end) {
            Ok(x) => Some(x),
            Err(e) => {
                errors.extend(e);
                None
            }
        }
    } else {
        None
    };
    if !from.can_move_to(to) {
        let typed = c.refusal(&state, "eg_err_not_allowed");
        return c.again(&state, jar, typed, StatusCode::CONFLICT).await;
    }
    if !errors.is_empty() {
        let typed = Typed {
            status: Some(form),
            errors,
            ..Typed::default()
        };
        return c
            .again(&state, jar, typed, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    }
    let mut tx = state.store.tenant(c.tenant.id).write().await?;
    let has_terms = !tx.engagement_terms(c.e.id).await?.is_empty();
    let checked = check_move(
        from,
        to,
        has_terms && (started_on.is_some() || c.e.started_on.is_some()),
        end.as_ref().map(|(r, _)| *r),
    );
    let refusal = match checked {
        Ok(()) => None,
        Err(MoveError::NeedsStart) => Some("eg_err_needs_terms"),
        Err(MoveError::NeedsReason | MoveError::NotAllowed) => Some("eg_err_not_allowed"),
    };
    if let Some(key) = refusal {
        tx.rollback().await?;
        let typed = Typed {
            status: Some(form),
            ..c.refusal(&state, key)
        };
        return c.again(&state, jar, typed, StatusCode::CONFLICT).await;
    }
    let moved = tx
        .move_engagement(
            c.e.id,
            from,
            to,
            started_on,
            end.as_ref().map(|(r, n)| (*r, n.as_str())),
            c.account.id,
            now,
        )
        .await?;
    if !moved {
        // Someone else moved it a moment ago.
        tx.rollback().await?;
        let typed = c.refusal(&state, "eg_err_not_allowed");
        return c.again(&state, jar, typed, StatusCode::CONFLICT).await;
    }
    c.audit(
        &mut tx,
        AuditAction::EngagementStatusChanged,
        serde_json::json!({
            "engagement": c.e.id.get(), "from": from.as_str(), "to": to.as_str(),
            "reason": end.as_ref().map(|(r, _)| r.as_str()),
        }),
        ip,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(c.back("moved"))
}

/// New terms by staff: the first terms, a change during the term (history kept),
/// or a renewal (a new term; a completed engagement becomes active again).
#[allow(clippy::too_many_arguments)]
pub(super) async fn terms(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<TermsForm>,
) -> Result<Response, PageError> {
    let c = load(&state, lang, account, tenant, &id).await?;
    if c.seat != Seat::Staff {
        return Err(WebError::NotFound.into());
    }
    let now = state.now();
    let from = c.e.status();
    let renewal = form.term_change == "renewal";
    if from == EngagementStatus::Ended || (renewal && check_renewal(from).is_err()) {
        let typed = Typed {
            terms: Some(form),
            ..c.refusal(&state, "eg_err_not_allowed")
        };
        return c.again(&state, jar, typed, StatusCode::CONFLICT).await;
    }
    // A completed engagement takes new terms only as a new term.
    if from == EngagementStatus::Completed && !renewal {
        let typed = Typed {
            terms: Some(form),
            ..c.refusal(&state, "eg_err_completed_terms")
        };
        return c.again(&state, jar, typed, StatusCode::CONFLICT).await;
    }
    let terms = match check_terms(&form.terms) {
        Ok(t) => t,
        Err(errors) => {
            let typed = Typed {
                terms: Some(form),
                errors,
                ..Typed::default()
            };
            return c
                .again(&state, jar, typed, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    // A form without the term it was drawn at (an old page) counts as drawn now.
    let at_term = form.at_term.trim().parse().unwrap_or(c.e.term_no);
    let mut tx = state.store.tenant(c.tenant.id).write().await?;
    let first = tx.engagement_terms(c.e.id).await?.is_empty();
    let (change, done) = if renewal && !first {
        if !tx
            .renew_engagement(c.e.id, from, at_term, &terms, c.account.id, now)
            .await?
        {
            tx.rollback().await?;
            return stale(&state, c, jar, form).await;
        }
        (TermsChange::Renewal, "renewed")
    } else {
        match tx
            .change_terms(c.e.id, at_term, &terms, Some(c.account.id), now)
            .await?
        {
            TermsOutcome::Recorded(change) => (change, "terms"),
            // Already recorded (a double click): nothing new to log.
            TermsOutcome::Unchanged => {
                tx.rollback().await?;
                return Ok(c.back("terms"));
            }
            TermsOutcome::Stale => {
                tx.rollback().await?;
                return stale(&state, c, jar, form).await;
            }
        }
    };
    c.audit(
        &mut tx,
        AuditAction::EngagementTermsChanged,
        serde_json::json!({
            "engagement": c.e.id.get(), "change": change.as_str(),
            "compensation": terms.compensation.as_str(), "amount_yen": terms.amount_yen,
            "hours_per_month": terms.hours_per_month, "work_style": terms.work_style.as_str(),
        }),
        ip,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(c.back(done))
}

/// The page again as it now stands, saying someone changed the engagement since
/// it was drawn; what was typed is kept.
async fn stale(
    state: &AppState,
    mut c: Ctx,
    jar: CookieJar,
    form: TermsForm,
) -> Result<Response, PageError> {
    let mut tx = state.store.tenant(c.tenant.id).read().await?;
    let fresh = tx.engagement(c.e.id).await?;
    tx.commit().await?;
    c.e = fresh.ok_or(WebError::NotFound)?;
    let typed = Typed {
        terms: Some(form),
        ..c.refusal(state, "eg_err_stale")
    };
    c.again(state, jar, typed, StatusCode::CONFLICT).await
}

/// Assigns a mentor (or none): only accounts holding the mentor role here.
#[allow(clippy::too_many_arguments)]
pub(super) async fn mentor(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path((_, id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<MentorForm>,
) -> Result<Response, PageError> {
    let c = load(&state, lang, account, tenant, &id).await?;
    if c.seat != Seat::Staff {
        return Err(WebError::NotFound.into());
    }
    let now = state.now();
    let mentor = if form.mentor.trim().is_empty() {
        None
    } else {
        match form.mentor.trim().parse() {
            Ok(m) => Some(m),
            Err(_) => {
                let typed = c.refusal(&state, "eg_err_not_mentor");
                return c
                    .again(&state, jar, typed, StatusCode::UNPROCESSABLE_ENTITY)
                    .await;
            }
        }
    };
    let mut tx = state.store.tenant(c.tenant.id).write().await?;
    if !tx.assign_mentor(c.e.id, mentor, now).await? {
        tx.rollback().await?;
        let typed = c.refusal(&state, "eg_err_not_mentor");
        return c
            .again(&state, jar, typed, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    }
    c.audit(
        &mut tx,
        AuditAction::EngagementMentorAssigned,
        serde_json::json!({
            "engagement": c.e.id.get(),
            "mentor": mentor.map(|m: yui_domain::AccountId| m.get()),
        }),
        ip,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(c.back("mentor"))
}

/// A monthly check-in by the talent or the host's member, while the engagement runs.
pub(super) async fn checkin(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<CheckinInput>,
) -> Result<Response, PageError> {
    let c = load(&state, lang, account, tenant, &id).await?;
    let Some(side) = c.seat.side() else {
        return Err(WebError::NotFound.into());
    };
    if !c.e.status().is_running() {
        let typed = Typed {
            checkin: Some(form),
            ..c.refusal(&state, "eg_err_not_running")
        };
        return c.again(&state, jar, typed, StatusCode::CONFLICT).await;
    }
    let now = state.now();
    let checked = match check_checkin(&form, c.e.started_on, now) {
        Ok(x) => x,
        Err(errors) => {
            let typed = Typed {
                checkin: Some(form),
                errors,
                ..Typed::default()
            };
            return c
                .again(&state, jar, typed, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    let mut tx = state.store.tenant(c.tenant.id).write().await?;
    tx.save_checkin(c.e.id, side, c.account.id, &checked, now)
        .await?;
    tx.commit().await?;
    Ok(c.back("checkin"))
}

/// A note by the assigned mentor (or staff).
pub(super) async fn note(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<NoteInput>,
) -> Result<Response, PageError> {
    let c = load(&state, lang, account, tenant, &id).await?;
    if !matches!(c.seat, Seat::Staff | Seat::Mentor) {
        return Err(WebError::NotFound.into());
    }
    let (note, concern) = match check_note(&form) {
        Ok(x) => x,
        Err(errors) => {
            let typed = Typed {
                note: Some(form),
                errors,
                ..Typed::default()
            };
            return c
                .again(&state, jar, typed, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    let mut tx = state.store.tenant(c.tenant.id).write().await?;
    tx.add_mentor_note(c.e.id, c.account.id, &note, concern.as_deref(), state.now())
        .await?;
    tx.commit().await?;
    Ok(c.back("note"))
}

/// A side's reflection at the end of the current term.
pub(super) async fn reflection(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(account): SignedIn,
    tenant: TenantPath,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<ReflectionInput>,
) -> Result<Response, PageError> {
    let c = load(&state, lang, account, tenant, &id).await?;
    let Some(side) = c.seat.side() else {
        return Err(WebError::NotFound.into());
    };
    let now = state.now();
    let mut tx = state.store.tenant(c.tenant.id).write().await?;
    let ends_on = tx
        .engagement_terms(c.e.id)
        .await?
        .last()
        .and_then(|t| t.ends_on);
    if !term_over(c.e.status(), ends_on, japan_day(now)) {
        tx.rollback().await?;
        let typed = Typed {
            reflection: Some(form),
            ..c.refusal(&state, "eg_err_term_not_over")
        };
        return c.again(&state, jar, typed, StatusCode::CONFLICT).await;
    }
    let checked = match check_reflection(&form) {
        Ok(x) => x,
        Err(errors) => {
            tx.rollback().await?;
            let typed = Typed {
                reflection: Some(form),
                errors,
                ..Typed::default()
            };
            return c
                .again(&state, jar, typed, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    let side = match side {
        CheckinSide::Host => CheckinSide::Host,
        _ => CheckinSide::Talent,
    };
    tx.save_reflection(c.e.id, c.e.term_no, side, c.account.id, &checked, now)
        .await?;
    tx.commit().await?;
    Ok(c.back("reflection"))
}
