//! Authorization for Yui: casbin RBAC with tenant domains, kept in Yui's own tables,
//! answered by an index whose cost does not grow with the number of tenants.
//!
//! # The model
//! [`MODEL`] (the file `model.conf` beside this crate) is the casbin model. Names are
//! namespaced so that nothing a person can type becomes a role or a domain: subjects are
//! `u:<account id>`, roles `r:<role>`, domains `t:<tenant path>` (`t:iwate`,
//! `t:iwate/ichinoseki`), `t:<tenant path>/*` (the tenant's direct children) or `*`
//! (platform-wide). A grant has a [`Scope`]:
//! - `tenant`: the role in one tenant;
//! - `children`: the role on a tenant for its direct children. Only policies with scope
//!   `children` apply — by default a prefecture's `tenant_admin` reads its
//!   municipalities' `kpi` and `report` (aggregates), nothing else;
//! - `global`: platform operators, platform-wide.
//!
//! Grants may end (`valid_until`, e.g. at a fiscal year's end): every decision takes
//! `now`, and an ended grant stops working on its own.
//!
//! # Storage
//! `role_permissions` holds casbin's p rules (seeded with [`DEFAULT_PERMISSIONS`] by
//! migration `0003_authz.sql`), `role_grants` its g rules, and `policy_version` a
//! counter bumped in the same transaction as every change. yui-store reads and writes
//! them (this crate holds no SQL); [`SqlAdapter`] is a casbin [`casbin::Adapter`] over
//! them for both SQLite and PostgreSQL. Loading the policy is platform work
//! ([`yui_store::PlatformReason::Policy`]); a grant in a tenant can also be made or
//! revoked inside the caller's tenant transaction ([`grant_in`], [`revoke_in`]), so it
//! commits with the rest of a change.
//!
//! # Deciding
//! [`Authz::load`] loads the policy into a casbin [`casbin::Enforcer`] through the
//! adapter (casbin stays the source of truth) and materialises it into an index:
//! (account, domain) → roles with their ends, and (role, scope) bits per
//! (object, action) for `*` and for each tenant. Handlers ask for a
//! [`Permission`] with [`Authz::check`] (in a tenant) or [`Authz::check_platform`];
//! [`permission_names`] is the one place a permission is spelt as the model's
//! (object, action) names. The decision is a few hash lookups ([`Authz::allows`], on
//! names); [`Authz::check_with_casbin`] asks casbin's `enforce()` the same question
//! (tests prove the two agree). Objects and actions are names (`kpi`, `write_own`);
//! anything else, such as `*` or `r:tenant_admin`, is denied.
//!
//! ```no_run
//! # async fn demo(store: yui_store::Store, now: chrono::DateTime<chrono::Utc>) -> yui_authz::Result<()> {
//! use yui_authz::{Authz, NewGrant, Permission, Role, Scope, SharedAuthz};
//! use yui_domain::AccountId;
//! let authz = SharedAuthz::new(Authz::load(&store, now).await?);
//! let _poller = authz.spawn_refresher(store.clone(), std::time::Duration::from_millis(500), chrono::Utc::now);
//! let admin = AccountId::new(42);
//! authz.grant(&store, &NewGrant {
//!     account_id: admin, role: Role::TenantAdmin, scope: Scope::Tenant,
//!     tenant: Some("ichinoseki".into()), valid_until: None, granted_by: Some(AccountId::new(1)),
//! }, now).await?;
//! assert!(authz.check(admin, "ichinoseki", Permission::StaffInvite, now));
//! # Ok(()) }
//! ```
//!
//! # Several nodes
//! Each node polls `policy_version` ([`SharedAuthz::spawn_refresher`], e.g. every
//! 500 ms) and reloads when it moved, or when a loaded grant has ended (so casbin's own
//! view drops it too). Reloading happens beside the old snapshot, which keeps answering
//! until the new one replaces it. Tenants added or re-parented without a policy change
//! are seen at the next reload; [`bump_policy_version`] forces one.

