//! yui-mail integration tests: one binary; each database test runs on SQLite and
//! on PostgreSQL (see `db.rs`), and mail goes over real SMTP to `SmtpSink`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod db;

mod concurrency;
mod delivery;
mod rendering;
mod sink;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use std::time::Duration;
use yui_domain::MailId;
use yui_mail::testing::SmtpSink;
use yui_mail::{
    Locale, MailKind, MailSender, NewMail, Outbox, SmtpTransport, Templates, Transport, Worker,
    WorkerConfig,
};
use yui_store::{PlatformReason, PlatformTx, Store};

use db::TestDb;

/// 2025-04-01 09:00 UTC: the first day of fiscal year 令和7年度.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 4, 1, 9, 0, 0).unwrap()
}

pub fn secs(n: i64) -> chrono::TimeDelta {
    chrono::TimeDelta::seconds(n)
}

pub fn outbox() -> Outbox {
    Outbox::new(
        Templates::builtin().unwrap(),
        MailSender {
            sender_name: "Yui（結）".to_owned(),
            sender_address: "no-reply@yui.example".to_owned(),
        },
    )
    .unwrap()
}

pub fn verify_mail(to: &str, locale: Locale) -> NewMail {
    NewMail {
        tenant: None,
        to: to.to_owned(),
        locale,
        kind: MailKind::VerifyEmail,
        vars: json!({
            "display_name": "山田 花子",
            "link": format!("https://yui.example/verify?token=tok-{to}"),
            "expires_minutes": 1440,
        }),
        attachment: None,
    }
}

/// A writing transaction for platform mail (account-level links, as sign-up sends).
pub async fn platform_write(store: &Store) -> PlatformTx {
    store
        .platform(PlatformReason::Authentication)
        .write()
        .await
        .unwrap()
}

/// Enqueues and commits each mail in its own transaction.
pub async fn enqueue_committed(db: &TestDb, outbox: &Outbox, mails: &[NewMail]) -> Vec<MailId> {
    let mut ids = Vec::new();
    for mail in mails {
        let mut tx = platform_write(&db.store).await;
        ids.push(outbox.enqueue(&mut tx, mail, t0()).await.unwrap());
        tx.commit().await.unwrap();
    }
    ids
}

/// Enqueues all mails in one transaction.
pub async fn enqueue_many(db: &TestDb, outbox: &Outbox, mails: &[NewMail]) -> Vec<MailId> {
    let mut tx = platform_write(&db.store).await;
    let mut ids = Vec::new();
    for mail in mails {
        ids.push(outbox.enqueue(&mut tx, mail, t0()).await.unwrap());
    }
    tx.commit().await.unwrap();
    ids
}

pub fn test_config() -> WorkerConfig {
    WorkerConfig {
        batch: 10,
        lease: Duration::from_secs(120),
        send_timeout: Duration::from_secs(10),
        max_attempts: 4,
        backoff_base: Duration::from_secs(60),
        backoff_max: Duration::from_secs(180),
        poll_interval: Duration::from_secs(60),
    }
}

pub fn smtp_worker(db: &TestDb, sink: &SmtpSink, node: &str, config: WorkerConfig) -> Worker {
    let transport = Transport::Smtp(SmtpTransport::new(&sink.smtp_settings()).unwrap());
    Worker::new(db.store.clone(), transport, node, config).unwrap()
}
