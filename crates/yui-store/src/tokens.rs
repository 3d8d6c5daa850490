//! Personal API tokens, each scoped to one tenant.

use chrono::{DateTime, Utc};
use tracing::instrument;

use crate::{Result, Store, StoreError, TenantScope, with_tx};

/// A token as listed to its owner (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub tenant_id: i64,
    pub tenant_slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Who a presented token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPrincipal {
    pub token_id: i64,
    pub account_id: i64,
    pub tenant_id: i64,
}

impl Store {
    #[instrument(skip_all, fields(tenant = tenant_id), err(level = "warn"))]
    pub async fn create_api_token(
        &self,
        account_id: i64,
        tenant_id: i64,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let mut tx = self.begin_write_in(TenantScope::Tenant(tenant_id)).await?;
        with_tx!(&mut tx, conn => {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO api_tokens (account_id, tenant_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(account_id)
            .bind(tenant_id)
            .bind(name)
            .bind(token_hash)
            .bind(now)
            .fetch_one(&mut **conn)
            .await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// The owner's live tokens, newest first.
    #[instrument(skip_all, fields(account = account_id), err(level = "warn"))]
    pub async fn api_tokens(&self, account_id: i64) -> Result<Vec<ApiToken>> {
        // An account's tokens may lie in several tenants; the query filters by account.
        let mut tx = self.begin_read_in(TenantScope::Platform).await?;
        let rows = with_tx!(&mut tx, conn => {
            sqlx::query_as(
                "SELECT k.id, k.tenant_id, t.slug AS tenant_slug, k.name, k.created_at, k.last_used_at
                 FROM api_tokens k JOIN tenants t ON t.id = k.tenant_id
                 WHERE k.account_id = $1 AND k.revoked_at IS NULL ORDER BY k.id DESC",
            )
            .bind(account_id)
            .fetch_all(&mut **conn)
            .await?
        });
        tx.commit().await?;
        Ok(rows)
    }

    /// Revokes one of the owner's tokens; another account's token is not found.
    #[instrument(skip_all, fields(account = account_id), err(level = "warn"))]
    pub async fn revoke_api_token(
        &self,
        account_id: i64,
        token_id: i64,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let mut tx = self.begin_write_in(TenantScope::Platform).await?;
        with_tx!(&mut tx, conn => {
            let row: Option<(i64,)> = sqlx::query_as(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL RETURNING tenant_id",
            )
            .bind(now)
            .bind(token_id)
            .bind(account_id)
            .fetch_optional(&mut **conn)
            .await?;
            tx.commit().await?;
            row.map(|(t,)| t).ok_or(StoreError::NotFound)
        })
    }

    /// The principal of a live token, noting its use.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn use_api_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenPrincipal>> {
        // Which tenant the token belongs to is what this finds out.
        let mut tx = self.begin_write_in(TenantScope::Platform).await?;
        let row: Option<(i64, i64, i64)> = with_tx!(&mut tx, conn => {
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