mod adapter;
mod changes;
mod error;
mod grants;
mod index;
mod permission;
mod role;
mod rules;
mod stored;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use chrono::{DateTime, Utc};
use tracing::instrument;
use yui_domain::{AccountId, GrantId};
use yui_store::{PlatformReason, PolicyTx, Store};

pub use adapter::{SqlAdapter, load_tenant_nodes};
pub use error::{AuthzError, Result};
pub use grants::{
    Grant, NewGrant, grant, grant_in, list_grants, list_grants_in, revoke, revoke_in,
};
pub use permission::permission_names;
pub use role::{DEFAULT_PERMISSIONS, DefaultPermission, Role, Scope, valid_name};
pub use rules::{GrantPlace, GrantRule, PermissionRule, TenantNode, TenantTree};
pub use stored::policy_version;
pub use yui_domain::Permission;

use index::Index;

/// The casbin model (`model.conf`).
pub const MODEL: &str = include_str!("../model.conf");

/// The model, parsed.
pub async fn model() -> Result<DefaultModel> {
    Ok(DefaultModel::from_str(MODEL).await?)
}

/// Bumps the policy version without changing the policy, so every node reloads (after
/// re-parenting a tenant, for example).
pub async fn bump_policy_version(store: &Store) -> Result<i64> {
    let mut tx = store.platform(PlatformReason::Policy).write().await?;
    let version = tx.bump_policy_version().await?;
    tx.commit().await?;
    Ok(version)
}

/// casbin's request domains for one tenant.
#[derive(Debug, Clone)]
struct CasbinDomains {
    dom: String,
    up: String,
}

/// A snapshot of the policy, able to decide. Cheap to consult from many threads; to
/// follow changes, hold it in a [`SharedAuthz`].
pub struct Authz {
    enforcer: Enforcer,
    index: Index,
    domains: HashMap<String, CasbinDomains>,
    version: i64,
    as_of: DateTime<Utc>,
    next_end: Option<DateTime<Utc>>,
}

impl fmt::Debug for Authz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authz")
            .field("version", &self.version)
            .field("as_of", &self.as_of)
            .field("next_end", &self.next_end)
            .field("tenants", &self.domains.len())
            .finish_non_exhaustive()
    }
}

fn dedup(rules: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let mut seen = HashSet::with_capacity(rules.len());
    rules
        .into_iter()
        .filter(|r| seen.insert(r.clone()))
        .collect()
}

impl Authz {
    /// Loads the policy from the database as of `now` (grants ended by then are left
    /// out), through casbin and [`SqlAdapter`].
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn load(store: &Store, now: DateTime<Utc>) -> Result<Authz> {
        // The version first: a change committed after this read makes the next poll
        // reload, so a snapshot is never newer-looking than its rules.
        let version = policy_version(store).await?;
        let tenants = TenantTree::new(&stored::tenant_nodes(store).await?);
        let adapter = SqlAdapter::new(store.clone(), now).with_tenants(tenants.clone());
        let enforcer = Enforcer::new(model().await?, adapter).await?;
        Ok(Self::from_enforcer(enforcer, &tenants, version, now))
    }

    /// Builds a snapshot from rules in memory (casbin with its `MemoryAdapter`): for
    /// tests and benchmarks. Grants ended by `now` are left out, as [`Authz::load`] does.
    pub async fn from_rules(
        tenants: &[TenantNode],
        permissions: &[PermissionRule],
        grants: &[GrantRule],
        version: i64,
        now: DateTime<Utc>,
    ) -> Result<Authz> {
        let tree = TenantTree::new(tenants);
        let mut enforcer = Enforcer::new(model().await?, MemoryAdapter::default()).await?;
        for p in permissions {
            p.check().map_err(AuthzError::Invalid)?;
        }
        let p = dedup(
            permissions
                .iter()
                .filter_map(|p| p.to_casbin(&tree))
                .collect(),
        );
        let g = dedup(
            grants
                .iter()
                .filter(|g| g.live_at(now))
                .filter_map(|g| g.to_casbin(&tree))
                .collect(),
        );
        if !p.is_empty() {
            enforcer.add_policies(p).await?;
        }
        if !g.is_empty() {
            enforcer.add_grouping_policies(g).await?;
        }
        Ok(Self::from_enforcer(enforcer, &tree, version, now))
    }

