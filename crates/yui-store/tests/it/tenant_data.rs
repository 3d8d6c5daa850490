//! A tenant's own rows through its handle: introductions, the audit log and API
//! tokens; the directory of tenants; another tenant's rows never reached.

use chrono::Duration;
use yui_domain::audit::AuditAction;
use yui_domain::tenant::Introduction;
use yui_domain::{Locale, TenantKind, TenantStatus};
use yui_store::{AuditEntry, AuditTx, PlatformReason, StoreError};

use crate::{Db, both, t0};

both!(
    introductions_and_audit_stay_in_their_tenant,
    api_tokens_are_their_owners_and_their_tenants,
    the_directory_lists_active_tenants_by_code,
    a_suspended_tenant_changes_nothing,
);

fn entry(action: AuditAction) -> AuditEntry {
    AuditEntry {
        actor_id: None,
        action,
        detail: serde_json::json!({}),
        ip: String::new(),
    }
}

async fn introductions_and_audit_stay_in_their_tenant(db: Db) {
    let (iwate, kamaishi) = (db.tenant("iwate"), db.tenant("kamaishi"));
    let intro = Introduction {
        heading: "釜石へようこそ".into(),
        paragraphs: vec!["本文".into()],
        facts: Vec::new(),
    };
    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    tx.put_introduction(Locale::Ja, &intro, t0()).await.unwrap();
    tx.audit(&entry(AuditAction::RoleGranted), t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.store.tenant(iwate).read().await.unwrap();
    assert_eq!(tx.introduction(Locale::Ja).await.unwrap(), None);
    assert!(tx.audit_entries(10).await.unwrap().is_empty());
    tx.commit().await.unwrap();

    let mut tx = db.store.tenant(kamaishi).read().await.unwrap();
    assert_eq!(tx.introduction(Locale::Ja).await.unwrap(), Some(intro));
    let log = tx.audit_entries(10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].tenant_id, Some(kamaishi));
    tx.commit().await.unwrap();

    // A rolled-back change leaves no audit row.
    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    tx.audit(&entry(AuditAction::RoleRevoked), t0())
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let mut tx = db
        .store
        .platform(PlatformReason::OperatorConsole)
        .read()
        .await
        .unwrap();
    assert_eq!(tx.audit_entries(10).await.unwrap().len(), 1);
}

async fn api_tokens_are_their_owners_and_their_tenants(db: Db) {
    let (owner, other) = (
        db.account("owner@example.jp").await,
        db.account("other@example.jp").await,
    );
    let kamaishi = db.tenant("kamaishi");
    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    let id = tx
        .create_api_token(owner, 0, "集計", "hash-1", t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let p = db
        .store
        .use_api_token("hash-1", t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (p.token_id, p.account_id, p.tenant_id),
        (id, owner, kamaishi)
    );

    // Another person cannot revoke it; the owner can, once.
    let mut tx = db.store.account(other).write().await.unwrap();
    assert!(matches!(
        tx.revoke_api_token(id, t0()).await,
        Err(StoreError::NotFound)
    ));
    tx.rollback().await.unwrap();
    let mut tx = db.store.account(owner).write().await.unwrap();
    assert_eq!(tx.api_tokens().await.unwrap().len(), 1);
    assert_eq!(tx.revoke_api_token(id, t0()).await.unwrap(), kamaishi);
    tx.commit().await.unwrap();
    let later = t0() + Duration::seconds(1);
    assert!(
        db.store
            .use_api_token("hash-1", later)
            .await
            .unwrap()
            .is_none()
    );
}

async fn the_directory_lists_active_tenants_by_code(db: Db) {
    let top = db.store.top_level_tenants().await.unwrap();
    let slugs: Vec<&str> = top.iter().map(|e| e.slug.as_str()).collect();
    assert_eq!(slugs, ["iwate", "amami"], "by code, unions (no code) last");
    assert_eq!(top[0].kind, TenantKind::Prefecture);
    assert_eq!(top[0].children, 2);
    let children = db.store.children_of(db.tenant("iwate")).await.unwrap();
    let slugs: Vec<&str> = children.iter().map(|e| e.slug.as_str()).collect();
    assert_eq!(slugs, ["ichinoseki", "kamaishi"]);
    // Search by name, reading or English; LIKE's wildcards are taken literally.
    for (q, want) in [
        ("釜石", "kamaishi"),
        ("いちのせき", "ichinoseki"),
        ("AMAMI", "amami"),
    ] {
        let found = db.store.search_tenants(q, 10).await.unwrap();
        let slugs: Vec<&str> = found.iter().map(|e| e.slug.as_str()).collect();
        assert_eq!(slugs, [want], "{q}");
    }
    assert!(db.store.search_tenants("%", 10).await.unwrap().is_empty());
    assert!(db.store.search_tenants("_", 10).await.unwrap().is_empty());
    // A suspended tenant leaves the directory; its children show at the top. The
    // directory version moves with it, so every node's cached lists are read again.
    let before = db.store.directory_version().await.unwrap();
    let mut tx = db
        .store
        .platform(PlatformReason::OperatorConsole)
        .write()
        .await
        .unwrap();
    tx.set_tenant_status(db.tenant("iwate"), TenantStatus::Suspended, t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(db.store.directory_version().await.unwrap() > before);
    let top = db.store.top_level_tenants().await.unwrap();
    let slugs: Vec<&str> = top.iter().map(|e| e.slug.as_str()).collect();
    assert!(
        !slugs.contains(&"iwate") && slugs.contains(&"kamaishi"),
        "{slugs:?}"
    );
    assert_eq!(
        db.store.active_tenant(db.tenant("iwate")).await.unwrap(),
        None
    );
}

async fn a_suspended_tenant_changes_nothing(db: Db) {
    let kamaishi = db.tenant("kamaishi");
    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    tx.ensure_active().await.unwrap();
    tx.lock_staff().await.unwrap();
    tx.rollback().await.unwrap();
    let mut ops = db
        .store
        .platform(PlatformReason::OperatorConsole)
        .write()
        .await
        .unwrap();
    ops.set_tenant_status(kamaishi, TenantStatus::Suspended, t0())
        .await
        .unwrap();
    ops.commit().await.unwrap();
    // A change that opened its transaction after (or waited for) the suspension sees it.
    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    assert!(matches!(
        tx.ensure_active().await,
        Err(StoreError::Suspended)
    ));
    tx.rollback().await.unwrap();
    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    assert!(matches!(tx.lock_staff().await, Err(StoreError::Suspended)));
    tx.rollback().await.unwrap();
}
