//! PostgreSQL row-level security: the second wall between tenants.

use yui_store::{Store, TenantScope};

use crate::support::{Backend, TestApp};

/// Every table with a tenant id has row-level security enabled and forced, with a
/// policy; the application's role owns no table and cannot bypass the policies.
#[tokio::test]
async fn every_tenant_table_has_a_forced_policy() {
    let Some(app) = TestApp::empty(Backend::Postgres).await else {
        return;
    };
    let Store::Postgres(pool) = &app.store else {
        unreachable!()
    };
    let tenant_tables: Vec<(String, bool, bool, i64)> = sqlx::query_as(
        "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
                (SELECT COUNT(*) FROM pg_policy p WHERE p.polrelid = c.oid)
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let names: Vec<&str> = tenant_tables.iter().map(|t| t.0.as_str()).collect();
    for expected in [
        "api_tokens",
        "audit_log",
        "mail_outbox",
        "role_grants",
        "role_permissions",
        "tenant_introductions",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} not found among {names:?}"
        );
    }
    let unprotected: Vec<&str> = tenant_tables
        .iter()
        .filter(|(_, on, forced, policies)| !(*on && *forced && *policies > 0))
        .map(|t| t.0.as_str())
        .collect();
    assert!(
        unprotected.is_empty(),
        "tenant tables without a forced policy: {unprotected:?}"
    );

    let (user, superuser, bypass): (String, bool, bool) = sqlx::query_as(
        "SELECT rolname::text, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(user, crate::support::APP_ROLE);
    assert!(
        !superuser && !bypass,
        "the application role must not bypass row security"
    );
    let (owned,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(owned, 0, "the application role owns no table");
    app.stop().await;
}

/// Even a query that forgot its tenant filter sees only its scope's rows.
#[tokio::test]
async fn a_transaction_sees_only_its_tenants_rows() {
    let Some(app) = TestApp::with_demo(Backend::Postgres).await else {
        return;
    };
    let iwate = app.store.tenant_by_slug("iwate").await.unwrap().id;
    let kamaishi = app.store.tenant_by_slug("kamaishi").await.unwrap().id;
    let unfiltered = "SELECT DISTINCT tenant_id FROM tenant_introductions ORDER BY 1";

    let mut tx = app
        .store
        .begin_read_in(TenantScope::Tenant(kamaishi))
        .await
        .unwrap();
    let yui_store::StoreTx::Postgres(conn) = &mut tx else {
        unreachable!()
    };
    let seen: Vec<(i64,)> = sqlx::query_as(unfiltered)
        .fetch_all(&mut **conn)
        .await
        .unwrap();
    assert_eq!(seen, [(kamaishi,)]);
    // Writing another tenant's row from this scope is refused.
    let err = sqlx::query("INSERT INTO audit_log (tenant_id, action, detail, created_at) VALUES ($1, 'x', '{}', now())")
        .bind(iwate)
        .execute(&mut **conn)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("row-level security"), "{err}");
    drop(tx);

    // No scope named: no tenant's rows at all.
    let mut tx = app.store.begin_write().await.unwrap();
    let yui_store::StoreTx::Postgres(conn) = &mut tx else {
        unreachable!()
    };
    let seen: Vec<(i64,)> = sqlx::query_as(unfiltered)
        .fetch_all(&mut **conn)
        .await
        .unwrap();
    assert!(seen.is_empty(), "{seen:?}");
    drop(tx);

    // The scope ends with its transaction: the next user of the connection starts clean.
    let Store::Postgres(pool) = &app.store else {
        unreachable!()
    };
    let (setting,): (Option<String>,) =
        sqlx::query_as("SELECT NULLIF(current_setting('app.tenant_id', true), '')")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(setting, None);

    let mut tx = app
        .store
        .begin_read_in(TenantScope::Platform)
        .await
        .unwrap();
    let yui_store::StoreTx::Postgres(conn) = &mut tx else {
        unreachable!()
    };
    let seen: Vec<(i64,)> = sqlx::query_as(unfiltered)
        .fetch_all(&mut **conn)
        .await
        .unwrap();
    assert_eq!(seen.len(), 4, "the platform scope sees every tenant");
    drop(tx);
    app.stop().await;
}
