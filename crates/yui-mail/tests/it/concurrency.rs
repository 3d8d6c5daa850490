//! "Concurrency never sends a mail twice": four workers drain 200 mails at once,
//! on each database, and every mail arrives exactly once. The control runs the
//! same setup with a naive select-then-send loop and shows that it does send
//! duplicates, so the check above can fail.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Barrier;
use yui_domain::MailId;
use yui_mail::testing::SmtpSink;
use yui_mail::{Locale, MailStatus, NewMail, Outbox, OutboxEntry, SmtpTransport, Transport};
use yui_store::PlatformReason;
use yui_testkit::on_both_backends;

use crate::db::TestDb;
use crate::{enqueue_many, outbox, smtp_worker, t0, test_config, verify_mail};

const MAILS: usize = 200;
const WORKERS: usize = 4;

/// Queues the mails; returns their ids and their Message-IDs.
async fn fill(db: &TestDb) -> (Vec<MailId>, BTreeSet<String>) {
    let mails: Vec<NewMail> = (0..MAILS)
        .map(|i| {
            let locale = if i % 2 == 0 { Locale::Ja } else { Locale::En };
            verify_mail(&format!("talent{i:03}@example.jp"), locale)
        })
        .collect();
    let ids = enqueue_many(db, &outbox(), &mails).await;
    let message_ids = entries(db, &ids)
        .await
        .into_iter()
        .map(|e| e.message_id)
        .collect();
    (ids, message_ids)
}

async fn entries(db: &TestDb, ids: &[MailId]) -> Vec<OutboxEntry> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(Outbox::entry(&db.store, *id).await.unwrap());
    }
    out
}

/// How often each Message-ID arrived, once the sink has been quiet for a moment.
async fn arrivals(sink: &SmtpSink, at_least: usize) -> BTreeMap<String, usize> {
    sink.wait_for(at_least, Duration::from_secs(30))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut counts = BTreeMap::new();
    for mail in sink.messages() {
        *counts.entry(mail.message_id().unwrap()).or_insert(0) += 1;
    }
    counts
}

on_both_backends!(TestDb::on, worker_threads = 4 => workers_send_each_mail_exactly_once);
async fn workers_send_each_mail_exactly_once(db: &TestDb) {
    let sink = SmtpSink::start().await.unwrap();
    let (ids, queued) = fill(db).await;
    assert_eq!(queued.len(), MAILS);

    let start = Arc::new(Barrier::new(WORKERS));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..WORKERS {
        // Each worker has its own transport (its own SMTP connections).
        let worker = smtp_worker(db, &sink, &format!("node-{n}"), test_config());
        let start = Arc::clone(&start);
        tasks.spawn(async move {
            start.wait().await;
            let mut sent = 0;
            loop {
                let report = worker.run_once(t0()).await.unwrap();
                assert_eq!(
                    (report.lost, report.retried, report.failed),
                    (0, 0, 0),
                    "{report:?}"
                );
                sent += report.sent;
                if report.claimed == 0 {
                    return sent;
                }
            }
        });
    }
    let per_worker: Vec<usize> = tasks.join_all().await;
    assert_eq!(per_worker.iter().sum::<usize>(), MAILS, "{per_worker:?}");
    // The workers really ran side by side: more than one of them sent mail.
    assert!(
        per_worker.iter().filter(|&&n| n > 0).count() >= 2,
        "{per_worker:?}"
    );

    let arrived = arrivals(&sink, MAILS).await;
    let twice: Vec<_> = arrived.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(arrived.keys().cloned().collect::<BTreeSet<_>>(), queued);
    assert_eq!(sink.len(), MAILS);

    let rows = entries(db, &ids).await;
    let sent = rows.iter().filter(|e| e.status == MailStatus::Sent).count();
    let retried = rows.iter().filter(|e| e.attempts != 1).count();
    assert_eq!((sent, retried), (MAILS, 0));
    eprintln!(
        "{}: {MAILS} mails, workers sent {per_worker:?}, each arrived once",
        if db.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        }
    );
}

on_both_backends!(TestDb::on, worker_threads = 4 => naive_claim_control_sends_duplicates);
async fn naive_claim_control_sends_duplicates(db: &TestDb) {
    let sink = SmtpSink::start().await.unwrap();
    let (_, queued) = fill(db).await;

    let start = Arc::new(Barrier::new(WORKERS));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        let store = db.store.clone();
        let transport = Transport::Smtp(SmtpTransport::new(&sink.smtp_settings()).unwrap());
        let start = Arc::clone(&start);
        tasks.spawn(async move {
            start.wait().await;
            // The same batches and transport as the worker, without claiming:
            // read the due rows, send them, then take them off the queue.
            loop {
                let mut tx = store
                    .platform(PlatformReason::MailDelivery)
                    .read()
                    .await
                    .unwrap();
                let batch = tx
                    .due_mail(t0(), i64::from(test_config().batch))
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                if batch.is_empty() {
                    return;
                }
                for mail in batch {
                    transport.send(&mail).await.unwrap();
                    // Each address has one mail: forgetting it takes exactly this row.
                    let mut tx = store
                        .platform(PlatformReason::MailDelivery)
                        .write()
                        .await
                        .unwrap();
                    Outbox::forget_recipient(&mut tx, &mail.to_address)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                }
            }
        });
    }
    tasks.join_all().await;

    let arrived = arrivals(&sink, MAILS).await;
    assert_eq!(arrived.keys().cloned().collect::<BTreeSet<_>>(), queued);
    let duplicates: usize = arrived.values().map(|n| n - 1).sum();
    assert!(
        duplicates > 0,
        "the naive loop sent no duplicates, so the exactly-once test proves nothing"
    );
    eprintln!(
        "{} control: {} deliveries for {MAILS} mails ({duplicates} duplicates)",
        if db.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        },
        sink.len()
    );
}
