//! PostgreSQL row-level security: the second wall between tenants, proved with the
//! queries a handle never runs.

use yui_domain::Locale;
use yui_domain::tenant::Introduction;
use yui_store::PlatformReason;
use yui_testkit::Backend;

use crate::{Db, t0};

async fn postgres() -> Option<Db> {
    Db::new(Backend::Postgres).await
}

/// Every table with a tenant id has row-level security enabled and forced, with a
/// policy; the application's role owns no table and cannot bypass the policies.
#[tokio::test]
async fn every_tenant_table_has_a_forced_policy() {
    let Some(db) = postgres().await else { return };
    let report = db.store.row_security_report().await.unwrap().unwrap();
    for expected in [
        "api_tokens",
        "audit_log",
        "mail_outbox",
        "role_grants",
        "role_permissions",
        "tenant_introductions",
    ] {
        assert!(
            report.tenant_tables.iter().any(|t| t == expected),
            "{expected} not found among {:?}",
            report.tenant_tables
        );
    }
    assert!(
        report.unprotected.is_empty(),
        "tenant tables without a forced policy: {:?}",
        report.unprotected
    );
    assert_eq!(report.role, yui_testkit::APP_ROLE);
    assert!(
        !report.role_bypasses,
        "the application role must not bypass row security"
    );
    assert_eq!(report.owned_tables, 0, "the application role owns no table");
}

#[tokio::test]
async fn sqlite_has_no_report() {
    let Some(db) = Db::new(Backend::Sqlite).await else {
        return;
    };
    assert_eq!(db.store.row_security_report().await.unwrap(), None);
}

/// Even a query that forgot its tenant filter sees only its scope's rows.
#[tokio::test]
async fn a_transaction_sees_only_its_tenants_rows() {
    let Some(db) = postgres().await else { return };
    let intro = Introduction {
        heading: "はじめに".into(),
        paragraphs: vec!["本文".into()],
        facts: Vec::new(),
    };
    for slug in ["iwate", "ichinoseki", "kamaishi", "amami"] {
        let mut tx = db.store.tenant(db.tenant(slug)).write().await.unwrap();
        tx.put_introduction(Locale::Ja, &intro, t0()).await.unwrap();
        tx.commit().await.unwrap();
    }
    let (iwate, kamaishi) = (db.tenant("iwate"), db.tenant("kamaishi"));

    let mut tx = db.store.tenant(kamaishi).read().await.unwrap();
    assert_eq!(
        tx.probe_unfiltered_introductions().await.unwrap(),
        [kamaishi]
    );
    // Writing another tenant's row from this scope is refused by the database.
    let err = tx.probe_write_audit_into(iwate).await.unwrap_err();
    assert!(err.to_string().contains("row-level security"), "{err}");
    drop(tx);

    // No scope named: no tenant's rows at all.
    assert!(
        db.store
            .probe_unscoped_introductions()
            .await
            .unwrap()
            .is_empty()
    );
    // The scope ends with its transaction: the next user of a connection starts clean.
    assert_eq!(db.store.probe_scope_setting().await.unwrap(), None);

    let mut tx = db
        .store
        .platform(PlatformReason::Directory)
        .read()
        .await
        .unwrap();
    assert_eq!(
        tx.probe_unfiltered_introductions().await.unwrap().len(),
        4,
        "the platform scope sees every tenant"
    );
}
