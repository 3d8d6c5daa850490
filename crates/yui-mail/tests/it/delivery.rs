//! From enqueue to the SMTP server: retries, leases, transactions, transports.

use std::time::Duration;

use mail_parser::MimeHeaders;
use yui_domain::MailId;
use yui_mail::testing::{ReceivedMail, SmtpSink};
use yui_mail::{
    Attachment, FileTransport, Locale, MailKind, MailStatus, MemoryTransport, NewMail, Outbox,
    Transport, Worker, WorkerConfig,
};
use yui_store::PlatformReason;
use yui_testkit::on_both_backends;

use crate::db::TestDb;
use crate::{
    enqueue_committed, enqueue_many, outbox, secs, smtp_worker, t0, test_config, verify_mail,
};

on_both_backends!(TestDb::on, worker_threads = 4 => smtp_roundtrip);
async fn smtp_roundtrip(db: &TestDb) {
    let sink = SmtpSink::start().await.unwrap();
    let outbox = outbox();
    let ids = enqueue_committed(db, &outbox, &[verify_mail("hanako@example.jp", Locale::Ja)]).await;
    let worker = smtp_worker(db, &sink, "node-a", test_config());

    let report = worker.run_once(t0()).await.unwrap();
    assert_eq!((report.claimed, report.sent), (1, 1), "{report:?}");

    let received = sink.wait_for(1, Duration::from_secs(5)).await.unwrap();
    let mail = &received[0];
    assert_eq!(mail.mail_from, "no-reply@yui.example");
    assert_eq!(mail.rcpt_to, ["hanako@example.jp"]);
    assert_eq!(
        mail.subject().as_deref(),
        Some("【Yui（結）】メールアドレス確認のお願い")
    );
    let text = mail.text_body().unwrap();
    assert!(text.starts_with("山田 花子 様\n"), "{text}");
    assert!(text.contains("リンクの有効期限は24時間です。"), "{text}");
    assert_eq!(
        mail.links(),
        ["https://yui.example/verify?token=tok-hanako@example.jp"]
    );
    assert!(mail.html_body().unwrap().contains("<html lang=\"ja\">"));
    assert_eq!(
        mail.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert_eq!(mail.header("Content-Language").as_deref(), Some("ja"));
    // Without an attachment the mail is only the two alternatives.
    assert!(
        mail.header("Content-Type")
            .unwrap()
            .starts_with("multipart/alternative;")
    );

    let entry = Outbox::entry(&db.store, ids[0]).await.unwrap();
    assert_eq!(entry.status, MailStatus::Sent);
    assert_eq!(entry.attempts, 1);
    assert_eq!(entry.claimed_by, None);
    assert_eq!(mail.message_id(), Some(entry.message_id.clone()));
    assert!(entry.sent_at.unwrap() >= t0());
    assert_eq!(entry.template, "verify_email");
    assert_eq!(entry.locale, "ja");
    assert_eq!(entry.tenant_id, None);

    // Nothing left to do.
    assert_eq!(worker.run_once(t0() + secs(3600)).await.unwrap().claimed, 0);
    assert_eq!(sink.len(), 1);
}

on_both_backends!(TestDb::on, worker_threads = 4 => rollback_sends_nothing);
async fn rollback_sends_nothing(db: &TestDb) {
    let sink = SmtpSink::start().await.unwrap();
    let outbox = outbox();

    // The change and its mail roll back together …
    let mut tx = crate::platform_write(&db.store).await;
    let id = outbox
        .enqueue(
            &mut tx,
            &verify_mail("rolled-back@example.jp", Locale::Ja),
            t0(),
        )
        .await
        .unwrap();
    assert!(id.get() > 0);
    tx.rollback().await.unwrap();
    // … and a transaction dropped without commit (an error in the handler) too.
    {
        let mut tx = crate::platform_write(&db.store).await;
        outbox
            .enqueue(
                &mut tx,
                &verify_mail("dropped@example.jp", Locale::En),
                t0(),
            )
            .await
            .unwrap();
    }
    enqueue_committed(
        db,
        &outbox,
        &[verify_mail("committed@example.jp", Locale::En)],
    )
    .await;

    let worker = smtp_worker(db, &sink, "node-a", test_config());
    let report = worker.run_once(t0() + secs(1)).await.unwrap();
    assert_eq!((report.claimed, report.sent), (1, 1), "{report:?}");
    let received = sink.wait_for(1, Duration::from_secs(5)).await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_to, ["committed@example.jp"]);
    let counts = Outbox::counts(&db.store).await.unwrap();
    assert_eq!((counts.pending, counts.sent, counts.failed), (0, 1, 0));
}

