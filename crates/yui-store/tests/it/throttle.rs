//! Attempts are counted before they are checked, by one statement that refuses while
//! a key waits: a burst gets no more than the free attempts through, on both backends.

use chrono::Duration;
use yui_domain::account::Email;
use yui_store::{Attempt, Limit};

use crate::{Db, both, secs, t0};

both!(
    a_burst_gets_only_the_free_attempts_through,
    free_attempts_do_not_wait_for_a_later_clock,
    a_lagging_clock_does_not_make_a_key_look_quiet,
    the_wait_doubles_up_to_its_cap_and_quiet_starts_over,
    all_keys_or_none_are_counted,
    a_known_device_is_known_for_its_account_only,
    an_hourly_limit_holds_in_every_hour,
);

fn limit(free: i64) -> Limit {
    Limit {
        free,
        base: Duration::seconds(60),
        cap: Duration::minutes(8),
        quiet: Duration::hours(1),
    }
}

fn key(k: &str) -> Vec<(String, Limit)> {
    vec![(k.to_owned(), limit(5))]
}

async fn a_burst_gets_only_the_free_attempts_through(db: Db) {
    let burst: Vec<_> = (0..60)
        .map(|_| {
            let store = db.store.clone();
            tokio::spawn(async move { store.count_attempt(&key("k"), t0()).await.unwrap() })
        })
        .collect();
    let mut allowed = 0;
    for b in burst {
        if b.await.unwrap() == Attempt::Allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 5);
}

async fn free_attempts_do_not_wait_for_a_later_clock(db: Db) {
    let store = &db.store;
    // The second request read the clock first but reached the row second.
    let later = t0() + Duration::milliseconds(5);
    assert_eq!(
        store.count_attempt(&key("k"), later).await.unwrap(),
        Attempt::Allowed
    );
    for _ in 0..4 {
        assert_eq!(
            store.count_attempt(&key("k"), t0()).await.unwrap(),
            Attempt::Allowed
        );
    }
    // The free attempts are used up: now the key waits.
    assert!(matches!(
        store.count_attempt(&key("k"), later).await.unwrap(),
        Attempt::Refused { .. }
    ));
}

async fn a_lagging_clock_does_not_make_a_key_look_quiet(db: Db) {
    // Two nodes whose clocks are further apart than the quiet period (an hour), and
    // an attacker alternating between them: still the free attempts and no more.
    let (lagging, leading) = (t0(), t0() + Duration::hours(2));
    let mut allowed = 0;
    for i in 0..20 {
        let now = if i % 2 == 0 { leading } else { lagging };
        if db.store.count_attempt(&key("k"), now).await.unwrap() == Attempt::Allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 5);
}

async fn the_wait_doubles_up_to_its_cap_and_quiet_starts_over(db: Db) {
    let store = &db.store;
    let mut now = t0();
    for _ in 0..5 {
        assert_eq!(
            store.count_attempt(&key("k"), now).await.unwrap(),
            Attempt::Allowed
        );
    }
    // The fifth attempt imposed the base wait; each further one doubles it.
    for wait in [60, 120, 240, 480, 480] {
        assert_eq!(
            store.count_attempt(&key("k"), now).await.unwrap(),
            Attempt::Refused {
                retry_after: secs(wait)
            }
        );
        now += secs(wait - 1);
        assert!(matches!(
            store.count_attempt(&key("k"), now).await.unwrap(),
            Attempt::Refused { .. }
        ));
        now += secs(1);
        assert_eq!(
            store.count_attempt(&key("k"), now).await.unwrap(),
            Attempt::Allowed
        );
    }
    // Left alone for the quiet time, the key has its free attempts again.
    now += Duration::hours(2);
    for _ in 0..5 {
        assert_eq!(
            store.count_attempt(&key("k"), now).await.unwrap(),
            Attempt::Allowed
        );
    }
    // A success forgets a key.
    store
        .attempt_succeeded(&["k".to_owned()], &[])
        .await
        .unwrap();
    assert_eq!(
        store.count_attempt(&key("k"), now).await.unwrap(),
        Attempt::Allowed
    );
    // Keys quiet for long are pruned; the others stay.
    store
        .count_attempt(&key("fresh"), now + Duration::days(2))
        .await
        .unwrap();
    assert_eq!(
        store.prune_attempts(now + Duration::days(1)).await.unwrap(),
        1
    );
}

