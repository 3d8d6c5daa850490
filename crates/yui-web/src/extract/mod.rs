//! Extractors: what a request carries, as types, checked once before any handler
//! runs. A handler that takes [`Staff<P>`] cannot run for someone without `P` in the
//! path's tenant; one that takes [`CsrfForm<T>`] cannot run for a forged form.

mod bearer;
mod client_ip;
mod csrf;
mod lang;
mod member;
mod staff;
mod tenant;
mod viewer;

pub use bearer::Bearer;
pub(crate) use client_ip::throttle_address;
pub use client_ip::{ClientIp, ProxyNet, client_address};
pub use csrf::{CsrfForm, CsrfOnly};
pub use lang::Lang;
pub(crate) use lang::{lang_cookie, remember_query_lang};
pub use member::TalentMember;
pub use staff::CaseStudyManage;
pub use staff::NewsletterSend;
pub use staff::{
    AuditRead, HearingRead, HearingWrite, Needs, Operator, PlatformAuditRead, PoolScout, Staff,
    StaffInvite, StaffOrOperator, StaffRead, StaffRevoke, TalentList, TalentRead, TenantOffboard,
    TenantOnboard, TenantRead, TenantResume, TenantSuspend,
};
pub use staff::{
    EventCheckIn, EventExport, EventManage, EventRead, ProgramManage, ProgramView,
    RegistrationManage, RoundManage, RoundRead,
};
pub use staff::{KpiRead, ReportRead, TenantConfigure};
pub(crate) use tenant::TenantCache;
pub use tenant::TenantPath;
pub use viewer::{SignedIn, Viewer};