    /// Materialises the index from what casbin holds.
    fn from_enforcer(
        enforcer: Enforcer,
        tenants: &TenantTree,
        version: i64,
        as_of: DateTime<Utc>,
    ) -> Authz {
        let mut permissions = Vec::new();
        for rule in enforcer.get_policy() {
            match PermissionRule::from_casbin(&rule, tenants) {
                Ok(p) => permissions.push(p),
                Err(e) => tracing::warn!("casbin policy ignored by the index: {e}"),
            }
        }
        let mut grants = Vec::new();
        for rule in enforcer.get_grouping_policy() {
            match GrantRule::from_casbin(&rule, tenants) {
                Ok(g) => grants.push(g),
                Err(e) => tracing::warn!("casbin grouping rule ignored by the index: {e}"),
            }
        }
        let next_end = grants.iter().filter_map(|g| g.valid_until).min();
        let index = Index::build(tenants, &permissions, &grants);
        let domains = tenants
            .iter()
            .filter_map(|(id, slug)| {
                Some((
                    slug.to_owned(),
                    CasbinDomains {
                        dom: tenants.domain_of(id)?,
                        up: tenants.up_domain_of(id).unwrap_or_default(),
                    },
                ))
            })
            .collect();
        Authz {
            enforcer,
            index,
            domains,
            version,
            as_of,
            next_end,
        }
    }

    /// Does `account` hold `permission` in the tenant `tenant_slug` at `now`? An
    /// unknown tenant or an ended grant is a denial.
    #[inline]
    pub fn check(
        &self,
        account: AccountId,
        tenant_slug: &str,
        permission: Permission,
        now: DateTime<Utc>,
    ) -> bool {
        let (object, action) = permission_names(permission);
        self.allows(account, tenant_slug, object, action, now)
    }

    /// Does `account` hold `permission` on the platform, outside any tenant
    /// (onboarding or suspending a tenant, reading the platform audit log)? Only
    /// global grants count.
    #[inline]
    pub fn check_platform(
        &self,
        account: AccountId,
        permission: Permission,
        now: DateTime<Utc>,
    ) -> bool {
        let (object, action) = permission_names(permission);
        self.allows_platform(account, object, action, now)
    }

    /// May `account_id` do `action` on `object` in the tenant `tenant_slug` at `now`?
    /// The decision on the model's names, behind [`Authz::check`]; for tests, benches
    /// and tools. An unknown tenant, a malformed name or an ended grant is a denial.
    #[inline]
    pub fn allows(
        &self,
        account_id: AccountId,
        tenant_slug: &str,
        object: &str,
        action: &str,
        now: DateTime<Utc>,
    ) -> bool {
        if !valid_name(object) || !valid_name(action) {
            return false;
        }
        match self.index.tenant(tenant_slug) {
            Some(t) => self.index.decide(account_id, Some(t), object, action, now),
            None => false,
        }
    }

    /// May `account_id` do `action` on `object` on the platform, outside any tenant?
    /// The decision on names behind [`Authz::check_platform`]. Only global grants count.
    #[inline]
    pub fn allows_platform(
        &self,
        account_id: AccountId,
        object: &str,
        action: &str,
        now: DateTime<Utc>,
    ) -> bool {
        valid_name(object)
            && valid_name(action)
            && self.index.decide(account_id, None, object, action, now)
    }

