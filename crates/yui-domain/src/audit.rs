//! What the audit trail records, and how its text is kept safe for log lines.

use serde::Serialize;

/// Things worth a line in the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    SignUp,
    SignIn,
    SignInFailed,
    SignInThrottled,
    SignOutEverywhere,
    PasswordReset,
    EmailVerified,
    RoleGranted,
    RoleRevoked,
    InvitationSent,
    InvitationWithdrawn,
    TokenCreated,
    TokenUsed,
    TokenRevoked,
    Export,
    TenantCreated,
    TenantSuspended,
    TenantResumed,
    /// A person deleted their own account (their personal fields were erased).
    AccountDeleted,
    HostStatusChanged,
    ProjectStatusChanged,
    ProgramCreated,
    ProgramEdited,
    EventCreated,
    EventEdited,
    EventStatusChanged,
    /// Staff approved, declined or cancelled someone's registration.
    RegistrationChanged,
    /// Staff recorded a travel subsidy's eligibility or payment.
    SubsidyRecorded,
    RoundCreated,
    /// A round's projects, seats or invitations changed.
    RoundEdited,
    RoundStatusChanged,
    RoundSolved,
    /// The coordinator added or removed a pair by hand, with a reason.
    RoundAdjusted,
    /// Staff sent a newsletter to the members who opted in.
    NewsletterSent,
    EngagementCreated,
    EngagementStatusChanged,
    /// The terms changed or a new term began (renewal).
    EngagementTermsChanged,
    EngagementMentorAssigned,
    /// A tenant admin set a KPI target or a historical year's figures.
    KpiFiguresEdited,
    /// A talent had a certificate of their activities signed.
    CertificateIssued,
    /// A talent withdrew one of their certificates.
    CertificateRevoked,
    /// A tenant admin saved a section of the tenant's settings in its pages.
    TenantSettingsChanged,
    /// A region's administrator finished its setup: it is listed publicly.
    TenantLaunched,
    /// An operator asked to export or delete a tenant (a region leaving).
    TenantLeavingRequested,
    /// A second operator confirmed that request.
    TenantLeavingConfirmed,
    /// The request was withdrawn.
    TenantLeavingCancelled,
    /// An operator downloaded a tenant's whole-data archive.
    TenantExported,
    /// A tenant's data was erased (its anonymous figures kept).
    TenantDeleted,
}

