//! Reminder mails before events (by default 2 days and 2 hours before; each tenant
//! may set its own in `[events] reminders`). Every node runs this; a reminder is
//! claimed by inserting its row in the transaction that queues the mail, so with any
//! number of nodes it goes out once, and a node that was down sends only the nearest
//! reminder, not a pile of stale ones.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use yui_domain::reminder::{Offset, due_reminders, stale_reminders};
use yui_domain::{Locale, TenantId};
use yui_mail::{MailKind, NewMail};
use yui_store::{PlatformReason, ReminderCandidate};

use super::flow::{place_text, when_text};
use crate::{AppState, WebError};

/// How many registrations one run looks at; the next run takes the rest.
const BATCH: i64 = 5000;

/// How often a node looks for due reminders.
pub const INTERVAL: Duration = Duration::from_secs(30);

/// "2日後" / "in 2 days": how far off the event is, from the offset that fell due.
fn lead(locale: Locale, offset: Offset) -> String {
    let minutes = offset.as_minutes();
    let (n, ja, en) = if minutes % 1440 == 0 {
        (minutes / 1440, "日後", "day")
    } else if minutes % 60 == 0 {
        (minutes / 60, "時間後", "hour")
    } else {
        (minutes, "分後", "minute")
    };
    match locale {
        Locale::Ja => format!("{n}{ja}"),
        Locale::En if n == 1 => format!("in 1 {en}"),
        Locale::En => format!("in {n} {en}s"),
    }
}

/// Queues the reminders due at `now`; returns how many mails were queued.
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn send_due(state: &AppState, now: DateTime<Utc>) -> Result<usize, WebError> {
    // The longest offset any tenant uses bounds the events worth reading.
    let tenants = state.store.list_tenants().await?;
    let offsets: HashMap<TenantId, (String, Vec<Offset>, yui_mail::MailTenant)> = tenants
        .iter()
        .filter(|t| t.status == yui_domain::TenantStatus::Active)
        .map(|t| {
            (
                t.id,
                (
                    t.tenant.slug.clone(),
                    t.tenant.events.reminders.clone(),
                    yui_mail::MailTenant::from_tenant(t.id, &t.tenant),
                ),
            )
        })
        .collect();
    let longest = offsets
        .values()
        .flat_map(|(_, o, _)| o.iter().map(|o| o.as_minutes()))
        .max()
        .unwrap_or(0);
    if longest == 0 {
        return Ok(0);
    }
    let horizon = now + chrono::TimeDelta::minutes(longest);
    let mut tx = state
        .store
        .platform(PlatformReason::EventReminders)
        .write()
        .await?;
    let candidates = tx.reminder_candidates(now, horizon, BATCH).await?;
    let mut queued = 0;
    for c in &candidates {
        let Some((slug, tenant_offsets, mail_tenant)) = offsets.get(&c.tenant_id) else {
            continue;
        };
        let sent: Vec<Offset> = c.sent.iter().filter_map(|m| Offset::minutes(*m)).collect();
        let due = due_reminders(c.starts_at, tenant_offsets, now, &sent);
        let stale: Vec<i64> = stale_reminders(c.starts_at, tenant_offsets, now, &sent)
            .iter()
            .map(|o| o.as_minutes())
            .collect();
        if !stale.is_empty() {
            tx.claim_reminders(c.tenant_id, c.registration, &stale, now)
                .await?;
        }
        let Some(offset) = due.first().copied() else {
            continue;
        };
        // Another node may have claimed it a moment ago: then it sends, not us.
        if tx
            .claim_reminders(c.tenant_id, c.registration, &[offset.as_minutes()], now)
            .await?
            .is_empty()
        {
            continue;
        }
        match state
            .inner
            .outbox
            .enqueue(
                &mut tx,
                &reminder_mail(state, slug, mail_tenant, c, offset),
                now,
            )
            .await
        {
            Ok(_) => queued += 1,
            Err(yui_mail::MailError::Address(_)) => {
                tracing::warn!(
                    registration = c.registration.get(),
                    "reminder: address refused"
                );
            }
            Err(e) => {
                tx.rollback().await?;
                return Err(e.into());
            }
        }
    }
    tx.commit().await?;
    if queued > 0 {
        state.inner.mail_waker.notify_one();
        tracing::info!(mails = queued, "event reminders queued");
    }
    Ok(queued)
}

fn reminder_mail(
    state: &AppState,
    slug: &str,
    tenant: &yui_mail::MailTenant,
    c: &ReminderCandidate,
    offset: Offset,
) -> NewMail {
    let locale = Locale::parse(&c.locale).unwrap_or(Locale::Ja);
    let fields: Option<yui_domain::event::EventFields> = serde_json::from_str(&c.details).ok();
    let seat = yui_domain::event::SeatKind::parse(&c.seat_kind)
        .unwrap_or(yui_domain::event::SeatKind::Onsite);
    let (title, when, place, online_url) = match &fields {
        Some(f) => (
            f.title(locale).to_owned(),
            when_text(locale, &f.days),
            place_text(locale, f, seat),
            if seat == yui_domain::event::SeatKind::Online {
                f.online_url.clone().unwrap_or_default()
            } else {
                String::new()
            },
        ),
        None => (c.title.clone(), String::new(), String::new(), String::new()),
    };
    let code = yui_domain::checkin::CheckinCode::parse(&c.checkin_code)
        .map(|c| c.display())
        .unwrap_or_default();
    NewMail {
        tenant: Some(tenant.clone()),
        to: c.email.clone(),
        locale,
        kind: MailKind::EventReminder,
        vars: serde_json::json!({
            "display_name": c.display_name,
            "event_title": title,
            "when": when,
            "place": place,
            "online_url": online_url,
            "checkin_code": code,
            "link": state.link(&format!("/t/{slug}/events/{}", c.event)),
            "lead": lead(locale, offset),
        }),
        attachment: None,
    }
}

/// Runs [`send_due`] every [`INTERVAL`] until the task is dropped.
pub(crate) async fn run(state: AppState) {
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = send_due(&state, state.now()).await {
            tracing::warn!(error = %e, "event reminders failed");
        }
    }
}
