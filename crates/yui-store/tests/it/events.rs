//! Programs, events and registrations through a tenant's handle: the seat lock
//! under 200 concurrent registrations (and its control without the lock, which
//! oversells), cancellations racing registrations, idempotency, screening,
//! attendance, reminders claimed once, and the walls between tenants.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use yui_domain::checkin::CheckinCode;
use yui_domain::event::question::Answers;
use yui_domain::event::{EventFields, EventInput, EventStatus, SeatKind, check_event_edit};
use yui_domain::program::{FieldworkRule, ProgramInput, check_program};
use yui_domain::registration::RegistrationStatus;
use yui_domain::{AccountId, EventId, FiscalYear, TenantId};
use yui_store::{EventQuery, NewRegistration, PlatformReason, Registered, SeatLock, StoreError};

use crate::{Db, both, secs, t0};

both!(
    two_hundred_registrations_take_twenty_seats,
    without_the_lock_seats_are_oversold,
    cancellations_racing_registrations_promote_once_each,
    a_retry_or_a_double_click_registers_once,
    screening_attendance_and_subsidies,
    a_reminder_is_claimed_once,
    events_stay_in_their_tenant,
    the_outbox_lists_one_kind_of_mail,
    past_events_regions_and_pages,
);

/// An event form as a browser posts it.
pub fn event_fields(pairs: &[(&str, &str)]) -> EventFields {
    let mut all: Vec<(String, String)> = [
        ("kind", "seminar"),
        ("audience", "talent"),
        ("title", "地方複業のはじめかた"),
        ("format", "onsite"),
        ("selection", "first_come"),
        ("day1_date", "2026-06-10"),
        ("day1_starts", "19:00"),
        ("day1_ends", "20:30"),
        ("capacity_onsite", "20"),
        ("venue", "アマホームPLAZA"),
        ("subsidy", "none"),
    ]
    .iter()
    .filter(|(k, _)| !pairs.iter().any(|(p, _)| p == k))
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    all.extend(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    check_event_edit(&EventInput::from_pairs(&all)).unwrap()
}

async fn program(db: &Db, tenant: TenantId) -> yui_domain::ProgramId {
    let fields = check_program(
        &ProgramInput::for_year(
            &yui_domain::locale::Localized {
                ja: "遠恋複業".into(),
                en: "Enren".into(),
            },
            FiscalYear(2026),
        ),
        NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
    )
    .unwrap();
    let mut tx = db.store.tenant(tenant).write().await.unwrap();
    let id = tx
        .create_program(&fields, FieldworkRule::Preferred, t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

pub(crate) async fn event(db: &Db, tenant: TenantId, pairs: &[(&str, &str)]) -> EventId {
    let p = program(db, tenant).await;
    let mut tx = db.store.tenant(tenant).write().await.unwrap();
    let id = tx
        .create_event(p, &event_fields(pairs), EventStatus::Published, None, t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn accounts(db: &Db, n: usize, prefix: &str) -> Vec<AccountId> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(db.account(&format!("{prefix}{i}@example.jp")).await);
    }
    out
}

pub(crate) async fn register(
    db: &Db,
    tenant: TenantId,
    event: EventId,
    account: AccountId,
    key: Option<&str>,
    n: usize,
    lock: SeatLock,
) -> Result<Registered, StoreError> {
    let answers = Answers::default();
    // Codes are random in the app; a test derives them from the person and a salt.
    let mut seed = account.get() as u64 * 1_000_000 + n as u64;
    let digits: Vec<u8> = (0..8)
        .map(|_| {
            let d = (seed % 30) as u8;
            seed /= 30;
            d
        })
        .collect();
    let code = CheckinCode::from_random(&digits).unwrap();
    let new = NewRegistration {
        event,
        account,
        seat_kind: SeatKind::Onsite,
        answers: &answers,
        idempotency_key: key,
        checkin_code: &code,
        now: t0() + secs(n as i64),
    };
    let (tx, r) = db.store.tenant(tenant).register(&new, lock).await?;
    tx.commit().await?;
    Ok(r)
}

/// Registers everyone at once; returns (confirmed, waitlisted, errors).
async fn burst(
    db: Arc<Db>,
    tenant: TenantId,
    event: EventId,
    people: &[AccountId],
    lock: SeatLock,
) -> (usize, usize, usize) {
    let mut tasks = Vec::new();
    for (n, &a) in people.iter().enumerate() {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            register(&db, tenant, event, a, None, n, lock).await
        }));
    }
    let (mut confirmed, mut waitlisted, mut errors) = (0, 0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => match r.registration().status() {
                RegistrationStatus::Confirmed => confirmed += 1,
                RegistrationStatus::Waitlisted => waitlisted += 1,
                other => panic!("unexpected {other:?}"),
            },
            Err(e) => {
                eprintln!("registration failed: {e}");
                errors += 1;
            }
        }
    }
    (confirmed, waitlisted, errors)
}

