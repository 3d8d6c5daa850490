//! Decision latency against the number of tenants: the index (`Authz::allows`) and,
//! for comparison, plain casbin `enforce()` on the same snapshot.
//!
//! Each size has N tenants (every 20th a prefecture, the rest its municipalities),
//! 5 roles × 20 permissions narrowed to each tenant (N × 100 casbin p rules), and
//! 10,000 accounts holding 1–3 grants each (some on a prefecture's children, some
//! ended). 100,000 random requests: half in a tenant where the account holds a grant,
//! half anywhere; objects and actions from the permissions' vocabulary.
//!
//! Latency is measured per call with `Instant` around each decision, so p50/p99 are
//! real per-decision percentiles; they include the timer's own cost, printed on the
//! first line (subtract it for the bare decision). The mean of a second, untimed pass
//! over all requests (one `Instant` around the batch) is printed beside them. casbin is
//! timed the same way on the first few requests only: it scans every rule per decision.
//!
//! Run: `ops/bench/authz.sh` or `cargo bench -p yui-authz --bench authz -- [--sizes 10,100,1800]
//! [--requests 100000] [--casbin 1000,200,20]`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use yui_authz::{Authz, GrantPlace, GrantRule, PermissionRule, Role, Scope, TenantNode};
use yui_domain::{AccountId, TenantId};

/// splitmix64, seeded: every run sees the same policies and requests.
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
}

const ROLES: [Role; 5] = [
    Role::TenantAdmin,
    Role::Coordinator,
    Role::MunicipalStaff,
    Role::Mentor,
    Role::HostMember,
];
const OBJECTS: usize = 40;
const ACTIONS: [&str; 8] = [
    "read",
    "write",
    "create",
    "delete",
    "select",
    "support",
    "run",
    "write_own",
];
const ACCOUNTS: usize = 10_000;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 31, 12, 0, 0).unwrap()
}