    /// The same question put to casbin's `enforce()` (the slow reference). casbin knows
    /// no time: it answers as of this snapshot's instant, so it agrees with
    /// [`Authz::allows`] for any `now` from [`Authz::as_of`] until [`Authz::next_end`].
    /// `tenant_slug` `None` asks at platform level, like [`Authz::allows_platform`].
    pub fn check_with_casbin(
        &self,
        account_id: AccountId,
        tenant_slug: Option<&str>,
        object: &str,
        action: &str,
    ) -> Result<bool> {
        if !valid_name(object) || !valid_name(action) {
            return Ok(false);
        }
        let (dom, up) = match tenant_slug {
            None => ("", ""),
            Some(slug) => match self.domains.get(slug) {
                Some(d) => (d.dom.as_str(), d.up.as_str()),
                None => return Ok(false),
            },
        };
        self.enforce_raw(&rules::subject(account_id), dom, up, object, action)
    }

    /// casbin's `enforce()` on a raw request, no checks in front.
    fn enforce_raw(&self, sub: &str, dom: &str, up: &str, obj: &str, act: &str) -> Result<bool> {
        Ok(self.enforcer.enforce((sub, dom, up, obj, act))?)
    }

    /// The roles `account_id` holds at `now` that bear on requests in `tenant_slug`
    /// (its own, its parent's for children, the global ones), with their scopes.
    pub fn roles(
        &self,
        account_id: AccountId,
        tenant_slug: &str,
        now: DateTime<Utc>,
    ) -> Vec<(Role, Scope)> {
        match self.index.tenant(tenant_slug) {
            Some(t) => self.index.roles(account_id, Some(t), now),
            None => Vec::new(),
        }
    }

    /// The tenants where `account_id` holds a role of scope `tenant` at `now`, with
    /// those roles, ordered by slug. Its cost follows the person's grants, not the
    /// number of tenants (the account and token pages use it).
    pub fn tenant_roles_of(
        &self,
        account_id: AccountId,
        now: DateTime<Utc>,
    ) -> Vec<(String, Vec<Role>)> {
        self.index.places(account_id, now)
    }

    /// The policy version this snapshot was loaded at.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The instant this snapshot was loaded as of.
    pub fn as_of(&self) -> DateTime<Utc> {
        self.as_of
    }

    /// When the first loaded grant ends, after which a reload refreshes casbin's view.
    pub fn next_end(&self) -> Option<DateTime<Utc>> {
        self.next_end
    }

    /// The casbin enforcer behind this snapshot (read-only: changes go through
    /// [`grant`], [`revoke`] or an enforcer of your own on a [`SqlAdapter`]).
    pub fn enforcer(&self) -> &Enforcer {
        &self.enforcer
    }

    /// A newer snapshot when the stored policy changed since this one was loaded, or a
    /// loaded grant has ended by `now`; `None` when this one is current.
    pub async fn refresh_if_changed(
        &self,
        store: &Store,
        now: DateTime<Utc>,
    ) -> Result<Option<Authz>> {
        let version = policy_version(store).await?;
        if version == self.version && self.next_end.is_none_or(|end| now < end) {
            return Ok(None);
        }
        Ok(Some(Authz::load(store, now).await?))
    }
}

/// The current [`Authz`] snapshot, shared by the request handlers of one node and
/// replaced whole when the policy changes. Cloning shares it.
#[derive(Clone)]
pub struct SharedAuthz {
    current: Arc<RwLock<Arc<Authz>>>,
}

impl fmt::Debug for SharedAuthz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedAuthz")
            .field(&self.snapshot())
            .finish()
    }
}

impl SharedAuthz {
    pub fn new(authz: Authz) -> SharedAuthz {
        SharedAuthz {
            current: Arc::new(RwLock::new(Arc::new(authz))),
        }
    }