on_both_backends!(TestDb::on, worker_threads = 4 => retry_backoff_then_give_up);
async fn retry_backoff_then_give_up(db: &TestDb) {
    let sink = SmtpSink::start().await.unwrap();
    sink.fail_next(usize::MAX);
    let ids = enqueue_committed(
        db,
        &outbox(),
        &[verify_mail("retry@example.jp", Locale::Ja)],
    )
    .await;
    // max_attempts 4, backoff 60 s doubling, capped at 180 s.
    let config = test_config();
    let worker = smtp_worker(db, &sink, "node-a", config.clone());

    let mut now = t0();
    let expected_waits = [60, 120, 180]; // 60·2⁰, 60·2¹, min(60·2², 180)
    for (i, wait) in expected_waits.into_iter().enumerate() {
        let report = worker.run_once(now).await.unwrap();
        assert_eq!(
            (report.claimed, report.retried),
            (1, 1),
            "attempt {}: {report:?}",
            i + 1
        );
        let entry = Outbox::entry(&db.store, ids[0]).await.unwrap();
        assert_eq!(entry.status, MailStatus::Pending);
        assert_eq!(entry.attempts, i as i32 + 1);
        assert!(
            entry.last_error.as_deref().unwrap_or("").contains("451"),
            "{entry:?}"
        );
        assert_eq!(entry.claimed_by, None);
        assert_eq!(entry.claimed_until, None);
        // next_attempt_at = time of the failure + the wait; the failure happens a
        // few milliseconds of real time after `now`.
        let delay = entry.next_attempt_at - now;
        assert!(
            delay >= secs(wait) && delay < secs(wait + 5),
            "attempt {}: waited {delay:?}, expected {wait} s",
            i + 1
        );
        assert_eq!(
            config.backoff(i as u32 + 1),
            Duration::from_secs(wait as u64)
        );

        // Not due a second early.
        let early = worker
            .run_once(entry.next_attempt_at - secs(1))
            .await
            .unwrap();
        assert_eq!(early.claimed, 0);
        now = entry.next_attempt_at;
    }

    // The fourth attempt is the last one.
    let report = worker.run_once(now).await.unwrap();
    assert_eq!((report.claimed, report.failed), (1, 1), "{report:?}");
    let entry = Outbox::entry(&db.store, ids[0]).await.unwrap();
    assert_eq!(entry.status, MailStatus::Failed);
    assert_eq!(entry.attempts, 4);
    let error = entry.last_error.unwrap();
    assert!(error.starts_with("gave up after 4 attempts"), "{error}");
    assert_eq!(
        worker.run_once(now + secs(86_400)).await.unwrap().claimed,
        0
    );
    assert_eq!(sink.refused(), 4);
    assert!(sink.is_empty());
}

