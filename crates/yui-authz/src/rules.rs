//! The policy in typed form, and its casbin spelling.
//!
//! Everything that reaches casbin passes through here, so casbin only ever holds
//! well-formed, namespaced rules: subjects `u:<account id>`, roles `r:<role>`, domains
//! `t:<tenant path>`, `t:<tenant path>/*` or `*`.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use yui_domain::{AccountId, TenantId};
pub use yui_store::TenantNode;

use crate::role::{Role, Scope, scope_allowed, valid_rule_name};

/// The casbin domain of platform-wide grants.
pub const GLOBAL_DOMAIN: &str = "*";

/// The tenants with their paths (`iwate`, `iwate/ichinoseki`).
#[derive(Debug, Clone, Default)]
pub struct TenantTree {
    by_id: HashMap<TenantId, (String, String)>,
    by_slug: HashMap<String, TenantId>,
    parent: HashMap<TenantId, TenantId>,
}

/// Tenants are at most this deep; a deeper (or cyclic) chain is cut there.
const MAX_DEPTH: usize = 8;

impl TenantTree {
    pub fn new(nodes: &[TenantNode]) -> TenantTree {
        let nodes_by_id: HashMap<TenantId, &TenantNode> = nodes.iter().map(|n| (n.id, n)).collect();
        let mut tree = TenantTree::default();
        for node in nodes {
            let mut segments = vec![node.slug.as_str()];
            let mut cur = node.parent_id;
            while let Some(pid) = cur {
                let Some(p) = nodes_by_id.get(&pid) else {
                    break;
                };
                if segments.len() >= MAX_DEPTH {
                    break;
                }
                segments.push(&p.slug);
                cur = p.parent_id;
            }
            segments.reverse();
            tree.by_id
                .insert(node.id, (node.slug.clone(), segments.join("/")));
            tree.by_slug.insert(node.slug.clone(), node.id);
            if let Some(pid) = node.parent_id.filter(|p| nodes_by_id.contains_key(p)) {
                tree.parent.insert(node.id, pid);
            }
        }
        tree
    }

    pub fn id_of(&self, slug: &str) -> Option<TenantId> {
        self.by_slug.get(slug).copied()
    }

    pub fn slug_of(&self, id: TenantId) -> Option<&str> {
        self.by_id.get(&id).map(|(s, _)| s.as_str())
    }

    /// `iwate/ichinoseki` for ichinoseki.
    pub fn path_of(&self, id: TenantId) -> Option<&str> {
        self.by_id.get(&id).map(|(_, p)| p.as_str())
    }

    /// The tenant's own casbin domain, `t:<path>`.
    pub fn domain_of(&self, id: TenantId) -> Option<String> {
        self.path_of(id).map(|p| format!("t:{p}"))
    }

    /// The domain of grants on the tenant's children, `t:<path>/*`.
    pub fn children_domain_of(&self, id: TenantId) -> Option<String> {
        self.path_of(id).map(|p| format!("t:{p}/*"))
    }

    /// The children domain of the tenant's parent, if it has one: the `up` of requests.
    pub fn up_domain_of(&self, id: TenantId) -> Option<String> {
        self.parent
            .get(&id)
            .and_then(|pid| self.children_domain_of(*pid))
    }

    /// Every tenant: (id, slug).
    pub fn iter(&self) -> impl Iterator<Item = (TenantId, &str)> {
        self.by_id
            .iter()
            .map(|(id, (slug, _))| (*id, slug.as_str()))
    }

    /// The tenant whose domain is `t:<path>`.
    fn id_of_domain(&self, path: &str) -> Option<TenantId> {
        let slug = path.rsplit('/').next()?;
        let id = self.id_of(slug)?;
        (self.path_of(id) == Some(path)).then_some(id)
    }
}

/// Where a grant holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantPlace {
    /// In the tenant with this id (scope `tenant`).
    Tenant(TenantId),
    /// On the tenant with this id, for its children (scope `children`).
    Children(TenantId),
    /// Platform-wide (scope `global`).
    Global,
}

impl GrantPlace {
    pub fn scope(self) -> Scope {
        match self {
            GrantPlace::Tenant(_) => Scope::Tenant,
            GrantPlace::Children(_) => Scope::Children,
            GrantPlace::Global => Scope::Global,
        }
    }

    pub fn tenant_id(self) -> Option<TenantId> {
        match self {
            GrantPlace::Tenant(t) | GrantPlace::Children(t) => Some(t),
            GrantPlace::Global => None,
        }
    }

    pub fn new(scope: Scope, tenant_id: Option<TenantId>) -> Option<GrantPlace> {
        match (scope, tenant_id) {
            (Scope::Tenant, Some(t)) => Some(GrantPlace::Tenant(t)),
            (Scope::Children, Some(t)) => Some(GrantPlace::Children(t)),
            (Scope::Global, None) => Some(GrantPlace::Global),
            _ => None,
        }
    }
}