async fn all_keys_or_none_are_counted(db: Db) {
    let store = &db.store;
    let both = vec![("a".to_owned(), limit(2)), ("b".to_owned(), limit(5))];
    for _ in 0..2 {
        assert_eq!(
            store.count_attempt(&both, t0()).await.unwrap(),
            Attempt::Allowed
        );
    }
    // "a" waits, so "b" is not counted either: it still has three free attempts.
    assert!(matches!(
        store.count_attempt(&both, t0()).await.unwrap(),
        Attempt::Refused { .. }
    ));
    for _ in 0..3 {
        assert_eq!(
            store.count_attempt(&key("b"), t0()).await.unwrap(),
            Attempt::Allowed
        );
    }
    assert!(matches!(
        store.count_attempt(&key("b"), t0()).await.unwrap(),
        Attempt::Refused { .. }
    ));
    // A refund gives back one attempt.
    store
        .attempt_succeeded(&[], &["b".to_owned()])
        .await
        .unwrap();
    let after_wait = t0() + secs(60);
    assert_eq!(
        store.count_attempt(&key("b"), after_wait).await.unwrap(),
        Attempt::Allowed
    );
}

async fn a_known_device_is_known_for_its_account_only(db: Db) {
    let ken = db.account("ken@example.jp").await;
    db.account("mai@example.jp").await;
    let email = |e: &str| Email::parse("email", e).unwrap();
    let store = &db.store;
    let since = t0() - Duration::days(365);
    assert!(
        !store
            .is_known_device("dev", &email("ken@example.jp"), since)
            .await
            .unwrap()
    );
    store
        .remember_device("dev", ken, t0() - Duration::days(400), since)
        .await
        .unwrap();
    store
        .remember_device("old", ken, t0() - Duration::days(400), since)
        .await
        .unwrap();
    store
        .remember_device("dev", ken, t0(), since)
        .await
        .unwrap();
    // Remembering one device forgets the account's devices not seen for too long.
    assert!(
        !store
            .is_known_device("old", &email("ken@example.jp"), t0() - Duration::days(500))
            .await
            .unwrap()
    );
    assert!(
        store
            .is_known_device("dev", &email("KEN@example.jp"), since)
            .await
            .unwrap()
    );
    assert!(
        !store
            .is_known_device("dev", &email("mai@example.jp"), since)
            .await
            .unwrap()
    );
    assert!(
        !store
            .is_known_device("other", &email("ken@example.jp"), since)
            .await
            .unwrap()
    );
    // Remembered long ago: no longer known.
    assert!(
        !store
            .is_known_device("dev", &email("ken@example.jp"), t0() + secs(1))
            .await
            .unwrap()
    );
}

async fn an_hourly_limit_holds_in_every_hour(db: Db) {
    // Three an hour (as for mailed links): two now, then a burst 51 minutes later gets
    // one, not three.
    let hourly = vec![(
        "mail".to_owned(),
        Limit {
            free: 3,
            base: Duration::hours(1),
            cap: Duration::hours(1),
            quiet: Duration::hours(1),
        },
    )];
    let store = &db.store;
    for _ in 0..2 {
        assert_eq!(
            store.count_attempt(&hourly, t0()).await.unwrap(),
            Attempt::Allowed
        );
    }
    let later = t0() + Duration::minutes(51);
    let allowed = {
        let mut n = 0;
        for _ in 0..3 {
            if store.count_attempt(&hourly, later).await.unwrap() == Attempt::Allowed {
                n += 1;
            }
        }
        n
    };
    assert_eq!(allowed, 1);
}