async fn stored_counts(db: &Db, tenant: TenantId, event: EventId) -> (usize, usize, i64, i64) {
    let mut tx = db.store.tenant(tenant).read().await.unwrap();
    let rows = tx.registrations(event).await.unwrap();
    let e = tx.event(event).await.unwrap();
    tx.commit().await.unwrap();
    let confirmed = rows.iter().filter(|r| r.status().holds_seat()).count();
    let waitlisted = rows
        .iter()
        .filter(|r| r.status() == RegistrationStatus::Waitlisted)
        .count();
    (confirmed, waitlisted, e.confirmed_onsite, e.waitlisted)
}

async fn two_hundred_registrations_take_twenty_seats(db: Db) {
    let iwate = db.tenant("iwate");
    let ev = event(&db, iwate, &[]).await;
    let people = accounts(&db, 200, "p").await;
    let db = Arc::new(db);
    let (confirmed, waitlisted, errors) =
        burst(db.clone(), iwate, ev, &people, SeatLock::Held).await;
    assert_eq!((confirmed, waitlisted, errors), (20, 180, 0));
    // The rows and the counters the page reads agree.
    assert_eq!(stored_counts(&db, iwate, ev).await, (20, 180, 20, 180));
}

async fn without_the_lock_seats_are_oversold(db: Db) {
    let iwate = db.tenant("iwate");
    let ev = event(&db, iwate, &[]).await;
    let people = accounts(&db, 200, "c").await;
    let db = Arc::new(db);
    let (confirmed, _, errors) = burst(db.clone(), iwate, ev, &people, SeatLock::Off).await;
    assert_eq!(errors, 0);
    // The control: the same burst without the lock gives away more seats than there
    // are, so the test above would catch a store that lost its lock.
    assert!(
        confirmed > 20,
        "expected an oversold event, got {confirmed} confirmed"
    );
}

async fn cancellations_racing_registrations_promote_once_each(db: Db) {
    let iwate = db.tenant("iwate");
    let ev = event(&db, iwate, &[]).await;
    let first = accounts(&db, 50, "f").await;
    let late = accounts(&db, 40, "l").await;
    let mut confirmed_ids = Vec::new();
    for (n, &a) in first.iter().enumerate() {
        let r = register(&db, iwate, ev, a, None, n, SeatLock::Held)
            .await
            .unwrap();
        if r.registration().status() == RegistrationStatus::Confirmed {
            confirmed_ids.push((a, r.registration().id));
        }
    }
    assert_eq!(confirmed_ids.len(), 20);
    let db = Arc::new(db);
    let mut cancels = Vec::new();
    for &(a, id) in confirmed_ids.iter().take(10) {
        let db = db.clone();
        cancels.push(tokio::spawn(async move {
            let mut tx = db.store.tenant(iwate).write().await.unwrap();
            let moved = tx
                .cancel_registration(id, a, t0() + secs(100))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            moved.unwrap().promoted
        }));
    }
    let mut regs = Vec::new();
    for (n, &a) in late.iter().enumerate() {
        let db = db.clone();
        regs.push(tokio::spawn(async move {
            register(&db, iwate, ev, a, None, 1000 + n, SeatLock::Held).await
        }));
    }
    let mut promoted = Vec::new();
    for c in cancels {
        let p = c.await.unwrap();
        // One cancellation frees one seat: exactly one person is promoted (and mailed).
        assert_eq!(p.len(), 1);
        promoted.extend(p.into_iter().map(|r| r.id));
    }
    for r in regs {
        r.await.unwrap().unwrap();
    }
    promoted.sort();
    promoted.dedup();
    assert_eq!(promoted.len(), 10);
    let (confirmed, waitlisted, counter, waiting) = stored_counts(&db, iwate, ev).await;
    assert_eq!(confirmed, 20);
    assert_eq!(counter, 20);
    assert_eq!(waitlisted, 30 - 10 + 40);
    assert_eq!(waiting, waitlisted as i64);
    // The first of the waitlist went first.
    let mut tx = db.store.tenant(iwate).read().await.unwrap();
    let rows = tx.registrations(ev).await.unwrap();
    tx.commit().await.unwrap();
    let first_waiting: Vec<_> = rows
        .iter()
        .filter(|r| first[20..30].contains(&r.account_id))
        .map(|r| r.status())
        .collect();
    assert!(
        first_waiting
            .iter()
            .all(|s| *s == RegistrationStatus::Confirmed)
    );
}

