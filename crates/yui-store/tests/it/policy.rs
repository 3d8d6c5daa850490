//! The policy tables: version bumps, grants replaced and revoked, batches all or
//! none, and a tenant's transaction kept to its own tenant.

use std::time::Duration;

use yui_domain::{AccountId, GrantId, TenantId};
use yui_store::{
    ChangeOutcome, GrantKey, GrantRow, PermissionSpec, PlatformReason, PolicyChange, PolicyTx,
    Store, StoreError,
};

use crate::{Db, both, secs, t0};

both!(
    the_version_moves_only_with_a_change,
    grants_are_replaced_and_revoked_with_their_history,
    a_batch_is_all_or_nothing,
    a_tenant_transaction_changes_its_own_tenant_only,
    concurrent_grants_see_each_other,
);

async fn version(store: &Store) -> i64 {
    let mut tx = store.platform(PlatformReason::Policy).read().await.unwrap();
    let v = tx.policy_version().await.unwrap();
    tx.commit().await.unwrap();
    v
}

async fn apply(
    store: &Store,
    changes: &[PolicyChange<'_>],
) -> Result<Vec<ChangeOutcome>, StoreError> {
    let mut tx = store
        .platform(PlatformReason::Policy)
        .write()
        .await
        .unwrap();
    let outcomes = tx.apply_policy(changes, t0()).await?;
    tx.commit().await.unwrap();
    Ok(outcomes)
}

async fn history(store: &Store) -> Vec<GrantRow> {
    let mut tx = store.platform(PlatformReason::Policy).read().await.unwrap();
    let rows = tx.grant_history().await.unwrap();
    tx.commit().await.unwrap();
    rows
}

async fn live(store: &Store) -> Vec<GrantRow> {
    let mut tx = store.platform(PlatformReason::Policy).read().await.unwrap();
    let rows = tx.grant_rows().await.unwrap();
    tx.commit().await.unwrap();
    rows
}

fn key(account_id: AccountId, role: &'static str, tenant: TenantId) -> GrantKey<'static> {
    GrantKey {
        account_id,
        role,
        scope: "tenant",
        tenant_id: Some(tenant),
    }
}

fn survey(tenant: TenantId) -> PermissionSpec<'static> {
    PermissionSpec {
        role: "mentor",
        scope: "tenant",
        tenant_id: Some(tenant),
        object: "survey",
        action: "read",
    }
}

async fn the_version_moves_only_with_a_change(db: Db) {
    let kamaishi = db.tenant("kamaishi");
    assert_eq!(version(&db.store).await, 1);

    // Bumping is part of its transaction: undone with it, kept when it commits. Any
    // transaction may read and bump it (the table holds no tenant's rows).
    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    assert_eq!(tx.bump_policy_version().await.unwrap(), 2);
    assert_eq!(tx.policy_version().await.unwrap(), 2);
    tx.rollback().await.unwrap();
    assert_eq!(version(&db.store).await, 1);
    let mut tx = db
        .store
        .platform(PlatformReason::Policy)
        .write()
        .await
        .unwrap();
    assert_eq!(tx.bump_policy_version().await.unwrap(), 2);
    tx.commit().await.unwrap();
    assert_eq!(version(&db.store).await, 2);

    // A change bumps it once per batch; a batch that changes nothing leaves it, and
    // the transaction around it still commits.
    let add = PolicyChange::AddPermission(survey(kamaishi));
    let outcomes = apply(&db.store, &[add, add]).await.unwrap();
    assert_eq!(
        outcomes.iter().map(|o| o.changed).collect::<Vec<_>>(),
        [true, false]
    );
    assert_eq!(version(&db.store).await, 3);
    assert!(!apply(&db.store, &[add]).await.unwrap()[0].changed);
    assert_eq!(version(&db.store).await, 3);
    let remove = PolicyChange::RemovePermission(survey(kamaishi));
    assert!(apply(&db.store, &[remove]).await.unwrap()[0].changed);
    assert!(!apply(&db.store, &[remove]).await.unwrap()[0].changed);
    assert_eq!(version(&db.store).await, 4);

    // The tenant tree comes along in any transaction.
    let mut tx = db.store.tenant(kamaishi).read().await.unwrap();
    let nodes = tx.tenant_nodes().await.unwrap();
    assert_eq!(nodes.len(), 4);
    let node = tx.tenant_node_by_slug("kamaishi").await.unwrap().unwrap();
    assert_eq!(
        (node.id, node.parent_id),
        (kamaishi, Some(db.tenant("iwate")))
    );
    assert_eq!(tx.node().await.unwrap(), node);
    assert!(tx.tenant_node_by_slug("nowhere").await.unwrap().is_none());
    tx.commit().await.unwrap();
}

async fn grants_are_replaced_and_revoked_with_their_history(db: Db) {
    let kamaishi = db.tenant("kamaishi");
    let (admin, contractor) = (
        db.account("admin@example.jp").await,
        db.account("contractor@example.jp").await,
    );
    let k = key(contractor, "coordinator", kamaishi);
    let grant = |until| PolicyChange::Grant {
        key: k,
        valid_until: Some(until),
        granted_by: Some(admin),
    };
    let first = apply(&db.store, &[grant(t0() + secs(86_400))])
        .await
        .unwrap()[0];
    assert!(first.changed);
    let id = first.grant_id.unwrap();

    // The same grant again: nothing changes, the live grant is named.
    let v = version(&db.store).await;
    let same = apply(&db.store, &[grant(t0() + secs(86_400))])
        .await
        .unwrap()[0];
    assert_eq!(
        same,
        ChangeOutcome {
            changed: false,
            grant_id: Some(id)
        }
    );
    assert_eq!(version(&db.store).await, v);

    // Another end replaces it; the old row stays, revoked by the granter.
    let extended = apply(&db.store, &[grant(t0() + secs(86_400 * 365))])
        .await
        .unwrap()[0];
    let new_id = extended.grant_id.unwrap();
    assert!(extended.changed && new_id != id);
    let rows = history(&db.store).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].id, rows[0].revoked_at, rows[0].revoked_by),
        (id, Some(t0()), Some(admin))
    );
    let now_live = live(&db.store).await;
    assert_eq!(now_live.len(), 1);
    assert_eq!(
        (
            now_live[0].id,
            now_live[0].role.as_str(),
            now_live[0].scope.as_str(),
            now_live[0].tenant_id,
            now_live[0].valid_until,
            now_live[0].granted_by,
            now_live[0].created_at,
        ),
        (
            new_id,
            "coordinator",
            "tenant",
            Some(kamaishi),
            Some(t0() + secs(86_400 * 365)),
            Some(admin),
            t0()
        )
    );

    // Revoking by role and place, then by id.
    let revoke_role = PolicyChange::RevokeRole {
        key: k,
        revoked_by: None,
    };
    assert_eq!(
        apply(&db.store, &[revoke_role]).await.unwrap()[0],
        ChangeOutcome {
            changed: true,
            grant_id: Some(new_id)
        }
    );
    assert!(!apply(&db.store, &[revoke_role]).await.unwrap()[0].changed);
    assert!(live(&db.store).await.is_empty());
    let again = apply(&db.store, &[grant(t0() + secs(60))]).await.unwrap()[0];
    let revoke_id = PolicyChange::RevokeId {
        id: again.grant_id.unwrap(),
        revoked_by: Some(admin),
    };
    assert!(apply(&db.store, &[revoke_id]).await.unwrap()[0].changed);
    assert!(matches!(
        apply(&db.store, &[revoke_id]).await,
        Err(StoreError::NotFound)
    ));

    // A platform-wide grant has no tenant; listing by place finds it apart.
    let operator = db.account("operator@example.jp").await;
    let global = GrantKey {
        account_id: operator,
        role: "platform_operator",
        scope: "global",
        tenant_id: None,
    };
    apply(
        &db.store,
        &[PolicyChange::Grant {
            key: global,
            valid_until: None,
            granted_by: None,
        }],
    )
    .await
    .unwrap();
    let mut tx = db
        .store
        .platform(PlatformReason::Policy)
        .read()
        .await
        .unwrap();
    let platform_wide = tx.grant_rows_of(None).await.unwrap();
    assert_eq!(platform_wide.len(), 1);
    assert_eq!(platform_wide[0].account_id, operator);
    assert!(tx.grant_rows_of(Some(kamaishi)).await.unwrap().is_empty());
    tx.commit().await.unwrap();

    // Clear removes every permission and revokes every grant.
    let outcome = apply(&db.store, &[PolicyChange::Clear]).await.unwrap()[0];
    assert!(outcome.changed);
    let mut tx = db
        .store
        .platform(PlatformReason::Policy)
        .read()
        .await
        .unwrap();
    assert!(tx.permission_rows().await.unwrap().is_empty());
    assert!(tx.grant_rows().await.unwrap().is_empty());
    tx.commit().await.unwrap();
}

