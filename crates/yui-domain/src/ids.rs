//! Row ids as types: a tenant's id cannot be passed where an account's is expected,
//! and a handler cannot mistake a grant id typed in a URL for a token id.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// The id of a stored row. Only the store and parsers of paths make ids.
            pub const fn new(raw: i64) -> $name {
                $name(raw)
            }

            /// The number as stored.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<$name, Self::Err> {
                s.parse().map($name)
            }
        }
    )*};
}

ids! {
    /// `tenants.id`: a prefecture, municipality or union.
    TenantId,
    /// `accounts.id`: one person across every tenant.
    AccountId,
    /// `role_grants.id`.
    GrantId,
    /// `api_tokens.id`.
    ApiTokenId,
    /// `audit_log.id`.
    AuditId,
    /// `mail_outbox.id`.
    MailId,
    /// An invitation to a role in a tenant, accepted by mail.
    InvitationId,
    /// A host organization (受入企業・団体) of a tenant.
    HostId,
    /// A project (案件) of a host.
    ProjectId,
    /// A tenant's program for one fiscal year.
    ProgramId,
    /// A seminar, lecture, field-work tour or matching event.
    EventId,
    /// A person's registration for an event.
    RegistrationId,
    /// An intake interview (ヒアリング).
    HearingId,
    /// A coordinator's invitation of a pool talent to a project (スカウト).
    ScoutId,
    /// A talent's application to a project.
    ApplicationId,
    /// A matching round.
    RoundId,
    /// A partnership that followed a match.
    EngagementId,
    /// A monthly check-in on an engagement.
    CheckinId,
    /// A case study (事例).
    CaseStudyId,
    /// A tenant's newsletter to its members.
    NewsletterId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_as_text_and_json() {
        let id: TenantId = "42".parse().unwrap();
        assert_eq!(id, TenantId::new(42));
        assert_eq!(id.to_string(), "42");
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert!("x".parse::<AccountId>().is_err());
    }
}
