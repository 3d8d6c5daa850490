//! The moves of a registration that tell someone: registering, cancelling (and the
//! promotion it causes), a coordinator's decision, more seats, an event called off.
//! Pages and the API call these, so a person gets the same one mail whichever way
//! the move came; each mail is queued in the transaction of its move, so it goes out
//! exactly when the move commits, once.

use chrono::{DateTime, Datelike, Utc};
use rand::RngCore;
use yui_domain::calendar::{CalendarEvent, ics};
use yui_domain::checkin::CheckinCode;
use yui_domain::event::question::Answers;
use yui_domain::event::{EventDay, EventFields, EventStatus, SeatKind};
use yui_domain::registration::{RegistrationStatus, sees_online_url};
use yui_domain::reminder::covered_by_confirmation;
use yui_domain::{AccountId, Locale, RegistrationId};
use yui_mail::{Attachment, MailKind, NewMail};
use yui_store::{
    Account, Event, NewRegistration, Registered, Registration, SeatLock, SeatMove, TenantTx,
};

use crate::extract::TenantPath;
use crate::render::date_text;
use crate::{AppState, WebError};

/// `月` … `日`.
fn weekday(locale: Locale, date: chrono::NaiveDate) -> String {
    let i = date.weekday().num_days_from_monday() as usize;
    match locale {
        Locale::Ja => ["月", "火", "水", "木", "金", "土", "日"][i].to_owned(),
        Locale::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i].to_owned(),
    }
}

/// When an event is, in Tokyo time, day by day: 「2025年8月25日(月) 19:00–20:00」,
/// a tour 「2025年11月8日(土) 10:00–17:00、2025年11月9日(日) 9:00–15:00」.
pub(crate) fn when_text(locale: Locale, days: &[EventDay]) -> String {
    let parts: Vec<String> = days
        .iter()
        .map(|d| {
            let span = format!("{}–{}", d.starts.format("%H:%M"), d.ends.format("%H:%M"));
            match locale {
                Locale::Ja => format!(
                    "{}({}) {span}",
                    date_text(locale, d.date),
                    weekday(locale, d.date)
                ),
                Locale::En => format!(
                    "{} {}, {span}",
                    weekday(locale, d.date),
                    date_text(locale, d.date)
                ),
            }
        })
        .collect();
    parts.join(match locale {
        Locale::Ja => "、",
        Locale::En => "; ",
    })
}

/// Where a registrant goes: the stream for an online seat, else the room.
pub(crate) fn place_text(locale: Locale, fields: &EventFields, seat: SeatKind) -> String {
    if seat == SeatKind::Online {
        return SeatKind::Online.name(locale).to_owned();
    }
    match (fields.venue.trim(), fields.address.trim()) {
        ("", "") => String::new(),
        (v, "") => v.to_owned(),
        ("", a) => a.to_owned(),
        (v, a) => format!("{v}（{a}）"),
    }
}

/// One event's calendar file (also the confirmation's attachment).
pub(crate) fn event_ics(
    state: &AppState,
    slug: &str,
    event: &Event,
    fields: &EventFields,
) -> String {
    let uid = format!("event-{}@{slug}.yui", event.id);
    let url = state.link(&format!("/t/{slug}/events/{}", event.id));
    let location = place_text(
        Locale::Ja,
        fields,
        if fields.format.offers(SeatKind::Onsite) {
            SeatKind::Onsite
        } else {
            SeatKind::Online
        },
    );
    ics(
        &fields.title,
        &[CalendarEvent {
            uid: &uid,
            title: &fields.title,
            description: &fields.description,
            location: &location,
            url: Some(&url),
            days: &fields.days,
            updated_at: event.updated_at,
            cancelled: event.status() == EventStatus::Cancelled,
        }],
    )
}

/// A fresh check-in code from the operating system's CSPRNG.
pub(crate) fn new_checkin_code() -> CheckinCode {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    CheckinCode::from_random(&bytes).unwrap_or_else(|| unreachable!("16 bytes make a code"))
}

