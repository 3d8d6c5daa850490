//! What a [`Permission`] is called in the casbin model: the one place where
//! permissions are spelt as (object, action) names.

use yui_domain::Permission;

/// The model's (object, action) names of a permission.
pub fn permission_names(permission: Permission) -> (&'static str, &'static str) {
    match permission {
        Permission::StaffRead => ("staff", "read"),
        Permission::StaffInvite => ("staff", "invite"),
        Permission::StaffRevoke => ("staff", "revoke"),
        Permission::AuditRead => ("audit", "read"),
        Permission::TenantRead => ("tenant", "read"),
        Permission::TenantSuspend => ("tenant", "suspend"),
        Permission::TenantResume => ("tenant", "resume"),
        Permission::TenantOnboard => ("tenant", "onboard"),
        Permission::TenantOffboard => ("tenant", "offboard"),
        Permission::TenantConfigure => ("tenant", "configure"),
        Permission::ProgramManage => ("program", "manage"),
        Permission::KpiRead => ("kpi", "read"),
        Permission::ReportRead => ("report", "read"),
        Permission::ExportCreate => ("export", "create"),
        Permission::TalentRead => ("talent", "read"),
        Permission::HostRead => ("host", "read"),
        Permission::HostManage => ("host", "manage"),
        Permission::HostWriteOwn => ("host", "write_own"),
        Permission::ProjectRead => ("project", "read"),
        Permission::ProjectManage => ("project", "manage"),
        Permission::ProjectWriteOwn => ("project", "write_own"),
        Permission::HearingRead => ("hearing", "read"),
        Permission::HearingWrite => ("hearing", "write"),
        Permission::PoolScout => ("pool", "scout"),
        Permission::EventRead => ("event", "read"),
        Permission::EventManage => ("event", "manage"),
        Permission::EventCheckIn => ("event", "support"),
        Permission::RegistrationManage => ("registration", "manage"),
        Permission::RoundRead => ("round", "read"),
        Permission::RoundManage => ("round", "manage"),
        Permission::NewsletterSend => ("newsletter", "send"),
        Permission::EngagementRead => ("engagement", "read"),
        Permission::EngagementManage => ("engagement", "manage"),
        Permission::CheckinRead => ("checkin", "read"),
        Permission::CheckinWrite => ("checkin", "write"),
        Permission::EngagementReportOwn => ("engagement", "report_own"),
        Permission::CaseStudyManage => ("case_study", "manage"),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use yui_domain::{AccountId, TenantId};

    use super::*;
    use crate::Authz;
    use crate::role::{DEFAULT_PERMISSIONS, Role, Scope, scope_allowed, valid_name};
    use crate::rules::{GrantPlace, GrantRule, PermissionRule, TenantNode};

    /// Where a permission is asked: in a tenant ([`Authz::check`]) or on the
    /// platform ([`Authz::check_platform`]).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Asked {
        InTenant,
        OnPlatform,
    }

    /// Where each permission is asked, and the scope of the grant that should allow it.
    fn expected(permission: Permission) -> &'static [(Asked, Scope)] {
        use Asked::*;
        match permission {
            Permission::TenantRead
            | Permission::TenantSuspend
            | Permission::TenantResume
            | Permission::TenantOnboard
            | Permission::TenantOffboard => &[(OnPlatform, Scope::Global)],
            Permission::AuditRead => &[(InTenant, Scope::Tenant), (OnPlatform, Scope::Global)],
            Permission::StaffRead
            | Permission::StaffInvite
            | Permission::StaffRevoke
            | Permission::TenantConfigure
            | Permission::ProgramManage
            | Permission::KpiRead
            | Permission::ReportRead
            | Permission::ExportCreate
            | Permission::TalentRead
            | Permission::HostRead
            | Permission::HostManage
            | Permission::HostWriteOwn
            | Permission::ProjectRead
            | Permission::ProjectManage
            | Permission::ProjectWriteOwn
            | Permission::HearingRead
            | Permission::HearingWrite
            | Permission::PoolScout
            | Permission::EventRead
            | Permission::EventManage
            | Permission::EventCheckIn
            | Permission::RegistrationManage
            | Permission::RoundRead
            | Permission::RoundManage
            | Permission::NewsletterSend => &[(InTenant, Scope::Tenant)],
            Permission::EngagementRead
            | Permission::EngagementManage
            | Permission::CheckinRead
            | Permission::CheckinWrite
            | Permission::EngagementReportOwn => &[(InTenant, Scope::Tenant)],
            Permission::CaseStudyManage => &[(InTenant, Scope::Tenant)],
        }
    }

    #[test]
    fn names_are_valid_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for p in Permission::ALL {
            let (object, action) = permission_names(p);
            assert!(valid_name(object) && valid_name(action), "{p:?}");
            assert!(seen.insert((object, action)), "{p:?} shares its names");
        }
    }

    /// Every permission is granted by at least one default role held in the scope
    /// where it is asked, through the same decision handlers get.
    #[tokio::test]
    async fn every_permission_is_granted_by_a_default_role() {
        let now = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
        let iwate = TenantId::new(1);
        let tenants = [TenantNode {
            id: iwate,
            slug: "iwate".into(),
            parent_id: None,
        }];
        let permissions: Vec<PermissionRule> = DEFAULT_PERMISSIONS
            .iter()
            .map(|p| PermissionRule {
                role: p.role,
                scope: p.scope,
                tenant_id: None,
                object: p.object.to_owned(),
                action: p.action.to_owned(),
            })
            .collect();
        // One account per (role, scope) the role may be held with.
        let mut holders = Vec::new();
        for role in Role::ALL {
            for scope in Scope::ALL.into_iter().filter(|s| scope_allowed(role, *s)) {
                let place = match scope {
                    Scope::Tenant => GrantPlace::Tenant(iwate),
                    Scope::Children => GrantPlace::Children(iwate),
                    Scope::Global => GrantPlace::Global,
                };
                holders.push((AccountId::new(holders.len() as i64 + 1), role, scope, place));
            }
        }
        let grants: Vec<GrantRule> = holders
            .iter()
            .map(|(account_id, role, _, place)| GrantRule {
                account_id: *account_id,
                role: *role,
                place: *place,
                valid_until: None,
            })
            .collect();
        let authz = Authz::from_rules(&tenants, &permissions, &grants, 1, now)
            .await
            .unwrap();
        for p in Permission::ALL {
            for (asked, scope) in expected(p) {
                let granted_by: Vec<Role> = holders
                    .iter()
                    .filter(|(_, _, s, _)| s == scope)
                    .filter(|(account, _, _, _)| match asked {
                        Asked::InTenant => authz.check(*account, "iwate", p, now),
                        Asked::OnPlatform => authz.check_platform(*account, p, now),
                    })
                    .map(|(_, role, _, _)| *role)
                    .collect();
                assert!(
                    !granted_by.is_empty(),
                    "{p:?} ({asked:?}) is granted by no default role held with scope {scope}"
                );
            }
        }
        // And a permission asked on the platform is not granted by tenant roles there.
        for (account, role, _, _) in holders.iter().filter(|h| h.2 != Scope::Global) {
            for p in Permission::ALL {
                assert!(!authz.check_platform(*account, p, now), "{role} {p:?}");
            }
        }
    }
}