async fn a_retry_or_a_double_click_registers_once(db: Db) {
    let iwate = db.tenant("iwate");
    let ev = event(&db, iwate, &[]).await;
    let me = db.account("me@example.jp").await;
    let a = register(&db, iwate, ev, me, Some("key-1"), 1, SeatLock::Held)
        .await
        .unwrap();
    assert!(matches!(a, Registered::New(_)));
    let b = register(&db, iwate, ev, me, Some("key-1"), 2, SeatLock::Held)
        .await
        .unwrap();
    assert!(matches!(&b, Registered::Existing(r) if r.id == a.registration().id));
    // Another key (a double click without one) finds the live registration.
    let c = register(&db, iwate, ev, me, None, 3, SeatLock::Held)
        .await
        .unwrap();
    assert!(matches!(&c, Registered::Existing(r) if r.id == a.registration().id));
    // Twenty retries in parallel with one key: one registration.
    let db = Arc::new(db);
    let other = db.account("other@example.jp").await;
    let mut tasks = Vec::new();
    for n in 0..20 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            register(&db, iwate, ev, other, Some("retry"), 10 + n, SeatLock::Held).await
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().unwrap().registration().id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    // A key reused for another event is a mistake, not a retry.
    let ev2 = {
        let mut tx = db.store.tenant(iwate).write().await.unwrap();
        let p = tx.programs().await.unwrap()[0].id;
        let id = tx
            .create_event(p, &event_fields(&[]), EventStatus::Published, None, t0())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    };
    let err = register(&db, iwate, ev2, me, Some("key-1"), 50, SeatLock::Held).await;
    assert!(matches!(err, Err(StoreError::Conflict(f)) if f == "idempotency_key"));
    // After cancelling, the person may register again (a new registration).
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    tx.cancel_registration(a.registration().id, me, t0())
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    let again = register(&db, iwate, ev, me, None, 60, SeatLock::Held)
        .await
        .unwrap();
    assert!(matches!(&again, Registered::New(r) if r.id != a.registration().id));
    assert_eq!(stored_counts(&db, iwate, ev).await.2, 2);
}

