//! Newsletters of a tenant: the members' opt-in, the newsletters sent, which outbox
//! row carries one to whom, and the tenant's pace.
//!
//! Only live members can be subscribed (the subscription references the
//! membership); the recipients of a send are the members whose membership is live
//! and who opted in since they (last) joined, read in the send's own transaction:
//! leaving and joining again starts without the newsletter, like a first join. Unsubscribing by the
//! link ends the opt-in and drops the person's newsletter mails of this tenant that
//! are still waiting for their slot; no other mail is touched.

use chrono::{DateTime, Utc};
use tracing::instrument;
use yui_domain::ids::NewsletterId;
use yui_domain::newsletter::NewsletterFields;
use yui_domain::{AccountId, MailId, TenantId};

use crate::scope::TenantTx;
use crate::{Result, with_tx};

/// A member's newsletter setting in one tenant.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NewsletterSubscription {
    pub opted_in_at: Option<DateTime<Utc>>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
}

impl NewsletterSubscription {
    pub fn is_opted_in(&self) -> bool {
        self.opted_in_at.is_some()
    }
}

/// Someone a newsletter goes to, with the secret of their unsubscribe link.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NewsletterRecipient {
    pub account_id: AccountId,
    pub display_name: String,
    pub email: String,
    pub locale: String,
    pub token: String,
}

// Addresses and link secrets stay out of logs.
impl std::fmt::Debug for NewsletterRecipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewsletterRecipient")
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

/// A newsletter as the staff's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Newsletter {
    pub id: NewsletterId,
    pub tenant_id: TenantId,
    pub subject_ja: String,
    pub subject_en: Option<String>,
    pub recipients: i64,
    pub last_slot_at: Option<DateTime<Utc>>,
    pub sent_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What an unsubscribe link names: the person, and whether they still were subscribed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsubscribed {
    pub account_id: AccountId,
    /// Pending newsletter mails dropped.
    pub dropped: u64,
}

/// A fresh unsubscribe secret: 256 bits from two random UUIDs, as hex.
fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

