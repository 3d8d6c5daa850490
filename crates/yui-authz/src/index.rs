//! The decision index: casbin's policies materialised into hash maps, so a decision
//! costs a fixed handful of lookups whatever the number of tenants, rules or accounts.
//!
//! It answers exactly what the matcher in `model.conf` answers:
//! - the policies that apply to a request in tenant T are those whose domain is `*` or
//!   T's domain; for each (object, action) the index keeps a bit set of the
//!   (role, scope) pairs they allow, with `*` objects and actions kept apart;
//! - the grants a subject holds are keyed by (account, domain); those for T's domain
//!   give scope `tenant`, those for T's parent's children domain give `children`, and
//!   those for `*` give `global`.
//!
//! The decision is whether the two bit sets meet.

use std::collections::HashMap as StdHashMap;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{DateTime, Utc};
use yui_domain::AccountId;

use crate::role::{Role, Scope};
use crate::rules::{GLOBAL_DOMAIN, GrantPlace, GrantRule, PermissionRule, TenantTree};

/// The index's maps hash with [`FxHasher`]: a decision is about ten lookups, and
/// SipHash would be most of its cost.
type HashMap<K, V> = StdHashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The multiply-rotate hash of rustc (FxHash). Not resistant to chosen collisions, which
/// is fine here: the maps are filled from the policy, not from requests, and a lookup
/// with any key cannot lengthen a chain.
#[derive(Debug, Default, Clone, Copy)]
struct FxHasher(u64);

impl FxHasher {
    const K: u64 = 0xf135_7aea_2e62_a9c5;

    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = self.0.wrapping_add(word).wrapping_mul(Self::K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_i64(&mut self, i: i64) {
        self.add(i as u64);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The multiply leaves its best bits high; the table indexes with the low ones.
        self.0.rotate_left(26)
    }
}

/// One bit per (role, scope).
type Mask = u32;

const _: () = assert!(Role::ALL.len() * Scope::ALL.len() <= Mask::BITS as usize);

fn bit(role: Role, scope: Scope) -> Mask {
    1 << (role.index() * Scope::ALL.len() + scope.index())
}

/// Domains are numbered; 0 is `*`.
type DomainId = u32;
const GLOBAL: DomainId = 0;

/// The permissions of one domain (`*` or a tenant).
#[derive(Debug, Default)]
struct PermTable {
    /// Rules with object `*` and action `*`.
    any: Mask,
    /// Rules with object `*`, by action.
    any_object: HashMap<Box<str>, Mask>,
    /// Rules with a named object.
    by_object: HashMap<Box<str>, ObjectPerms>,
}

#[derive(Debug, Default)]
struct ObjectPerms {
    any_action: Mask,
    by_action: HashMap<Box<str>, Mask>,
}

impl PermTable {
    fn add(&mut self, object: &str, action: &str, mask: Mask) {
        match (object, action) {
            ("*", "*") => self.any |= mask,
            ("*", a) => *self.any_object.entry(a.into()).or_default() |= mask,
            (o, a) => {
                let perms = self.by_object.entry(o.into()).or_default();
                if a == "*" {
                    perms.any_action |= mask;
                } else {
                    *perms.by_action.entry(a.into()).or_default() |= mask;
                }
            }
        }
    }

    /// The (role, scope) pairs allowed to do `action` on `object`.
    #[inline]
    fn allowed(&self, object: &str, action: &str) -> Mask {
        let mut m = self.any;
        if let Some(a) = self.any_object.get(action) {
            m |= a;
        }
        if let Some(o) = self.by_object.get(object) {
            m |= o.any_action;
            if let Some(a) = o.by_action.get(action) {
                m |= a;
            }
        }
        m
    }
}

/// A tenant's domains as the index numbers them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TenantDomains {
    dom: DomainId,
    up: Option<DomainId>,
}