on_both_backends!(TestDb::on, worker_threads = 4 => transient_failure_then_delivery);
async fn transient_failure_then_delivery(db: &TestDb) {
    let sink = SmtpSink::start().await.unwrap();
    sink.fail_next(1);
    let ids = enqueue_committed(
        db,
        &outbox(),
        &[verify_mail("later@example.jp", Locale::En)],
    )
    .await;
    let worker = smtp_worker(db, &sink, "node-a", test_config());

    assert_eq!(worker.run_once(t0()).await.unwrap().retried, 1);
    let entry = Outbox::entry(&db.store, ids[0]).await.unwrap();
    let report = worker.run_once(entry.next_attempt_at).await.unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    let entry = Outbox::entry(&db.store, ids[0]).await.unwrap();
    assert_eq!((entry.status, entry.attempts), (MailStatus::Sent, 2));
    assert_eq!(
        sink.wait_for(1, Duration::from_secs(5))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(sink.refused(), 1);
}

on_both_backends!(TestDb::on, worker_threads = 4 => permanent_refusal_fails_at_once);
async fn permanent_refusal_fails_at_once(db: &TestDb) {
    let sink = SmtpSink::start().await.unwrap();
    sink.reject_next(1);
    let ids = enqueue_committed(
        db,
        &outbox(),
        &[
            verify_mail("nobody@example.jp", Locale::Ja),
            verify_mail("somebody@example.jp", Locale::Ja),
        ],
    )
    .await;
    let worker = smtp_worker(db, &sink, "node-a", test_config());
    let report = worker.run_once(t0()).await.unwrap();
    assert_eq!((report.failed, report.sent), (1, 1), "{report:?}");
    let first = Outbox::entry(&db.store, ids[0]).await.unwrap();
    assert_eq!((first.status, first.attempts), (MailStatus::Failed, 1));
    assert!(first.last_error.unwrap().contains("550"));
    let second = Outbox::entry(&db.store, ids[1]).await.unwrap();
    assert_eq!(second.status, MailStatus::Sent);
}

on_both_backends!(TestDb::on, worker_threads = 4 => lease_expiry_recovers_claims);
async fn lease_expiry_recovers_claims(db: &TestDb) {
    let sink = SmtpSink::start().await.unwrap();
    let ids = enqueue_committed(
        db,
        &outbox(),
        &[
            verify_mail("a@example.jp", Locale::Ja),
            verify_mail("b@example.jp", Locale::Ja),
            verify_mail("c@example.jp", Locale::En),
        ],
    )
    .await;
    let config = test_config();
    let lease = chrono::TimeDelta::from_std(config.lease).unwrap();

    // Worker A claims everything and dies before sending.
    let crashed = smtp_worker(db, &sink, "node-crashed", config.clone());
    let claim = crashed.claim(t0()).await.unwrap();
    assert_eq!(claim.mails.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
    assert_eq!(claim.lease_until, t0() + lease);
    let entry = Outbox::entry(&db.store, ids[0]).await.unwrap();
    assert_eq!(entry.claimed_by.as_deref(), Some("node-crashed"));
    assert_eq!(entry.claimed_until, Some(t0() + lease));
    drop(crashed);

    // While the lease holds, nobody else takes the rows.
    let rescuer = smtp_worker(db, &sink, "node-rescuer", config);
    assert_eq!(
        rescuer
            .run_once(t0() + lease - secs(1))
            .await
            .unwrap()
            .claimed,
        0
    );
    assert!(sink.is_empty());

    // After it, they are sent, each once, and the lost attempt is counted.
    let report = rescuer.run_once(t0() + lease).await.unwrap();
    assert_eq!((report.claimed, report.sent), (3, 3), "{report:?}");
    let received = sink.wait_for(3, Duration::from_secs(5)).await.unwrap();
    let mut to: Vec<_> = received.iter().map(|m| m.rcpt_to[0].clone()).collect();
    to.sort();
    assert_eq!(to, ["a@example.jp", "b@example.jp", "c@example.jp"]);
    for id in ids {
        let entry = Outbox::entry(&db.store, id).await.unwrap();
        assert_eq!((entry.status, entry.attempts), (MailStatus::Sent, 2));
    }
}

on_both_backends!(TestDb::on, worker_threads = 4 => lease_expired_on_last_attempt_gives_up);
async fn lease_expired_on_last_attempt_gives_up(db: &TestDb) {
    // A mail that kills every worker that tries it must not be tried for ever.
    let sink = SmtpSink::start().await.unwrap();
    let ids = enqueue_committed(
        db,
        &outbox(),
        &[verify_mail("poison@example.jp", Locale::Ja)],
    )
    .await;
    let config = WorkerConfig {
        max_attempts: 1,
        ..test_config()
    };
    let lease = chrono::TimeDelta::from_std(config.lease).unwrap();
    let crashed = smtp_worker(db, &sink, "node-crashed", config.clone());
    assert_eq!(crashed.claim(t0()).await.unwrap().mails.len(), 1);
    let next = smtp_worker(db, &sink, "node-next", config);
    let report = next.run_once(t0() + lease).await.unwrap();
    assert_eq!(
        (report.claimed, report.failed, report.sent),
        (1, 1, 0),
        "{report:?}"
    );
    let entry = Outbox::entry(&db.store, ids[0]).await.unwrap();
    assert_eq!(entry.status, MailStatus::Failed);
    assert!(entry.last_error.unwrap().contains("lease"));
    assert!(sink.is_empty());
}

on_both_backends!(TestDb::on, worker_threads = 4 => file_transport_writes_parseable_eml);
async fn file_transport_writes_parseable_eml(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let outbox_dir = dir.path().join("outbox");
    let file = FileTransport::new(&outbox_dir);
    let mut mail = verify_mail("taro@example.com", Locale::En);
    mail.kind = yui_mail::MailKind::PasswordReset;
    mail.vars["display_name"] = serde_json::json!("Taro <script>");
    let ids = enqueue_committed(db, &outbox(), &[mail]).await;
    // The row as a worker will take it, looked at before it is sent.
    let queued = due_mail(db, ids[0]).await;
    let worker = Worker::new(
        db.store.clone(),
        Transport::File(file.clone()),
        "node-a",
        test_config(),
    )
    .unwrap();
    assert_eq!(worker.run_once(t0()).await.unwrap().sent, 1);

    let files: Vec<_> = std::fs::read_dir(&outbox_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().unwrap(), "eml");
    let raw = std::fs::read(&files[0]).unwrap();

    // An independent parser reads it back.
    let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Yui（結）"));
    assert_eq!(from.address(), Some("no-reply@yui.example"));
    assert_eq!(
        parsed.to().unwrap().first().unwrap().address(),
        Some("taro@example.com")
    );
    assert_eq!(parsed.subject(), Some("Reset your Yui password"));
    let entry = Outbox::entry(&db.store, ids[0]).await.unwrap();
    assert_eq!(
        Some(format!("<{}>", parsed.message_id().unwrap())),
        Some(entry.message_id.clone())
    );
    assert_eq!(parsed.date().unwrap().to_timestamp(), t0().timestamp());
    let text = parsed.body_text(0).unwrap();
    assert!(text.contains("Hello Taro <script>,"), "{text}");
    assert!(
        text.contains("https://yui.example/verify?token=tok-taro@example.com"),
        "{text}"
    );
    assert!(text.contains("expires in 24 hours"), "{text}");
    let html = parsed.body_html(0).unwrap();
    assert!(html.contains("Hello Taro &lt;script&gt;,"), "{html}");
    assert!(!html.contains("<script>"));

    // Our own reader agrees.
    let ours = ReceivedMail::from_message(String::from_utf8(raw.clone()).unwrap());
    assert_eq!(ours.subject().as_deref(), Some("Reset your Yui password"));
    assert_eq!(ours.text_body(), Some(text.replace("\r\n", "\n")));

    // Writing the same row again replaces the file rather than adding one.
    Transport::File(file.clone()).send(&queued).await.unwrap();
    assert_eq!(std::fs::read_dir(&outbox_dir).unwrap().count(), 1);
    assert_eq!(file.path_for(&queued), files[0]);
}

/// The due row `id` as a worker would claim it, without claiming it.
async fn due_mail(db: &TestDb, id: MailId) -> yui_mail::QueuedMail {
    let mut tx = db
        .store
        .platform(PlatformReason::MailDelivery)
        .read()
        .await
        .unwrap();
    let due = tx.due_mail(t0(), 100).await.unwrap();
    tx.commit().await.unwrap();
    due.into_iter().find(|m| m.id == id).unwrap()
}

on_both_backends!(TestDb::on, worker_threads = 4 => memory_transport_and_run_loop);
async fn memory_transport_and_run_loop(db: &TestDb) {
    let memory = MemoryTransport::new();
    let worker = Worker::new(
        db.store.clone(),
        Transport::Memory(memory.clone()),
        "node-loop",
        test_config(), // polls only every 60 s: delivery below is the waker's doing
    )
    .unwrap();
    let waker = worker.waker();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run(t0, async move {
        stopped.await.ok();
    }));

    // Let the loop reach its idle wait, then enqueue, commit and wake it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(memory.messages().is_empty());
    let ids = enqueue_committed(db, &outbox(), &[verify_mail("loop@example.jp", Locale::Ja)]).await;
    waker.notify_one();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while memory.messages().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent = memory.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].id, ids[0]);
    assert_eq!(sent[0].to_address, "loop@example.jp");
    assert!(
        !format!("{:?}", sent[0]).contains("loop@example.jp"),
        "Debug hides addresses"
    );

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .unwrap()
        .unwrap();
}

