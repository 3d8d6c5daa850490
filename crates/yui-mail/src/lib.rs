//! Mail for Yui: a transactional outbox, the worker that delivers it, the templates
//! and the transports.
//!
//! # How a mail travels
//!
//! 1. **Enqueue.** The code that makes a change (an account signs up, a coordinator
//!    invites a staff member) calls [`Outbox::enqueue`] with the same transaction
//!    that writes the change (any [`yui_store::Tx`]: a tenant's, an account's or a
//!    platform one). The mail is rendered right there (subject, text and HTML in the
//!    recipient's [`Locale`], with the tenant's sender and overrides) and inserted as
//!    one `mail_outbox` row; in a tenant's transaction it is that tenant's mail. If
//!    the transaction rolls back, the mail never existed; if it commits, the mail
//!    will be sent.
//! 2. **Claim.** A [`Worker`] (one or several per node, on any number of nodes)
//!    claims a batch of due rows in a short writing transaction: on PostgreSQL with
//!    `FOR UPDATE SKIP LOCKED`, on SQLite under `BEGIN IMMEDIATE`. A claim sets a
//!    lease (`claimed_until`) and a fresh claim token and counts the attempt.
//! 3. **Send.** The worker hands each row to its [`Transport`] (SMTP, `.eml` files,
//!    or memory). It only starts a send while the remaining lease is longer than
//!    the send timeout, so a lease cannot run out under a send in flight.
//! 4. **Record.** After the SMTP server accepted the mail, a second short
//!    transaction marks the row `sent`, but only if the claim token still matches.
//!    A temporary failure schedules the next attempt with exponential backoff and a
//!    cap ([`WorkerConfig::backoff`]); a permanent one (5xx) or the last allowed
//!    attempt marks it `failed`.
//!
//! A worker that dies between claim and record leaves its rows claimed; they become
//! due again when the lease runs out, and the next claim counts another attempt.
//! SMTP itself is at-least-once at one point: if the connection breaks after the
//! server stored the message but before it answered, the row is retried. The
//! Message-ID is fixed at enqueue time, so such a copy is recognisably the same mail.
//!
//! ```no_run
//! # async fn demo(store: yui_store::Store, config: yui_mail::MailConfig) -> yui_mail::Result<()> {
//! use yui_mail::{Locale, MailKind, NewMail, Outbox, Templates, Worker};
//! # let now = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
//!
//! // At start-up.
//! let outbox = Outbox::new(
//!     Templates::load(Some(std::path::Path::new("tenants")))?,
//!     config.default_sender()?,
//! )?;
//! let worker = Worker::new(store.clone(), config.transport()?, "node-1", config.worker_config()?)?;
//! let waker = worker.waker();
//! // tokio::spawn(worker.run(|| <wall clock>, shutdown_signal));
//!
//! // In a request: the mail commits with the account it announces.
//! let mut tx = store.platform(yui_store::PlatformReason::Authentication).write().await?;
//! // … insert the account …
//! outbox
//!     .enqueue(&mut tx, &NewMail {
//!         tenant: None,
//!         to: "hanako@example.jp".into(),
//!         locale: Locale::Ja,
//!         kind: MailKind::VerifyEmail,
//!         vars: serde_json::json!({
//!             "display_name": "山田 花子",
//!             "link": "https://yui.example/verify?token=…",
//!             "expires_minutes": 1440,
//!         }),
//!         attachment: None,
//!     }, now)
//!     .await?;
//! tx.commit().await?;
//! waker.notify_one();
//! # Ok(())
//! # }
//! ```
//!
//! # Schema
//!
//! `mail_outbox` (migration `0004_mail_outbox.sql`): the rendered mail (`from_name`,
//! `from_address`, `to_address`, `subject`, `body_text`, `body_html`, `message_id`,
//! `template`, `locale`, nullable `tenant_id`), its state (`status` pending / sent /
//! failed, `attempts`, `next_attempt_at`, `last_error`, `sent_at`) and the current
//! claim (`claimed_by`, `claim_token`, `claimed_until`); at most one text
//! [`Attachment`] (`attachment_name`, `attachment_type`, `attachment_body`, added by
//! `0018_events.sql`). Workers find due rows through the partial index
//! `mail_outbox_due`. The queries are yui-store's
//! ([`yui_store::OutboxTx`] and the outbox methods of [`yui_store::PlatformTx`]); the
//! row types are re-exported here.
//!
//! # Templates
//!
//! Each [`MailKind`] has a subject, a text and an HTML template per locale, embedded
//! in the binary (`templates/<locale>/<kind>.{subject,txt,html}`). A tenant folder
//! may override any part in `tenants/<slug>/mail/<locale>/<kind>.<part>`; see
//! [`Templates::load`]. Only the HTML part is escaped. Subjects are rendered with
//! the tenant and platform names only, so user input never reaches a header.
//!
//! # Time
//!
//! The library never reads the wall clock: `now` is a parameter of every call, and
//! [`Worker::run`] takes a clock from the caller. Elapsed time inside one batch is
//! measured with a monotonic [`std::time::Instant`].
//!
//! # Testing
//!
//! [`testing::SmtpSink`] is a small SMTP server for tests (this crate's and other
//! suites'), which records what it receives and can be told to refuse deliveries.

mod config;
mod error;
mod outbox;
mod templates;
pub mod testing;
mod transport;
mod worker;

pub use config::{MailConfig, TransportKind, WorkerSettings};
pub use error::MailError;
pub use outbox::{Attachment, MailTenant, NewMail, Outbox};
pub use templates::{MailKind, RenderedMail, Templates};
pub use transport::{
    FileTransport, MemoryTransport, SendError, SmtpSettings, SmtpTransport, TlsMode, Transport,
};
pub use worker::{Claim, RunReport, Worker, WorkerConfig};

pub use yui_domain::Locale;
pub use yui_domain::tenant::MailSender;
pub use yui_store::{MailStatus, OutboxEntry, QueuedMail, StatusCounts};

/// Result of a mail operation.
pub type Result<T, E = MailError> = std::result::Result<T, E>;
