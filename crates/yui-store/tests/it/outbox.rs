//! The mail outbox: rows bound to the transaction's tenant, and the workers'
//! claims, leases and outcomes.

use std::collections::BTreeSet;

use yui_domain::{MailId, TenantId};
use yui_store::{
    MailAttachment, MailStatus, NewOutboxMail, OutboxEntry, OutboxTx, PlatformReason, Store,
    StoreError,
};

use crate::{Db, both, secs, t0};

both!(
    a_tenant_transaction_queues_only_its_own_mail,
    claims_hold_rows_for_a_lease,
    outcomes_need_the_claim_token,
    concurrent_claims_take_disjoint_rows,
    counts_and_purge,
    an_attachment_travels_with_its_mail,
);

fn mail(tenant_id: Option<TenantId>, to: &str) -> NewOutboxMail<'_> {
    NewOutboxMail {
        tenant_id,
        template: "verify_email",
        locale: "ja",
        from_name: "Yui",
        from_address: "no-reply@yui.example",
        to_address: to,
        subject: "確認",
        body_text: "text",
        body_html: "<p>html</p>",
        message_id: "<x@yui.example>",
        attachment: None,
        list_unsubscribe: None,
        not_before: None,
    }
}

async fn entry(store: &Store, id: MailId) -> OutboxEntry {
    let mut tx = store
        .platform(PlatformReason::MailDelivery)
        .read()
        .await
        .unwrap();
    let entry = tx.outbox_entry(id).await.unwrap();
    tx.commit().await.unwrap();
    entry
}

/// Queues platform mail to each address, due at `t0`.
async fn queue(store: &Store, to: &[&str]) -> Vec<MailId> {
    let mut tx = store
        .platform(PlatformReason::Authentication)
        .write()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for to in to {
        ids.push(tx.enqueue_mail(&mail(None, to), t0()).await.unwrap());
    }
    tx.commit().await.unwrap();
    ids
}