async fn a_batch_is_all_or_nothing(db: Db) {
    let kamaishi = db.tenant("kamaishi");
    let mentor = db.account("mentor@example.jp").await;
    let v = version(&db.store).await;
    let grant = PolicyChange::Grant {
        key: key(mentor, "mentor", kamaishi),
        valid_until: None,
        granted_by: None,
    };
    // A grant and a permission, then a revocation of a grant that does not exist.
    let batch = [
        grant,
        PolicyChange::AddPermission(survey(kamaishi)),
        PolicyChange::RevokeId {
            id: GrantId::new(987_654),
            revoked_by: None,
        },
    ];
    assert!(matches!(
        apply(&db.store, &batch).await,
        Err(StoreError::NotFound)
    ));
    // An account that does not exist: a failed statement, named for a person.
    let nobody = PolicyChange::Grant {
        key: key(AccountId::new(987_654), "mentor", kamaishi),
        valid_until: None,
        granted_by: None,
    };
    let err = apply(&db.store, &[grant, nobody]).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    assert!(history(&db.store).await.is_empty());
    assert_eq!(version(&db.store).await, v);

    // Inside a caller's transaction the failed batch is undone alone: what the
    // transaction wrote before stays, and it commits.
    let mut tx = db
        .store
        .platform(PlatformReason::Policy)
        .write()
        .await
        .unwrap();
    assert!(tx.apply_policy(&[grant], t0()).await.unwrap()[0].changed);
    assert!(tx.apply_policy(&[grant, nobody], t0()).await.is_err());
    tx.commit().await.unwrap();
    assert_eq!(live(&db.store).await.len(), 1);
    assert_eq!(version(&db.store).await, v + 1);
}

