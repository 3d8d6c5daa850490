//! yui-authz against real databases: the same suite on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::time::{Duration as StdDuration, Instant};

use casbin::{CoreApi, Enforcer, Filter, MgmtApi};
use chrono::Duration;
use yui_authz::{
    Authz, AuthzError, DEFAULT_PERMISSIONS, NewGrant, Permission, Role, Scope, SharedAuthz,
    SqlAdapter, grant, grant_in, list_grants, list_grants_in, policy_version, revoke, revoke_in,
};
use yui_domain::Locale;
use yui_domain::account::Email;
use yui_domain::{AccountId, GrantId};
use yui_store::{AccountsTx, GrantRow, NewAccount, PermissionRow, PlatformReason, Store};

use support::{Fixture, on_both_backends, t0};

on_both_backends!(
    Fixture::new =>
    migration_seeds_the_default_permissions,
    grants_decide_and_end_on_their_own,
    grants_are_validated,
    granting_again_replaces_and_keeps_history,
    ended_grants_leave_casbin_at_the_next_reload,
    casbin_reads_and_writes_our_tables_through_the_adapter,
    hostile_names_gain_nothing,
    a_change_on_one_node_reaches_another_within_two_seconds,
    grants_share_the_callers_tenant_transaction,
);

fn new_grant(account_id: AccountId, role: Role, scope: Scope, tenant: Option<&str>) -> NewGrant {
    NewGrant {
        account_id,
        role,
        scope,
        tenant: tenant.map(str::to_owned),
        valid_until: None,
        granted_by: None,
    }
}

/// Every stored permission, as the policy loader reads them.
async fn permission_rows(store: &Store) -> Vec<PermissionRow> {
    let mut tx = store.platform(PlatformReason::Policy).read().await.unwrap();
    let rows = tx.permission_rows().await.unwrap();
    tx.commit().await.unwrap();
    rows
}

/// Every grant row, revoked ones included.
async fn grant_history(store: &Store) -> Vec<GrantRow> {
    let mut tx = store.platform(PlatformReason::Policy).read().await.unwrap();
    let rows = tx.grant_history().await.unwrap();
    tx.commit().await.unwrap();
    rows
}

/// How many permissions are narrowed to one tenant.
async fn tenant_permissions(store: &Store) -> usize {
    permission_rows(store)
        .await
        .iter()
        .filter(|p| p.tenant_id.is_some())
        .count()
}

async fn migration_seeds_the_default_permissions(f: &Fixture) {
    let stored: BTreeSet<_> = permission_rows(&f.store)
        .await
        .into_iter()
        .filter(|p| p.tenant_id.is_none())
        .map(|p| (p.role, p.scope, p.object, p.action))
        .collect();
    let code: BTreeSet<_> = DEFAULT_PERMISSIONS
        .iter()
        .map(|p| {
            (
                p.role.as_str().to_owned(),
                p.scope.as_str().to_owned(),
                p.object.to_owned(),
                p.action.to_owned(),
            )
        })
        .collect();
    assert_eq!(
        stored, code,
        "migrations 0003, 0013 and DEFAULT_PERMISSIONS differ"
    );
    assert_eq!(policy_version(&f.store).await.unwrap(), 1);
    // Nobody holds anything yet.
    let authz = Authz::load(&f.store, t0()).await.unwrap();
    assert!(!authz.allows(f.account("admin"), "iwate", "kpi", "read", t0()));
    assert_eq!(
        authz.enforcer().get_policy().len(),
        DEFAULT_PERMISSIONS.len()
    );
}