impl AuditAction {
    /// Every action: each needs its name in both catalogs.
    pub const ALL: [AuditAction; 48] = [
        AuditAction::SignUp,
        AuditAction::SignIn,
        AuditAction::SignInFailed,
        AuditAction::SignInThrottled,
        AuditAction::SignOutEverywhere,
        AuditAction::PasswordReset,
        AuditAction::EmailVerified,
        AuditAction::RoleGranted,
        AuditAction::RoleRevoked,
        AuditAction::InvitationSent,
        AuditAction::InvitationWithdrawn,
        AuditAction::TokenCreated,
        AuditAction::TokenUsed,
        AuditAction::TokenRevoked,
        AuditAction::Export,
        AuditAction::TenantCreated,
        AuditAction::TenantSuspended,
        AuditAction::TenantResumed,
        AuditAction::AccountDeleted,
        AuditAction::HostStatusChanged,
        AuditAction::ProjectStatusChanged,
        AuditAction::ProgramCreated,
        AuditAction::ProgramEdited,
        AuditAction::EventCreated,
        AuditAction::EventEdited,
        AuditAction::EventStatusChanged,
        AuditAction::RegistrationChanged,
        AuditAction::SubsidyRecorded,
        AuditAction::RoundCreated,
        AuditAction::RoundEdited,
        AuditAction::RoundStatusChanged,
        AuditAction::RoundSolved,
        AuditAction::RoundAdjusted,
        AuditAction::NewsletterSent,
        AuditAction::EngagementCreated,
        AuditAction::EngagementStatusChanged,
        AuditAction::EngagementTermsChanged,
        AuditAction::EngagementMentorAssigned,
        AuditAction::KpiFiguresEdited,
        AuditAction::CertificateIssued,
        AuditAction::CertificateRevoked,
        AuditAction::TenantSettingsChanged,
        AuditAction::TenantLaunched,
        AuditAction::TenantLeavingRequested,
        AuditAction::TenantLeavingConfirmed,
        AuditAction::TenantLeavingCancelled,
        AuditAction::TenantExported,
        AuditAction::TenantDeleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SignUp => "sign_up",
            AuditAction::SignIn => "sign_in",
            AuditAction::SignInFailed => "sign_in_failed",
            AuditAction::SignInThrottled => "sign_in_throttled",
            AuditAction::SignOutEverywhere => "sign_out_everywhere",
            AuditAction::PasswordReset => "password_reset",
            AuditAction::EmailVerified => "email_verified",
            AuditAction::RoleGranted => "role_granted",
            AuditAction::RoleRevoked => "role_revoked",
            AuditAction::InvitationSent => "invitation_sent",
            AuditAction::InvitationWithdrawn => "invitation_withdrawn",
            AuditAction::TokenCreated => "token_created",
            AuditAction::TokenUsed => "token_used",
            AuditAction::TokenRevoked => "token_revoked",
            AuditAction::Export => "export",
            AuditAction::TenantCreated => "tenant_created",
            AuditAction::TenantSuspended => "tenant_suspended",
            AuditAction::TenantResumed => "tenant_resumed",
            AuditAction::AccountDeleted => "account_deleted",
            AuditAction::HostStatusChanged => "host_status_changed",
            AuditAction::ProjectStatusChanged => "project_status_changed",
            AuditAction::ProgramCreated => "program_created",
            AuditAction::ProgramEdited => "program_edited",
            AuditAction::EventCreated => "event_created",
            AuditAction::EventEdited => "event_edited",
            AuditAction::EventStatusChanged => "event_status_changed",
            AuditAction::RegistrationChanged => "registration_changed",
            AuditAction::SubsidyRecorded => "subsidy_recorded",
            AuditAction::RoundCreated => "round_created",
            AuditAction::RoundEdited => "round_edited",
            AuditAction::RoundStatusChanged => "round_status_changed",
            AuditAction::RoundSolved => "round_solved",
            AuditAction::RoundAdjusted => "round_adjusted",
            AuditAction::NewsletterSent => "newsletter_sent",
            AuditAction::EngagementCreated => "engagement_created",
            AuditAction::EngagementStatusChanged => "engagement_status_changed",
            AuditAction::EngagementTermsChanged => "engagement_terms_changed",
            AuditAction::EngagementMentorAssigned => "engagement_mentor_assigned",
            AuditAction::KpiFiguresEdited => "kpi_figures_edited",
            AuditAction::CertificateIssued => "certificate_issued",
            AuditAction::CertificateRevoked => "certificate_revoked",
            AuditAction::TenantSettingsChanged => "tenant_settings_changed",
            AuditAction::TenantLaunched => "tenant_launched",
            AuditAction::TenantLeavingRequested => "tenant_leaving_requested",
            AuditAction::TenantLeavingConfirmed => "tenant_leaving_confirmed",
            AuditAction::TenantLeavingCancelled => "tenant_leaving_cancelled",
            AuditAction::TenantExported => "tenant_exported",
            AuditAction::TenantDeleted => "tenant_deleted",
        }
    }
}

/// Makes user-supplied text safe for a single log line: CR, LF and other control
/// characters are written as escapes, so nobody can forge a second line.
pub fn neutralise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn no_line_breaks_survive() {
        let forged = "taro@example.jp\r\n2026-11-23 INFO sign_in ok\u{2028}\u{7}";
        let safe = super::neutralise(forged);
        assert!(!safe.contains('\n') && !safe.contains('\r') && !safe.contains('\u{7}'));
        assert_eq!(super::neutralise("佐藤"), "佐藤");
        assert!(safe.starts_with("taro@example.jp\\r\\n2026"));
    }
}
