//! Transports: how a claimed outbox row leaves the process.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use yui_domain::TenantId;
use yui_store::QueuedMail;

use crate::{MailError, Result};

/// A failed delivery. `permanent` means trying again cannot help (the server
/// refused with 5xx, the message cannot be built); otherwise the worker retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

impl SendError {
    pub fn transient(message: impl Into<String>) -> SendError {
        SendError {
            permanent: false,
            message: message.into(),
        }
    }

    pub fn permanent(message: impl Into<String>) -> SendError {
        SendError {
            permanent: true,
            message: message.into(),
        }
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain text; only for a relay on the same host or a test sink.
    None,
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

/// Where and how to reach the SMTP server.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    /// `None`: 25, 587 or 465 after `tls`.
    pub port: Option<u16>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub tls: TlsMode,
    /// For each SMTP command; keep it well below the worker's lease.
    pub timeout: Duration,
}

impl SmtpSettings {
    /// Plain SMTP to `addr` (a local sink or relay), no credentials.
    pub fn plain(addr: std::net::SocketAddr) -> SmtpSettings {
        SmtpSettings {
            host: addr.ip().to_string(),
            port: Some(addr.port()),
            username: None,
            password: None,
            tls: TlsMode::None,
            timeout: Duration::from_secs(30),
        }
    }

    /// Checks the settings without connecting.
    pub fn validate(&self) -> Result<()> {
        if self.host.trim().is_empty() {
            return Err(MailError::Config(
                "mail.smtp_host: required when transport = \"smtp\"".to_owned(),
            ));
        }
        if self.username.is_some() != self.password.is_some() {
            return Err(MailError::Config(
                "mail.smtp_username, mail.smtp_password: give both or neither".to_owned(),
            ));
        }
        Ok(())
    }

    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            TlsMode::None => 25,
            TlsMode::Starttls => 587,
            TlsMode::Tls => 465,
        })
    }
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// SMTP through lettre, with a connection pool.
#[derive(Clone)]
pub struct SmtpTransport {
    inner: AsyncSmtpTransport<Tokio1Executor>,
    server: String,
}

impl fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpTransport")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl SmtpTransport {
    /// Must be called inside a Tokio runtime: lettre's pool starts a task.
    pub fn new(settings: &SmtpSettings) -> Result<SmtpTransport> {
        settings.validate()?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(MailError::Config(
                "the SMTP transport must be built inside a Tokio runtime".to_owned(),
            ));
        }
        let host = settings.host.trim();
        let tls_error =
            |e: lettre::transport::smtp::Error| MailError::Config(format!("smtp_tls: {e}"));
        let builder = match settings.tls {
            TlsMode::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            TlsMode::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(tls_error)?
            }
            TlsMode::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(tls_error)?,
        };
        let mut builder = builder
            .port(settings.port())
            .timeout(Some(settings.timeout));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(SmtpTransport {
            inner: builder.build(),
            server: format!("{host}:{}", settings.port()),
        })
    }

    async fn send(&self, mail: &QueuedMail) -> std::result::Result<(), SendError> {
        let message = build_message(mail)?;
        match self.inner.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => Err(SendError {
                permanent: e.is_permanent(),
                message: format!("smtp {}: {e}", self.server),
            }),
        }
    }
}

/// Writes each mail as an `.eml` file into a folder and logs the path: the
/// default for development, where nothing should leave the machine.
#[derive(Debug, Clone)]
pub struct FileTransport {
    dir: PathBuf,
}

impl FileTransport {
    pub fn new(dir: impl Into<PathBuf>) -> FileTransport {
        FileTransport { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file a mail is written to: `<id>-<message-id local part>.eml`. Writing
    /// the same row again replaces the file instead of adding a second one.
    pub fn path_for(&self, mail: &QueuedMail) -> PathBuf {
        let local: String = mail
            .message_id
            .split('@')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        self.dir.join(format!("{:08}-{local}.eml", mail.id))
    }

    async fn send(&self, mail: &QueuedMail) -> std::result::Result<(), SendError> {
        let message = build_message(mail)?;
        let io = |what: &str, path: &Path, e: std::io::Error| {
            SendError::transient(format!("{what} {}: {e}", path.display()))
        };
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| io("creating", &self.dir, e))?;
        let path = self.path_for(mail);
        // Write aside and rename, so a reader never sees half a message.
        let partial = path.with_extension("eml.partial");
        tokio::fs::write(&partial, message.formatted())
            .await
            .map_err(|e| io("writing", &partial, e))?;
        tokio::fs::rename(&partial, &path)
            .await
            .map_err(|e| io("renaming", &partial, e))?;
        tracing::info!(mail_id = mail.id.get(), path = %path.display(), "mail written to file");
        Ok(())
    }
}

/// Keeps sent mails in memory, for unit tests. Clones share the list.
#[derive(Debug, Clone, Default)]
pub struct MemoryTransport {
    sent: Arc<Mutex<Vec<QueuedMail>>>,
}

impl MemoryTransport {
    pub fn new() -> MemoryTransport {
        MemoryTransport::default()
    }

