//! The fast path against casbin's `enforce()`, and hostile names, in memory.

use chrono::{DateTime, Duration, TimeZone, Utc};

use yui_domain::TenantId;

use super::*;
use crate::role::valid_rule_name;

/// splitmix64: a small seeded generator, so a failure names its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn acc(id: i64) -> AccountId {
    AccountId::new(id)
}

fn tid(id: i64) -> TenantId {
    TenantId::new(id)
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 31, 12, 0, 0).unwrap()
}

const OBJECTS: &[&str] = &["kpi", "event", "staff", "report", "tenant", "*"];
const ACTIONS: &[&str] = &["read", "write", "create", "write_own", "*"];
/// What requests may name: rule names plus hostile strings.
const REQUEST_NAMES: &[&str] = &[
    "kpi",
    "event",
    "staff",
    "report",
    "tenant",
    "read",
    "write",
    "create",
    "write_own",
    "*",
    "r:tenant_admin",
    "role::x",
    "iwate/*",
    "t:t0",
    "u:1",
    "",
    "KPI",
    "nothing",
];

struct World {
    tenants: Vec<TenantNode>,
    permissions: Vec<PermissionRule>,
    grants: Vec<GrantRule>,
}

fn world(rng: &mut Rng) -> World {
    let n = 2 + rng.below(6);
    let mut tenants = Vec::new();
    for i in 0..n {
        // Some tenants are children of an earlier one (one or two levels deep).
        let parent_id = (i > 0 && rng.chance(50)).then(|| tid(rng.below(i) as i64 + 1));
        tenants.push(TenantNode {
            id: tid(i as i64 + 1),
            slug: format!("t{i}"),
            parent_id,
        });
    }
    let mut permissions = Vec::new();
    for _ in 0..10 + rng.below(40) {
        let role = *rng.pick(&Role::ALL);
        let scope = *rng.pick(&[Scope::Tenant, Scope::Tenant, Scope::Children, Scope::Global]);
        let tenant_id = rng.chance(25).then(|| tid(rng.below(n) as i64 + 1));
        permissions.push(PermissionRule {
            role,
            scope,
            tenant_id,
            object: (*rng.pick(OBJECTS)).to_owned(),
            action: (*rng.pick(ACTIONS)).to_owned(),
        });
    }
    let mut grants = Vec::new();
    for _ in 0..rng.below(30) {
        let role = *rng.pick(&Role::ALL);
        let tenant = tid(rng.below(n) as i64 + 1);
        let place = if role == Role::PlatformOperator {
            GrantPlace::Global
        } else if rng.chance(30) {
            GrantPlace::Children(tenant)
        } else {
            GrantPlace::Tenant(tenant)
        };
        let valid_until = match rng.below(4) {
            0 => None,
            1 => Some(t0() - Duration::hours(1)),
            2 => Some(t0() + Duration::hours(1)),
            _ => Some(t0() + Duration::hours(3)),
        };
        grants.push(GrantRule {
            account_id: acc(rng.below(8) as i64 + 1),
            role,
            place,
            valid_until,
        });
    }
    World {
        tenants,
        permissions,
        grants,
    }
}

async fn snapshot(w: &World, now: DateTime<Utc>) -> Authz {
    Authz::from_rules(&w.tenants, &w.permissions, &w.grants, 1, now)
        .await
        .unwrap()
}

