//! The mail outbox (`mail_outbox`): rendered mail written in the transaction of the
//! change that caused it, and the queries of the workers that deliver it.
//!
//! Workers coordinate only through these rows, so any number of them on any number
//! of nodes send each mail once: a claim takes due rows for a lease with a fresh
//! claim token, and an outcome is recorded only while the token still matches.
//! Delivery reads every tenant's mail: [`PlatformReason::MailDelivery`](crate::PlatformReason::MailDelivery).

use std::fmt;

use chrono::{DateTime, Utc};
use tracing::instrument;
use yui_domain::{MailId, TenantId};

use crate::scope::{PlatformTx, Tx};
use crate::{Result, StoreError, StoreTx, with_tx};

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

/// A file that rides on a mail, one at most: a text such as an event's `.ics`.
#[derive(Clone, PartialEq, Eq)]
pub struct MailAttachment {
    /// The file name a mail client shows and saves it under.
    pub name: String,
    /// The MIME type with its parameters: `text/calendar; charset=utf-8; method=PUBLISH`.
    pub content_type: String,
    pub body: String,
}

// A calendar file holds the check-in code and the online link: keep the body out of logs.
impl fmt::Debug for MailAttachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailAttachment")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// A rendered mail to queue.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NewOutboxMail<'a> {
    /// The tenant the mail is sent for; `None` for platform mail. In a tenant's
    /// transaction the mail is that tenant's whatever this says, and another
    /// tenant's is refused.
    pub tenant_id: Option<TenantId>,
    /// The template's name (the mail's kind).
    pub template: &'a str,
    /// The language tag it was rendered in.
    pub locale: &'a str,
    pub from_name: &'a str,
    pub from_address: &'a str,
    pub to_address: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    /// With angle brackets: `<…@…>`. Fixed here, so a retried delivery is
    /// recognisably the same mail.
    pub message_id: &'a str,
    pub attachment: Option<&'a MailAttachment>,
    /// The `List-Unsubscribe` address of a newsletter (RFC 2369, one-click by
    /// RFC 8058); `None` for every other mail.
    pub list_unsubscribe: Option<&'a str>,
    /// The earliest time the mail may leave (a newsletter's slot in its tenant's
    /// pace); `None`: at once.
    pub not_before: Option<DateTime<Utc>>,
}

// Bodies hold sign-in links and addresses are personal data: keep both out of logs.
impl fmt::Debug for NewOutboxMail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewOutboxMail")
            .field("tenant_id", &self.tenant_id)
            .field("template", &self.template)
            .field("locale", &self.locale)
            .finish_non_exhaustive()
    }
}

/// A row as a worker claims it: everything needed to send it.
#[derive(Clone, PartialEq, Eq)]
pub struct QueuedMail {
    pub id: MailId,
    pub tenant_id: Option<TenantId>,
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
    pub attachment: Option<MailAttachment>,
    /// The `List-Unsubscribe` address of a newsletter.
    pub list_unsubscribe: Option<String>,
    /// Attempts so far, including the current one.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

/// [`QueuedMail`] as its columns: the attachment is three nullable ones.
#[derive(sqlx::FromRow)]
struct QueuedRow {
    id: MailId,
    tenant_id: Option<TenantId>,
    template: String,
    locale: String,
    from_name: String,
    from_address: String,
    to_address: String,
    subject: String,
    body_text: String,
    body_html: String,
    message_id: String,
    attachment_name: Option<String>,
    attachment_type: Option<String>,
    attachment_body: Option<String>,
    list_unsubscribe: Option<String>,
    attempts: i32,
    created_at: DateTime<Utc>,
}

impl From<QueuedRow> for QueuedMail {
    fn from(row: QueuedRow) -> QueuedMail {
        let attachment = match (
            row.attachment_name,
            row.attachment_type,
            row.attachment_body,
        ) {
            (Some(name), Some(content_type), Some(body)) => Some(MailAttachment {
                name,
                content_type,
                body,
            }),
            _ => None,
        };
        QueuedMail {
            id: row.id,
            tenant_id: row.tenant_id,
            template: row.template,
            locale: row.locale,
            from_name: row.from_name,
            from_address: row.from_address,
            to_address: row.to_address,
            subject: row.subject,
            body_text: row.body_text,
            body_html: row.body_html,
            message_id: row.message_id,
            attachment,
            list_unsubscribe: row.list_unsubscribe,
            attempts: row.attempts,
            created_at: row.created_at,
        }
    }
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
            .field("attachment", &self.attachment)
            .finish_non_exhaustive()
    }
}