async fn a_tenant_transaction_changes_its_own_tenant_only(db: Db) {
    let (iwate, kamaishi) = (db.tenant("iwate"), db.tenant("kamaishi"));
    let admin = db.account("admin@example.jp").await;
    let v = version(&db.store).await;
    // A grant of iwate, made on the platform.
    let elsewhere = apply(
        &db.store,
        &[PolicyChange::Grant {
            key: key(admin, "tenant_admin", iwate),
            valid_until: None,
            granted_by: None,
        }],
    )
    .await
    .unwrap()[0]
        .grant_id
        .unwrap();

    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    let refused = [
        PolicyChange::Grant {
            key: key(admin, "coordinator", iwate),
            valid_until: None,
            granted_by: None,
        },
        PolicyChange::RevokeRole {
            key: key(admin, "tenant_admin", iwate),
            revoked_by: None,
        },
        PolicyChange::Grant {
            key: GrantKey {
                account_id: admin,
                role: "platform_operator",
                scope: "global",
                tenant_id: None,
            },
            valid_until: None,
            granted_by: None,
        },
        PolicyChange::AddPermission(survey(iwate)),
        PolicyChange::AddPermission(PermissionSpec {
            tenant_id: None,
            ..survey(kamaishi)
        }),
        PolicyChange::Clear,
    ];
    for change in refused {
        let r = tx.apply_policy(&[change], t0()).await;
        assert!(
            matches!(r, Err(StoreError::Invalid(_))),
            "{change:?}: {r:?}"
        );
    }
    // Another tenant's grant is not found from here, by id or by listing.
    let revoke = PolicyChange::RevokeId {
        id: elsewhere,
        revoked_by: None,
    };
    assert!(matches!(
        tx.apply_policy(&[revoke], t0()).await,
        Err(StoreError::NotFound)
    ));
    assert!(tx.grant_row(elsewhere).await.unwrap().is_none());
    assert!(tx.grant_rows().await.unwrap().is_empty());

    // Its own tenant's changes work, as the application's role on PostgreSQL too.
    let own = tx
        .apply_policy(
            &[
                PolicyChange::Grant {
                    key: key(admin, "coordinator", kamaishi),
                    valid_until: None,
                    granted_by: Some(admin),
                },
                PolicyChange::AddPermission(survey(kamaishi)),
            ],
            t0(),
        )
        .await
        .unwrap();
    let id = own[0].grant_id.unwrap();
    assert!(own.iter().all(|o| o.changed));
    assert_eq!(
        tx.grant_row(id).await.unwrap().unwrap().tenant_id,
        Some(kamaishi)
    );
    assert_eq!(tx.grant_rows().await.unwrap().len(), 1);
    tx.commit().await.unwrap();
    assert_eq!(version(&db.store).await, v + 2);

    // And its own grants can be revoked by id from it.
    let mut tx = db.store.tenant(kamaishi).write().await.unwrap();
    let revoke = PolicyChange::RevokeId {
        id,
        revoked_by: Some(admin),
    };
    assert!(tx.apply_policy(&[revoke], t0()).await.unwrap()[0].changed);
    tx.commit().await.unwrap();
    let live = live(&db.store).await;
    assert_eq!(live.iter().map(|g| g.id).collect::<Vec<_>>(), [elsewhere]);
}