/// For many random policies and requests, the index answers exactly what casbin's
/// `enforce()` answers — also at later instants, against casbin loaded at that instant.
#[tokio::test]
async fn fast_path_equals_casbin_on_random_policies() {
    let mut compared = 0usize;
    let mut allowed = 0usize;
    for seed in 0..200u64 {
        let mut rng = Rng(seed);
        let w = world(&mut rng);
        let early = snapshot(&w, t0()).await;
        for later in [t0(), t0() + Duration::hours(1), t0() + Duration::hours(5)] {
            let reference = snapshot(&w, later).await;
            for _ in 0..100 {
                // Half the requests come from a holder of a grant, in its tenant or a
                // child of it, so that allowed answers are common.
                // Half the requests come from the holder of a grant, where the grant
                // bears, for something one of its role's rules names: so that allowed
                // answers are common. The rest are anything at all.
                let holder = w.grants.get(rng.below(w.grants.len() * 2 + 1));
                let (account, slug) = match holder {
                    Some(g) => {
                        let t = match g.place {
                            GrantPlace::Tenant(t) => t,
                            GrantPlace::Children(t) => w
                                .tenants
                                .iter()
                                .find(|c| c.parent_id == Some(t))
                                .map_or(t, |c| c.id),
                            GrantPlace::Global => tid(rng.below(w.tenants.len()) as i64 + 1),
                        };
                        (g.account_id, format!("t{}", t.get() - 1))
                    }
                    None => (
                        acc(rng.below(10) as i64),
                        if rng.chance(90) {
                            format!("t{}", rng.below(w.tenants.len() + 1))
                        } else {
                            (*rng.pick(&["*", "t:t0", "t0/*", "", "iwate/*"])).to_owned()
                        },
                    ),
                };
                let names: &[&str] = if rng.chance(80) {
                    &REQUEST_NAMES[..9]
                } else {
                    REQUEST_NAMES
                };
                let mut obj = *rng.pick(names);
                let mut act = *rng.pick(names);
                let own: Vec<&PermissionRule> = w
                    .permissions
                    .iter()
                    .filter(|p| {
                        holder.is_some_and(|g| g.role == p.role && g.place.scope() == p.scope)
                    })
                    .collect();
                if !own.is_empty() && rng.chance(80) {
                    let p = *rng.pick(&own);
                    let concrete = |name: &str, all: &[&'static str], rng: &mut Rng| match name {
                        "*" => *rng.pick(&all[..all.len() - 1]),
                        n => all.iter().find(|x| **x == n).copied().unwrap_or("nothing"),
                    };
                    obj = concrete(&p.object, OBJECTS, &mut rng);
                    act = concrete(&p.action, ACTIONS, &mut rng);
                }
                let platform = rng.chance(10);
                let fast = if platform {
                    early.allows_platform(account, obj, act, later)
                } else {
                    early.allows(account, &slug, obj, act, later)
                };
                let tenant = (!platform).then_some(slug.as_str());
                let slow = reference
                    .check_with_casbin(account, tenant, obj, act)
                    .unwrap();
                assert_eq!(
                    fast, slow,
                    "seed {seed}: account {account} tenant {tenant:?} {obj}:{act} at {later}"
                );
                compared += 1;
                allowed += usize::from(fast);

                // Under the name checks too: the index itself matches casbin on any
                // strings, wildcards and hostile ones included.
                if let (Some(t), Some(d)) =
                    (reference.index.tenant(&slug), reference.domains.get(&slug))
                {
                    let raw_fast = reference.index.decide(account, Some(t), obj, act, later);
                    let raw_slow = reference
                        .enforce_raw(&rules::subject(account), &d.dom, &d.up, obj, act)
                        .unwrap();
                    assert_eq!(
                        raw_fast, raw_slow,
                        "seed {seed}: raw {account} {slug} {obj}:{act}"
                    );
                }
            }
        }
    }
    eprintln!("{compared} decisions compared, {allowed} allowed");
    // The comparison means something only if both answers occur often.
    assert!(allowed > compared / 20, "{allowed} of {compared} allowed");
    assert!(allowed < compared / 2, "{allowed} of {compared} allowed");
}

fn iwate_world() -> World {
    let tenants = vec![
        TenantNode {
            id: tid(1),
            slug: "iwate".into(),
            parent_id: None,
        },
        TenantNode {
            id: tid(2),
            slug: "ichinoseki".into(),
            parent_id: Some(tid(1)),
        },
        TenantNode {
            id: tid(3),
            slug: "kamaishi".into(),
            parent_id: Some(tid(1)),
        },
        TenantNode {
            id: tid(4),
            slug: "amami".into(),
            parent_id: None,
        },
    ];
    let permissions = DEFAULT_PERMISSIONS
        .iter()
        .map(|p| PermissionRule {
            role: p.role,
            scope: p.scope,
            tenant_id: None,
            object: p.object.to_owned(),
            action: p.action.to_owned(),
        })
        .collect();
    let g = |account_id, role, place| GrantRule {
        account_id,
        role,
        place,
        valid_until: None,
    };
    let grants = vec![
        g(acc(1), Role::TenantAdmin, GrantPlace::Tenant(tid(1))),
        g(acc(1), Role::TenantAdmin, GrantPlace::Children(tid(1))),
        g(acc(2), Role::Coordinator, GrantPlace::Tenant(tid(2))),
        g(acc(3), Role::PlatformOperator, GrantPlace::Global),
        GrantRule {
            valid_until: Some(t0() + Duration::hours(12)),
            ..g(acc(4), Role::Coordinator, GrantPlace::Tenant(tid(3)))
        },
    ];
    World {
        tenants,
        permissions,
        grants,
    }
}