on_both_backends!(TestDb::on, worker_threads = 4 => purge_and_forget_recipient);
async fn purge_and_forget_recipient(db: &TestDb) {
    let outbox = outbox();
    let ids = enqueue_many(
        db,
        &outbox,
        &[
            verify_mail("keep@example.jp", Locale::Ja),
            verify_mail("Erase@Example.jp", Locale::Ja),
            verify_mail("sent@example.jp", Locale::Ja),
        ],
    )
    .await;
    // Erasing an account removes its mail, sent or not, in the erasing transaction.
    let mut tx = crate::platform_write(&db.store).await;
    assert_eq!(
        Outbox::forget_recipient(&mut tx, "erase@example.JP")
            .await
            .unwrap(),
        1
    );
    tx.commit().await.unwrap();
    assert!(Outbox::entry(&db.store, ids[1]).await.is_err());

    let memory = MemoryTransport::new();
    let worker = Worker::new(
        db.store.clone(),
        Transport::Memory(memory.clone()),
        "n",
        test_config(),
    )
    .unwrap();
    assert_eq!(worker.run_once(t0()).await.unwrap().sent, 2);
    // Purging keeps rows created after the cut-off, and never pending ones.
    enqueue_committed(
        db,
        &outbox,
        &[verify_mail("pending@example.jp", Locale::Ja)],
    )
    .await;
    assert_eq!(Outbox::purge(&db.store, t0()).await.unwrap(), 0);
    assert_eq!(Outbox::purge(&db.store, t0() + secs(1)).await.unwrap(), 2);
    let counts = Outbox::counts(&db.store).await.unwrap();
    assert_eq!((counts.pending, counts.sent, counts.failed), (1, 0, 0));
}

