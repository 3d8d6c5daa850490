//! Yui's domain: types and rules with no I/O.
//!
//! Everything here is a pure function of its inputs. Time is passed in, never read
//! from the clock, so fiscal-year boundaries and deadlines can be tested exactly.

pub mod account;
pub mod application;
pub mod audit;
pub mod calendar;
pub mod case_study;
pub mod certificate;
pub mod checkin;
pub mod engagement;
pub mod event;
pub mod fiscal;
pub mod hearing;
pub mod host;
pub mod ids;
pub mod kpi;
pub mod locale;
pub mod localgov;
pub mod newsletter;
pub mod onboarding;
pub mod permission;
pub mod program;
pub mod project;
pub mod registration;
pub mod reminder;
pub mod round;
pub mod scout;
pub mod search;
pub mod settings;
pub mod talent;
pub mod tenant;

pub use fiscal::FiscalYear;
pub use ids::{
    AccountId, ApiTokenId, ApplicationId, AuditId, EventId, GrantId, HearingId, HostId,
    InvitationId, MailId, ProgramId, ProjectId, RegistrationId, ScoutId, TenantId,
};
pub use locale::Locale;
pub use permission::Permission;
pub use tenant::{Introduction, LocalGovCode, Tenant, TenantKind, TenantStatus};
