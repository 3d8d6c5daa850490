//! A region leaving the platform: requests to export its whole data or to delete it,
//! each confirmed by a second operator; the export's tables as JSON; and the erasure
//! that removes its data and keeps its anonymous statistics.

use chrono::{DateTime, Utc};
use tracing::instrument;
use yui_domain::{AccountId, TenantId};

use crate::scope::PlatformTx;
use crate::tenants::{BUMP_DIRECTORY, count_local_tenant_change};
use crate::{Result, StoreError, StoreTx, with_tx};

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeavingKind {
    Export,
    Delete,
}

impl LeavingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LeavingKind::Export => "export",
            LeavingKind::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<LeavingKind> {
        match s {
            "export" => Some(LeavingKind::Export),
            "delete" => Some(LeavingKind::Delete),
            _ => None,
        }
    }
}

/// A request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeavingRequest {
    pub id: i64,
    pub tenant: TenantId,
    pub kind: LeavingKind,
    pub reason: String,
    pub requested_by: AccountId,
    pub requested_at: DateTime<Utc>,
    /// Before this, nothing is carried out (the deletion's waiting period).
    pub not_before: DateTime<Utc>,
    pub confirmed_by: Option<AccountId>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl LeavingRequest {
    /// Neither carried out nor cancelled.
    pub fn is_open(&self) -> bool {
        self.done_at.is_none() && self.cancelled_at.is_none()
    }
}

type Row = (
    i64,
    TenantId,
    String,
    String,
    AccountId,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<AccountId>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

fn request(r: Row) -> LeavingRequest {
    LeavingRequest {
        id: r.0,
        tenant: r.1,
        // The column has a CHECK constraint.
        kind: LeavingKind::parse(&r.2).unwrap_or(LeavingKind::Export),
        reason: r.3,
        requested_by: r.4,
        requested_at: r.5,
        not_before: r.6,
        confirmed_by: r.7,
        confirmed_at: r.8,
        done_at: r.9,
        cancelled_at: r.10,
    }
}

const COLUMNS: &str = "id, tenant_id, kind, reason, requested_by, requested_at, not_before, confirmed_by, confirmed_at, done_at, cancelled_at";

/// Tables of a tenant that outlive its erasure: anonymous yearly figures, the proof
/// of consents given (append-only), the wording they were given under, these
/// requests, and the audit trail (made anonymous).
const KEPT: &[&str] = &[
    "kpi_history",
    "consent_log",
    "tenant_consents",
    "tenant_leaving",
    "audit_log",
];

/// The tables that hold a `tenant_id` column, by name.
async fn tenant_tables(tx: &mut StoreTx) -> Result<Vec<String>> {
    let names: Vec<(String,)> = match tx {
        StoreTx::Sqlite(conn) => {
            sqlx::query_as(
                "SELECT m.name FROM sqlite_master m WHERE m.type = 'table'
                   AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) p WHERE p.name = 'tenant_id')
                 ORDER BY m.name",
            )
            .fetch_all(&mut **conn)
            .await?
        }
        StoreTx::Postgres(conn) => {
            sqlx::query_as(
                "SELECT c.table_name::text FROM information_schema.columns c
                 JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema
                 WHERE c.column_name = 'tenant_id' AND c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
                 ORDER BY 1",
            )
            .fetch_all(&mut **conn)
            .await?
        }
    };
    Ok(names.into_iter().map(|(n,)| n).collect())
}

/// Secrets are never exported: hashes of passwords, tokens and links.
fn is_secret(column: &str) -> bool {
    column.ends_with("_hash") || column.contains("secret") || column.contains("token")
}

/// Tables never exported: mail as sent carries working links (an open invitation
/// would let whoever holds the archive become the region's administrator); API
/// tokens are credentials; the leaving requests are the platform's.
const NOT_EXPORTED: &[&str] = &["mail_outbox", "api_tokens", "tenant_leaving"];

