//! The transactional outbox: rows written with the change that caused them.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lettre::Address;
use lettre::message::header::ContentType;
use yui_domain::locale::Localized;
use yui_domain::tenant::MailSender;
use yui_domain::{Locale, MailId, Tenant, TenantId};
use yui_store::{
    MailAttachment, NewOutboxMail, OutboxEntry, OutboxTx, PlatformReason, StatusCounts, Store, Tx,
};

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
    /// A file sent with the mail (an event's `.ics`); the mail is then
    /// `multipart/mixed` with the text and HTML first. [`Outbox::enqueue`] refuses
    /// a name longer than 100 characters or with path separators, control or bidi
    /// characters, a type that is not a MIME type, and a body over 256 KiB.
    pub attachment: Option<Attachment>,
}

/// A text file sent with a mail: `name`, `content_type` (with its parameters,
/// such as `text/calendar; charset=utf-8; method=PUBLISH`) and `body`.
pub type Attachment = MailAttachment;

/// The longest attachment file name, in characters.
const ATTACHMENT_NAME_MAX: usize = 100;
/// The largest attachment body, in bytes. The body lives in the outbox row until the
/// row is purged; a calendar file is a few kilobytes.
const ATTACHMENT_BODY_MAX: usize = 256 * 1024;

/// Checks that an attachment can go into a mail as it is: a file name a client can
/// save (1 to [`ATTACHMENT_NAME_MAX`] characters, no path separators, no control
/// characters, not `.` or `..`), a MIME type that parses, and a body of at most
/// [`ATTACHMENT_BODY_MAX`] bytes.
fn check_attachment(attachment: &Attachment) -> Result<()> {
    let refuse = |message: String| Err(MailError::Attachment(message));
    let name = &attachment.name;
    let length = name.chars().count();
    if name.trim().is_empty() || length > ATTACHMENT_NAME_MAX {
        return refuse(format!(
            "attachment name: 1 to {ATTACHMENT_NAME_MAX} characters, not {length}"
        ));
    }
    // A client may save the file under this name: nothing that walks the file
    // system, nothing that breaks the header it is written into, and no bidi
    // controls, which can disguise a name's real extension.
    if name.contains(['/', '\\'])
        || name.chars().any(|c| c.is_control() || is_bidi_control(c))
        || name == "."
        || name == ".."
    {
        return refuse(format!("attachment name {name:?}: not a plain file name"));
    }
    let content_type = &attachment.content_type;
    if content_type.chars().any(char::is_control) || ContentType::parse(content_type).is_err() {
        return refuse(format!("attachment type {content_type:?}: not a MIME type"));
    }
    if attachment.body.len() > ATTACHMENT_BODY_MAX {
        return refuse(format!(
            "attachment body: at most {ATTACHMENT_BODY_MAX} bytes, not {}",
            attachment.body.len()
        ));
    }
    Ok(())
}

/// What a newsletter adds to a mail.
struct Newsletter<'a> {
    title: &'a str,
    unsubscribe: &'a str,
    not_before: DateTime<Utc>,
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

    /// The `From:` of platform mail: also what a newly onboarded region sends from
    /// until its administrator sets its own sender.
    pub fn default_sender(&self) -> &MailSender {
        &self.default_sender
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
        self.queue(tx, mail, None, now).await
    }

    /// Queues a tenant's newsletter to one member, like [`enqueue`](Outbox::enqueue)
    /// with [`MailKind::Newsletter`]: `title` (the staff's subject, one line) follows
    /// the tenant's name in the subject, `unsubscribe` is the member's one-click link
    /// (sent as `List-Unsubscribe` with `List-Unsubscribe-Post`, RFC 8058), and the
    /// mail is not sent before `not_before`, its slot in the tenant's pace.
    #[tracing::instrument(
        skip_all,
        fields(tenant = mail.tenant.as_ref().map_or("-", |t| t.slug.as_str())),
        err(level = "warn")
    )]
    pub async fn enqueue_newsletter(
        &self,
        tx: &mut impl Tx,
        mail: &NewMail,
        title: &str,
        unsubscribe: &str,
        not_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<MailId> {
        // The title reaches a header: one line, or nothing is queued.
        if mail.kind != MailKind::Newsletter || title.chars().any(char::is_control) {
            return Err(MailError::Template {
                name: MailKind::Newsletter.name().to_owned(),
                message: "a newsletter's title is one line of text".to_owned(),
            });
        }
        if !(unsubscribe.starts_with("https://") || unsubscribe.starts_with("http://"))
            || unsubscribe.contains(|c: char| c.is_control() || c.is_whitespace() || c == '>')
        {
            return Err(MailError::Template {
                name: MailKind::Newsletter.name().to_owned(),
                message: "the unsubscribe link is not a plain web address".to_owned(),
            });
        }
        let extra = Newsletter {
            title,
            unsubscribe,
            not_before,
        };
        self.queue(tx, mail, Some(extra), now).await
    }

    async fn queue(
        &self,
        tx: &mut impl Tx,
        mail: &NewMail,
        newsletter: Option<Newsletter<'_>>,
        now: DateTime<Utc>,
    ) -> Result<MailId> {
        parse_address(&mail.to, "to")?;
        if let Some(attachment) = &mail.attachment {
            check_attachment(attachment)?;
        }
        let sender = mail
            .tenant
            .as_ref()
            .map_or(&self.default_sender, |t| &t.sender);
        let from = parse_address(&sender.sender_address, "sender_address")?;
        let rendered =
            self.templates
                .render(mail.tenant.as_ref(), mail.locale, mail.kind, &mail.vars)?;
        let subject = match &newsletter {
            Some(n) => {
                let gap = if mail.locale == Locale::En { " " } else { "" };
                let title = n.title.split_whitespace().collect::<Vec<_>>().join(" ");
                format!("{}{gap}{title}", rendered.subject)
            }
            None => rendered.subject.clone(),
        };
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
                    subject: &subject,
                    body_text: &rendered.text,
                    body_html: &rendered.html,
                    message_id: &message_id,
                    attachment: mail.attachment.as_ref(),
                    list_unsubscribe: newsletter.as_ref().map(|n| n.unsubscribe),
                    not_before: newsletter.as_ref().map(|n| n.not_before),
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

/// The invisible marks that reorder text (Unicode's Bidi_Control).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// Checks that `address` is a plain mailbox address (no name, no line breaks).
fn parse_address(address: &str, field: &str) -> Result<Address> {
    Address::from_str(address.trim())
        .map_err(|e| MailError::Address(format!("{field}: {address:?} is not a mail address: {e}")))
}