    /// The current snapshot. (A writer that panicked cannot leave it half-replaced:
    /// replacing is one assignment, so a poisoned lock is still sound to read.)
    pub fn snapshot(&self) -> Arc<Authz> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// [`Authz::check`] on the current snapshot.
    #[inline]
    pub fn check(
        &self,
        account: AccountId,
        tenant_slug: &str,
        permission: Permission,
        now: DateTime<Utc>,
    ) -> bool {
        let guard = self.current.read().unwrap_or_else(PoisonError::into_inner);
        guard.check(account, tenant_slug, permission, now)
    }

    /// [`Authz::check_platform`] on the current snapshot.
    #[inline]
    pub fn check_platform(
        &self,
        account: AccountId,
        permission: Permission,
        now: DateTime<Utc>,
    ) -> bool {
        let guard = self.current.read().unwrap_or_else(PoisonError::into_inner);
        guard.check_platform(account, permission, now)
    }

    /// [`Authz::allows`] on the current snapshot.
    #[inline]
    pub fn allows(
        &self,
        account_id: AccountId,
        tenant_slug: &str,
        object: &str,
        action: &str,
        now: DateTime<Utc>,
    ) -> bool {
        let guard = self.current.read().unwrap_or_else(PoisonError::into_inner);
        guard.allows(account_id, tenant_slug, object, action, now)
    }

    /// [`Authz::allows_platform`] on the current snapshot.
    #[inline]
    pub fn allows_platform(
        &self,
        account_id: AccountId,
        object: &str,
        action: &str,
        now: DateTime<Utc>,
    ) -> bool {
        let guard = self.current.read().unwrap_or_else(PoisonError::into_inner);
        guard.allows_platform(account_id, object, action, now)
    }

    /// Installs `authz` unless the current snapshot is newer (a slow reload must not
    /// undo a faster, later one).
    pub fn replace(&self, authz: Authz) {
        let mut guard = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if (authz.version, authz.as_of) >= (guard.version, guard.as_of) {
            let old = std::mem::replace(&mut *guard, Arc::new(authz));
            drop(guard);
            // A large snapshot takes a while to free: not while readers wait.
            drop(old);
        }
    }

    /// Reloads when the stored policy changed (or a grant ended); true when it did.
    /// Decisions go on against the old snapshot while the new one loads.
    pub async fn refresh_if_changed(&self, store: &Store, now: DateTime<Utc>) -> Result<bool> {
        let current = self.snapshot();
        match current.refresh_if_changed(store, now).await? {
            Some(fresh) => {
                tracing::debug!(
                    from = current.version,
                    to = fresh.version,
                    "policy reloaded"
                );
                self.replace(fresh);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// [`grant`], then reload at once so this node sees it without waiting for a poll.
    /// (After [`grant_in`] or [`revoke_in`], call [`SharedAuthz::refresh_if_changed`]
    /// once the transaction has committed.)
    pub async fn grant(&self, store: &Store, new: &NewGrant, now: DateTime<Utc>) -> Result<Grant> {
        let granted = grant(store, new, now).await?;
        self.refresh_if_changed(store, now).await?;
        Ok(granted)
    }

    /// [`revoke`], then reload at once.
    pub async fn revoke(
        &self,
        store: &Store,
        grant_id: GrantId,
        revoked_by: Option<AccountId>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        revoke(store, grant_id, revoked_by, now).await?;
        self.refresh_if_changed(store, now).await?;
        Ok(())
    }

    /// Polls the policy version every `every` and reloads when it moved, so a change
    /// made on another node takes effect here within `every` plus a reload. `clock`
    /// gives the current time (the binary passes `chrono::Utc::now`). A failed poll is
    /// logged and the current snapshot kept. Abort the handle to stop it.
    pub fn spawn_refresher<C>(
        &self,
        store: Store,
        every: Duration,
        clock: C,
    ) -> tokio::task::JoinHandle<()>
    where
        C: Fn() -> DateTime<Utc> + Send + Sync + 'static,
    {
        let shared = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(e) = shared.refresh_if_changed(&store, clock()).await {
                    tracing::warn!("policy refresh failed, keeping the current policy: {e}");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests;