impl PlatformTx {
    /// Records a request. One open request per tenant and kind: another is
    /// [`StoreError::Conflict`].
    #[instrument(skip_all, fields(tenant = %tenant), err(level = "warn"))]
    pub async fn request_leaving(
        &mut self,
        tenant: TenantId,
        kind: LeavingKind,
        reason: &str,
        by: AccountId,
        (now, not_before): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<i64> {
        let inserted: std::result::Result<(i64,), sqlx::Error> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "INSERT INTO tenant_leaving (tenant_id, kind, reason, requested_by, requested_at, not_before)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(tenant)
            .bind(kind.as_str())
            .bind(reason)
            .bind(by)
            .bind(now)
            .bind(not_before)
            .fetch_one(&mut **conn)
            .await
        });
        inserted
            .map(|(id,)| id)
            .map_err(StoreError::taken("request"))
    }

    /// The tenant's requests, newest first.
    #[instrument(skip_all, fields(tenant = %tenant), err(level = "warn"))]
    pub async fn leaving_requests(&mut self, tenant: TenantId) -> Result<Vec<LeavingRequest>> {
        let rows: Vec<Row> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM tenant_leaving WHERE tenant_id = $1 ORDER BY id DESC"
            ))
            .bind(tenant)
            .fetch_all(&mut **conn)
            .await?
        });
        Ok(rows.into_iter().map(request).collect())
    }

    /// Confirms an open request as a second operator. The requester cannot: that
    /// is [`StoreError::Invalid`]; a request already confirmed, done or cancelled
    /// is [`StoreError::NotFound`].
    #[instrument(skip_all, fields(tenant = %tenant), err(level = "warn"))]
    pub async fn confirm_leaving(
        &mut self,
        tenant: TenantId,
        id: i64,
        by: AccountId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let done = with_tx!(&mut self.tx, conn => {
            let row: Option<(AccountId,)> = sqlx::query_as(
                "SELECT requested_by FROM tenant_leaving WHERE id = $1 AND tenant_id = $2
                   AND confirmed_at IS NULL AND done_at IS NULL AND cancelled_at IS NULL",
            )
            .bind(id)
            .bind(tenant)
            .fetch_optional(&mut **conn)
            .await?;
            match row {
                None => return Err(StoreError::NotFound),
                Some((requester,)) if requester == by => {
                    return Err(StoreError::Invalid("a second operator must confirm".to_owned()));
                }
                Some(_) => {}
            }
            sqlx::query(
                "UPDATE tenant_leaving SET confirmed_by = $1, confirmed_at = $2
                 WHERE id = $3 AND confirmed_at IS NULL",
            )
            .bind(by)
            .bind(now)
            .bind(id)
            .execute(&mut **conn)
            .await?
            .rows_affected()
        });
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Ends an open request without carrying it out.
    #[instrument(skip_all, fields(tenant = %tenant), err(level = "warn"))]
    pub async fn cancel_leaving(
        &mut self,
        tenant: TenantId,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let done = with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE tenant_leaving SET cancelled_at = $1
                 WHERE id = $2 AND tenant_id = $3 AND done_at IS NULL AND cancelled_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .bind(tenant)
            .execute(&mut **conn)
            .await?
            .rows_affected()
        });
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Marks a confirmed request carried out; false when it was not open and
    /// confirmed (carried out already by someone else, say).
    #[instrument(skip_all, fields(tenant = %tenant), err(level = "warn"))]
    pub async fn finish_leaving(
        &mut self,
        tenant: TenantId,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE tenant_leaving SET done_at = $1
                 WHERE id = $2 AND tenant_id = $3 AND confirmed_at IS NOT NULL
                   AND done_at IS NULL AND cancelled_at IS NULL AND not_before <= $1",
            )
            .bind(now)
            .bind(id)
            .bind(tenant)
            .execute(&mut **conn)
            .await?
            .rows_affected()
        });
        Ok(done > 0)
    }

    /// Every table of the tenant's data as a JSON array of its rows (secrets left
    /// out; binary columns in hexadecimal), by table name. Tables with no rows for
    /// the tenant are listed with `[]`.
    #[instrument(skip_all, fields(tenant = %tenant), err(level = "warn"))]
    pub async fn export_tenant_tables(
        &mut self,
        tenant: TenantId,
    ) -> Result<Vec<(String, String)>> {
        let tables = tenant_tables(&mut self.tx).await?;
        let mut out = Vec::with_capacity(tables.len());
        for table in tables
            .into_iter()
            .filter(|t| !NOT_EXPORTED.contains(&t.as_str()))
        {
            let json: String = match &mut self.tx {
                StoreTx::Sqlite(conn) => {
                    let columns: Vec<(String, String)> =
                        sqlx::query_as("SELECT name, type FROM pragma_table_info($1)")
                            .bind(&table)
                            .fetch_all(&mut **conn)
                            .await?;
                    let pairs = columns
                        .iter()
                        .filter(|(name, _)| !is_secret(name))
                        .map(|(name, kind)| {
                            if kind.eq_ignore_ascii_case("blob") {
                                format!("'{name}', hex(\"{name}\")")
                            } else {
                                format!("'{name}', \"{name}\"")
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    let (json,): (String,) = sqlx::query_as(&format!(
                        "SELECT COALESCE(json_group_array(json_object({pairs})), '[]') FROM \"{table}\" WHERE tenant_id = $1"
                    ))
                    .bind(tenant)
                    .fetch_one(&mut **conn)
                    .await?;
                    json
                }
                StoreTx::Postgres(conn) => {
                    let (json,): (String,) = sqlx::query_as(&format!(
                        "SELECT COALESCE(jsonb_agg(to_jsonb(t) - ARRAY(
                             SELECT column_name::text FROM information_schema.columns
                             WHERE table_schema = current_schema() AND table_name = $2
                               AND (column_name LIKE '%\\_hash' OR column_name LIKE '%secret%' OR column_name LIKE '%token%'))), '[]'::jsonb)::text
                         FROM \"{table}\" t WHERE tenant_id = $1"
                    ))
                    .bind(tenant)
                    .bind(&table)
                    .fetch_one(&mut **conn)
                    .await?;
                    json
                }
            };
            out.push((table, json));
        }
        Ok(out)
    }

    /// Erases the tenant's data: every row of its tables except [`KEPT`]; its audit
    /// trail stays as the bare sequence of actions (who, what about whom and from
    /// where are removed); its children lose their parent; the tenant's row stays,
    /// suspended and marked deleted, so its anonymous yearly figures (put in
    /// `kpi_history` by the caller first) and the proof of consents keep their
    /// reference. One transaction: all of it, or nothing.
    #[instrument(skip_all, fields(tenant = %tenant), err(level = "warn"))]
    pub async fn erase_tenant(&mut self, tenant: TenantId, now: DateTime<Utc>) -> Result<()> {
        let mut pending: Vec<String> = tenant_tables(&mut self.tx)
            .await?
            .into_iter()
            .filter(|t| !KEPT.contains(&t.as_str()))
            .collect();
        // Tables refer to each other; each pass deletes what nothing else still
        // refers to, until all are empty (a savepoint undoes a refused delete).
        while !pending.is_empty() {
            let before = pending.len();
            let mut refused = Vec::new();
            for table in std::mem::take(&mut pending) {
                let ok = with_tx!(&mut self.tx, conn => {
                    sqlx::query("SAVEPOINT erase").execute(&mut **conn).await?;
                    let res = sqlx::query(&format!("DELETE FROM \"{table}\" WHERE tenant_id = $1"))
                        .bind(tenant)
                        .execute(&mut **conn)
                        .await;
                    match res {
                        Ok(_) => {
                            sqlx::query("RELEASE SAVEPOINT erase").execute(&mut **conn).await?;
                            true
                        }
                        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                            sqlx::query("ROLLBACK TO SAVEPOINT erase").execute(&mut **conn).await?;
                            sqlx::query("RELEASE SAVEPOINT erase").execute(&mut **conn).await?;
                            false
                        }
                        Err(e) => return Err(e.into()),
                    }
                });
                if !ok {
                    refused.push(table);
                }
            }
            if refused.len() == before {
                // Nothing could be deleted in a whole pass: something outside the
                // tenant's tables refers to its rows.
                return Err(StoreError::Invalid(format!(
                    "erasing the tenant: {} still referred to",
                    refused.join(", ")
                )));
            }
            pending = refused;
        }
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE audit_log SET actor_id = NULL, detail = '{}', ip = '' WHERE tenant_id = $1",
            )
            .bind(tenant)
            .execute(&mut **conn)
            .await?;
            sqlx::query("UPDATE tenants SET parent_id = NULL WHERE parent_id = $1")
                .bind(tenant)
                .execute(&mut **conn)
                .await?;
            sqlx::query(
                "UPDATE tenants SET status = 'suspended', deleted_at = $1, updated_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(tenant)
            .execute(&mut **conn)
            .await?;
            sqlx::query(BUMP_DIRECTORY).execute(&mut **conn).await?;
        });
        count_local_tenant_change();
        Ok(())
    }
}
