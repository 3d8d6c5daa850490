//! Invitations to a role in a tenant: sent by mail with a one-time token, accepted by
//! whoever proves the mailbox. The grant itself is made on acceptance (yui-authz).

use chrono::{DateTime, Utc};
use tracing::instrument;
use yui_domain::account::Email;
use yui_domain::{AccountId, HostId, InvitationId, TenantId};

use crate::scope::TenantTx;
use crate::{Result, StoreError, with_tx};

/// An invitation as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Invitation {
    pub id: InvitationId,
    pub tenant_id: TenantId,
    /// The normal form of the address the mail went to.
    pub email: String,
    pub email_key: String,
    pub role: String,
    pub valid_until: Option<DateTime<Utc>>,
    pub invited_by: Option<AccountId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// For a host member: the host of this tenant the person joins on accepting.
    pub host_id: Option<HostId>,
}

/// A new invitation: the token's hash, never the token.
#[derive(Debug, Clone, Copy)]
pub struct NewInvitation<'a> {
    pub email: &'a Email,
    pub role: &'a str,
    pub valid_until: Option<DateTime<Utc>>,
    pub invited_by: Option<AccountId>,
    pub token_hash: &'a str,
    pub expires_at: DateTime<Utc>,
    /// For a host member: the host they join (the role must be `host_member`).
    pub host: Option<HostId>,
}

const COLUMNS: &str = "id, tenant_id, email, email_key, role, valid_until, invited_by, created_at, expires_at, host_id";

/// Open: neither accepted nor withdrawn. Expired ones stay open (and listed as
/// expired) until replaced or withdrawn.
const OPEN: &str = "accepted_at IS NULL AND withdrawn_at IS NULL";

impl TenantTx {
    /// Stores an invitation, replacing (withdrawing) an open one to the same address:
    /// only the newest mail's link works.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn create_invitation(
        &mut self,
        new: NewInvitation<'_>,
        now: DateTime<Utc>,
    ) -> Result<InvitationId> {
        let result: std::result::Result<(InvitationId,), sqlx::Error> = with_tx!(&mut self.tx, conn => {
            sqlx::query(&format!(
                "UPDATE invitations SET withdrawn_at = $1 WHERE tenant_id = $2 AND email_key = $3 AND {OPEN}"
            ))
            .bind(now)
            .bind(self.tenant)
            .bind(new.email.key())
            .execute(&mut **conn)
            .await?;
            sqlx::query_as(
                "INSERT INTO invitations (tenant_id, email, email_key, role, valid_until, invited_by, token_hash, created_at, expires_at, host_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(self.tenant)
            .bind(new.email.as_str())
            .bind(new.email.key())
            .bind(new.role)
            .bind(new.valid_until)
            .bind(new.invited_by)
            .bind(new.token_hash)
            .bind(now)
            .bind(new.expires_at)
            .bind(new.host)
            .fetch_one(&mut **conn)
            .await
        });
        result.map(|(id,)| id).map_err(StoreError::taken("email"))
    }

    /// The tenant's open invitations, newest first.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "debug"))]
    pub async fn open_invitations(&mut self) -> Result<Vec<Invitation>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM invitations WHERE tenant_id = $1 AND {OPEN} ORDER BY id DESC"
            ))
            .bind(self.tenant)
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// The open, unexpired invitation of this tenant whose token hashes to
    /// `token_hash`: what its link's page shows.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "debug"))]
    pub async fn invitation_by_token(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Invitation>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM invitations
                 WHERE tenant_id = $1 AND token_hash = $2 AND {OPEN} AND expires_at > $3"
            ))
            .bind(self.tenant)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// Uses the invitation's token once, for `account`: `None` when it is unknown,
    /// expired, withdrawn or already accepted. Two concurrent acceptances cannot both
    /// succeed.
    #[instrument(skip_all, fields(tenant = %self.tenant, account = %account), err(level = "warn"))]
    pub async fn accept_invitation(
        &mut self,
        token_hash: &str,
        account: AccountId,
        now: DateTime<Utc>,
    ) -> Result<Option<Invitation>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "UPDATE invitations SET accepted_at = $1, accepted_by = $2
                 WHERE tenant_id = $3 AND token_hash = $4 AND {OPEN} AND expires_at > $1
                 RETURNING {COLUMNS}"
            ))
            .bind(now)
            .bind(account)
            .bind(self.tenant)
            .bind(token_hash)
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// Withdraws an open invitation of this tenant; another tenant's id, or one
    /// already accepted or withdrawn, is `None`.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn withdraw_invitation(
        &mut self,
        id: InvitationId,
        now: DateTime<Utc>,
    ) -> Result<Option<Invitation>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&format!(
                "UPDATE invitations SET withdrawn_at = $1 WHERE id = $2 AND tenant_id = $3 AND {OPEN} RETURNING {COLUMNS}"
            ))
            .bind(now)
            .bind(id)
            .bind(self.tenant)
            .fetch_optional(&mut **conn)
            .await?)
        })
    }
}