/// What a registration request asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    pub seat_kind: SeatKind,
    pub answers: &'a Answers,
    pub idempotency_key: Option<&'a str>,
}

/// Registers `account` for `event` under the seat lock and, for a new registration,
/// queues its one mail (confirmed with the .ics, waitlisted, or pending) in the same
/// transaction.
pub(crate) async fn register(
    state: &AppState,
    tenant: &TenantPath,
    account: &Account,
    event: &Event,
    fields: &EventFields,
    req: Request<'_>,
) -> Result<Registered, WebError> {
    let now = state.now();
    let code = new_checkin_code();
    let new = NewRegistration {
        event: event.id,
        account: account.id,
        seat_kind: req.seat_kind,
        answers: req.answers,
        idempotency_key: req.idempotency_key,
        checkin_code: &code,
        now,
    };
    let (mut tx, outcome) = state
        .store
        .tenant(tenant.id)
        .register(&new, SeatLock::Held)
        .await?;
    if let Registered::New(r) = &outcome
        && let Err(e) = tell(state, &mut tx, tenant, event, fields, r, false, now).await
    {
        tx.rollback().await?;
        return Err(e);
    }
    tx.commit().await?;
    state.inner.mail_waker.notify_one();
    Ok(outcome)
}

/// Cancels a registration (by its holder or staff) and tells the person promoted
/// into the freed seat. `None` when it was already cancelled.
pub(crate) async fn cancel(
    state: &AppState,
    tenant: &TenantPath,
    id: RegistrationId,
    actor: AccountId,
) -> Result<Option<SeatMove>, WebError> {
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    let Some(moved) = tx.cancel_registration(id, actor, now).await? else {
        tx.rollback().await?;
        return Ok(None);
    };
    if !moved.promoted.is_empty() {
        let event = tx.event(moved.registration.event_id).await?;
        let fields = event.fields()?;
        for p in &moved.promoted {
            if let Err(e) = tell(state, &mut tx, tenant, &event, &fields, p, true, now).await {
                tx.rollback().await?;
                return Err(e);
            }
        }
    }
    tx.commit().await?;
    state.inner.mail_waker.notify_one();
    Ok(Some(moved))
}

/// A coordinator's decision on a pending registration, told to the person.
pub(crate) async fn decide(
    state: &AppState,
    tenant: &TenantPath,
    id: RegistrationId,
    approve: bool,
    actor: AccountId,
) -> Result<Option<Registration>, WebError> {
    let now = state.now();
    let mut tx = state.store.tenant(tenant.id).write().await?;
    let Some(r) = tx.decide_registration(id, approve, actor, now).await? else {
        tx.rollback().await?;
        return Ok(None);
    };
    let event = tx.event(r.event_id).await?;
    let fields = event.fields()?;
    if let Err(e) = tell(state, &mut tx, tenant, &event, &fields, &r, false, now).await {
        tx.rollback().await?;
        return Err(e);
    }
    tx.commit().await?;
    state.inner.mail_waker.notify_one();
    Ok(Some(r))
}

/// Tells the people an edit of the event promoted (more seats), inside the edit's
/// transaction.
pub(crate) async fn tell_promoted(
    state: &AppState,
    tx: &mut TenantTx,
    tenant: &TenantPath,
    promoted: &[Registration],
    now: DateTime<Utc>,
) -> Result<(), WebError> {
    let Some(first) = promoted.first() else {
        return Ok(());
    };
    let event = tx.event(first.event_id).await?;
    let fields = event.fields()?;
    for p in promoted {
        tell(state, tx, tenant, &event, &fields, p, true, now).await?;
    }
    Ok(())
}