/// casbin's g rule: an account holds a role somewhere, possibly until a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRule {
    pub account_id: AccountId,
    pub role: Role,
    pub place: GrantPlace,
    /// The grant stops working at this instant (exclusive).
    pub valid_until: Option<DateTime<Utc>>,
}

impl GrantRule {
    /// `[u:<id>, r:<role>, <domain>, <until or "">]`, or `None` when the tenant is unknown.
    pub fn to_casbin(&self, tenants: &TenantTree) -> Option<Vec<String>> {
        let domain = match self.place {
            GrantPlace::Tenant(t) => tenants.domain_of(t)?,
            GrantPlace::Children(t) => tenants.children_domain_of(t)?,
            GrantPlace::Global => GLOBAL_DOMAIN.to_owned(),
        };
        Some(vec![
            subject(self.account_id),
            self.role.casbin_name().to_owned(),
            domain,
            self.valid_until.map(format_time).unwrap_or_default(),
        ])
    }

    /// Reads a casbin g rule back. The role must fit the scope.
    pub fn from_casbin(rule: &[String], tenants: &TenantTree) -> Result<GrantRule, String> {
        let [sub, role, domain, rest @ ..] = rule else {
            return Err(format!(
                "grouping rule {rule:?}: expected at least 3 fields"
            ));
        };
        let account_id = parse_subject(sub)
            .ok_or_else(|| format!("grouping rule {rule:?}: subject must be u:<account id>"))?;
        let role = Role::from_casbin(role)
            .ok_or_else(|| format!("grouping rule {rule:?}: unknown role {role:?}"))?;
        let place = if domain == GLOBAL_DOMAIN {
            GrantPlace::Global
        } else if let Some(path) = domain.strip_prefix("t:").and_then(|d| d.strip_suffix("/*")) {
            GrantPlace::Children(
                tenants
                    .id_of_domain(path)
                    .ok_or_else(|| format!("grouping rule {rule:?}: no tenant at {path:?}"))?,
            )
        } else if let Some(path) = domain.strip_prefix("t:") {
            GrantPlace::Tenant(
                tenants
                    .id_of_domain(path)
                    .ok_or_else(|| format!("grouping rule {rule:?}: no tenant at {path:?}"))?,
            )
        } else {
            return Err(format!("grouping rule {rule:?}: unknown domain {domain:?}"));
        };
        if !scope_allowed(role, place.scope()) {
            return Err(format!(
                "grouping rule {rule:?}: role {role} cannot be held with scope {}",
                place.scope()
            ));
        }
        let valid_until = match rest.first().map(String::as_str) {
            None | Some("") => None,
            Some(t) => Some(parse_time(t).ok_or_else(|| {
                format!("grouping rule {rule:?}: end {t:?} is not an RFC 3339 time")
            })?),
        };
        Ok(GrantRule {
            account_id,
            role,
            place,
            valid_until,
        })
    }

    /// Whether the grant still works at `now`.
    pub fn live_at(&self, now: DateTime<Utc>) -> bool {
        self.valid_until.is_none_or(|u| now < u)
    }
}

/// casbin's p rule: a role held with a scope may do an action on an object, in every
/// tenant or in one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PermissionRule {
    pub role: Role,
    pub scope: Scope,
    /// `None`: in every tenant.
    pub tenant_id: Option<TenantId>,
    pub object: String,
    pub action: String,
}

impl PermissionRule {
    /// `[r:<role>, <scope>, <domain or *>, <object>, <action>]`.
    pub fn to_casbin(&self, tenants: &TenantTree) -> Option<Vec<String>> {
        let domain = match self.tenant_id {
            None => GLOBAL_DOMAIN.to_owned(),
            Some(t) => tenants.domain_of(t)?,
        };
        Some(vec![
            self.role.casbin_name().to_owned(),
            self.scope.as_str().to_owned(),
            domain,
            self.object.clone(),
            self.action.clone(),
        ])
    }

    pub fn from_casbin(rule: &[String], tenants: &TenantTree) -> Result<PermissionRule, String> {
        let [role, scope, domain, object, action] = rule else {
            return Err(format!("policy rule {rule:?}: expected 5 fields"));
        };
        let role = Role::from_casbin(role)
            .ok_or_else(|| format!("policy rule {rule:?}: unknown role {role:?}"))?;
        let scope = Scope::parse(scope)
            .ok_or_else(|| format!("policy rule {rule:?}: unknown scope {scope:?}"))?;
        let tenant_id = if domain == GLOBAL_DOMAIN {
            None
        } else {
            let path = domain
                .strip_prefix("t:")
                .ok_or_else(|| format!("policy rule {rule:?}: unknown domain {domain:?}"))?;
            Some(
                tenants
                    .id_of_domain(path)
                    .ok_or_else(|| format!("policy rule {rule:?}: no tenant at {path:?}"))?,
            )
        };
        let rule = PermissionRule {
            role,
            scope,
            tenant_id,
            object: object.clone(),
            action: action.clone(),
        };
        rule.check()?;
        Ok(rule)
    }