struct World {
    tenants: Vec<TenantNode>,
    permissions: Vec<PermissionRule>,
    grants: Vec<GrantRule>,
    requests: Vec<(AccountId, String, String, &'static str)>,
}

fn world(n: usize, requests: usize, rng: &mut Rng) -> World {
    let tenants: Vec<TenantNode> = (0..n)
        .map(|i| TenantNode {
            id: TenantId::new(i as i64 + 1),
            slug: format!("tenant-{i}"),
            parent_id: (i % 20 != 0).then(|| TenantId::new((i - i % 20) as i64 + 1)),
        })
        .collect();
    let objects: Vec<String> = (0..OBJECTS).map(|o| format!("object_{o}")).collect();
    let mut permissions = Vec::with_capacity(n * 100);
    for t in &tenants {
        for (r, role) in ROLES.iter().enumerate() {
            for k in 0..20 {
                // Two of an admin's twenty are reads on the children (aggregates).
                let scope = if *role == Role::TenantAdmin && k < 2 {
                    Scope::Children
                } else {
                    Scope::Tenant
                };
                permissions.push(PermissionRule {
                    role: *role,
                    scope,
                    tenant_id: Some(t.id),
                    object: objects[(r * 7 + k) % OBJECTS].clone(),
                    action: if k % 5 == 4 {
                        "*".to_owned()
                    } else {
                        ACTIONS[(r + k) % ACTIONS.len()].to_owned()
                    },
                });
            }
        }
    }
    let mut grants = Vec::new();
    let mut homes: Vec<Vec<TenantId>> = vec![Vec::new(); ACCOUNTS + 1];
    for (account, home) in homes.iter_mut().enumerate().skip(1) {
        let count = match rng.below(20) {
            0 => 3,
            1..=5 => 2,
            _ => 1,
        };
        for _ in 0..count {
            let role = ROLES[rng.below(ROLES.len())];
            let tenant = TenantId::new(rng.below(n) as i64 + 1);
            let place = if role == Role::TenantAdmin && rng.below(4) == 0 {
                GrantPlace::Children(tenant)
            } else {
                GrantPlace::Tenant(tenant)
            };
            let valid_until = match rng.below(10) {
                0 => Some(now() - chrono::Duration::days(1)),
                1 => Some(now() + chrono::Duration::days(1)),
                _ => None,
            };
            home.push(tenant);
            grants.push(GrantRule {
                account_id: AccountId::new(account as i64),
                role,
                place,
                valid_until,
            });
        }
    }
    let requests = (0..requests)
        .map(|_| {
            let account = rng.below(ACCOUNTS) + 1;
            let tenant = if rng.below(2) == 0 {
                homes[account][rng.below(homes[account].len())]
            } else {
                TenantId::new(rng.below(n) as i64 + 1)
            };
            (
                AccountId::new(account as i64),
                format!("tenant-{}", tenant.get() - 1),
                objects[rng.below(OBJECTS)].clone(),
                ACTIONS[rng.below(ACTIONS.len())],
            )
        })
        .collect();
    World {
        tenants,
        permissions,
        grants,
        requests,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn fmt(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.2} µs", ns as f64 / 1e3)
    } else {
        format!("{:.2} ms", ns as f64 / 1e6)
    }
}

fn arg_list(args: &[String], name: &str, default: &[usize]) -> Vec<usize> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes = arg_list(&args, "--sizes", &[10, 100, 1800]);
    let requests = arg_list(&args, "--requests", &[100_000])[0];
    let casbin_samples = arg_list(&args, "--casbin", &[1000, 200, 20]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    // What timing one call costs by itself.
    let mut empty: Vec<Duration> = (0..100_000)
        .map(|_| {
            let s = Instant::now();
            black_box(());
            s.elapsed()
        })
        .collect();
    empty.sort();
    println!(
        "timer overhead per measured call: p50 {} (included in the per-call columns below)",
        fmt(percentile(&empty, 0.5))
    );
    println!(
        "{requests} requests per size; 10,000 accounts; 5 roles x 20 permissions per tenant\n"
    );
    println!(
        "| tenants | p rules | g rules | load | index p50 | index p99 | index mean (batch) | allowed | casbin n | casbin p50 | casbin p99 |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");

    for (i, &n) in sizes.iter().enumerate() {
        let mut rng = Rng(0x5EED + n as u64);
        let w = world(n, requests, &mut rng);
        let started = Instant::now();
        let authz = rt
            .block_on(Authz::from_rules(
                &w.tenants,
                &w.permissions,
                &w.grants,
                1,
                now(),
            ))
            .unwrap();
        let load = started.elapsed();
        let (p_rules, g_rules) = casbin_rules(&authz);

        // Warm the caches, then time every call.
        for (a, t, o, act) in w.requests.iter().take(10_000) {
            black_box(authz.allows(*a, t, o, act, now()));
        }
        let mut allowed = 0usize;
        let mut times = Vec::with_capacity(w.requests.len());
        for (a, t, o, act) in &w.requests {
            let s = Instant::now();
            let ok = black_box(authz.allows(black_box(*a), t, o, act, now()));
            times.push(s.elapsed());
            allowed += usize::from(ok);
        }
        times.sort();
        let s = Instant::now();
        for (a, t, o, act) in &w.requests {
            black_box(authz.allows(black_box(*a), t, o, act, now()));
        }
        let mean = s.elapsed() / w.requests.len() as u32;

        // Plain casbin on the first few requests, checked against the index as it goes.
        let samples = casbin_samples
            .get(i)
            .copied()
            .unwrap_or(10)
            .min(w.requests.len());
        let mut slow = Vec::with_capacity(samples);
        for (a, t, o, act) in w.requests.iter().take(samples) {
            let s = Instant::now();
            let ok = black_box(authz.check_with_casbin(*a, Some(t), o, act).unwrap());
            slow.push(s.elapsed());
            assert_eq!(
                ok,
                authz.allows(*a, t, o, act, now()),
                "casbin and the index disagree"
            );
        }
        slow.sort();
        let (cp50, cp99) = if samples == 0 {
            ("skipped".to_owned(), "skipped".to_owned())
        } else {
            (fmt(percentile(&slow, 0.5)), fmt(percentile(&slow, 0.99)))
        };
        println!(
            "| {n} | {p_rules} | {g_rules} | {} | {} | {} | {} | {:.1}% | {samples} | {cp50} | {cp99} |",
            fmt(load),
            fmt(percentile(&times, 0.5)),
            fmt(percentile(&times, 0.99)),
            fmt(mean),
            100.0 * allowed as f64 / w.requests.len() as f64,
        );
    }
}

/// How many p and g rules casbin holds (g: the live grants).
fn casbin_rules(authz: &Authz) -> (usize, usize) {
    use casbin::MgmtApi;
    (
        authz.enforcer().get_policy().len(),
        authz.enforcer().get_grouping_policy().len(),
    )
}