async fn a_tenant_transaction_queues_only_its_own_mail(db: Db) {
    let (iwate, kamaishi) = (db.tenant("iwate"), db.tenant("kamaishi"));

    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    let own = tx
        .enqueue_mail(&mail(Some(iwate), "a@example.jp"), t0())
        .await
        .unwrap();
    // Mail that names no tenant is still the tenant's when a tenant's transaction
    // queues it.
    let unnamed = tx
        .enqueue_mail(&mail(None, "a@example.jp"), t0())
        .await
        .unwrap();
    let err = tx
        .enqueue_mail(&mail(Some(kamaishi), "a@example.jp"), t0())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    tx.commit().await.unwrap();
    assert_eq!(entry(&db.store, own).await.tenant_id, Some(iwate));
    assert_eq!(entry(&db.store, unnamed).await.tenant_id, Some(iwate));

    // A platform transaction writes what the mail says; an account's too.
    let mut tx = db
        .store
        .platform(PlatformReason::OperatorConsole)
        .write()
        .await
        .unwrap();
    let other = tx
        .enqueue_mail(&mail(Some(kamaishi), "a@example.jp"), t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(entry(&db.store, other).await.tenant_id, Some(kamaishi));
    let person = db.account("a@example.jp").await;
    let mut tx = db.store.account(person).write().await.unwrap();
    let platform = tx
        .enqueue_mail(&mail(None, "a@example.jp"), t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let stored = entry(&db.store, platform).await;
    assert_eq!(stored.tenant_id, None);
    assert_eq!(
        (stored.status, stored.attempts, stored.next_attempt_at),
        (MailStatus::Pending, 0, t0())
    );
    assert_eq!(stored.to_address, "a@example.jp");

    // Erasing the address from iwate's transaction reaches iwate's and platform
    // mail, not kamaishi's; from the platform, the rest.
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    assert_eq!(tx.forget_mail_recipient("A@Example.JP").await.unwrap(), 3);
    tx.commit().await.unwrap();
    let mut tx = db
        .store
        .platform(PlatformReason::Admin)
        .write()
        .await
        .unwrap();
    assert_eq!(tx.forget_mail_recipient(" a@example.jp ").await.unwrap(), 1);
    assert_eq!(tx.outbox_counts().await.unwrap().pending, 0);
    tx.commit().await.unwrap();
}

async fn claims_hold_rows_for_a_lease(db: Db) {
    let ids = queue(&db.store, &["a@example.jp", "b@example.jp", "c@example.jp"]).await;
    let lease = t0() + secs(120);
    let claim = |now, limit, node: &'static str, token: &'static str, until| {
        let store = db.store.clone();
        async move {
            let mut tx = store
                .platform(PlatformReason::MailDelivery)
                .write()
                .await
                .unwrap();
            let mails = tx.claim_mail(now, limit, node, token, until).await.unwrap();
            tx.commit().await.unwrap();
            mails
        }
    };

    // Nothing is due before its time.
    assert!(claim(t0() - secs(1), 10, "a", "ta", lease).await.is_empty());
    // The first claim takes the oldest two, ordered by id, and counts an attempt.
    let first = claim(t0(), 2, "a", "ta", lease).await;
    assert_eq!(first.iter().map(|m| m.id).collect::<Vec<_>>(), ids[..2]);
    assert!(first.iter().all(|m| m.attempts == 1));
    assert_eq!(first[0].to_address, "a@example.jp");
    assert_eq!(first[0].body_html, "<p>html</p>");
    let stored = entry(&db.store, ids[0]).await;
    assert_eq!(
        (stored.claimed_by.as_deref(), stored.claimed_until),
        (Some("a"), Some(lease))
    );
    // A second takes what is left; a third finds nothing, not even in a look.
    let second = claim(t0(), 10, "b", "tb", lease).await;
    assert_eq!(second.iter().map(|m| m.id).collect::<Vec<_>>(), ids[2..]);
    assert!(
        claim(t0() + secs(119), 10, "c", "tc", lease)
            .await
            .is_empty()
    );
    let mut tx = db
        .store
        .platform(PlatformReason::MailDelivery)
        .read()
        .await
        .unwrap();
    assert!(tx.due_mail(t0() + secs(119), 10).await.unwrap().is_empty());
    assert_eq!(tx.due_mail(lease, 10).await.unwrap().len(), 3);
    tx.commit().await.unwrap();

    // When the lease runs out, the rows are due again and the lost attempt counts.
    let again = claim(lease, 10, "c", "tc", lease + secs(120)).await;
    assert_eq!(again.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
    assert!(again.iter().all(|m| m.attempts == 2));
    // The old claims can no longer record anything.
    let mut tx = db
        .store
        .platform(PlatformReason::MailDelivery)
        .write()
        .await
        .unwrap();
    assert!(!tx.mark_mail_sent(ids[0], "ta", lease).await.unwrap());
    assert!(tx.mark_mail_sent(ids[0], "tc", lease).await.unwrap());
    // Released rows are due at once, without the attempt.
    assert_eq!(tx.release_mail(&ids[1..], "tc", lease).await.unwrap(), 2);
    assert_eq!(tx.release_mail(&ids[1..], "tc", lease).await.unwrap(), 0);
    tx.commit().await.unwrap();
    let released = entry(&db.store, ids[1]).await;
    assert_eq!(
        (
            released.attempts,
            released.claimed_by,
            released.next_attempt_at
        ),
        (1, None, lease)
    );
    assert_eq!(entry(&db.store, ids[0]).await.status, MailStatus::Sent);
}

async fn outcomes_need_the_claim_token(db: Db) {
    let ids = queue(&db.store, &["a@example.jp", "b@example.jp"]).await;
    let mut tx = db
        .store
        .platform(PlatformReason::MailDelivery)
        .write()
        .await
        .unwrap();
    let claimed = tx
        .claim_mail(t0(), 10, "node", "tok", t0() + secs(120))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);

    // A temporary failure: due again later, the error kept (cut at 1,000 characters).
    let long = "451 try again ".repeat(200);
    assert!(
        !tx.retry_mail(ids[0], "other", t0() + secs(60), &long)
            .await
            .unwrap()
    );
    assert!(
        tx.retry_mail(ids[0], "tok", t0() + secs(60), &long)
            .await
            .unwrap()
    );
    // Given up.
    assert!(
        tx.fail_mail(ids[1], "tok", t0() + secs(1), "550 no such user")
            .await
            .unwrap()
    );
    // Recorded once: a failed row takes no further outcome.
    assert!(
        !tx.mark_mail_sent(ids[1], "tok", t0() + secs(2))
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();

    let retried = entry(&db.store, ids[0]).await;
    assert_eq!(retried.status, MailStatus::Pending);
    assert_eq!(retried.next_attempt_at, t0() + secs(60));
    assert_eq!(retried.last_error.unwrap().chars().count(), 1000);
    assert_eq!((retried.claimed_by, retried.claimed_until), (None, None));
    let failed = entry(&db.store, ids[1]).await;
    assert_eq!(failed.status, MailStatus::Failed);
    assert_eq!(failed.last_error.as_deref(), Some("550 no such user"));

    // The retried row comes back at its time, and is sent.
    let mut tx = db
        .store
        .platform(PlatformReason::MailDelivery)
        .write()
        .await
        .unwrap();
    assert!(
        tx.claim_mail(t0() + secs(59), 10, "node", "t2", t0() + secs(180))
            .await
            .unwrap()
            .is_empty()
    );
    let back = tx
        .claim_mail(t0() + secs(60), 10, "node", "t3", t0() + secs(180))
        .await
        .unwrap();
    assert_eq!((back.len(), back[0].attempts), (1, 2));
    assert!(
        tx.mark_mail_sent(ids[0], "t3", t0() + secs(61))
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let sent = entry(&db.store, ids[0]).await;
    assert_eq!(
        (sent.status, sent.sent_at, sent.last_error),
        (MailStatus::Sent, Some(t0() + secs(61)), None)
    );
}

/// Workers claiming at the same moment take disjoint batches that cover the queue.
async fn concurrent_claims_take_disjoint_rows(db: Db) {
    let addresses: Vec<String> = (0..40).map(|i| format!("t{i:02}@example.jp")).collect();
    let to: Vec<&str> = addresses.iter().map(String::as_str).collect();
    let ids = queue(&db.store, &to).await;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..4 {
        let store = db.store.clone();
        tasks.spawn(async move {
            let token = format!("token-{n}");
            let mut mine = Vec::new();
            loop {
                let mut tx = store
                    .platform(PlatformReason::MailDelivery)
                    .write()
                    .await
                    .unwrap();
                let batch = tx
                    .claim_mail(t0(), 3, "node", &token, t0() + secs(120))
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|m| m.id));
            }
        });
    }
    let taken: Vec<Vec<MailId>> = tasks.join_all().await;
    let all: Vec<MailId> = taken.iter().flatten().copied().collect();
    let distinct: BTreeSet<MailId> = all.iter().copied().collect();
    assert_eq!(all.len(), ids.len(), "{taken:?}");
    assert_eq!(distinct, ids.into_iter().collect());
}

async fn counts_and_purge(db: Db) {
    let ids = queue(&db.store, &["a@example.jp", "b@example.jp", "c@example.jp"]).await;
    let mut tx = db
        .store
        .platform(PlatformReason::MailDelivery)
        .write()
        .await
        .unwrap();
    tx.claim_mail(t0(), 2, "node", "tok", t0() + secs(120))
        .await
        .unwrap();
    tx.mark_mail_sent(ids[0], "tok", t0()).await.unwrap();
    tx.fail_mail(ids[1], "tok", t0(), "550").await.unwrap();
    let counts = tx.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.sent, counts.failed), (1, 1, 1));
    // Only finished rows created before the cut-off go.
    assert_eq!(tx.purge_outbox(t0()).await.unwrap(), 0);
    assert_eq!(tx.purge_outbox(t0() + secs(1)).await.unwrap(), 2);
    let counts = tx.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.sent, counts.failed), (1, 0, 0));
    tx.commit().await.unwrap();
}

