//! Roles, grant scopes, and the default permissions of each role.

use std::fmt;

/// A role a person holds in a tenant (or, for platform operators, platform-wide).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Onboards, suspends and exports tenants; holds no tenant data rights.
    PlatformOperator,
    /// Prefecture or municipality staff who configure the program, staff and roles.
    TenantAdmin,
    /// The program's secretariat (often a contractor): events, hearings, rounds.
    Coordinator,
    /// Staff of a municipality: selects host organizations, supports on-site programs.
    MunicipalStaff,
    /// Accompanies assigned partnerships and writes check-ins.
    Mentor,
    /// A member of a host organization.
    HostMember,
    /// A professional who joined the tenant's region.
    Talent,
}

impl Role {
    /// Every role, in a fixed order (the order of bits in the decision index).
    pub const ALL: [Role; 7] = [
        Role::PlatformOperator,
        Role::TenantAdmin,
        Role::Coordinator,
        Role::MunicipalStaff,
        Role::Mentor,
        Role::HostMember,
        Role::Talent,
    ];

    /// The name stored in the database and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformOperator => "platform_operator",
            Role::TenantAdmin => "tenant_admin",
            Role::Coordinator => "coordinator",
            Role::MunicipalStaff => "municipal_staff",
            Role::Mentor => "mentor",
            Role::HostMember => "host_member",
            Role::Talent => "talent",
        }
    }

    /// The role with this exact name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The role's casbin name, `r:<role>`.
    pub fn casbin_name(self) -> &'static str {
        match self {
            Role::PlatformOperator => "r:platform_operator",
            Role::TenantAdmin => "r:tenant_admin",
            Role::Coordinator => "r:coordinator",
            Role::MunicipalStaff => "r:municipal_staff",
            Role::Mentor => "r:mentor",
            Role::HostMember => "r:host_member",
            Role::Talent => "r:talent",
        }
    }

    /// The role named `r:<role>` in casbin.
    pub fn from_casbin(s: &str) -> Option<Role> {
        s.strip_prefix("r:").and_then(Role::parse)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a grant holds, and so which policies it unlocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// In one tenant.
    Tenant,
    /// On a tenant, for its direct children: a prefecture's admins reading their
    /// municipalities' aggregates. Only policies with scope `children` apply.
    Children,
    /// Platform-wide (platform operators only).
    Global,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Tenant, Scope::Children, Scope::Global];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Tenant => "tenant",
            Scope::Children => "children",
            Scope::Global => "global",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a role may be granted with a scope: platform operators only platform-wide,
/// everybody else only in a tenant or on a tenant's children. (The database checks the
/// same.)
pub fn scope_allowed(role: Role, scope: Scope) -> bool {
    (role == Role::PlatformOperator) == (scope == Scope::Global)
}

/// Whether `s` is a valid object or action name: a lowercase ASCII letter, then
/// lowercase letters, digits or `_`, at most 64 bytes. Requests naming anything else
/// are denied, so `*`, `role::x`, `r:tenant_admin` or `iwate/*` never match a rule.
pub fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    matches!(b.first(), Some(b'a'..=b'z'))
        && b.len() <= 64
        && b.iter()
            .all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_'))
}

/// Whether `s` may stand in a permission rule: a valid name or the wildcard `*`.
pub fn valid_rule_name(s: &str) -> bool {
    s == "*" || valid_name(s)
}

/// One default permission: `role` may do `action` on `object` when held with `scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultPermission {
    pub role: Role,
    pub scope: Scope,
    pub object: &'static str,
    pub action: &'static str,
}

const fn perm(
    role: Role,
    scope: Scope,
    object: &'static str,
    action: &'static str,
) -> DefaultPermission {
    DefaultPermission {
        role,
        scope,
        object,
        action,
    }
}

