//! What a person may be allowed to do. Handlers ask for a [`Permission`]; the
//! authorization crate alone maps it to the names of its casbin model.

/// One thing a role may allow, in a tenant or (for operators) on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See a tenant's staff and their roles.
    StaffRead,
    /// Invite staff and give them a role.
    StaffInvite,
    /// End a staff member's role.
    StaffRevoke,
    /// Read an audit log (a tenant's, or on the platform the whole one).
    AuditRead,
    /// See the tenants of the platform (operator console).
    TenantRead,
    /// Suspend a tenant.
    TenantSuspend,
    /// Resume a suspended tenant.
    TenantResume,
    /// Create a tenant from the console (onboarding) and invite its first admin.
    TenantOnboard,
    /// Ask for, confirm and carry out a tenant's export or deletion (a region
    /// leaving the platform; always two operators).
    TenantOffboard,
    /// Change a tenant's settings.
    TenantConfigure,
    /// Manage programs.
    ProgramManage,
    /// Read key figures.
    KpiRead,
    /// Read the fiscal-year report.
    ReportRead,
    /// Export personal data (logged).
    ExportCreate,
    /// Read the profiles of the tenant's talents whose consent covers its staff.
    TalentRead,
    /// See every host organization of a tenant.
    HostRead,
    /// Create, approve and edit any host of a tenant (coordinators, municipal staff).
    HostManage,
    /// Edit one's own host (host members; the handler checks which host is theirs).
    HostWriteOwn,
    /// See every project of a tenant, drafts included.
    ProjectRead,
    /// Create, edit, open and close any project of a tenant (co-design).
    ProjectManage,
    /// Edit one's own host's projects (host members; ownership checked on top).
    ProjectWriteOwn,
    /// Read the tenant's hearings (ヒアリング) of talents and hosts.
    HearingRead,
    /// Record and edit hearings.
    HearingWrite,
    /// Scout talents of the shared pool for the tenant's projects (スカウト).
    PoolScout,
    /// See every event of a tenant, drafts included, and its registrants.
    EventRead,
    /// Create, edit, publish and call off events.
    EventManage,
    /// Check registrants in at an event (municipal staff supporting on site).
    EventCheckIn,
    /// Approve, decline and cancel others' registrations; travel subsidies.
    RegistrationManage,
    /// A round's set-up, entrants and result, as staff see them.
    RoundRead,
    /// Runs a round: set-up, solving, adjustments, publication.
    RoundManage,
    /// Write and send the tenant's newsletters to its members who opted in.
    NewsletterSend,
    /// See engagements (mentors: only those assigned to them, checked on top).
    EngagementRead,
    /// Create engagements, change their terms and status, assign mentors.
    EngagementManage,
    /// Read the check-ins of engagements.
    CheckinRead,
    /// Write notes on engagements (mentors: assigned ones only, checked on top).
    CheckinWrite,
    /// Report on one's own engagements (host members; which host checked on top).
    EngagementReportOwn,
    /// Writes case studies (事例), sends them for approval, publishes and withdraws them.
    CaseStudyManage,
}

impl Permission {
    /// Every permission, for tests that each one maps to the model.
    pub const ALL: [Permission; 37] = [
        Permission::StaffRead,
        Permission::StaffInvite,
        Permission::StaffRevoke,
        Permission::AuditRead,
        Permission::TenantRead,
        Permission::TenantSuspend,
        Permission::TenantResume,
        Permission::TenantConfigure,
        Permission::ProgramManage,
        Permission::KpiRead,
        Permission::ReportRead,
        Permission::ExportCreate,
        Permission::TalentRead,
        Permission::HostRead,
        Permission::HostManage,
        Permission::HostWriteOwn,
        Permission::ProjectRead,
        Permission::ProjectManage,
        Permission::ProjectWriteOwn,
        Permission::HearingRead,
        Permission::HearingWrite,
        Permission::PoolScout,
        Permission::EventRead,
        Permission::EventManage,
        Permission::EventCheckIn,
        Permission::RegistrationManage,
        Permission::RoundRead,
        Permission::RoundManage,
        Permission::NewsletterSend,
        Permission::EngagementRead,
        Permission::EngagementManage,
        Permission::CheckinRead,
        Permission::CheckinWrite,
        Permission::EngagementReportOwn,
        Permission::CaseStudyManage,
        Permission::TenantOnboard,
        Permission::TenantOffboard,
    ];
}
