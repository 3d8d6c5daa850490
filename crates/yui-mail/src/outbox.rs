//! The transactional outbox: rows written with the change that caused them.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lettre::Address;
use yui_domain::locale::Localized;
use yui_domain::tenant::MailSender;
use yui_domain::{Locale, Tenant};
use yui_store::{Store, TenantScope, Tx, raw_tx, with_tx};

use crate::templates::{MailKind, Templates};
use crate::{MailError, Result};

/// What the outbox needs to know about the tenant a mail is sent for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailTenant {
    /// `tenants.id`.
    pub id: i64,
    /// The folder name, which selects template overrides.
    pub slug: String,
    /// The tenant's name, shown as `tenant_name`.
    pub names: Localized,
    /// The `From:` of the tenant's mail.
    pub sender: MailSender,
}

impl MailTenant {
    pub fn from_tenant(id: yui_domain::TenantId, tenant: &Tenant) -> MailTenant {
        MailTenant {
            id: id.get(),
            slug: tenant.slug.clone(),
            names: Localized {
                ja: tenant.name.ja.clone(),
                en: tenant.name.en.clone(),
            },
            sender: tenant.mail.clone(),
        }
    }
}

/// A mail to enqueue.
#[derive(Debug, Clone)]
pub struct NewMail {
    /// The tenant the mail is sent for; `None` for platform mail (account-level
    /// mail such as the first address check), which uses the default sender.
    pub tenant: Option<MailTenant>,
    /// The recipient's address. Only the address goes into `To:`, no name.
    pub to: String,
    /// The recipient's language.
    pub locale: Locale,
    pub kind: MailKind,
    /// A JSON object with the kind's [`variables`](MailKind::variables).
    pub vars: serde_json::Value,
}

/// Where a mail is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailStatus {
    /// Waiting for its next attempt (or claimed by a worker right now).
    Pending,
    /// An SMTP server (or the file/memory transport) accepted it.
    Sent,
    /// Given up: refused permanently or out of attempts.
    Failed,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Pending => "pending",
            MailStatus::Sent => "sent",
            MailStatus::Failed => "failed",
        }
    }
}

impl TryFrom<String> for MailStatus {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        match s.as_str() {
            "pending" => Ok(MailStatus::Pending),
            "sent" => Ok(MailStatus::Sent),
            "failed" => Ok(MailStatus::Failed),
            _ => Err(format!("unknown mail status {s:?}")),
        }
    }
}

/// A row as a worker claims it: everything needed to send it.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueuedMail {
    pub id: i64,
    pub tenant_id: Option<i64>,
    pub template: String,
    pub locale: String,
    pub from_name: String,
    pub from_address: String,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// With angle brackets: `<…@…>`.
    pub message_id: String,
    /// Attempts so far, including the current one.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

// Bodies hold sign-in links and addresses are personal data: keep both out of logs.
impl fmt::Debug for QueuedMail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueuedMail")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("template", &self.template)
            .field("locale", &self.locale)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

pub(crate) const QUEUED_COLUMNS: &str = "id, tenant_id, template, locale, from_name, from_address, \
     to_address, subject, body_text, body_html, message_id, attempts, created_at";

/// A row as stored, for operators and tests.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxEntry {
    pub id: i64,
    pub tenant_id: Option<i64>,
    pub template: String,
    pub locale: String,
    pub from_name: String,
    pub from_address: String,
    pub to_address: String,
    pub subject: String,
    pub message_id: String,
    #[sqlx(try_from = "String")]
    pub status: MailStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// How many rows are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
}

/// Renders mails and writes them to the outbox. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Outbox {
    templates: Arc<Templates>,
    default_sender: MailSender,
}