/// A grant as the index keeps it.
#[derive(Debug, Clone, Copy)]
struct Held {
    role: Role,
    until: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
pub(crate) struct Index {
    tenants: HashMap<Box<str>, TenantDomains>,
    /// Policies with domain `*`.
    perms_any: PermTable,
    /// Policies narrowed to one tenant.
    perms_by_domain: HashMap<DomainId, PermTable>,
    grants: HashMap<(AccountId, DomainId), Vec<Held>>,
    /// Each account's grants in a tenant (scope `tenant`), by slug: the places a
    /// person works in, found without visiting every tenant.
    places: HashMap<AccountId, Vec<(Box<str>, Held)>>,
}

/// Numbers domain strings while the index is built.
struct Domains(HashMap<String, DomainId>);

impl Domains {
    fn id(&mut self, domain: String) -> DomainId {
        let next = self.0.len() as DomainId;
        *self.0.entry(domain).or_insert(next)
    }
}

impl Index {
    /// Builds the index from typed rules (read from casbin by the caller).
    pub(crate) fn build(
        tenants: &TenantTree,
        permissions: &[PermissionRule],
        grants: &[GrantRule],
    ) -> Index {
        let mut domains = Domains(HashMap::default());
        // The first domain numbered is 0, GLOBAL.
        domains.id(GLOBAL_DOMAIN.to_owned());
        let mut index = Index::default();
        for (id, slug) in tenants.iter() {
            let (Some(dom), up) = (tenants.domain_of(id), tenants.up_domain_of(id)) else {
                continue;
            };
            let entry = TenantDomains {
                dom: domains.id(dom),
                up: up.map(|u| domains.id(u)),
            };
            index.tenants.insert(slug.into(), entry);
        }
        for p in permissions {
            let table = match p.tenant_id.and_then(|t| tenants.domain_of(t)) {
                None if p.tenant_id.is_some() => continue,
                None => &mut index.perms_any,
                Some(d) => index.perms_by_domain.entry(domains.id(d)).or_default(),
            };
            table.add(&p.object, &p.action, bit(p.role, p.scope));
        }
        for g in grants {
            let domain = match g.place {
                GrantPlace::Tenant(t) => tenants.domain_of(t),
                GrantPlace::Children(t) => tenants.children_domain_of(t),
                GrantPlace::Global => Some(GLOBAL_DOMAIN.to_owned()),
            };
            let Some(domain) = domain else { continue };
            if let GrantPlace::Tenant(t) = g.place
                && let Some(slug) = tenants.slug_of(t)
            {
                index.places.entry(g.account_id).or_default().push((
                    slug.into(),
                    Held {
                        role: g.role,
                        until: g.valid_until,
                    },
                ));
            }
            let held = index
                .grants
                .entry((g.account_id, domains.id(domain)))
                .or_default();
            // casbin holds a link while any of its rules does: keep the latest end.
            match held.iter_mut().find(|h| h.role == g.role) {
                Some(h) => {
                    h.until = match (h.until, g.valid_until) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        _ => None,
                    }
                }
                None => held.push(Held {
                    role: g.role,
                    until: g.valid_until,
                }),
            }
        }
        index
    }

    /// The domains of a tenant, by slug.
    #[inline]
    pub(crate) fn tenant(&self, slug: &str) -> Option<TenantDomains> {
        self.tenants.get(slug).copied()
    }

    /// The (role, scope) pairs `account_id` holds at `now` for a request in `tenant`
    /// (`None`: a platform-level request).
    #[inline]
    fn held(
        &self,
        account_id: AccountId,
        tenant: Option<TenantDomains>,
        now: DateTime<Utc>,
    ) -> Mask {
        let mut m = 0;
        let mut add = |domain: DomainId, scope: Scope| {
            if let Some(held) = self.grants.get(&(account_id, domain)) {
                for h in held {
                    if h.until.is_none_or(|u| now < u) {
                        m |= bit(h.role, scope);
                    }
                }
            }
        };
        if let Some(t) = tenant {
            add(t.dom, Scope::Tenant);
            if let Some(up) = t.up {
                add(up, Scope::Children);
            }
        }
        add(GLOBAL, Scope::Global);
        m
    }

    /// The decision.
    #[inline]
    pub(crate) fn decide(
        &self,
        account_id: AccountId,
        tenant: Option<TenantDomains>,
        object: &str,
        action: &str,
        now: DateTime<Utc>,
    ) -> bool {
        let held = self.held(account_id, tenant, now);
        if held == 0 {
            return false;
        }
        let mut allowed = self.perms_any.allowed(object, action);
        if let Some(table) = tenant.and_then(|t| self.perms_by_domain.get(&t.dom)) {
            allowed |= table.allowed(object, action);
        }
        held & allowed != 0
    }

    /// The tenants where `account_id` holds a role of scope `tenant` at `now`, with
    /// those roles, ordered by slug.
    pub(crate) fn places(
        &self,
        account_id: AccountId,
        now: DateTime<Utc>,
    ) -> Vec<(String, Vec<Role>)> {
        let mut out: Vec<(String, Vec<Role>)> = Vec::new();
        for (slug, held) in self.places.get(&account_id).into_iter().flatten() {
            if held.until.is_some_and(|u| now >= u) {
                continue;
            }
            match out.iter_mut().find(|(s, _)| s.as_str() == &**slug) {
                Some((_, roles)) if !roles.contains(&held.role) => roles.push(held.role),
                Some(_) => {}
                None => out.push((slug.to_string(), vec![held.role])),
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, roles) in &mut out {
            roles.sort_by_key(|r| r.index());
        }
        out
    }

    /// The roles `account_id` holds at `now` for a request in `tenant`, with scopes.
    pub(crate) fn roles(
        &self,
        account_id: AccountId,
        tenant: Option<TenantDomains>,
        now: DateTime<Utc>,
    ) -> Vec<(Role, Scope)> {
        let held = self.held(account_id, tenant, now);
        let mut out = Vec::new();
        for role in Role::ALL {
            for scope in Scope::ALL {
                if held & bit(role, scope) != 0 {
                    out.push((role, scope));
                }
            }
        }
        out
    }
}