async fn screening_attendance_and_subsidies(db: Db) {
    let iwate = db.tenant("iwate");
    let ev = event(
        &db,
        iwate,
        &[
            ("kind", "fieldwork"),
            ("selection", "screened"),
            ("capacity_onsite", "1"),
            ("day2_date", "2026-06-11"),
            ("day2_starts", "09:00"),
            ("day2_ends", "17:00"),
            ("subsidy", "up_to"),
            ("subsidy_amount", "50000"),
        ],
    )
    .await;
    let staff = db.account("staff@example.jp").await;
    let (a, b) = (
        db.account("a@example.jp").await,
        db.account("b@example.jp").await,
    );
    let ra = register(&db, iwate, ev, a, None, 1, SeatLock::Held)
        .await
        .unwrap();
    let rb = register(&db, iwate, ev, b, None, 2, SeatLock::Held)
        .await
        .unwrap();
    assert_eq!(ra.registration().status(), RegistrationStatus::Pending);
    let mut tx = db.store.tenant(iwate).write().await.unwrap();
    let approved = tx
        .decide_registration(ra.registration().id, true, staff, t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(approved.status(), RegistrationStatus::Confirmed);
    // The one seat is gone: the next approval goes to the waitlist.
    let second = tx
        .decide_registration(rb.registration().id, true, staff, t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.status(), RegistrationStatus::Waitlisted);
    // A decision is made once.
    assert!(
        tx.decide_registration(ra.registration().id, false, staff, t0())
            .await
            .unwrap()
            .is_none()
    );
    // Check-in per day, by code; a second scan the same day changes nothing.
    let code = CheckinCode::parse(&approved.checkin_code).unwrap();
    let found = tx.registration_by_code(&code).await.unwrap().unwrap();
    assert_eq!(found.id, approved.id);
    let d1 = NaiveDate::from_ymd_opt(2026, 6, 10).unwrap();
    assert!(tx.check_in(found.id, d1, staff, t0()).await.unwrap());
    assert!(!tx.check_in(found.id, d1, staff, t0()).await.unwrap());
    assert_eq!(tx.attendance(ev).await.unwrap().len(), 1);
    assert_eq!(
        tx.registration(found.id).await.unwrap().status(),
        RegistrationStatus::Attended
    );
    tx.set_subsidy(found.id, true, Some(32_000), t0())
        .await
        .unwrap();
    let r = tx.registration(found.id).await.unwrap();
    assert!(r.subsidy_eligible);
    assert_eq!(r.subsidy_paid_yen, Some(32_000));
    // Attendance at field work makes the person the program's invitee.
    let program = tx.event(ev).await.unwrap().program_id;
    assert_eq!(tx.fieldwork_attendees(program).await.unwrap(), vec![a]);
    let moves = tx.registration_moves(found.id).await.unwrap();
    assert_eq!(
        moves
            .iter()
            .map(|m| m.to_status.as_str())
            .collect::<Vec<_>>(),
        ["confirmed", "attended"]
    );
    tx.commit().await.unwrap();
}

async fn a_reminder_is_claimed_once(db: Db) {
    let iwate = db.tenant("iwate");
    let ev = event(&db, iwate, &[]).await;
    let me = db.account("me@example.jp").await;
    let r = register(&db, iwate, ev, me, None, 1, SeatLock::Held)
        .await
        .unwrap();
    let starts: DateTime<Utc> = {
        let mut tx = db.store.tenant(iwate).read().await.unwrap();
        let e = tx.event(ev).await.unwrap();
        tx.commit().await.unwrap();
        e.starts_at
    };
    let now = starts - secs(3600);
    let mut tx = db
        .store
        .platform(PlatformReason::EventReminders)
        .write()
        .await
        .unwrap();
    let found = tx
        .reminder_candidates(now, now + secs(3 * 86400), 100)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].registration, r.registration().id);
    assert!(found[0].sent.is_empty());
    assert_eq!(
        tx.claim_reminders(iwate, found[0].registration, &[120, 2880], now)
            .await
            .unwrap(),
        vec![120, 2880]
    );
    tx.commit().await.unwrap();
    // A second node claims nothing.
    let mut tx = db
        .store
        .platform(PlatformReason::EventReminders)
        .write()
        .await
        .unwrap();
    assert!(
        tx.claim_reminders(iwate, r.registration().id, &[120], now)
            .await
            .unwrap()
            .is_empty()
    );
    let found = tx
        .reminder_candidates(now, now + secs(3 * 86400), 100)
        .await
        .unwrap();
    let mut sent = found[0].sent.clone();
    sent.sort();
    assert_eq!(sent, vec![120, 2880]);
    tx.commit().await.unwrap();
}

