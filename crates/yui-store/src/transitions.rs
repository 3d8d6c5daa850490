//! State machines' moves as stored: one conditional update of the row's status (so
//! a concurrent move wins once) and, when it moved, the recorded transition with who
//! and when. The domain decides which moves are allowed; this only writes them.

use chrono::{DateTime, Utc};
use yui_domain::{AccountId, TenantId};

use crate::{Result, StoreTx, with_tx};

/// One recorded move of a state machine.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Transition {
    pub from_status: String,
    pub to_status: String,
    pub actor_id: Option<AccountId>,
    /// The actor's display name (empty when they gave none; `None` once deleted).
    pub actor_name: Option<String>,
    pub at: DateTime<Utc>,
}

/// A table whose rows have a status, and the table recording its moves.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Machine {
    pub table: &'static str,
    pub log: &'static str,
    /// The log's column naming the moved row.
    pub key: &'static str,
}

pub(crate) const PROJECTS: Machine = Machine {
    table: "projects",
    log: "project_transitions",
    key: "project_id",
};

pub(crate) const APPLICATIONS: Machine = Machine {
    table: "applications",
    log: "application_transitions",
    key: "application_id",
};

/// Moves row `id` of `tenant` from `from` to `to` and records it; `false` when there
/// is no such row or it is no longer in `from`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_move(
    tx: &mut StoreTx,
    machine: Machine,
    tenant: TenantId,
    id: i64,
    from: &str,
    to: &str,
    actor: AccountId,
    now: DateTime<Utc>,
) -> Result<bool> {
    let Machine { table, log, key } = machine;
    with_tx!(tx, conn => {
        let done = sqlx::query(&format!(
            "UPDATE {table} SET status = $1, updated_at = $2
             WHERE tenant_id = $3 AND id = $4 AND status = $5"
        ))
        .bind(to)
        .bind(now)
        .bind(tenant)
        .bind(id)
        .bind(from)
        .execute(&mut **conn)
        .await?
        .rows_affected();
        if done == 0 {
            return Ok(false);
        }
        sqlx::query(&format!(
            "INSERT INTO {log} (tenant_id, {key}, from_status, to_status, actor_id, at)
             VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(tenant)
        .bind(id)
        .bind(from)
        .bind(to)
        .bind(actor)
        .bind(now)
        .execute(&mut **conn)
        .await?;
        Ok(true)
    })
}

/// The recorded moves of row `id` of `tenant`, oldest first, with the actors' names.
pub(crate) async fn moves(
    tx: &mut StoreTx,
    machine: Machine,
    tenant: TenantId,
    id: i64,
) -> Result<Vec<Transition>> {
    let Machine { log, key, .. } = machine;
    with_tx!(tx, conn => {
        Ok(sqlx::query_as(&format!(
            "SELECT t.from_status, t.to_status, t.actor_id, a.display_name AS actor_name, t.at
             FROM {log} t LEFT JOIN accounts a ON a.id = t.actor_id
             WHERE t.tenant_id = $1 AND t.{key} = $2 ORDER BY t.id"
        ))
        .bind(tenant)
        .bind(id)
        .fetch_all(&mut **conn)
        .await?)
    })
}