#[tokio::test]
async fn the_default_roles_decide_as_designed() {
    let a = snapshot(&iwate_world(), t0()).await;
    let now = t0();
    // A prefecture admin: everything admin in iwate, only aggregates in its children.
    assert!(a.allows(acc(1), "iwate", "staff", "invite", now));
    assert!(a.allows(acc(1), "iwate", "kpi", "read", now));
    assert!(a.allows(acc(1), "ichinoseki", "kpi", "read", now));
    assert!(a.allows(acc(1), "kamaishi", "report", "read", now));
    assert!(!a.allows(acc(1), "ichinoseki", "staff", "invite", now));
    assert!(!a.allows(acc(1), "ichinoseki", "audit", "read", now));
    assert!(!a.allows(acc(1), "amami", "kpi", "read", now));
    // A coordinator in ichinoseki only.
    assert!(a.allows(acc(2), "ichinoseki", "event", "create", now));
    assert!(!a.allows(acc(2), "kamaishi", "event", "create", now));
    assert!(!a.allows(acc(2), "iwate", "event", "create", now));
    assert!(!a.allows(acc(2), "ichinoseki", "staff", "invite", now));
    // The platform operator: tenants and audit everywhere, no program data.
    assert!(a.allows(acc(3), "amami", "tenant", "suspend", now));
    assert!(a.allows_platform(acc(3), "tenant", "create", now));
    assert!(a.allows(acc(3), "iwate", "audit", "read", now));
    assert!(!a.allows(acc(3), "iwate", "talent", "read", now));
    assert!(!a.allows_platform(acc(1), "tenant", "create", now));
    // A contractor's grant ends on its own.
    assert!(a.allows(
        acc(4),
        "kamaishi",
        "hearing",
        "write",
        now + Duration::hours(11)
    ));
    assert!(!a.allows(
        acc(4),
        "kamaishi",
        "hearing",
        "write",
        now + Duration::hours(12)
    ));
    assert_eq!(a.next_end(), Some(now + Duration::hours(12)));
    assert_eq!(
        a.roles(acc(1), "ichinoseki", now),
        vec![(Role::TenantAdmin, Scope::Children)]
    );
}

/// Names that look like roles, wildcards or domains gain nothing.
#[tokio::test]
async fn hostile_names_gain_nothing() {
    let a = snapshot(&iwate_world(), t0()).await;
    let now = t0();
    let hostile = [
        "*",
        "r:tenant_admin",
        "role::x",
        "iwate/*",
        "t:iwate",
        "u:1",
        "",
        "staff:*",
        "Staff",
    ];
    for account in [0, 1, 2, 3, 4, 99].map(acc) {
        for name in hostile {
            // As a tenant slug.
            for (obj, act) in [("kpi", "read"), ("staff", "invite"), ("tenant", "suspend")] {
                assert!(
                    !a.allows(account, name, obj, act, now),
                    "{account} in {name:?}"
                );
            }
            // As an object or action, even where the account holds `staff:*`/`tenant:*`.
            for tenant in ["iwate", "ichinoseki", "amami"] {
                assert!(
                    !a.allows(account, tenant, name, "read", now),
                    "{account} {name:?}:read"
                );
                assert!(
                    !a.allows(account, tenant, "staff", name, now),
                    "{account} staff:{name:?}"
                );
                assert!(
                    !a.allows(account, tenant, name, name, now),
                    "{account} {name:?}:{name:?}"
                );
                assert!(
                    !a.check_with_casbin(account, Some(tenant), name, name)
                        .unwrap()
                );
            }
            assert!(!a.allows_platform(account, name, "create", now));
        }
    }
    // A plain name that happens to be a role's is just an object nobody was given.
    for account in [0, 1, 2, 3, 4].map(acc) {
        assert!(!a.allows(account, "iwate", "tenant_admin", "read", now));
        assert!(!a.allows(account, "iwate", "platform_operator", "create", now));
    }

    // The control: were a subject spelt like a role, casbin itself would let it in
    // (g(x, x) holds for any x). Subjects are built from integer account ids only, so no
    // request can be spelt that way.
    assert!(
        a.enforce_raw("r:tenant_admin", "t:iwate", "", "staff", "invite")
            .unwrap()
    );
    assert!(
        !a.enforce_raw("u:999", "t:iwate", "", "staff", "invite")
            .unwrap()
    );

    // Hostile rules never reach casbin: the typed rules refuse them.
    let bad = PermissionRule {
        role: Role::Talent,
        scope: Scope::Tenant,
        tenant_id: None,
        object: "role::x".into(),
        action: "read".into(),
    };
    let w = iwate_world();
    assert!(
        Authz::from_rules(&w.tenants, &[bad], &[], 1, t0())
            .await
            .is_err()
    );
    assert!(!valid_rule_name("iwate/*"));
}
