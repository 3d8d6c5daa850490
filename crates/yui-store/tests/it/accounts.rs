//! Accounts, sessions and mailed tokens: one account per address, tokens used once,
//! sessions ended with a new password.

use chrono::Duration;
use yui_domain::Locale;
use yui_domain::account::Email;
use yui_store::{AccountsTx, NewAccount, PlatformReason, SessionPolicy, StoreError, TokenPurpose};

use crate::{Db, both, t0};

both!(
    one_account_per_address_whatever_its_case,
    a_sign_in_checked_before_a_password_change_makes_nothing,
    a_token_is_used_once_and_only_before_it_expires,
    a_new_password_ends_every_session,
);

fn policy() -> SessionPolicy {
    SessionPolicy {
        idle: Duration::hours(12),
        absolute: Duration::days(14),
    }
}

async fn one_account_per_address_whatever_its_case(db: Db) {
    let id = db.account("Hanako@Example.JP").await;
    let twin = Email::parse("email", "hanako@example.jp").unwrap();
    let found = db.store.find_account(&twin).await.unwrap().unwrap();
    assert_eq!(found.id, id);
    assert_eq!(
        found.email, "Hanako@example.jp",
        "the local part as typed, the domain in lower case"
    );
    let mut tx = db
        .store
        .platform(PlatformReason::Admin)
        .write()
        .await
        .unwrap();
    let new = NewAccount {
        email: &twin,
        display_name: "",
        password_hash: None,
        locale: Locale::Ja,
    };
    match tx.create_account(new, t0()).await {
        Err(StoreError::Conflict(field)) => assert_eq!(field, "email"),
        other => panic!("expected a conflict on email, got {other:?}"),
    }
}

async fn a_sign_in_checked_before_a_password_change_makes_nothing(db: Db) {
    let id = db.account("epoch@example.jp").await;
    let kamaishi = db.tenant("kamaishi");
    // Checked against epoch 0 (the password as it was)…
    let mut tx = db.store.account(id).write().await.unwrap();
    tx.create_session("before", policy(), "", "", 0, t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // …then the password changes…
    let mut tx = db.store.account(id).write().await.unwrap();
    tx.set_password("new-hash", t0()).await.unwrap();
    tx.commit().await.unwrap();
    // …and neither a session nor a token can be made under the old epoch.
    let mut tx = db.store.account(id).write().await.unwrap();
    match tx.create_session("late", policy(), "", "", 0, t0()).await {
        Err(StoreError::Conflict(what)) => assert_eq!(what, "credentials"),
        other => panic!("expected a conflict on credentials, got {other:?}"),
    }
    tx.rollback().await.unwrap();
    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    assert!(matches!(
        tx.create_api_token(id, 0, "late", "late-hash", t0()).await,
        Err(StoreError::Conflict(_))
    ));
    tx.rollback().await.unwrap();
    assert!(
        db.store
            .session_account("before", policy(), t0())
            .await
            .unwrap()
            .is_none()
    );
    // Under the new epoch, both work.
    let epoch = db
        .store
        .find_account(&Email::parse("email", "epoch@example.jp").unwrap())
        .await
        .unwrap()
        .unwrap()
        .credential_epoch;
    assert_eq!(epoch, 1);
    let mut tx = db.store.account(id).write().await.unwrap();
    tx.create_session("after", policy(), "", "", epoch, t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        db.store
            .session_account("after", policy(), t0())
            .await
            .unwrap()
            .is_some()
    );
    // Signing out everywhere moves it too.
    let mut tx = db.store.account(id).write().await.unwrap();
    tx.end_all_sessions().await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.store.account(id).write().await.unwrap();
    assert!(
        tx.create_session("stale", policy(), "", "", epoch, t0())
            .await
            .is_err()
    );
    tx.rollback().await.unwrap();
}

async fn a_token_is_used_once_and_only_before_it_expires(db: Db) {
    let id = db.account("sora@example.jp").await;
    let mut tx = db.store.account(id).write().await.unwrap();
    tx.create_login_token(
        id,
        TokenPurpose::MagicLink,
        "h1",
        t0(),
        t0() + Duration::minutes(15),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // The wrong purpose does not use it.
    assert!(
        db.store
            .redeem_token(TokenPurpose::PasswordReset, "h1", t0())
            .await
            .unwrap()
            .is_none()
    );
    // After its end it is gone.
    let late = t0() + Duration::minutes(16);
    assert!(
        db.store
            .redeem_token(TokenPurpose::MagicLink, "h1", late)
            .await
            .unwrap()
            .is_none()
    );
    // In time: once. Rolled back, it stays usable; committed, it is used up.
    let tx = db
        .store
        .redeem_token(TokenPurpose::MagicLink, "h1", t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tx.account_id(), id);
    tx.rollback().await.unwrap();
    let tx = db
        .store
        .redeem_token(TokenPurpose::MagicLink, "h1", t0())
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        db.store
            .redeem_token(TokenPurpose::MagicLink, "h1", t0())
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_new_password_ends_every_session(db: Db) {
    let id = db.account("taro@example.jp").await;
    for hash in ["s1", "s2"] {
        let mut tx = db.store.account(id).write().await.unwrap();
        tx.create_session(hash, policy(), "127.0.0.1", "test", 0, t0())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let seen = db
        .store
        .session_account("s1", policy(), t0())
        .await
        .unwrap();
    assert_eq!(seen.map(|a| a.id), Some(id));
    let mut tx = db.store.account(id).write().await.unwrap();
    tx.set_password("$argon2id$new", t0()).await.unwrap();
    tx.commit().await.unwrap();
    for hash in ["s1", "s2"] {
        assert!(
            db.store
                .session_account(hash, policy(), t0())
                .await
                .unwrap()
                .is_none()
        );
    }
    // An idle session ends on its own (made under the epoch the new password set).
    let mut tx = db.store.account(id).write().await.unwrap();
    tx.create_session("s3", policy(), "", "", 1, t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let idle = t0() + Duration::hours(13);
    assert!(
        db.store
            .session_account("s3", policy(), idle)
            .await
            .unwrap()
            .is_none()
    );
}
