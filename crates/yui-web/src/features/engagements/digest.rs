//! The coordinators' daily digest of engagements at risk. Every node runs it; for
//! each active tenant with engagements at risk, each coordinator gets one mail per
//! Japan day listing them, never one per engagement. The mail is claimed by the row
//! in `at_risk_digests` inserted in the same transaction that queues it, so with
//! any number of nodes (or two runs at once) it goes out once a day.

use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use yui_domain::engagement::japan_day;
use yui_domain::{Locale, TenantStatus};
use yui_mail::{MailKind, NewMail};
use yui_store::{AtRisk, TenantRecord};

use super::risk_texts;
use crate::{AppState, WebError};

/// How often a node looks.
pub const INTERVAL: Duration = Duration::from_secs(600);

/// The Japan hour from which the day's digest goes out (a working morning, not
/// midnight).
pub const FROM_HOUR: u32 = 8;

/// Queues the digests due at `now`; returns how many mails were queued.
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn send_due(state: &AppState, now: DateTime<Utc>) -> Result<usize, WebError> {
    if now.with_timezone(&yui_domain::fiscal::tokyo()).hour() < FROM_HOUR {
        return Ok(0);
    }
    let mut queued = 0;
    for tenant in state.store.list_tenants().await? {
        if tenant.status == TenantStatus::Active {
            queued += send_for_tenant(state, &tenant, now).await?;
        }
    }
    if queued > 0 {
        state.inner.mail_waker.notify_one();
        tracing::info!(mails = queued, "at-risk digests queued");
    }
    Ok(queued)
}

/// One tenant's digests: its at-risk list read once, then one claim and mail per
/// coordinator, all in one transaction of this tenant.
async fn send_for_tenant(
    state: &AppState,
    tenant: &TenantRecord,
    now: DateTime<Utc>,
) -> Result<usize, WebError> {
    let day = japan_day(now);
    // Reading first: a writing transaction (one at a time on SQLite) only when a
    // coordinator is still to be told today.
    let mut tx = state.store.tenant(tenant.id).read().await?;
    let claimed = tx.at_risk_digests_claimed(day).await?;
    let waiting = tx
        .role_holders("coordinator", now)
        .await?
        .iter()
        .any(|c| !claimed.contains(&c.account_id));
    let any = waiting && !tx.at_risk_engagements(now).await?.is_empty();
    tx.commit().await?;
    if !any {
        return Ok(0);
    }
    let mut tx = state.store.tenant(tenant.id).write().await?;
    // Read again inside the writing transaction: the list the mail names is the
    // one as of the claim.
    let risks = tx.at_risk_engagements(now).await?;
    let coordinators = tx.role_holders("coordinator", now).await?;
    let mail_tenant = yui_mail::MailTenant::from_tenant(tenant.id, &tenant.tenant);
    let slug = &tenant.tenant.slug;
    let mut queued = 0;
    for c in &coordinators {
        if risks.is_empty() || !tx.claim_at_risk_digest(c.account_id, day, now).await? {
            continue;
        }
        let locale = Locale::parse(&c.locale).unwrap_or(tenant.tenant.default_locale);
        let mail = NewMail {
            tenant: Some(mail_tenant.clone()),
            to: c.email.clone(),
            locale,
            kind: MailKind::AtRiskDigest,
            vars: serde_json::json!({
                "display_name": c.display_name,
                "count": risks.len().to_string(),
                "list": list_text(state, locale, &risks),
                "link": state.link(&format!("/t/{slug}/engagements?at_risk=1")),
            }),
            attachment: None,
        };
        match state.inner.outbox.enqueue(&mut tx, &mail, now).await {
            Ok(_) => queued += 1,
            Err(yui_mail::MailError::Address(_)) => {
                tracing::warn!(
                    account = c.account_id.get(),
                    "at-risk digest: address refused"
                );
            }
            Err(e) => {
                tx.rollback().await?;
                return Err(e.into());
            }
        }
    }
    tx.commit().await?;
    Ok(queued)
}

/// One line per engagement: talent, project and host, and why it is at risk.
fn list_text(state: &AppState, locale: Locale, risks: &[AtRisk]) -> String {
    let sep = match locale {
        Locale::Ja => "、",
        Locale::En => ", ",
    };
    risks
        .iter()
        .map(|r| {
            let e = &r.engagement;
            let why = risk_texts(state, locale, &r.causes).join(sep);
            format!(
                "・{} — {}（{}）: {why}",
                e.talent_name, e.project_title, e.host_name
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs [`send_due`] every [`INTERVAL`] until the task is dropped.
pub(crate) async fn run(state: AppState) {
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = send_due(&state, state.now()).await {
            tracing::warn!(error = %e, "at-risk digests failed");
        }
    }
}