const QUEUED_COLUMNS: &str = "id, tenant_id, template, locale, from_name, from_address, \
     to_address, subject, body_text, body_html, message_id, attachment_name, attachment_type, \
     attachment_body, list_unsubscribe, attempts, created_at";

/// A row as stored, for operators and tests.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxEntry {
    pub id: MailId,
    pub tenant_id: Option<TenantId>,
    pub template: String,
    pub locale: String,
    pub from_name: String,
    pub from_address: String,
    pub to_address: String,
    pub subject: String,
    pub message_id: String,
    /// The attachment's file name and type, if the mail carries one.
    pub attachment_name: Option<String>,
    pub attachment_type: Option<String>,
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

/// Queuing mail with the change that causes it, in any transaction: it is sent if
/// and only if that transaction commits.
pub trait OutboxTx: Tx + Sized {
    /// Inserts a rendered mail, due at `now`. In a tenant's transaction the row is
    /// the tenant's (its id is written whatever `mail.tenant_id` says), and a mail
    /// of another tenant is [`StoreError::Invalid`].
    fn enqueue_mail(
        &mut self,
        mail: &NewOutboxMail<'_>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<MailId>> + Send {
        let tenant = self.tenant();
        insert(self.inner(), tenant, *mail, now)
    }

    /// Deletes every row addressed to `address` (in any case, any status): part of
    /// erasing an account, so unsent mail to it is not sent. A tenant's transaction
    /// reaches its own and platform mail only, as row-level security has it on
    /// PostgreSQL. Returns how many rows went.
    fn forget_mail_recipient(&mut self, address: &str) -> impl Future<Output = Result<u64>> + Send {
        let tenant = self.tenant();
        forget(self.inner(), tenant, address)
    }
}

impl<T: Tx + Sized> OutboxTx for T {}

#[instrument(skip_all, fields(template = mail.template), err(level = "warn"))]
async fn insert(
    tx: &mut StoreTx,
    scope: Option<TenantId>,
    mail: NewOutboxMail<'_>,
    now: DateTime<Utc>,
) -> Result<MailId> {
    let tenant_id = match (scope, mail.tenant_id) {
        (Some(own), Some(other)) if other != own => {
            return Err(StoreError::Invalid(format!(
                "tenant: a mail of tenant {other} cannot be queued in a transaction of tenant {own}"
            )));
        }
        (Some(own), _) => Some(own),
        (None, tenant) => tenant,
    };
    let id = with_tx!(tx, conn => {
        let (id,): (MailId,) = sqlx::query_as(
            "INSERT INTO mail_outbox (tenant_id, template, locale, from_name, from_address,
                 to_address, subject, body_text, body_html, message_id, attachment_name,
                 attachment_type, attachment_body, list_unsubscribe, status, attempts,
                 next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $16, 'pending', 0,
                 $15, $14)
             RETURNING id",
        )
        .bind(tenant_id)
        .bind(mail.template)
        .bind(mail.locale)
        .bind(mail.from_name)
        .bind(mail.from_address)
        .bind(mail.to_address)
        .bind(mail.subject)
        .bind(mail.body_text)
        .bind(mail.body_html)
        .bind(mail.message_id)
        .bind(mail.attachment.map(|a| a.name.as_str()))
        .bind(mail.attachment.map(|a| a.content_type.as_str()))
        .bind(mail.attachment.map(|a| a.body.as_str()))
        .bind(now)
        .bind(mail.not_before.filter(|t| *t > now).unwrap_or(now))
        .bind(mail.list_unsubscribe)
        .fetch_one(&mut **conn)
        .await?;
        id
    });
    tracing::debug!(mail_id = id.get(), "mail enqueued");
    Ok(id)
}

#[instrument(skip_all, err(level = "warn"))]
async fn forget(tx: &mut StoreTx, scope: Option<TenantId>, address: &str) -> Result<u64> {
    with_tx!(tx, conn => {
        Ok(sqlx::query(
            "DELETE FROM mail_outbox WHERE lower(to_address) = lower($1)
             AND ($2 IS NULL OR tenant_id IS NULL OR tenant_id = $2)",
        )
        .bind(address.trim())
        .bind(scope)
        .execute(&mut **conn)
        .await?
        .rows_affected())
    })
}