/// Two transactions grant the same role at once: the version bump comes first, so the
/// second waits for the first and then sees its grant (and replaces it), instead of
/// inserting a second live grant or failing on the unique index. (On PostgreSQL, with
/// the bump moved after the changes, the second fails with a conflict on
/// `role_grants_live`; on SQLite `BEGIN IMMEDIATE` already queues the writers.)
async fn concurrent_grants_see_each_other(db: Db) {
    let kamaishi = db.tenant("kamaishi");
    let contractor = db.account("contractor@example.jp").await;
    let grant = move |days: i64| PolicyChange::Grant {
        key: key(contractor, "coordinator", kamaishi),
        valid_until: Some(t0() + secs(86_400 * days)),
        granted_by: None,
    };
    let mut first = db.store.tenant(kamaishi).write().await.unwrap();
    assert!(first.apply_policy(&[grant(1)], t0()).await.unwrap()[0].changed);

    let store = db.store.clone();
    let second = tokio::spawn(async move {
        let mut tx = store.tenant(kamaishi).write().await?;
        let outcomes = tx.apply_policy(&[grant(2)], t0()).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(outcomes)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !second.is_finished(),
        "the second writer waits for the first"
    );
    first.commit().await.unwrap();

    let outcomes = second.await.unwrap().unwrap();
    assert!(outcomes[0].changed);
    let rows = history(&db.store).await;
    assert_eq!(rows.len(), 2);
    assert!(rows[0].revoked_at.is_some(), "the first grant was replaced");
    let live = live(&db.store).await;
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].valid_until, Some(t0() + secs(86_400 * 2)));
}