async fn events_stay_in_their_tenant(db: Db) {
    let (iwate, amami) = (db.tenant("iwate"), db.tenant("amami"));
    let ev = event(&db, iwate, &[]).await;
    let me = db.account("me@example.jp").await;
    let r = register(&db, iwate, ev, me, None, 1, SeatLock::Held)
        .await
        .unwrap();
    let rid = r.registration().id;
    let mut tx = db.store.tenant(amami).write().await.unwrap();
    assert!(matches!(tx.event(ev).await, Err(StoreError::NotFound)));
    assert!(matches!(
        tx.registration(rid).await,
        Err(StoreError::NotFound)
    ));
    assert!(tx.registrations(ev).await.unwrap().is_empty());
    assert!(matches!(
        tx.cancel_registration(rid, me, t0()).await,
        Err(StoreError::NotFound)
    ));
    assert!(tx.events(false, None, None, 100).await.unwrap().is_empty());
    let code = CheckinCode::parse(&r.registration().checkin_code).unwrap();
    assert!(tx.registration_by_code(&code).await.unwrap().is_none());
    tx.commit().await.unwrap();
    // Registering through another tenant's handle finds no event.
    assert!(matches!(
        register(&db, amami, ev, me, None, 2, SeatLock::Held).await,
        Err(StoreError::NotFound)
    ));
    // The list across regions shows published events of active regions only.
    let draft = {
        let mut tx = db.store.tenant(amami).write().await.unwrap();
        let p = tx
            .create_program(
                &yui_domain::program::ProgramFields {
                    fiscal_year: FiscalYear(2026),
                    title: yui_domain::locale::Localized {
                        ja: "奄美".into(),
                        en: "Amami".into(),
                    },
                },
                FieldworkRule::Open,
                t0(),
            )
            .await
            .unwrap();
        let id = tx
            .create_event(p, &event_fields(&[]), EventStatus::Draft, None, t0())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    };
    let mut tx = db
        .store
        .platform(PlatformReason::PublicListings)
        .read()
        .await
        .unwrap();
    let all = tx
        .list_events(&EventQuery {
            from: Some(t0()),
            limit: 50,
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(all.iter().map(|l| l.event.id).collect::<Vec<_>>(), vec![ev]);
    assert!(!all.iter().any(|l| l.event.id == draft));
    assert_eq!(all[0].tenant_slug, "iwate");
    let online = tx
        .list_events(&EventQuery {
            seat_kind: Some(SeatKind::Online),
            limit: 50,
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert!(online.is_empty());
    tx.commit().await.unwrap();
}

/// Counting the mails an event move queued: the outbox rows of one template, in
/// the order they were queued, whichever tenant queued them.
async fn the_outbox_lists_one_kind_of_mail(db: Db) {
    use yui_store::{NewOutboxMail, OutboxTx};
    let tenant = db.tenant("iwate");
    let mail = |template, to| NewOutboxMail {
        tenant_id: Some(tenant),
        template,
        locale: "ja",
        from_name: "Yui",
        from_address: "no-reply@yui.example",
        to_address: to,
        subject: "s",
        body_text: "t",
        body_html: "<p>h</p>",
        message_id: "<x@yui.example>",
        attachment: None,
        list_unsubscribe: None,
        not_before: None,
    };
    let mut tx = db.store.tenant(tenant).write().await.unwrap();
    for (template, to) in [
        ("event_promoted", "b@example.jp"),
        ("event_confirmed", "c@example.jp"),
        ("event_promoted", "a@example.jp"),
    ] {
        tx.enqueue_mail(&mail(template, to), t0()).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = db
        .store
        .platform(PlatformReason::Admin)
        .read()
        .await
        .unwrap();
    let rows = tx.outbox_of_template("event_promoted").await.unwrap();
    assert!(tx.outbox_of_template("nothing").await.unwrap().is_empty());
    tx.commit().await.unwrap();
    let to: Vec<&str> = rows.iter().map(|r| r.to_address.as_str()).collect();
    assert_eq!(to, ["b@example.jp", "a@example.jp"]);
    assert!(rows.iter().all(|r| r.tenant_id == Some(tenant)));
}

async fn past_events_regions_and_pages(db: Db) {
    let (iwate, kamaishi, amami) = (
        db.tenant("iwate"),
        db.tenant("kamaishi"),
        db.tenant("amami"),
    );
    let june = event(&db, iwate, &[]).await;
    let july = event(&db, kamaishi, &[("day1_date", "2026-07-10")]).await;
    let august = event(&db, amami, &[("day1_date", "2026-08-10")]).await;
    let at = |m: u32| chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, m, 1, 0, 0, 0).unwrap();

    // The public list's past events: those that ended, the latest first.
    let mut tx = db.store.tenant(iwate).read().await.unwrap();
    assert!(tx.past_events(at(6), 10).await.unwrap().is_empty());
    let past: Vec<EventId> = tx
        .past_events(at(9), 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(past, vec![june]);
    tx.commit().await.unwrap();

    let mut tx = db
        .store
        .platform(PlatformReason::PublicListings)
        .read()
        .await
        .unwrap();
    let mut run = Vec::new();
    for q in [
        EventQuery {
            region: Some(iwate),
            limit: 50,
            ..EventQuery::default()
        },
        EventQuery {
            region: Some(kamaishi),
            limit: 50,
            ..EventQuery::default()
        },
        EventQuery {
            offset: 1,
            limit: 50,
            ..EventQuery::default()
        },
        EventQuery {
            offset: 1,
            limit: 1,
            ..EventQuery::default()
        },
    ] {
        let found = tx.list_events(&q).await.unwrap();
        run.push(found.iter().map(|l| l.event.id).collect::<Vec<_>>());
    }
    tx.commit().await.unwrap();
    // A prefecture takes in its municipalities; a municipality is itself alone.
    assert_eq!(run[0], vec![june, july]);
    assert_eq!(run[1], vec![july]);
    // Later pages skip what earlier ones showed.
    assert_eq!(run[2], vec![july, august]);
    assert_eq!(run[3], vec![july]);
}