// PostgreSQL: rows locked by another claim are skipped, not waited for, so
// concurrent workers take disjoint batches without blocking each other.
const CLAIM_POSTGRES: &str = "FOR UPDATE SKIP LOCKED";
// SQLite: the claim runs under BEGIN IMMEDIATE, which already excludes every
// other writer for its duration; SQLite has no row locks to ask for.
const CLAIM_SQLITE: &str = "";

/// Due, unclaimed rows, oldest first. Mail of a suspended tenant is held pending
/// (neither sent nor failed, its attempts untouched) and goes out once the tenant
/// is resumed: a suspended tenant sends nothing.
fn claim_sql(lock: &str) -> String {
    format!(
        "WITH due AS (
             SELECT id FROM mail_outbox
             WHERE status = 'pending' AND next_attempt_at <= $1
               AND (claimed_until IS NULL OR claimed_until <= $1)
               AND NOT EXISTS (
                   SELECT 1 FROM tenants
                   WHERE tenants.id = mail_outbox.tenant_id AND tenants.status <> 'active'
               )
             ORDER BY next_attempt_at, id
             LIMIT $2
             {lock}
         )
         UPDATE mail_outbox
         SET claimed_by = $3, claim_token = $4, claimed_until = $5, next_attempt_at = $5,
             attempts = attempts + 1
         WHERE id IN (SELECT id FROM due)
         RETURNING {QUEUED_COLUMNS}"
    )
}

/// What releasing a claim sets, with every outcome.
const RELEASE: &str = "claimed_by = NULL, claim_token = NULL, claimed_until = NULL";

/// Server answers can be long; the column keeps the first 1,000 characters.
fn truncate_error(e: &str) -> String {
    e.chars().take(1000).collect()
}