    /// Object and action must be names or `*`.
    pub fn check(&self) -> Result<(), String> {
        if !valid_rule_name(&self.object) {
            return Err(format!("policy object {:?}: not a name or *", self.object));
        }
        if !valid_rule_name(&self.action) {
            return Err(format!("policy action {:?}: not a name or *", self.action));
        }
        Ok(())
    }
}

/// The casbin subject of an account.
pub fn subject(account_id: AccountId) -> String {
    format!("u:{account_id}")
}

fn parse_subject(s: &str) -> Option<AccountId> {
    let digits = s.strip_prefix("u:")?;
    // Only the canonical spelling, so one account has one subject.
    let id: AccountId = digits.parse().ok()?;
    (subject(id) == s).then_some(id)
}

/// RFC 3339 in UTC, as grant ends are spelled in casbin rules.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tid(id: i64) -> TenantId {
        TenantId::new(id)
    }

    fn tree() -> TenantTree {
        TenantTree::new(&[
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
                slug: "amami".into(),
                parent_id: None,
            },
        ])
    }

    #[test]
    fn paths_and_domains() {
        let t = tree();
        assert_eq!(t.path_of(tid(2)), Some("iwate/ichinoseki"));
        assert_eq!(t.domain_of(tid(2)).as_deref(), Some("t:iwate/ichinoseki"));
        assert_eq!(t.up_domain_of(tid(2)).as_deref(), Some("t:iwate/*"));
        assert_eq!(t.up_domain_of(tid(1)), None);
        assert_eq!(t.id_of_domain("iwate/ichinoseki"), Some(tid(2)));
        // The slug alone is not the path of a child.
        assert_eq!(t.id_of_domain("ichinoseki"), None);
        assert_eq!(t.id_of_domain("amami/ichinoseki"), None);
    }

    #[test]
    fn grant_rules_round_trip() {
        let t = tree();
        let until = DateTime::parse_from_rfc3339("2026-03-31T15:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for rule in [
            GrantRule {
                account_id: AccountId::new(7),
                role: Role::TenantAdmin,
                place: GrantPlace::Children(tid(1)),
                valid_until: Some(until),
            },
            GrantRule {
                account_id: AccountId::new(7),
                role: Role::Coordinator,
                place: GrantPlace::Tenant(tid(2)),
                valid_until: None,
            },
            GrantRule {
                account_id: AccountId::new(9),
                role: Role::PlatformOperator,
                place: GrantPlace::Global,
                valid_until: None,
            },
        ] {
            let c = rule.to_casbin(&t).unwrap();
            assert_eq!(GrantRule::from_casbin(&c, &t).unwrap(), rule);
        }
        let c = GrantRule {
            account_id: AccountId::new(7),
            role: Role::TenantAdmin,
            place: GrantPlace::Children(tid(1)),
            valid_until: Some(until),
        }
        .to_casbin(&t)
        .unwrap();
        assert_eq!(
            c,
            ["u:7", "r:tenant_admin", "t:iwate/*", "2026-03-31T15:00:00Z"]
        );
    }

    #[test]
    fn malformed_rules_are_refused() {
        let t = tree();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        for bad in [
            s(&["u:07", "r:talent", "t:iwate", ""]),
            s(&["alice", "r:talent", "t:iwate", ""]),
            s(&["u:1", "talent", "t:iwate", ""]),
            s(&["u:1", "r:talent", "iwate", ""]),
            s(&["u:1", "r:talent", "t:nowhere", ""]),
            s(&["u:1", "r:talent", "*", ""]),
            s(&["u:1", "r:platform_operator", "t:iwate", ""]),
            s(&["u:1", "r:talent", "t:iwate", "tomorrow"]),
            s(&["u:1", "r:talent"]),
        ] {
            assert!(GrantRule::from_casbin(&bad, &t).is_err(), "{bad:?}");
        }
        for bad in [
            s(&["r:talent", "tenant", "*", "role::x", "read"]),
            s(&["r:talent", "tenant", "*", "kpi", "r:read"]),
            s(&["r:talent", "galaxy", "*", "kpi", "read"]),
            s(&["u:1", "tenant", "*", "kpi", "read"]),
            s(&["r:talent", "tenant", "t:*", "kpi", "read"]),
        ] {
            assert!(PermissionRule::from_casbin(&bad, &t).is_err(), "{bad:?}");
        }
    }
}