async fn grants_decide_and_end_on_their_own(f: &Fixture) {
    let now = t0();
    let authz = SharedAuthz::new(Authz::load(&f.store, now).await.unwrap());
    let (admin, coordinator, contractor, operator) = (
        f.account("admin"),
        f.account("coordinator"),
        f.account("contractor"),
        f.account("operator"),
    );
    authz
        .grant(
            &f.store,
            &new_grant(admin, Role::TenantAdmin, Scope::Tenant, Some("iwate")),
            now,
        )
        .await
        .unwrap();
    authz
        .grant(
            &f.store,
            &new_grant(admin, Role::TenantAdmin, Scope::Children, Some("iwate")),
            now,
        )
        .await
        .unwrap();
    authz
        .grant(
            &f.store,
            &new_grant(
                coordinator,
                Role::Coordinator,
                Scope::Tenant,
                Some("ichinoseki"),
            ),
            now,
        )
        .await
        .unwrap();
    authz
        .grant(
            &f.store,
            &new_grant(operator, Role::PlatformOperator, Scope::Global, None),
            now,
        )
        .await
        .unwrap();
    // The contractor's staff lose access when fiscal year 2025 ends (JST midnight).
    let fy_end = chrono::DateTime::parse_from_rfc3339("2026-04-01T00:00:00+09:00")
        .unwrap()
        .to_utc();
    let contract = authz
        .grant(
            &f.store,
            &NewGrant {
                valid_until: Some(fy_end),
                granted_by: Some(admin),
                ..new_grant(
                    contractor,
                    Role::Coordinator,
                    Scope::Tenant,
                    Some("kamaishi"),
                )
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(contract.valid_until, Some(fy_end));
    assert_eq!(contract.granted_by, Some(admin));
    assert_eq!(contract.tenant.as_deref(), Some("kamaishi"));
    // Five grants, five version bumps, seen here at once.
    assert_eq!(authz.snapshot().version(), 6);

    // The prefecture admin: admin in iwate, aggregates only in its municipalities.
    assert!(authz.allows(admin, "iwate", "staff", "invite", now));
    assert!(authz.allows(admin, "ichinoseki", "kpi", "read", now));
    assert!(authz.allows(admin, "kamaishi", "report", "read", now));
    assert!(!authz.allows(admin, "ichinoseki", "staff", "invite", now));
    assert!(!authz.allows(admin, "ichinoseki", "talent", "read", now));
    assert!(!authz.allows(admin, "amami", "kpi", "read", now));
    // The coordinator in ichinoseki only.
    assert!(authz.allows(coordinator, "ichinoseki", "event", "create", now));
    assert!(!authz.allows(coordinator, "kamaishi", "event", "create", now));
    // Handlers ask with a Permission; the same decisions.
    assert!(authz.check(admin, "iwate", Permission::StaffInvite, now));
    assert!(authz.check(admin, "ichinoseki", Permission::KpiRead, now));
    assert!(!authz.check(admin, "ichinoseki", Permission::StaffInvite, now));
    assert!(!authz.check(admin, "amami", Permission::KpiRead, now));
    assert!(authz.check_platform(operator, Permission::TenantSuspend, now));
    assert!(!authz.check_platform(admin, Permission::TenantSuspend, now));
    assert!(!authz.check_platform(admin, Permission::AuditRead, now));
    // The operator: tenants everywhere, no personal data.
    assert!(authz.allows(operator, "amami", "tenant", "suspend", now));
    assert!(authz.allows_platform(operator, "tenant", "create", now));
    assert!(!authz.allows(operator, "amami", "talent", "read", now));
    // The contract ends by itself at the fiscal year's end.
    let before = fy_end - Duration::seconds(1);
    assert!(authz.allows(contractor, "kamaishi", "hearing", "create", before));
    assert!(!authz.allows(contractor, "kamaishi", "hearing", "create", fy_end));
    // casbin, asked the same, agrees (as of the snapshot's instant).
    let snap = authz.snapshot();
    for (account, tenant, obj, act) in [
        (admin, "ichinoseki", "kpi", "read"),
        (admin, "ichinoseki", "staff", "invite"),
        (contractor, "kamaishi", "hearing", "create"),
        (operator, "amami", "talent", "read"),
    ] {
        assert_eq!(
            snap.check_with_casbin(account, Some(tenant), obj, act)
                .unwrap(),
            snap.allows(account, tenant, obj, act, now),
            "{account} {tenant} {obj}:{act}"
        );
    }

    // Listing: by tenant (both scopes), and the platform-wide ones.
    let iwate = list_grants(&f.store, Some("iwate")).await.unwrap();
    let roles: Vec<_> = iwate
        .iter()
        .map(|g| (g.account_id, g.role, g.scope))
        .collect();
    assert_eq!(
        roles,
        [
            (admin, Role::TenantAdmin, Scope::Tenant),
            (admin, Role::TenantAdmin, Scope::Children)
        ]
    );
    let kamaishi = list_grants(&f.store, Some("kamaishi")).await.unwrap();
    assert!(kamaishi[0].live_at(before) && !kamaishi[0].live_at(fy_end));
    let global = list_grants(&f.store, None).await.unwrap();
    assert_eq!(global.len(), 1);
    assert_eq!(global[0].tenant, None);
    assert!(matches!(
        list_grants(&f.store, Some("nowhere")).await,
        Err(AuthzError::NotFound)
    ));

    // Revoking takes effect at once on this node.
    authz
        .revoke(&f.store, contract.id, Some(admin), now)
        .await
        .unwrap();
    assert!(!authz.allows(contractor, "kamaishi", "hearing", "create", now));
    assert!(
        list_grants(&f.store, Some("kamaishi"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        revoke(&f.store, contract.id, None, now).await,
        Err(AuthzError::NotFound)
    ));
}

async fn grants_are_validated(f: &Fixture) {
    let now = t0();
    let a = f.account("other");
    let invalid = |r: yui_authz::Result<yui_authz::Grant>| match r {
        Err(AuthzError::Invalid(msg)) => msg,
        other => panic!("expected Invalid, got {other:?}"),
    };
    let msg = invalid(
        grant(
            &f.store,
            &new_grant(a, Role::PlatformOperator, Scope::Tenant, Some("iwate")),
            now,
        )
        .await,
    );
    assert!(msg.starts_with("scope:"), "{msg}");
    let msg = invalid(
        grant(
            &f.store,
            &new_grant(a, Role::Coordinator, Scope::Global, None),
            now,
        )
        .await,
    );
    assert!(msg.starts_with("scope:"), "{msg}");
    let msg = invalid(
        grant(
            &f.store,
            &new_grant(a, Role::Coordinator, Scope::Tenant, None),
            now,
        )
        .await,
    );
    assert!(msg.starts_with("tenant:"), "{msg}");
    let msg = invalid(
        grant(
            &f.store,
            &new_grant(a, Role::PlatformOperator, Scope::Global, Some("iwate")),
            now,
        )
        .await,
    );
    assert!(msg.starts_with("tenant:"), "{msg}");
    let msg = invalid(
        grant(
            &f.store,
            &new_grant(a, Role::Mentor, Scope::Tenant, Some("nowhere")),
            now,
        )
        .await,
    );
    assert!(msg.contains("nowhere"), "{msg}");
    let ended = NewGrant {
        valid_until: Some(now),
        ..new_grant(a, Role::Mentor, Scope::Tenant, Some("iwate"))
    };
    let msg = invalid(grant(&f.store, &ended, now).await);
    assert!(msg.starts_with("valid_until:"), "{msg}");
    // An account that does not exist.
    invalid(
        grant(
            &f.store,
            &new_grant(
                AccountId::new(987_654),
                Role::Mentor,
                Scope::Tenant,
                Some("iwate"),
            ),
            now,
        )
        .await,
    );
    assert!(matches!(
        revoke(&f.store, GrantId::new(987_654), None, now).await,
        Err(AuthzError::NotFound)
    ));
    // Nothing was stored and no node was made to reload.
    assert_eq!(policy_version(&f.store).await.unwrap(), 1);
    assert!(grant_history(&f.store).await.is_empty());
}

async fn granting_again_replaces_and_keeps_history(f: &Fixture) {
    let now = t0();
    let a = f.account("contractor");
    let base = new_grant(a, Role::Coordinator, Scope::Tenant, Some("kamaishi"));
    let first = grant(
        &f.store,
        &NewGrant {
            valid_until: Some(now + Duration::days(1)),
            ..base.clone()
        },
        now,
    )
    .await
    .unwrap();
    // The same grant again changes nothing, not even the version.
    let v = policy_version(&f.store).await.unwrap();
    let same = grant(
        &f.store,
        &NewGrant {
            valid_until: Some(now + Duration::days(1)),
            ..base.clone()
        },
        now,
    )
    .await
    .unwrap();
    assert_eq!(same, first);
    assert_eq!(policy_version(&f.store).await.unwrap(), v);
    // Extended to the fiscal year's end: one live grant, the old one kept as revoked.
    let later = now + Duration::days(365);
    let extended = grant(
        &f.store,
        &NewGrant {
            valid_until: Some(later),
            ..base.clone()
        },
        now,
    )
    .await
    .unwrap();
    assert_ne!(extended.id, first.id);
    assert_eq!(policy_version(&f.store).await.unwrap(), v + 1);
    let live = list_grants(&f.store, Some("kamaishi")).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].valid_until, Some(later));
    assert_eq!(
        grant_history(&f.store)
            .await
            .iter()
            .filter(|g| g.revoked_at.is_some())
            .count(),
        1
    );
    let authz = Authz::load(&f.store, now).await.unwrap();
    assert!(authz.allows(a, "kamaishi", "round", "run", now + Duration::days(30)));
}

async fn ended_grants_leave_casbin_at_the_next_reload(f: &Fixture) {
    let now = t0();
    let a = f.account("mentor");
    let end = now + Duration::hours(1);
    grant(
        &f.store,
        &NewGrant {
            valid_until: Some(end),
            ..new_grant(a, Role::Mentor, Scope::Tenant, Some("amami"))
        },
        now,
    )
    .await
    .unwrap();
    let authz = Authz::load(&f.store, now).await.unwrap();
    assert_eq!(authz.next_end(), Some(end));
    assert_eq!(authz.enforcer().get_grouping_policy().len(), 1);
    assert!(
        authz
            .check_with_casbin(a, Some("amami"), "checkin", "write")
            .unwrap()
    );
    // The index stops at the end; casbin's view is refreshed by the next poll.
    assert!(!authz.allows(a, "amami", "checkin", "write", end));
    assert!(
        authz
            .refresh_if_changed(&f.store, end - Duration::minutes(1))
            .await
            .unwrap()
            .is_none()
    );
    let fresh = authz
        .refresh_if_changed(&f.store, end)
        .await
        .unwrap()
        .expect("a reload at the end");
    assert!(fresh.enforcer().get_grouping_policy().is_empty());
    assert!(
        !fresh
            .check_with_casbin(a, Some("amami"), "checkin", "write")
            .unwrap()
    );
    assert_eq!(fresh.next_end(), None);
    // A snapshot loaded after the end never had it.
    let late = Authz::load(&f.store, end + Duration::days(1))
        .await
        .unwrap();
    assert!(late.enforcer().get_grouping_policy().is_empty());
}

async fn casbin_reads_and_writes_our_tables_through_the_adapter(f: &Fixture) {
    let now = t0();
    let mentor = f.account("mentor");
    let sub = format!("u:{mentor}");
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<String>>();
    let mut e = Enforcer::new(
        yui_authz::model().await.unwrap(),
        SqlAdapter::new(f.store.clone(), now),
    )
    .await
    .unwrap();
    assert_eq!(e.get_policy().len(), DEFAULT_PERMISSIONS.len());

    // A grant added through casbin lands in role_grants and bumps the version.
    assert!(
        e.add_grouping_policy(s(&[&sub, "r:mentor", "t:iwate/kamaishi", ""]))
            .await
            .unwrap()
    );
    assert_eq!(policy_version(&f.store).await.unwrap(), 2);
    let grants = list_grants(&f.store, Some("kamaishi")).await.unwrap();
    assert_eq!(
        (grants[0].account_id, grants[0].role, grants[0].scope),
        (mentor, Role::Mentor, Scope::Tenant)
    );
    // A permission narrowed to one tenant lands in role_permissions with its tenant id.
    assert!(
        e.add_policy(s(&[
            "r:mentor",
            "tenant",
            "t:iwate/kamaishi",
            "survey",
            "read"
        ]))
        .await
        .unwrap()
    );
    assert_eq!(tenant_permissions(&f.store).await, 1);
    let authz = Authz::load(&f.store, now).await.unwrap();
    assert!(authz.allows(mentor, "kamaishi", "survey", "read", now));
    assert!(!authz.allows(mentor, "ichinoseki", "survey", "read", now));
    assert!(authz.allows(mentor, "kamaishi", "checkin", "write", now));

    // casbin enforces over what it loaded from our tables.
    assert!(
        e.enforce((
            sub.as_str(),
            "t:iwate/kamaishi",
            "t:iwate/*",
            "checkin",
            "write"
        ))
        .unwrap()
    );

    // A filtered load sees only the mentor's grants (and says it is filtered).
    e.load_filtered_policy(Filter {
        p: vec!["r:mentor"],
        g: vec![&sub],
    })
    .await
    .unwrap();
    assert!(e.is_filtered());
    assert!(e.get_policy().iter().all(|p| p[0] == "r:mentor"));
    assert_eq!(e.get_grouping_policy().len(), 1);
    e.load_policy().await.unwrap();
    assert!(!e.is_filtered());

    // Removing through casbin revokes the grant and deletes the permission.
    assert!(
        e.remove_grouping_policy(s(&[&sub, "r:mentor", "t:iwate/kamaishi", ""]))
            .await
            .unwrap()
    );
    assert!(
        list_grants(&f.store, Some("kamaishi"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(e.remove_filtered_policy(3, s(&["survey"])).await.unwrap());
    assert_eq!(tenant_permissions(&f.store).await, 0);

    // save_policy makes the tables hold exactly casbin's model.
    e.add_grouping_policy(s(&[&sub, "r:mentor", "t:amami", ""]))
        .await
        .unwrap();
    let before = policy_version(&f.store).await.unwrap();
    e.get_mut_model().remove_policy(
        "p",
        "p",
        s(&["r:mentor", "tenant", "*", "checkin", "write"]),
    );
    e.get_mut_model().add_policy(
        "g",
        "g",
        s(&[&sub, "r:talent", "t:amami", "2026-04-01T00:00:00Z"]),
    );
    e.save_policy().await.unwrap();
    assert_eq!(policy_version(&f.store).await.unwrap(), before + 1);
    let authz = Authz::load(&f.store, now).await.unwrap();
    assert!(!authz.allows(mentor, "amami", "checkin", "write", now));
    assert!(authz.allows(mentor, "amami", "checkin", "read", now));
    assert!(authz.allows(mentor, "amami", "profile", "write_own", now));
    assert_eq!(
        authz.roles(mentor, "amami", now),
        [(Role::Mentor, Scope::Tenant), (Role::Talent, Scope::Tenant)]
    );
    let talent = list_grants(&f.store, Some("amami")).await.unwrap();
    assert_eq!(
        talent
            .iter()
            .find(|g| g.role == Role::Talent)
            .unwrap()
            .valid_until
            .unwrap()
            .to_rfc3339(),
        "2026-04-01T00:00:00+00:00"
    );
}

async fn hostile_names_gain_nothing(f: &Fixture) {
    let now = t0();
    let a = f.account("talent");
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<String>>();
    grant(
        &f.store,
        &new_grant(a, Role::Talent, Scope::Tenant, Some("amami")),
        now,
    )
    .await
    .unwrap();
    for slug in [
        "*",
        "iwate/*",
        "t:iwate",
        "iwate/ichinoseki",
        "r:tenant_admin",
        "",
    ] {
        let r = grant(
            &f.store,
            &new_grant(a, Role::TenantAdmin, Scope::Tenant, Some(slug)),
            now,
        )
        .await;
        assert!(matches!(r, Err(AuthzError::Invalid(_))), "{slug:?}: {r:?}");
    }
    let authz = Authz::load(&f.store, now).await.unwrap();
    for name in [
        "*",
        "r:tenant_admin",
        "role::x",
        "iwate/*",
        "t:amami",
        "u:1",
        "",
        "profile:*",
    ] {
        assert!(
            !authz.allows(a, name, "profile", "write_own", now),
            "tenant {name:?}"
        );
        assert!(
            !authz.allows(a, "amami", name, "write_own", now),
            "object {name:?}"
        );
        assert!(
            !authz.allows(a, "amami", "profile", name, now),
            "action {name:?}"
        );
        assert!(
            !authz.allows(a, "amami", name, name, now),
            "{name:?}:{name:?}"
        );
    }
    assert!(authz.allows(a, "amami", "profile", "write_own", now));

    // casbin rules that would smuggle in role inheritance, a direct permission, a
    // wildcard domain or a name-shaped subject are refused by the adapter, and nothing
    // is stored.
    let mut e = Enforcer::new(
        yui_authz::model().await.unwrap(),
        SqlAdapter::new(f.store.clone(), now),
    )
    .await
    .unwrap();
    let v = policy_version(&f.store).await.unwrap();
    for rule in [
        s(&["r:talent", "r:tenant_admin", "t:amami", ""]),
        s(&[&format!("u:{a}"), "r:tenant_admin", "t:*", ""]),
        s(&[&format!("u:{a}"), "r:tenant_admin", "*", ""]),
        s(&[&format!("u:{a}"), "r:tenant_admin", "amami", ""]),
        s(&["role::x", "r:tenant_admin", "t:amami", ""]),
        s(&[&format!("u:{a}"), "tenant_admin", "t:amami", ""]),
    ] {
        assert!(
            e.add_grouping_policy(rule.clone()).await.is_err(),
            "{rule:?}"
        );
    }
    for rule in [
        s(&[&format!("u:{a}"), "tenant", "*", "staff", "invite"]),
        s(&["r:talent", "tenant", "*", "staff:*", "invite"]),
        s(&["r:talent", "tenant", "*", "role::x", "read"]),
        s(&["r:talent", "tenant", "iwate/*", "kpi", "read"]),
    ] {
        assert!(e.add_policy(rule.clone()).await.is_err(), "{rule:?}");
    }
    assert_eq!(policy_version(&f.store).await.unwrap(), v);
    let authz = Authz::load(&f.store, now).await.unwrap();
    assert!(!authz.allows(a, "amami", "staff", "invite", now));
    assert_eq!(
        authz.roles(a, "amami", now),
        [(Role::Talent, Scope::Tenant)]
    );
}

/// Two app nodes on one database: a role change on one takes effect on the other
/// within 2 s through the policy-version poll. The control is a third node without a
/// poller, which keeps the old answer.
async fn a_change_on_one_node_reaches_another_within_two_seconds(f: &Fixture) {
    let now = t0();
    let coordinator = f.account("coordinator");
    let node_a = SharedAuthz::new(Authz::load(&f.store, now).await.unwrap());
    let store_b = f.db.connect().await;
    let node_b = SharedAuthz::new(Authz::load(&store_b, now).await.unwrap());
    let poller = node_b.spawn_refresher(store_b.clone(), StdDuration::from_millis(500), t0);
    let node_c = SharedAuthz::new(Authz::load(&store_b, now).await.unwrap());

    let waits_for = |node: SharedAuthz, want: bool| async move {
        let start = Instant::now();
        while start.elapsed() < StdDuration::from_secs(2) {
            if node.allows(coordinator, "ichinoseki", "event", "create", now) == want {
                return Some(start.elapsed());
            }
            tokio::time::sleep(StdDuration::from_millis(10)).await;
        }
        None
    };

    assert!(!node_b.allows(coordinator, "ichinoseki", "event", "create", now));
    let g = node_a
        .grant(
            &f.store,
            &new_grant(
                coordinator,
                Role::Coordinator,
                Scope::Tenant,
                Some("ichinoseki"),
            ),
            now,
        )
        .await
        .unwrap();
    assert!(node_a.allows(coordinator, "ichinoseki", "event", "create", now));
    let took = waits_for(node_b.clone(), true)
        .await
        .expect("the grant reached node B within 2 s");
    eprintln!("grant seen on node B after {took:?}");

    node_a.revoke(&f.store, g.id, None, now).await.unwrap();
    let took = waits_for(node_b.clone(), false)
        .await
        .expect("the revocation reached node B within 2 s");
    eprintln!("revocation seen on node B after {took:?}");

    // The control: without polling, node C still answers from its first snapshot.
    assert!(!node_c.allows(coordinator, "ichinoseki", "event", "create", now));
    node_a
        .grant(
            &f.store,
            &new_grant(
                coordinator,
                Role::Coordinator,
                Scope::Tenant,
                Some("kamaishi"),
            ),
            now,
        )
        .await
        .unwrap();
    tokio::time::sleep(StdDuration::from_millis(1200)).await;
    assert!(
        !node_c.allows(coordinator, "kamaishi", "event", "create", now),
        "node C has no poller"
    );
    assert!(node_b.allows(coordinator, "kamaishi", "event", "create", now));
    poller.abort();
    store_b.close().await;
}

/// A grant made in a tenant's transaction commits with the rest of it (here the
/// invited person's account) or not at all, and the transaction reaches its own
/// tenant only. On PostgreSQL this runs as the application's role, which owns no
/// table, under row-level security.
async fn grants_share_the_callers_tenant_transaction(f: &Fixture) {
    let now = t0();
    let admin = f.account("admin");
    let kamaishi = f.tenant("kamaishi").await;
    let v = policy_version(&f.store).await.unwrap();
    let invite = |account| NewGrant {
        granted_by: Some(admin),
        ..new_grant(account, Role::Coordinator, Scope::Tenant, Some("kamaishi"))
    };
    let email = |s: &str| Email::parse("email", s).unwrap();
    let person = |email| NewAccount {
        email,
        display_name: "招待 太郎",
        password_hash: None,
        locale: Locale::Ja,
    };

    // Rolled back: neither the account nor the grant nor the version bump stays.
    let invited = email("invited@example.jp");
    let mut tx = f.store.tenant(kamaishi).write().await.unwrap();
    let account = tx.create_account(person(&invited), now).await.unwrap();
    tx.mark_account_verified(account, now).await.unwrap();
    let g = grant_in(&mut tx, &invite(account), now).await.unwrap();
    assert_eq!(
        (g.account_id, g.tenant.as_deref(), g.granted_by),
        (account, Some("kamaishi"), Some(admin))
    );
    assert_eq!(list_grants_in(&mut tx).await.unwrap(), [g]);
    tx.rollback().await.unwrap();
    assert!(
        list_grants(&f.store, Some("kamaishi"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(f.store.find_account(&invited).await.unwrap().is_none());
    assert_eq!(policy_version(&f.store).await.unwrap(), v);

    // Committed together. Refusals on the way change nothing and leave the
    // transaction usable: another tenant's grant, a platform-wide one, an account
    // that does not exist (a failed statement, undone by its savepoint).
    let mut tx = f.store.tenant(kamaishi).write().await.unwrap();
    let account = tx.create_account(person(&invited), now).await.unwrap();
    tx.mark_account_verified(account, now).await.unwrap();
    for (refused, why) in [
        (
            new_grant(account, Role::Coordinator, Scope::Tenant, Some("iwate")),
            "another tenant",
        ),
        (
            new_grant(account, Role::TenantAdmin, Scope::Children, Some("iwate")),
            "another tenant's children",
        ),
        (
            new_grant(account, Role::PlatformOperator, Scope::Global, None),
            "platform-wide",
        ),
        (invite(AccountId::new(987_654)), "no such account"),
    ] {
        let r = grant_in(&mut tx, &refused, now).await;
        assert!(matches!(r, Err(AuthzError::Invalid(_))), "{why}: {r:?}");
    }
    let g = grant_in(&mut tx, &invite(account), now).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(policy_version(&f.store).await.unwrap(), v + 1);
    assert_eq!(
        list_grants(&f.store, Some("kamaishi")).await.unwrap(),
        std::slice::from_ref(&g)
    );
    assert!(f.store.find_account(&invited).await.unwrap().is_some());
    let authz = Authz::load(&f.store, now).await.unwrap();
    assert!(authz.check(account, "kamaishi", Permission::KpiRead, now));
    assert!(!authz.check(account, "iwate", Permission::KpiRead, now));

    // Revoking from a tenant's transaction: another tenant's grant is not found there.
    let elsewhere = grant(
        &f.store,
        &new_grant(admin, Role::TenantAdmin, Scope::Tenant, Some("iwate")),
        now,
    )
    .await
    .unwrap();
    let mut tx = f.store.tenant(kamaishi).write().await.unwrap();
    assert!(matches!(
        revoke_in(&mut tx, elsewhere.id, Some(admin), now).await,
        Err(AuthzError::NotFound)
    ));
    revoke_in(&mut tx, g.id, Some(admin), now).await.unwrap();
    assert!(list_grants_in(&mut tx).await.unwrap().is_empty());
    assert!(matches!(
        revoke_in(&mut tx, g.id, Some(admin), now).await,
        Err(AuthzError::NotFound)
    ));
    tx.commit().await.unwrap();
    assert_eq!(
        list_grants(&f.store, Some("iwate")).await.unwrap(),
        [elsewhere]
    );
    let revoked = grant_history(&f.store)
        .await
        .into_iter()
        .find(|row| row.id == g.id)
        .unwrap();
    assert_eq!(
        (revoked.revoked_at, revoked.revoked_by),
        (Some(now), Some(admin))
    );

    // A prefecture's grant on its children is the prefecture's.
    let iwate = f.tenant("iwate").await;
    let mut tx = f.store.tenant(iwate).write().await.unwrap();
    let on_children = grant_in(
        &mut tx,
        &new_grant(admin, Role::TenantAdmin, Scope::Children, Some("iwate")),
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(on_children.scope, Scope::Children);
    let authz = Authz::load(&f.store, now).await.unwrap();
    assert!(authz.check(admin, "kamaishi", Permission::ReportRead, now));
    assert!(!authz.check(admin, "kamaishi", Permission::StaffRead, now));
}
