//! The `[mail]` section of the application's layered configuration.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};
use yui_domain::tenant::MailSender;

use crate::transport::{
    FileTransport, MemoryTransport, SmtpSettings, SmtpTransport, TlsMode, Transport,
};
use crate::worker::WorkerConfig;
use crate::{MailError, Result};

/// Which transport [`MailConfig::transport`] builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// `.eml` files in `file_dir` (the default: nothing leaves the machine).
    #[default]
    File,
    Smtp,
    /// Kept in memory; for tests.
    Memory,
}

/// Mail settings. Every key has a default, so an empty `[mail]` table works:
/// ```toml
/// [mail]
/// transport = "smtp"          # "file" (default) | "smtp" | "memory"
/// file_dir = "outbox"
/// smtp_host = "smtp.example.jp"
/// smtp_port = 587             # default from smtp_tls: 25 / 587 / 465
/// smtp_username = "yui"
/// smtp_password = "…"         # never printed
/// smtp_tls = "starttls"       # "none" | "starttls" (default) | "tls"
/// smtp_timeout_seconds = 30
/// from_default = "Yui <no-reply@yui.example>"
///
/// [mail.worker]
/// workers = 2
/// batch = 20
/// lease_seconds = 300
/// max_attempts = 8
/// backoff_base_seconds = 30
/// backoff_max_seconds = 3600
/// poll_seconds = 5
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    pub transport: TransportKind,
    pub file_dir: PathBuf,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    pub smtp_tls: TlsMode,
    pub smtp_timeout_seconds: u64,
    /// `From:` of platform mail (no tenant), as `Name <address>` or `address`.
    pub from_default: String,
    pub worker: WorkerSettings,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            transport: TransportKind::File,
            file_dir: PathBuf::from("outbox"),
            smtp_host: None,
            smtp_port: None,
            smtp_username: None,
            smtp_password: None,
            smtp_tls: TlsMode::Starttls,
            smtp_timeout_seconds: 30,
            from_default: "Yui <no-reply@localhost>".to_owned(),
            worker: WorkerSettings::default(),
        }
    }
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig")
            .field("transport", &self.transport)
            .field("file_dir", &self.file_dir)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_username", &self.smtp_username)
            .field(
                "smtp_password",
                &self.smtp_password.as_ref().map(|_| "<redacted>"),
            )
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_timeout_seconds", &self.smtp_timeout_seconds)
            .field("from_default", &self.from_default)
            .field("worker", &self.worker)
            .finish()
    }
}

/// The `[mail.worker]` table, in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerSettings {
    /// Workers per node.
    pub workers: u32,
    pub batch: u32,
    pub lease_seconds: u64,
    pub max_attempts: u32,
    pub backoff_base_seconds: u64,
    pub backoff_max_seconds: u64,
    pub poll_seconds: u64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        let c = WorkerConfig::default();
        WorkerSettings {
            workers: 1,
            batch: c.batch,
            lease_seconds: c.lease.as_secs(),
            max_attempts: c.max_attempts,
            backoff_base_seconds: c.backoff_base.as_secs(),
            backoff_max_seconds: c.backoff_max.as_secs(),
            poll_seconds: c.poll_interval.as_secs(),
        }
    }
}

impl MailConfig {
    /// Checks everything that can be checked without a network.
    pub fn validate(&self) -> Result<()> {
        self.default_sender()?;
        self.worker_config()?;
        if self.worker.workers == 0 {
            return Err(MailError::Config(
                "mail.worker.workers: must be at least 1".to_owned(),
            ));
        }
        if self.transport == TransportKind::Smtp {
            self.smtp_settings()?.validate()?;
        }
        Ok(())
    }

    /// `from_default` as a sender.
    pub fn default_sender(&self) -> Result<MailSender> {
        let mailbox = Mailbox::from_str(self.from_default.trim()).map_err(|e| {
            MailError::Config(format!(
                "mail.from_default: {:?} is not a mailbox (\"Name <address>\"): {e}",
                self.from_default
            ))
        })?;
        Ok(MailSender {
            sender_name: mailbox.name.unwrap_or_default(),
            sender_address: mailbox.email.to_string(),
        })
    }