impl TenantTx {
    /// The member's newsletter setting; `None` when they never chose.
    #[instrument(skip_all, fields(tenant = %self.tenant, account = %account), err(level = "warn"))]
    pub async fn newsletter_subscription(
        &mut self,
        account: AccountId,
    ) -> Result<Option<NewsletterSubscription>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT CASE WHEN s.opted_in_at >= m.joined_at THEN s.opted_in_at END AS opted_in_at,
                        s.unsubscribed_at
                 FROM newsletter_subscriptions s
                 JOIN memberships m ON m.tenant_id = s.tenant_id AND m.account_id = s.account_id
                 WHERE s.tenant_id = $1 AND s.account_id = $2",
            )
            .bind(self.tenant)
            .bind(account)
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// Opts a live member in or out; false when the account is not a live member.
    /// Opting in again keeps the link's secret, so links in older mails still work.
    #[instrument(skip_all, fields(tenant = %self.tenant, account = %account), err(level = "warn"))]
    pub async fn set_newsletter_opt_in(
        &mut self,
        account: AccountId,
        opted_in: bool,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let live: Option<(AccountId,)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT account_id FROM memberships
                 WHERE tenant_id = $1 AND account_id = $2 AND left_at IS NULL",
            )
            .bind(self.tenant)
            .bind(account)
            .fetch_optional(&mut **conn)
            .await?
        });
        if live.is_none() {
            return Ok(false);
        }
        let opted_in_at = opted_in.then_some(now);
        let opted_out_at = (!opted_in).then_some(now);
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO newsletter_subscriptions
                     (tenant_id, account_id, token, opted_in_at, opted_out_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (tenant_id, account_id) DO UPDATE SET
                     opted_in_at = $4,
                     opted_out_at = CASE WHEN $4 IS NULL
                         THEN COALESCE(newsletter_subscriptions.opted_out_at, $5)
                         ELSE NULL END",
            )
            .bind(self.tenant)
            .bind(account)
            .bind(new_token())
            .bind(opted_in_at)
            .bind(opted_out_at)
            .bind(now)
            .execute(&mut **conn)
            .await?;
        });
        if !opted_in {
            self.drop_pending_newsletters(account).await?;
        }
        Ok(true)
    }

    /// Whether the secret names someone, and if so whether they still receive this
    /// tenant's newsletters: `None` for an unknown secret.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn newsletter_token_subscribed(&mut self, token: &str) -> Result<Option<bool>> {
        let row: Option<(bool,)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT opted_in_at IS NOT NULL FROM newsletter_subscriptions
                 WHERE tenant_id = $1 AND token = $2",
            )
            .bind(self.tenant)
            .bind(token)
            .fetch_optional(&mut **conn)
            .await?
        });
        Ok(row.map(|(subscribed,)| subscribed))
    }

    /// Unsubscribes whoever the secret names from this tenant's newsletters, at
    /// once and for the mails already queued; `None` for an unknown secret.
    /// Unsubscribing twice is fine: the second changes nothing.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn unsubscribe_newsletter(
        &mut self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Unsubscribed>> {
        let row: Option<(AccountId,)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "UPDATE newsletter_subscriptions
                 SET unsubscribed_at = COALESCE(
                         CASE WHEN opted_in_at IS NULL THEN unsubscribed_at END, $3),
                     opted_in_at = NULL
                 WHERE tenant_id = $1 AND token = $2
                 RETURNING account_id",
            )
            .bind(self.tenant)
            .bind(token)
            .bind(now)
            .fetch_optional(&mut **conn)
            .await?
        });
        let Some((account_id,)) = row else {
            return Ok(None);
        };
        let dropped = self.drop_pending_newsletters(account_id).await?;
        Ok(Some(Unsubscribed {
            account_id,
            dropped,
        }))
    }

    /// Deletes the person's newsletter mails of this tenant that no worker holds yet.
    async fn drop_pending_newsletters(&mut self, account: AccountId) -> Result<u64> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query(
                "DELETE FROM mail_outbox
                 WHERE tenant_id = $1 AND status = 'pending' AND claim_token IS NULL
                   AND id IN (SELECT mail_id FROM newsletter_deliveries
                              WHERE tenant_id = $1 AND account_id = $2)",
            )
            .bind(self.tenant)
            .bind(account)
            .execute(&mut **conn)
            .await?
            .rows_affected())
        })
    }

    /// Records a newsletter to send; `None` when a newsletter with the same
    /// `send_key` exists (the same form posted again), which is left as it is.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn create_newsletter(
        &mut self,
        fields: &NewsletterFields,
        by: AccountId,
        now: DateTime<Utc>,
    ) -> Result<Option<NewsletterId>> {
        let en = fields.en.as_ref();
        let row: Option<(NewsletterId,)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "INSERT INTO newsletters (tenant_id, send_key, subject_ja, body_ja, subject_en,
                     body_en, sent_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (tenant_id, send_key) DO NOTHING
                 RETURNING id",
            )
            .bind(self.tenant)
            .bind(&fields.send_key)
            .bind(&fields.ja.subject)
            .bind(&fields.ja.body)
            .bind(en.map(|t| t.subject.as_str()))
            .bind(en.map(|t| t.body.as_str()))
            .bind(by)
            .bind(now)
            .fetch_optional(&mut **conn)
            .await?
        });
        Ok(row.map(|(id,)| id))
    }

    /// The live members who opted in, by account. Read after
    /// [`take_newsletter_pace`](TenantTx::take_newsletter_pace), so two sends of
    /// the tenant see the same members.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn newsletter_recipients(&mut self) -> Result<Vec<NewsletterRecipient>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT s.account_id, a.display_name, a.email, a.locale, s.token
                 FROM newsletter_subscriptions s
                 JOIN memberships m ON m.tenant_id = s.tenant_id AND m.account_id = s.account_id
                 JOIN accounts a ON a.id = s.account_id
                 WHERE s.tenant_id = $1 AND s.opted_in_at IS NOT NULL
                   AND m.left_at IS NULL AND a.deleted_at IS NULL
                   AND s.opted_in_at >= m.joined_at
                 ORDER BY s.account_id",
            )
            .bind(self.tenant)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// The tenant's first free newsletter slot (`now` when it never sent one),
    /// locked until this transaction ends: a concurrent send of the tenant (on any
    /// node) waits here and then sees the slot this one leaves.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn take_newsletter_pace(&mut self, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
        // The upsert writes the row whether it is new or not: PostgreSQL locks it,
        // SQLite holds the database's write lock since BEGIN IMMEDIATE anyway.
        with_tx!(&mut self.tx, conn => {
            let (free,): (DateTime<Utc>,) = sqlx::query_as(
                "INSERT INTO newsletter_pace (tenant_id, next_slot_at) VALUES ($1, $2)
                 ON CONFLICT (tenant_id) DO UPDATE SET next_slot_at = newsletter_pace.next_slot_at
                 RETURNING next_slot_at",
            )
            .bind(self.tenant)
            .bind(now)
            .fetch_one(&mut **conn)
            .await?;
            Ok(free)
        })
    }

    /// Moves the tenant's first free newsletter slot to `next`.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn set_newsletter_pace(&mut self, next: DateTime<Utc>) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query("UPDATE newsletter_pace SET next_slot_at = $2 WHERE tenant_id = $1")
                .bind(self.tenant)
                .bind(next)
                .execute(&mut **conn)
                .await?;
        });
        Ok(())
    }

    /// Records that `mail` carries `newsletter` to `account`, due at `scheduled_at`.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn record_newsletter_delivery(
        &mut self,
        newsletter: NewsletterId,
        account: AccountId,
        mail: MailId,
        scheduled_at: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO newsletter_deliveries
                     (tenant_id, newsletter_id, account_id, mail_id, scheduled_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(self.tenant)
            .bind(newsletter)
            .bind(account)
            .bind(mail)
            .bind(scheduled_at)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// Notes how many mails a newsletter was queued as, and when the last may leave.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn finish_newsletter(
        &mut self,
        newsletter: NewsletterId,
        recipients: i64,
        last_slot_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE newsletters SET recipients = $3, last_slot_at = $4
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(self.tenant)
            .bind(newsletter)
            .bind(recipients)
            .bind(last_slot_at)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// The tenant's newsletters, newest first.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn newsletters(&mut self, limit: i64) -> Result<Vec<Newsletter>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT n.id, n.tenant_id, n.subject_ja, n.subject_en, n.recipients,
                        n.last_slot_at, a.display_name AS sent_by_name, n.created_at
                 FROM newsletters n LEFT JOIN accounts a ON a.id = n.sent_by
                 WHERE n.tenant_id = $1
                 ORDER BY n.created_at DESC, n.id DESC LIMIT $2",
            )
            .bind(self.tenant)
            .bind(limit)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// The outbox rows of a newsletter with when each may leave, by account: what
    /// was queued, for tests and support.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn newsletter_deliveries(
        &mut self,
        newsletter: NewsletterId,
    ) -> Result<Vec<(AccountId, MailId, DateTime<Utc>)>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT account_id, mail_id, scheduled_at FROM newsletter_deliveries
                 WHERE tenant_id = $1 AND newsletter_id = $2 ORDER BY scheduled_at, account_id",
            )
            .bind(self.tenant)
            .bind(newsletter)
            .fetch_all(&mut **conn)
            .await?)
        })
    }
}