/// The permissions migrations `0003_authz.sql`, `0013_hosts_projects.sql` and `0018_events.sql` seed into `role_permissions` for every
/// tenant. The database is the truth at run time (so all nodes agree and a change bumps
/// the policy version); this list documents the defaults, and a test keeps the two equal.
///
/// An action ending in `_own` is allowed only on the caller's own records: the domain
/// layer checks ownership on top.
pub const DEFAULT_PERMISSIONS: &[DefaultPermission] = {
    use Role::*;
    use Scope::{Children, Global, Tenant};
    &[
        perm(PlatformOperator, Global, "tenant", "*"),
        perm(PlatformOperator, Global, "audit", "read"),
        perm(TenantAdmin, Tenant, "staff", "*"),
        perm(TenantAdmin, Tenant, "role", "*"),
        perm(TenantAdmin, Tenant, "program", "*"),
        perm(TenantAdmin, Tenant, "tenant", "configure"),
        perm(TenantAdmin, Tenant, "audit", "read"),
        perm(TenantAdmin, Tenant, "kpi", "read"),
        perm(TenantAdmin, Tenant, "report", "read"),
        perm(TenantAdmin, Tenant, "export", "create"),
        perm(TenantAdmin, Children, "kpi", "read"),
        perm(TenantAdmin, Children, "report", "read"),
        perm(Coordinator, Tenant, "event", "*"),
        perm(Coordinator, Tenant, "round", "*"),
        perm(Coordinator, Tenant, "hearing", "*"),
        perm(Coordinator, Tenant, "engagement", "*"),
        perm(Coordinator, Tenant, "checkin", "read"),
        perm(Coordinator, Tenant, "registration", "*"),
        perm(Coordinator, Tenant, "host", "read"),
        perm(Coordinator, Tenant, "project", "read"),
        // Added by migration 0013: the secretariat registers hosts and co-designs
        // their projects.
        perm(Coordinator, Tenant, "host", "manage"),
        perm(Coordinator, Tenant, "project", "manage"),
        perm(Coordinator, Tenant, "talent", "read"),
        perm(Coordinator, Tenant, "pool", "scout"),
        perm(Coordinator, Tenant, "case_study", "*"),
        perm(Coordinator, Tenant, "kpi", "read"),
        perm(MunicipalStaff, Tenant, "host", "select"),
        perm(MunicipalStaff, Tenant, "host", "read"),
        // Added by migration 0013: municipal staff select and register hosts.
        perm(MunicipalStaff, Tenant, "host", "manage"),
        perm(MunicipalStaff, Tenant, "project", "read"),
        perm(MunicipalStaff, Tenant, "event", "support"),
        perm(MunicipalStaff, Tenant, "event", "read"),
        perm(MunicipalStaff, Tenant, "kpi", "read"),
        perm(Mentor, Tenant, "engagement", "read"),
        perm(Mentor, Tenant, "checkin", "write"),
        perm(Mentor, Tenant, "checkin", "read"),
        perm(HostMember, Tenant, "host", "write_own"),
        perm(HostMember, Tenant, "project", "write_own"),
        perm(HostMember, Tenant, "application", "review_own"),
        perm(HostMember, Tenant, "preference", "write_own"),
        perm(HostMember, Tenant, "engagement", "report_own"),
        perm(Talent, Tenant, "profile", "write_own"),
        perm(Talent, Tenant, "registration", "write"),
        perm(Talent, Tenant, "application", "write_own"),
        perm(Talent, Tenant, "preference", "write_own"),
        perm(Talent, Tenant, "engagement", "report_own"),
        // Added by migration 0018: the admin who configures the year's program sees
        // and runs its events too, and the secretariat keeps its program.
        perm(TenantAdmin, Tenant, "event", "*"),
        perm(TenantAdmin, Tenant, "registration", "*"),
        perm(Coordinator, Tenant, "program", "manage"),
        // Added by migration 0023: newsletters to the members who opted in.
        perm(Coordinator, Tenant, "newsletter", "*"),
        perm(TenantAdmin, Tenant, "newsletter", "*"),
    ]
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_scopes_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(Role::from_casbin(r.casbin_name()), Some(r));
            assert_eq!(r.index(), Role::ALL.iter().position(|x| *x == r).unwrap());
        }
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Role::parse("r:tenant_admin"), None);
        assert_eq!(Role::from_casbin("tenant_admin"), None);
        assert_eq!(Role::parse("Tenant_Admin"), None);
    }

    #[test]
    fn names() {
        for ok in ["kpi", "write_own", "case_study", "a1"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            "*",
            "role::x",
            "r:tenant_admin",
            "iwate/*",
            "Kpi",
            "1a",
            "_a",
            "a b",
            "ａ",
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert!(valid_rule_name("*"));
        assert!(!valid_name(&"a".repeat(65)));
    }

    #[test]
    fn defaults_are_well_formed() {
        for p in DEFAULT_PERMISSIONS {
            assert!(scope_allowed(p.role, p.scope), "{p:?}");
            assert!(
                valid_rule_name(p.object) && valid_rule_name(p.action),
                "{p:?}"
            );
        }
    }
}
