//! Personal API tokens, each scoped to one tenant.

use chrono::{DateTime, Utc};
use tracing::instrument;
use yui_domain::{AccountId, ApiTokenId, TenantId};

use crate::scope::{AccountTx, PlatformReason, TenantTx, sealed::Inner};
use crate::{Result, Store, StoreError, with_tx};

/// A token as listed to its owner (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub tenant_id: TenantId,
    pub tenant_slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Who a presented token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPrincipal {
    pub token_id: ApiTokenId,
    pub account_id: AccountId,
    pub tenant_id: TenantId,
}

impl TenantTx {
    /// A token of `account` for this tenant; only its hash is stored.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    /// Creates a token for `account`, signed in under credential `epoch`:
    /// [`StoreError::Conflict`] (`credentials`) when the credentials changed since (a
    /// reset that revokes tokens cannot miss one being made meanwhile).
    pub async fn create_api_token(
        &mut self,
        account: AccountId,
        epoch: i64,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<ApiTokenId> {
        crate::accounts::check_epoch(&mut self.tx, account, epoch).await?;
        with_tx!(&mut self.tx, conn => {
            let (id,): (ApiTokenId,) = sqlx::query_as(
                "INSERT INTO api_tokens (account_id, tenant_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(account)
            .bind(self.tenant)
            .bind(name)
            .bind(token_hash)
            .bind(now)
            .fetch_one(&mut **conn)
            .await?;
            Ok(id)
        })
    }
}

impl AccountTx {
    /// The account's live tokens in every tenant, newest first.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn api_tokens(&mut self) -> Result<Vec<ApiToken>> {
        Ok(with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT k.id, k.tenant_id, t.slug AS tenant_slug, k.name, k.created_at, k.last_used_at
                 FROM api_tokens k JOIN tenants t ON t.id = k.tenant_id
                 WHERE k.account_id = $1 AND k.revoked_at IS NULL ORDER BY k.id DESC",
            )
            .bind(self.account)
            .fetch_all(&mut **conn)
            .await?
        }))
    }

    /// Revokes one of the account's tokens and answers its tenant; another account's
    /// token is not found.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn revoke_api_token(
        &mut self,
        token: ApiTokenId,
        now: DateTime<Utc>,
    ) -> Result<TenantId> {
        let row: Option<(TenantId,)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL RETURNING tenant_id",
            )
            .bind(now)
            .bind(token)
            .bind(self.account)
            .fetch_optional(&mut **conn)
            .await?
        });
        row.map(|(t,)| t).ok_or(StoreError::NotFound)
    }

    /// Revokes every live token of the account, in every tenant; answers each
    /// revoked token with its tenant (for the audit rows).
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn revoke_all_api_tokens(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(ApiTokenId, TenantId)>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "UPDATE api_tokens SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL RETURNING id, tenant_id",
            )
            .bind(now)
            .bind(self.account)
            .fetch_all(&mut **conn)
            .await?)
        })
    }
}

impl Store {
    /// The principal of a live token, noting its use.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn use_api_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenPrincipal>> {
        // Which tenant the token belongs to is what this finds out.
        let mut tx = self
            .platform(PlatformReason::Authentication)
            .write()
            .await?;
        let row: Option<(ApiTokenId, AccountId, TenantId)> = with_tx!(tx.inner(), conn => {
            sqlx::query_as(
                "UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL
                 RETURNING id, account_id, tenant_id",
            )
            .bind(now)
            .bind(token_hash)
            .fetch_optional(&mut **conn)
            .await?
        });
        tx.commit().await?;
        Ok(row.map(|(token_id, account_id, tenant_id)| TokenPrincipal {
            token_id,
            account_id,
            tenant_id,
        }))
    }
}