    pub fn smtp_settings(&self) -> Result<SmtpSettings> {
        let host = self
            .smtp_host
            .clone()
            .filter(|h| !h.trim().is_empty())
            .ok_or_else(|| {
                MailError::Config("mail.smtp_host: required when transport = \"smtp\"".to_owned())
            })?;
        Ok(SmtpSettings {
            host,
            port: self.smtp_port,
            username: self.smtp_username.clone(),
            password: self.smtp_password.clone(),
            tls: self.smtp_tls,
            timeout: Duration::from_secs(self.smtp_timeout_seconds.max(1)),
        })
    }

    /// The configured transport. Call it inside a Tokio runtime (the SMTP pool
    /// starts a task).
    pub fn transport(&self) -> Result<Transport> {
        Ok(match self.transport {
            TransportKind::File => Transport::File(FileTransport::new(self.file_dir.clone())),
            TransportKind::Memory => Transport::Memory(MemoryTransport::new()),
            TransportKind::Smtp => Transport::Smtp(SmtpTransport::new(&self.smtp_settings()?)?),
        })
    }

    /// The worker settings; the send timeout follows the SMTP timeout (lettre
    /// applies it per command, a send takes a handful).
    pub fn worker_config(&self) -> Result<WorkerConfig> {
        let w = &self.worker;
        let config = WorkerConfig {
            batch: w.batch,
            lease: Duration::from_secs(w.lease_seconds),
            send_timeout: Duration::from_secs(self.smtp_timeout_seconds.max(1) * 2),
            max_attempts: w.max_attempts,
            backoff_base: Duration::from_secs(w.backoff_base_seconds),
            backoff_max: Duration::from_secs(w.backoff_max_seconds),
            poll_interval: Duration::from_secs(w.poll_seconds.max(1)),
        };
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_file_based() {
        let c: MailConfig = toml::from_str("").unwrap();
        assert_eq!(c, MailConfig::default());
        c.validate().unwrap();
        assert_eq!(c.transport().unwrap().describe(), "file outbox");
        let s = c.default_sender().unwrap();
        assert_eq!(s.sender_name, "Yui");
        assert_eq!(s.sender_address, "no-reply@localhost");
    }

    #[tokio::test]
    async fn smtp_settings_and_secret() {
        let c: MailConfig = toml::from_str(
            r#"
            transport = "smtp"
            smtp_host = "smtp.example.jp"
            smtp_username = "yui"
            smtp_password = "hunter2"
            smtp_tls = "tls"
            from_default = "岩手県 遠恋複業 事務局 <iwate@mail.yui.example>"
            [worker]
            workers = 2
            max_attempts = 3
            "#,
        )
        .unwrap();
        c.validate().unwrap();
        let debug = format!("{c:?} {:?}", c.smtp_settings().unwrap());
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("<redacted>"));
        assert_eq!(c.smtp_settings().unwrap().port(), 465);
        assert_eq!(
            c.transport().unwrap().describe(),
            "smtp smtp.example.jp:465"
        );
        assert_eq!(c.worker_config().unwrap().max_attempts, 3);
        assert_eq!(
            c.default_sender().unwrap().sender_name,
            "岩手県 遠恋複業 事務局"
        );
    }

    #[test]
    fn mistakes_are_named() {
        let e = toml::from_str::<MailConfig>("smtp_hots = \"x\"").unwrap_err();
        assert!(e.to_string().contains("smtp_hots"), "{e}");
        let c: MailConfig = toml::from_str("transport = \"smtp\"").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("smtp_host"));
        let c: MailConfig = toml::from_str("from_default = \"not an address\"").unwrap();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("from_default")
        );
        let c: MailConfig = toml::from_str("[worker]\nlease_seconds = 10").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("lease"));
    }
}
