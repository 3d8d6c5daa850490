//! The hourly digest of application messages: every notification due is claimed and
//! marked sent in the same transaction that queues one mail per person, so with any
//! number of app nodes running it, each message is told once and a person gets at
//! most one digest an hour (notifications are due at the top of the hour after
//! their message).

use std::time::Duration;

use chrono::{DateTime, Utc};
use yui_domain::Locale;
use yui_mail::{MailKind, NewMail};
use yui_store::PlatformReason;

use crate::{AppState, WebError};

/// How many notifications one run takes at most; the next run takes the rest.
const BATCH: i64 = 2000;

/// How often a node looks for due digests.
pub const INTERVAL: Duration = Duration::from_secs(5);

/// Queues the digests due at `now`; returns how many mails were queued.
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn send_due(state: &AppState, now: DateTime<Utc>) -> Result<usize, WebError> {
    let mut tx = state
        .store
        .platform(PlatformReason::MessageDigests)
        .write()
        .await?;
    let digests = tx.take_due_digests(now, BATCH).await?;
    if digests.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    let mut queued = 0;
    for d in &digests {
        let Some((slug, first, _)) = d.threads.first() else {
            continue;
        };
        let count: i64 = d.threads.iter().map(|(_, _, n)| n).sum();
        let locale = if d.locale == "en" {
            Locale::En
        } else {
            Locale::Ja
        };
        let mail = NewMail {
            tenant: None,
            to: d.email.clone(),
            locale,
            kind: MailKind::ApplicationDigest,
            vars: serde_json::json!({
                "display_name": d.display_name,
                "count": count.to_string(),
                "link": state.link(&format!("/t/{slug}/applications/{first}#messages")),
            }),
            attachment: None,
        };
        match state.inner.outbox.enqueue(&mut tx, &mail, now).await {
            Ok(_) => queued += 1,
            // An address the mailer refuses cannot be fixed by retrying: skip it.
            Err(yui_mail::MailError::Address(_)) => {
                tracing::warn!(account = d.account_id.get(), "digest: address refused");
            }
            Err(e) => {
                tx.rollback().await?;
                return Err(e.into());
            }
        }
    }
    tx.commit().await?;
    state.inner.mail_waker.notify_one();
    tracing::info!(mails = queued, "application digests queued");
    Ok(queued)
}

/// Runs [`send_due`] every [`INTERVAL`] until the task is dropped.
pub(crate) async fn run(state: AppState) {
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = send_due(&state, state.now()).await {
            tracing::warn!(error = %e, "application digests failed; retrying next round");
        }
    }
}