on_both_backends!(TestDb::on, worker_threads = 4 => an_attachment_arrives_as_multipart_mixed);
/// A confirmation's calendar file goes over SMTP (and into an .eml file) beside the
/// text and HTML, and an independent parser finds it with its name, type and body
/// intact.
async fn an_attachment_arrives_as_multipart_mixed(db: &TestDb) {
    let sink = SmtpSink::start().await.unwrap();
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Yui//Events//JA\r\nMETHOD:PUBLISH\r\n\
               BEGIN:VEVENT\r\nUID:event-3@yui.example\r\nDTSTART:20250825T100000Z\r\n\
               SUMMARY:遠恋複業 説明会（東京会場）\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let mail = NewMail {
        kind: MailKind::EventConfirmed,
        vars: serde_json::json!({
            "display_name": "山田 花子",
            "event_title": "遠恋複業 説明会",
            "when": "2025年8月25日(月) 19:00–20:00",
            "place": "岩手銀行赤レンガ館",
            "online_url": "",
            "checkin_code": "K7QX-42",
            "link": "https://yui.example/iwate/events/3",
        }),
        attachment: Some(Attachment {
            name: "遠恋複業 説明会.ics".to_owned(),
            content_type: "text/calendar; charset=utf-8; method=PUBLISH".to_owned(),
            body: ics.to_owned(),
        }),
        ..verify_mail("hanako@example.jp", Locale::Ja)
    };
    let ids = enqueue_committed(db, &outbox(), &[mail]).await;
    let entry = Outbox::entry(&db.store, ids[0]).await.unwrap();
    assert_eq!(
        entry.attachment_name.as_deref(),
        Some("遠恋複業 説明会.ics")
    );
    let queued = due_mail(db, ids[0]).await;

    let worker = smtp_worker(db, &sink, "node-a", test_config());
    assert_eq!(worker.run_once(t0()).await.unwrap().sent, 1);
    let received = sink.wait_for(1, Duration::from_secs(5)).await.unwrap();
    let raw = &received[0];
    assert!(
        raw.header("Content-Type")
            .unwrap()
            .starts_with("multipart/mixed;"),
        "{}",
        raw.data
    );
    // Our reader still finds both alternatives inside the mixed part.
    assert!(raw.text_body().unwrap().contains("受付コード：K7QX-42"));
    assert!(raw.html_body().unwrap().contains("K7QX-42"));

    let parsed = mail_parser::MessageParser::default()
        .parse(raw.data.as_bytes())
        .unwrap();
    assert!(parsed.body_text(0).unwrap().contains("遠恋複業 説明会"));
    assert!(parsed.body_html(0).unwrap().contains("<html lang=\"ja\">"));
    assert_eq!(parsed.attachment_count(), 1);
    let attachment = parsed.attachment(0).unwrap();
    assert_eq!(attachment.attachment_name(), Some("遠恋複業 説明会.ics"));
    let content_type = attachment.content_type().unwrap();
    assert_eq!(
        (content_type.ctype(), content_type.subtype()),
        ("text", Some("calendar"))
    );
    assert_eq!(content_type.attribute("method"), Some("PUBLISH"));
    assert_eq!(content_type.attribute("charset"), Some("utf-8"));
    assert_eq!(
        String::from_utf8(attachment.contents().to_vec()).unwrap(),
        ics
    );

    // The file transport writes the same message.
    let dir = tempfile::tempdir().unwrap();
    let file = FileTransport::new(dir.path());
    Transport::File(file.clone()).send(&queued).await.unwrap();
    let raw = std::fs::read(file.path_for(&queued)).unwrap();
    let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(parsed.attachment_count(), 1);
    let attachment = parsed.attachment(0).unwrap();
    assert_eq!(attachment.attachment_name(), Some("遠恋複業 説明会.ics"));
    assert_eq!(attachment.contents(), ics.as_bytes());
}
