//! Accounts, sessions and mailed tokens: one account per address, tokens used once,
//! sessions ended with a new password.

use chrono::Duration;
use yui_domain::Locale;
use yui_domain::account::Email;
use yui_store::{AccountsTx, NewAccount, PlatformReason, SessionPolicy, StoreError, TokenPurpose};

use crate::{Db, both, t0};

both!(
    one_account_per_address_whatever_its_case,
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
        tx.create_session(hash, policy(), "127.0.0.1", "test", t0())
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
    // An idle session ends on its own.
    let mut tx = db.store.account(id).write().await.unwrap();
    tx.create_session("s3", policy(), "", "", t0())
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