    /// The mails sent so far, in order.
    pub fn messages(&self) -> Vec<QueuedMail> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Removes and returns the mails sent so far.
    pub fn take(&self) -> Vec<QueuedMail> {
        std::mem::take(&mut *self.sent.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn send(&self, mail: &QueuedMail) -> std::result::Result<(), SendError> {
        // Build the message anyway, so what SMTP would refuse fails here too.
        build_message(mail)?;
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(mail.clone());
        Ok(())
    }
}

/// How mail leaves the process.
#[derive(Debug, Clone)]
pub enum Transport {
    Smtp(SmtpTransport),
    File(FileTransport),
    Memory(MemoryTransport),
}

impl Transport {
    /// Delivers one claimed row.
    #[tracing::instrument(
        skip_all,
        fields(mail_id = mail.id.get(), tenant = mail.tenant_id.map(TenantId::get), template = %mail.template),
        err(level = "warn")
    )]
    pub async fn send(&self, mail: &QueuedMail) -> std::result::Result<(), SendError> {
        match self {
            Transport::Smtp(t) => t.send(mail).await,
            Transport::File(t) => t.send(mail).await,
            Transport::Memory(t) => t.send(mail),
        }
    }

    /// For start-up logs: `smtp mail.example.org:587`, `file outbox`, `memory`.
    pub fn describe(&self) -> String {
        match self {
            Transport::Smtp(t) => format!("smtp {}", t.server),
            Transport::File(t) => format!("file {}", t.dir.display()),
            Transport::Memory(_) => "memory".to_owned(),
        }
    }
}

/// The MIME message for a row: multipart/alternative with the text and the HTML,
/// inside multipart/mixed with the attachment when the row has one.
pub(crate) fn build_message(mail: &QueuedMail) -> std::result::Result<Message, SendError> {
    let address = |a: &str| {
        Address::from_str(a)
            .map_err(|e| SendError::permanent(format!("{a:?} is not a mail address: {e}")))
    };
    // A header value never carries a line break, whatever was stored (a name saved
    // before names were checked for them): lettre panics on one, which would stop
    // the worker for every region's mail.
    let one_line = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    };
    let from_name = Some(one_line(&mail.from_name)).filter(|n| !n.trim().is_empty());
    let alternative =
        MultiPart::alternative_plain_html(mail.body_text.clone(), mail.body_html.clone());
    let body = match &mail.attachment {
        None => alternative,
        Some(attachment) => {
            let content_type = ContentType::parse(&attachment.content_type).map_err(|e| {
                SendError::permanent(format!(
                    "attachment type {:?}: {e}",
                    attachment.content_type
                ))
            })?;
            MultiPart::mixed().multipart(alternative).singlepart(
                Attachment::new(attachment.name.clone())
                    .body(attachment.body.clone(), content_type),
            )
        }
    };
    let mut builder = Message::builder();
    if let Some(link) = &mail.list_unsubscribe {
        // RFC 2369 with RFC 8058's one-click: a mail client may POST
        // `List-Unsubscribe=One-Click` to the link without showing a page.
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{link}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    builder
        .from(Mailbox::new(from_name, address(&mail.from_address)?))
        .to(Mailbox::new(None, address(&mail.to_address)?))
        .subject(one_line(&mail.subject))
        .message_id(Some(mail.message_id.clone()))
        // The time the mail was written, not the time of this attempt: a retried
        // mail is the same mail.
        .date(SystemTime::from(mail.created_at))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Content-Language"),
            mail.locale.clone(),
        ))
        // RFC 3834: tells vacation responders not to answer.
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ))
        .multipart(body)
        .map_err(|e| SendError::permanent(format!("cannot build the message: {e}")))
}
