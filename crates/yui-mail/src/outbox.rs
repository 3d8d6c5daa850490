//! The transactional outbox: rows written with the change that caused them.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lettre::Address;
use yui_domain::locale::Localized;
use yui_domain::tenant::MailSender;
use yui_domain::{Locale, MailId, Tenant, TenantId};
use yui_store::{NewOutboxMail, OutboxEntry, OutboxTx, PlatformReason, StatusCounts, Store, Tx};

use crate::templates::{MailKind, Templates};
use crate::{MailError, Result};

/// What the outbox needs to know about the tenant a mail is sent for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailTenant {
    /// `tenants.id`.
    pub id: TenantId,
    /// The folder name, which selects template overrides.
    pub slug: String,
    /// The tenant's name, shown as `tenant_name`.
    pub names: Localized,
    /// The `From:` of the tenant's mail.
    pub sender: MailSender,
}

impl MailTenant {
    pub fn from_tenant(id: TenantId, tenant: &Tenant) -> MailTenant {
        MailTenant {
            id,
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
    /// mail such as the first address check), which uses the default sender. Queued
    /// in a tenant's transaction, a mail is that tenant's row whatever this says, and
    /// another tenant's mail is refused.
    pub tenant: Option<MailTenant>,
    /// The recipient's address. Only the address goes into `To:`, no name.
    pub to: String,
    /// The recipient's language.
    pub locale: Locale,
    pub kind: MailKind,
    /// A JSON object with the kind's [`variables`](MailKind::variables).
    pub vars: serde_json::Value,
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
    /// transaction (any handle's: tenant, account or platform), so it is sent if and
    /// only if that transaction commits. Returns the outbox row id. After the commit,
    /// wake a worker with [`Worker::waker`](crate::Worker::waker) to send it without
    /// waiting for the poll. In a tenant's transaction a mail for another tenant is
    /// [`MailError::Store`] with [`yui_store::StoreError::Invalid`].
    #[tracing::instrument(
        skip_all,
        fields(tenant = mail.tenant.as_ref().map_or("-", |t| t.slug.as_str()), kind = %mail.kind),
        err(level = "warn")
    )]
    pub async fn enqueue(
        &self,
        tx: &mut impl Tx,
        mail: &NewMail,
        now: DateTime<Utc>,
    ) -> Result<MailId> {
        parse_address(&mail.to, "to")?;
        let sender = mail
            .tenant
            .as_ref()
            .map_or(&self.default_sender, |t| &t.sender);
        let from = parse_address(&sender.sender_address, "sender_address")?;
        let rendered =
            self.templates
                .render(mail.tenant.as_ref(), mail.locale, mail.kind, &mail.vars)?;
        let message_id = format!("<{}@{}>", uuid::Uuid::new_v4().simple(), from.domain());
        let id = tx
            .enqueue_mail(
                &NewOutboxMail {
                    tenant_id: mail.tenant.as_ref().map(|t| t.id),
                    template: mail.kind.name(),
                    locale: mail.locale.tag(),
                    from_name: &sender.sender_name,
                    from_address: &sender.sender_address,
                    to_address: mail.to.trim(),
                    subject: &rendered.subject,
                    body_text: &rendered.text,
                    body_html: &rendered.html,
                    message_id: &message_id,
                    attachment: None,
                },
                now,
            )
            .await?;
        Ok(id)
    }

    /// One outbox row.
    #[tracing::instrument(skip_all, fields(mail_id = %id), err(level = "warn"))]
    pub async fn entry(store: &Store, id: MailId) -> Result<OutboxEntry> {
        // The outbox holds every tenant's mail: work of the mail delivery.
        let mut tx = store.platform(PlatformReason::MailDelivery).read().await?;
        let entry = tx.outbox_entry(id).await?;
        tx.commit().await?;
        Ok(entry)
    }

    /// How many rows are pending, sent and failed (for health pages and metrics).
    #[tracing::instrument(skip_all, err(level = "warn"))]
    pub async fn counts(store: &Store) -> Result<StatusCounts> {
        let mut tx = store.platform(PlatformReason::MailDelivery).read().await?;
        let counts = tx.outbox_counts().await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Deletes sent and failed rows created before `before`. Rows keep addresses
    /// and sign-in links, so they should not outlive their use; returns how many
    /// rows went.
    #[tracing::instrument(skip_all, err(level = "warn"))]
    pub async fn purge(store: &Store, before: DateTime<Utc>) -> Result<u64> {
        let mut tx = store.platform(PlatformReason::MailDelivery).write().await?;
        let n = tx.purge_outbox(before).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Deletes every row addressed to `address` (any status), inside the caller's
    /// transaction: part of erasing an account. Unsent mail to it is not sent. A
    /// tenant's transaction reaches only its own and platform mail.
    #[tracing::instrument(skip_all, err(level = "warn"))]
    pub async fn forget_recipient(tx: &mut impl Tx, address: &str) -> Result<u64> {
        Ok(tx.forget_mail_recipient(address).await?)
    }
}

/// Checks that `address` is a plain mailbox address (no name, no line breaks).
fn parse_address(address: &str, field: &str) -> Result<Address> {
    Address::from_str(address.trim())
        .map_err(|e| MailError::Address(format!("{field}: {address:?} is not a mail address: {e}")))
}