/// Tells every live registrant that the event was called off, inside the
/// transaction that called it off.
pub(crate) async fn tell_called_off(
    state: &AppState,
    tx: &mut TenantTx,
    tenant: &TenantPath,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<usize, WebError> {
    let fields = event.fields()?;
    let mut n = 0;
    for r in tx.registrations(event.id).await? {
        if matches!(
            r.status(),
            RegistrationStatus::Cancelled
                | RegistrationStatus::Attended
                | RegistrationStatus::NoShow
        ) {
            continue;
        }
        queue(
            state,
            tx,
            tenant,
            event,
            &fields,
            &r,
            MailKind::EventCancelled,
            now,
        )
        .await?;
        n += 1;
    }
    Ok(n)
}

/// The one mail a registration's new status calls for (`promoted`: it took a seat
/// someone freed). A confirmed registration also counts the reminders whose moment
/// has passed as told: the confirmation stands in for them.
#[allow(clippy::too_many_arguments)]
async fn tell(
    state: &AppState,
    tx: &mut TenantTx,
    tenant: &TenantPath,
    event: &Event,
    fields: &EventFields,
    r: &Registration,
    promoted: bool,
    now: DateTime<Utc>,
) -> Result<(), WebError> {
    let kind = match (r.status(), promoted) {
        (RegistrationStatus::Confirmed, false) => MailKind::EventConfirmed,
        (RegistrationStatus::Confirmed, true) => MailKind::EventPromoted,
        (RegistrationStatus::Waitlisted, _) => MailKind::EventWaitlisted,
        (RegistrationStatus::Pending, _) => MailKind::EventPending,
        (RegistrationStatus::Cancelled, _) => MailKind::EventDeclined,
        _ => return Ok(()),
    };
    if r.status() == RegistrationStatus::Confirmed {
        let offsets = &tenant.record.tenant.events.reminders;
        let covered: Vec<i64> = covered_by_confirmation(event.starts_at, offsets, now)
            .iter()
            .map(|o| o.as_minutes())
            .collect();
        tx.record_reminders(r.id, &covered, now).await?;
    }
    queue(state, tx, tenant, event, fields, r, kind, now).await
}

/// The mail variables every event mail shares, in the person's language.
pub(crate) fn mail_vars(
    state: &AppState,
    slug: &str,
    event: &Event,
    fields: &EventFields,
    r: &Registration,
    locale: Locale,
) -> serde_json::Value {
    let seat = r.seat_kind();
    let online_url = if sees_online_url(r.status(), seat) {
        fields.online_url.clone().unwrap_or_default()
    } else {
        String::new()
    };
    let code = CheckinCode::parse(&r.checkin_code)
        .map(|c| c.display())
        .unwrap_or_default();
    serde_json::json!({
        "display_name": r.display_name,
        "event_title": fields.title(locale),
        "when": when_text(locale, &fields.days),
        "place": place_text(locale, fields, seat),
        "online_url": online_url,
        "checkin_code": code,
        "link": state.link(&format!("/t/{slug}/events/{}", event.id)),
    })
}

#[allow(clippy::too_many_arguments)]
async fn queue(
    state: &AppState,
    tx: &mut TenantTx,
    tenant: &TenantPath,
    event: &Event,
    fields: &EventFields,
    r: &Registration,
    kind: MailKind,
    now: DateTime<Utc>,
) -> Result<(), WebError> {
    let locale = Locale::parse(&r.locale).unwrap_or(Locale::Ja);
    let attachment =
        matches!(kind, MailKind::EventConfirmed | MailKind::EventPromoted).then(|| Attachment {
            name: "event.ics".to_owned(),
            content_type: "text/calendar; charset=utf-8; method=PUBLISH".to_owned(),
            body: event_ics(state, tenant.slug(), event, fields),
        });
    let mail = NewMail {
        tenant: Some(yui_mail::MailTenant::from_tenant(
            tenant.id,
            &tenant.record.tenant,
        )),
        to: r.email.clone(),
        locale,
        kind,
        vars: mail_vars(state, tenant.slug(), event, fields, r, locale),
        attachment,
    };
    match state.inner.outbox.enqueue(tx, &mail, now).await {
        Ok(_) => Ok(()),
        // An address the mailer refuses (a tombstone) cannot be fixed by retrying;
        // the move itself stands.
        Err(yui_mail::MailError::Address(_)) => {
            tracing::warn!(registration = r.id.get(), "event mail: address refused");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