/// The one file a mail may carry (an event's .ics) is stored with the mail and
/// comes back whole to the worker that claims it; a mail without one has none.
async fn an_attachment_travels_with_its_mail(db: Db) {
    let iwate = db.tenant("iwate");
    let ics = MailAttachment {
        name: "説明会 2025-08-25.ics".to_owned(),
        content_type: "text/calendar; charset=utf-8; method=PUBLISH".to_owned(),
        body: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:遠恋複業 説明会\r\n\
               END:VEVENT\r\nEND:VCALENDAR\r\n"
            .to_owned(),
    };
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    let with = tx
        .enqueue_mail(
            &NewOutboxMail {
                attachment: Some(&ics),
                ..mail(Some(iwate), "a@example.jp")
            },
            t0(),
        )
        .await
        .unwrap();
    let without = tx
        .enqueue_mail(&mail(Some(iwate), "b@example.jp"), t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let stored = entry(&db.store, with).await;
    assert_eq!(
        stored.attachment_name.as_deref(),
        Some("説明会 2025-08-25.ics")
    );
    assert_eq!(
        stored.attachment_type.as_deref(),
        Some("text/calendar; charset=utf-8; method=PUBLISH")
    );
    let plain = entry(&db.store, without).await;
    assert_eq!((plain.attachment_name, plain.attachment_type), (None, None));

    let mut tx = db
        .store
        .platform(PlatformReason::MailDelivery)
        .write()
        .await
        .unwrap();
    let due = tx.due_mail(t0(), 10).await.unwrap();
    let claimed = tx
        .claim_mail(t0(), 10, "a", "ta", t0() + secs(120))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for mails in [due, claimed] {
        assert_eq!(
            mails.iter().map(|m| m.id).collect::<Vec<_>>(),
            [with, without]
        );
        assert_eq!(mails[0].attachment.as_ref(), Some(&ics));
        assert_eq!(mails[1].attachment, None);
    }
}
