//! Throttling of sign-in attempts and mailed links: each attempt is counted before
//! anything is checked, by one statement per key that increments and returns, or
//! refuses while the key waits out its back-off. Known devices, whose throttling is
//! kept apart from their address.

use chrono::{DateTime, Duration, Utc};
use tracing::instrument;
use yui_domain::account::Email;

use crate::scope::{PlatformReason, sealed::Inner};
use crate::{Result, Store, StoreTx, with_tx};

/// How one key is limited: `free` attempts without waiting, then a wait of `base`
/// that doubles with each further attempt up to `cap`. A key left alone for `quiet`
/// starts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub free: i64,
    pub base: Duration,
    pub cap: Duration,
    pub quiet: Duration,
}

/// What counting an attempt decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Counted; go on.
    Allowed,
    /// Refused and not counted: a key waits until `retry_after` has passed.
    Refused { retry_after: Duration },
}

/// Counts one attempt on `key`, or answers `None` (no row) while the key waits.
/// A key with free attempts left does not wait at all, whatever the clocks say:
/// requests take their time before they reach the row, so one that read the clock
/// a millisecond earlier may come second (four people signing in at once from a
/// city hall's one address). For the same reason `last_ms` never moves back: a node
/// whose clock lags must not make the key look quiet to one whose clock leads.
/// Concurrent attempts on PostgreSQL wait for the row lock and re-check the `WHERE`
/// on the row version the other one wrote; on SQLite writers are serialised. So no
/// burst gets more than `limit.free` attempts through.
async fn count(tx: &mut StoreTx, key: &str, limit: Limit, now_ms: i64) -> Result<Option<i64>> {
    let base = limit.base.num_milliseconds().max(1);
    let cap = limit.cap.num_milliseconds().max(base);
    let first_delay = if limit.free > 1 { 0 } else { base };
    // `$2` now, `$3` the quiet floor, `$4` free attempts, `$5` base, `$6` cap,
    // `$7` the first attempt's delay. CASE rather than MIN/MAX/LEAST, which the two
    // dialects spell differently.
    let attempts =
        "CASE WHEN signin_attempts.last_ms < $3 THEN 1 ELSE signin_attempts.attempts + 1 END";
    let previous =
        "CASE WHEN signin_attempts.last_ms < $3 THEN 0 ELSE signin_attempts.delay_ms END";
    let delay = format!(
        "CASE WHEN {attempts} < $4 THEN 0 WHEN {previous} = 0 THEN $5 \
         WHEN {previous} * 2 >= $6 THEN $6 ELSE {previous} * 2 END"
    );
    let sql = format!(
        "INSERT INTO signin_attempts (key, attempts, delay_ms, next_ms, last_ms) \
         VALUES ($1, 1, $7, $2 + $7, $2) \
         ON CONFLICT (key) DO UPDATE SET attempts = {attempts}, delay_ms = {delay}, \
         next_ms = $2 + {delay}, \
         last_ms = CASE WHEN $2 > signin_attempts.last_ms THEN $2 ELSE signin_attempts.last_ms END \
         WHERE signin_attempts.delay_ms = 0 OR signin_attempts.next_ms <= $2 \
         RETURNING attempts"
    );
    let quiet_floor = now_ms - limit.quiet.num_milliseconds();
    let row: Option<(i64,)> = with_tx!(tx, conn => {
        sqlx::query_as(&sql)
            .bind(key)
            .bind(now_ms)
            .bind(quiet_floor)
            .bind(limit.free)
            .bind(base)
            .bind(cap)
            .bind(first_delay)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(row.map(|(n,)| n))
}

impl Store {
    /// Counts one attempt on every key, all or none: if any key is waiting, nothing
    /// is counted and the answer says how long the longest wait lasts. Keys are taken
    /// in sorted order so that two requests never wait for each other's rows in turn.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn count_attempt(
        &self,
        keys: &[(String, Limit)],
        now: DateTime<Utc>,
    ) -> Result<Attempt> {
        let now_ms = now.timestamp_millis();
        let mut keys: Vec<&(String, Limit)> = keys.iter().collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        keys.dedup_by(|a, b| a.0 == b.0);
        let mut tx = self
            .platform(PlatformReason::Authentication)
            .write()
            .await?;
        let mut refused = Vec::new();
        for (key, limit) in &keys {
            if count(tx.inner(), key, *limit, now_ms).await?.is_none() {
                refused.push(key.as_str());
            }
        }
        if refused.is_empty() {
            tx.commit().await?;
            return Ok(Attempt::Allowed);
        }
        let mut wait_ms = 0;
        for key in refused {
            let next: Option<(i64,)> = with_tx!(tx.inner(), conn => {
                sqlx::query_as("SELECT next_ms FROM signin_attempts WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&mut **conn)
                    .await?
            });
            if let Some((next,)) = next {
                wait_ms = wait_ms.max(next - now_ms);
            }
        }
        tx.rollback().await?;
        Ok(Attempt::Refused {
            retry_after: Duration::milliseconds(wait_ms.max(0)),
        })
    }

    /// After a successful sign-in: forgets the keys in `forget` and gives back the
    /// attempt just counted on the keys in `refund`, so that people who sign in
    /// correctly from one shared address do not use up its allowance. Keys are taken
    /// in the same sorted order as [`Store::count_attempt`] takes them.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn attempt_succeeded(&self, forget: &[String], refund: &[String]) -> Result<()> {
        let mut keys: Vec<(&String, bool)> = forget
            .iter()
            .map(|k| (k, true))
            .chain(refund.iter().map(|k| (k, false)))
            .collect();
        keys.sort();
        let mut tx = self
            .platform(PlatformReason::Authentication)
            .write()
            .await?;
        for (key, forget) in keys {
            let sql = if forget {
                "DELETE FROM signin_attempts WHERE key = $1"
            } else {
                "UPDATE signin_attempts SET attempts = attempts - 1 WHERE key = $1 AND attempts > 0"
            };
            with_tx!(tx.inner(), conn => {
                sqlx::query(sql).bind(key).execute(&mut **conn).await?;
            });
        }
        tx.commit().await
    }

    /// Forgets keys quiet since `before`, which have long started over anyway.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn prune_attempts(&self, before: DateTime<Utc>) -> Result<u64> {
        let mut tx = self
            .platform(PlatformReason::Authentication)
            .write()
            .await?;
        let done = with_tx!(tx.inner(), conn => {
            sqlx::query("DELETE FROM signin_attempts WHERE last_ms < $1")
                .bind(before.timestamp_millis())
                .execute(&mut **conn)
                .await?
                .rows_affected()
        });
        tx.commit().await?;
        Ok(done)
    }

    /// Whether the device with this id (its hash) signed in to the account with
    /// `email` since `since`.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn is_known_device(
        &self,
        id_hash: &str,
        email: &Email,
        since: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.platform(PlatformReason::Authentication).read().await?;
        let row: Option<(i64,)> = with_tx!(tx.inner(), conn => {
            sqlx::query_as(
                "SELECT CAST(1 AS BIGINT) FROM known_devices d JOIN accounts a ON a.id = d.account_id
                 WHERE d.id_hash = $1 AND a.email_lower = $2 AND d.created_at >= $3",
            )
            .bind(id_hash)
            .bind(email.key())
            .bind(since)
            .fetch_optional(&mut **conn)
            .await?
        });
        tx.commit().await?;
        Ok(row.is_some())
    }

    /// Remembers (again) that the device with this id signed in to `account`, and
    /// forgets the account's devices not seen since `forget_before`.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn remember_device(
        &self,
        id_hash: &str,
        account: yui_domain::AccountId,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self
            .platform(PlatformReason::Authentication)
            .write()
            .await?;
        with_tx!(tx.inner(), conn => {
            sqlx::query("DELETE FROM known_devices WHERE account_id = $1 AND created_at < $2")
                .bind(account)
                .bind(forget_before)
                .execute(&mut **conn)
                .await?;
        });
        with_tx!(tx.inner(), conn => {
            sqlx::query(
                "INSERT INTO known_devices (id_hash, account_id, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (id_hash, account_id) DO UPDATE SET created_at = $3",
            )
            .bind(id_hash)
            .bind(account)
            .bind(now)
            .execute(&mut **conn)
            .await?;
        });
        tx.commit().await
    }
}