impl PlatformTx {
    /// One outbox row.
    #[instrument(skip_all, fields(mail_id = %id), err(level = "warn"))]
    pub async fn outbox_entry(&mut self, id: MailId) -> Result<OutboxEntry> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT id, tenant_id, template, locale, from_name, from_address, to_address,
                        subject, message_id, attachment_name, attachment_type, status,
                        attempts, next_attempt_at, claimed_by,
                        claimed_until, last_error, created_at, sent_at
                 FROM mail_outbox WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&mut **conn)
            .await?)
        })
    }

    /// How many rows are pending, sent and failed (for health pages and metrics).
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn outbox_counts(&mut self) -> Result<StatusCounts> {
        let rows: Vec<(String, i64)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as("SELECT status, COUNT(*) FROM mail_outbox GROUP BY status")
                .fetch_all(&mut **conn)
                .await?
        });
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

    /// How many mails are pending and when the oldest of them was queued (for
    /// `/metrics`: a growing age means the workers are stuck, not merely busy).
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn pending_mail(&mut self) -> Result<(i64, Option<DateTime<Utc>>)> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT COUNT(*), MIN(created_at) FROM mail_outbox WHERE status = 'pending'",
            )
            .fetch_one(&mut **conn)
            .await?)
        })
    }

    /// Deletes sent and failed rows created before `before`. Rows keep addresses
    /// and sign-in links, so they should not outlive their use; returns how many
    /// rows went.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn purge_outbox(&mut self, before: DateTime<Utc>) -> Result<u64> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query("DELETE FROM mail_outbox WHERE status IN ('sent', 'failed') AND created_at < $1")
                .bind(before)
                .execute(&mut **conn)
                .await?
                .rows_affected())
        })
    }

    /// Up to `limit` rows due at `now`, in the order a claim takes them, without
    /// claiming them: a look at what the workers will send next.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn due_mail(&mut self, now: DateTime<Utc>, limit: i64) -> Result<Vec<QueuedMail>> {
        let rows: Vec<QueuedRow> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(&format!(
                "SELECT {QUEUED_COLUMNS} FROM mail_outbox
                 WHERE status = 'pending' AND next_attempt_at <= $1
                   AND (claimed_until IS NULL OR claimed_until <= $1)
                 ORDER BY next_attempt_at, id LIMIT $2"
            ))
            .bind(now)
            .bind(limit)
            .fetch_all(&mut **conn)
            .await?
        });
        Ok(rows.into_iter().map(QueuedMail::from).collect())
    }

    /// Claims up to `limit` due rows for `node_id` until `lease_until` under the claim
    /// `token`, counting an attempt on each; returns them ordered by id. Run it alone
    /// in a writing transaction and commit at once: on SQLite the writing transaction's
    /// `BEGIN IMMEDIATE` is what keeps two claims apart. Rows claimed by a worker that
    /// died become due again when its lease runs out.
    #[instrument(skip_all, fields(node = node_id), err(level = "warn"))]
    pub async fn claim_mail(
        &mut self,
        now: DateTime<Utc>,
        limit: i64,
        node_id: &str,
        token: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<QueuedMail>> {
        let sql = match &self.tx {
            StoreTx::Sqlite(_) => claim_sql(CLAIM_SQLITE),
            StoreTx::Postgres(_) => claim_sql(CLAIM_POSTGRES),
        };
        let rows: Vec<QueuedRow> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(&sql)
                .bind(now)
                .bind(limit)
                .bind(node_id)
                .bind(token)
                .bind(lease_until)
                .fetch_all(&mut **conn)
                .await?
        });
        let mut mails: Vec<QueuedMail> = rows.into_iter().map(QueuedMail::from).collect();
        mails.sort_by_key(|m| m.id);
        Ok(mails)
    }

    /// Records that a claimed mail was accepted by the server at `at`, if the claim
    /// `token` still owns the row; false when the lease was taken over.
    #[instrument(skip_all, fields(mail_id = %id), err(level = "warn"))]
    pub async fn mark_mail_sent(
        &mut self,
        id: MailId,
        token: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        self.record(
            &format!("status = 'sent', sent_at = $1, last_error = $2, {RELEASE}"),
            id,
            token,
            at,
            None,
        )
        .await
    }

    /// Releases a claimed mail after a temporary failure, due again at
    /// `next_attempt_at` (the backoff is the caller's), if the claim `token` still
    /// owns the row; false when the lease was taken over.
    #[instrument(skip_all, fields(mail_id = %id), err(level = "warn"))]
    pub async fn retry_mail(
        &mut self,
        id: MailId,
        token: &str,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<bool> {
        self.record(
            &format!("next_attempt_at = $1, last_error = $2, {RELEASE}"),
            id,
            token,
            next_attempt_at,
            Some(error),
        )
        .await
    }

    /// Gives a claimed mail up as `failed` at `at`, if the claim `token` still owns the
    /// row; false when the lease was taken over.
    #[instrument(skip_all, fields(mail_id = %id), err(level = "warn"))]
    pub async fn fail_mail(
        &mut self,
        id: MailId,
        token: &str,
        at: DateTime<Utc>,
        error: &str,
    ) -> Result<bool> {
        self.record(
            &format!("status = 'failed', next_attempt_at = $1, last_error = $2, {RELEASE}"),
            id,
            token,
            at,
            Some(error),
        )
        .await
    }

    async fn record(
        &mut self,
        set: &str,
        id: MailId,
        token: &str,
        time: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE mail_outbox SET {set} WHERE id = $3 AND claim_token = $4 AND status = 'pending'"
        );
        let n = with_tx!(&mut self.tx, conn => {
            sqlx::query(&sql)
                .bind(time)
                .bind(error.map(truncate_error))
                .bind(id)
                .bind(token)
                .execute(&mut **conn)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Hands unsent rows of a claim back, due at `at` and without the attempt the
    /// claim counted. Returns how many were still the claim's.
    #[instrument(skip_all, fields(mails = ids.len()), err(level = "warn"))]
    pub async fn release_mail(
        &mut self,
        ids: &[MailId],
        token: &str,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        let mut released = 0;
        for &id in ids {
            released += with_tx!(&mut self.tx, conn => {
                sqlx::query(
                    "UPDATE mail_outbox
                     SET claimed_by = NULL, claim_token = NULL, claimed_until = NULL,
                         next_attempt_at = $1, attempts = attempts - 1
                     WHERE id = $2 AND claim_token = $3 AND status = 'pending'",
                )
                .bind(at)
                .bind(id)
                .bind(token)
                .execute(&mut **conn)
                .await?
                .rows_affected()
            });
        }
        Ok(released)
    }
}