impl Outbox {
    /// `default_sender` is the `From:` of platform mail (no tenant).
    pub fn new(templates: Templates, default_sender: MailSender) -> Result<Outbox> {
        parse_address(&default_sender.sender_address, "from_default")?;
        Ok(Outbox {
            templates: Arc::new(templates),
            default_sender,
        })
    }

    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// Renders `mail` and inserts it into the outbox inside the caller's
    /// transaction, so it is sent if and only if that transaction commits.
    /// Returns the outbox row id. After the commit, wake a worker with
    /// [`Worker::waker`](crate::Worker::waker) to send it without waiting for the poll.
    #[tracing::instrument(
        skip_all,
        fields(tenant = mail.tenant.as_ref().map_or("-", |t| t.slug.as_str()), kind = %mail.kind),
        err(level = "warn")
    )]
    pub async fn enqueue<T: Tx>(
        &self,
        tx: &mut T,
        mail: &NewMail,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        parse_address(&mail.to, "to")?;
        // A tenant's transaction queues that tenant's mail only.
        if let Some(own) = tx.tenant()
            && mail.tenant.as_ref().is_some_and(|t| t.id != own.get())
        {
            return Err(MailError::Address(
                "tenant: a mail of another tenant in this tenant's transaction".to_owned(),
            ));
        }
        let tx = raw_tx(tx);
        let sender = mail
            .tenant
            .as_ref()
            .map_or(&self.default_sender, |t| &t.sender);
        let from = parse_address(&sender.sender_address, "sender_address")?;
        let rendered =
            self.templates
                .render(mail.tenant.as_ref(), mail.locale, mail.kind, &mail.vars)?;
        let message_id = format!("<{}@{}>", uuid::Uuid::new_v4().simple(), from.domain());
        let id = with_tx!(tx, conn => {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO mail_outbox (tenant_id, template, locale, from_name, from_address,
                     to_address, subject, body_text, body_html, message_id, status, attempts,
                     next_attempt_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', 0, $11, $11)
                 RETURNING id",
            )
            .bind(mail.tenant.as_ref().map(|t| t.id))
            .bind(mail.kind.name())
            .bind(mail.locale.tag())
            .bind(&sender.sender_name)
            .bind(&sender.sender_address)
            .bind(mail.to.trim())
            .bind(&rendered.subject)
            .bind(&rendered.text)
            .bind(&rendered.html)
            .bind(&message_id)
            .bind(now)
            .fetch_one(&mut **conn)
            .await
        })?;
        tracing::debug!(mail_id = id, "mail enqueued");
        Ok(id)
    }

    /// One outbox row.
    #[tracing::instrument(skip_all, fields(mail_id = id), err(level = "warn"))]
    pub async fn entry(store: &Store, id: i64) -> Result<OutboxEntry> {
        // The outbox holds every tenant's mail: the platform scope of row-level security.
        let mut tx = store.begin_read_in(TenantScope::Platform).await?;
        let row = with_tx!(&mut tx, conn => {
            sqlx::query_as::<_, OutboxEntry>(
                "SELECT id, tenant_id, template, locale, from_name, from_address, to_address,
                        subject, message_id, status, attempts, next_attempt_at, claimed_by,
                        claimed_until, last_error, created_at, sent_at
                 FROM mail_outbox WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&mut **conn)
            .await
        })?;
        tx.commit().await?;
        Ok(row)
    }

    /// How many rows are pending, sent and failed (for health pages and metrics).
    #[tracing::instrument(skip_all, err(level = "warn"))]
    pub async fn counts(store: &Store) -> Result<StatusCounts> {
        let mut tx = store.begin_read_in(TenantScope::Platform).await?;
        let rows: Vec<(String, i64)> = with_tx!(&mut tx, conn => {
            sqlx::query_as("SELECT status, COUNT(*) FROM mail_outbox GROUP BY status")
                .fetch_all(&mut **conn)
                .await
        })?;
        tx.commit().await?;
        let mut counts = StatusCounts::default();
        for (status, n) in rows {
            match status.as_str() {
                "pending" => counts.pending = n,
                "sent" => counts.sent = n,
                "failed" => counts.failed = n,
                _ => {}
            }
        }
        Ok(counts)
    }

    /// Deletes sent and failed rows created before `before`. Rows keep addresses
    /// and sign-in links, so they should not outlive their use; returns how many
    /// rows went.
    #[tracing::instrument(skip_all, err(level = "warn"))]
    pub async fn purge(store: &Store, before: DateTime<Utc>) -> Result<u64> {
        let mut tx = store.begin_write_in(TenantScope::Platform).await?;
        let n = with_tx!(&mut tx, conn => {
            sqlx::query("DELETE FROM mail_outbox WHERE status IN ('sent', 'failed') AND created_at < $1")
                .bind(before)
                .execute(&mut **conn)
                .await
                .map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        Ok(n)
    }

    /// Deletes every row addressed to `address` (any status), inside the caller's
    /// transaction: part of erasing an account. Unsent mail to it is not sent.
    #[tracing::instrument(skip_all, err(level = "warn"))]
    pub async fn forget_recipient<T: Tx>(tx: &mut T, address: &str) -> Result<u64> {
        let n = with_tx!(raw_tx(tx), conn => {
            sqlx::query("DELETE FROM mail_outbox WHERE lower(to_address) = lower($1)")
                .bind(address.trim())
                .execute(&mut **conn)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n)
    }
}

/// Checks that `address` is a plain mailbox address (no name, no line breaks).
fn parse_address(address: &str, field: &str) -> Result<Address> {
    Address::from_str(address.trim())
        .map_err(|e| MailError::Address(format!("{field}: {address:?} is not a mail address: {e}")))
}
