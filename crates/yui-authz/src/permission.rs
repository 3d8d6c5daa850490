//! The one place a [`Permission`] becomes the object and action names of the
//! casbin model.

use yui_domain::Permission;

/// The model's (object, action) for a permission.
pub fn names(permission: Permission) -> (&'static str, &'static str) {
    match permission {
        Permission::StaffRead => ("staff", "read"),
        Permission::StaffInvite => ("staff", "invite"),
        Permission::StaffRevoke => ("staff", "revoke"),
        Permission::AuditRead => ("audit", "read"),
        Permission::TenantRead => ("tenant", "read"),
        Permission::TenantSuspend => ("tenant", "suspend"),
        Permission::TenantResume => ("tenant", "resume"),
        Permission::TenantConfigure => ("tenant", "configure"),
        Permission::ProgramManage => ("program", "manage"),
        Permission::KpiRead => ("kpi", "read"),
        Permission::ReportRead => ("report", "read"),
        Permission::ExportCreate => ("export", "create"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DEFAULT_PERMISSIONS, valid_name};

    #[test]
    fn every_permission_is_a_model_name_some_default_role_grants() {
        for p in Permission::ALL {
            let (object, action) = names(p);
            assert!(valid_name(object) && valid_name(action), "{p:?}");
            assert!(
                DEFAULT_PERMISSIONS
                    .iter()
                    .any(|d| d.object == object && (d.action == action || d.action == "*")),
                "{p:?} ({object}, {action}) is granted by no default role"
            );
        }
    }
}
