//! Accounts, sessions, one-time tokens and sign-in throttling.

use chrono::{DateTime, Duration, Utc};
use tracing::instrument;
use yui_domain::Locale;
use yui_domain::account::Email;

use crate::{Result, Store, StoreError, StoreTx, WritePool, with_pool, with_tx};

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub locale: String,
}

impl Account {
    pub fn locale(&self) -> Locale {
        Locale::parse(&self.locale).unwrap_or_default()
    }
}

/// What a one-time token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    PasswordReset,
    MagicLink,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::PasswordReset => "password_reset",
            TokenPurpose::MagicLink => "magic_link",
        }
    }
}

/// A new session's lifetime: it ends at `absolute_expiry` however active it is, and
/// earlier when idle longer than `idle`.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
}

const ACCOUNT_COLUMNS: &str = "id, email, display_name, password_hash, email_verified_at, locale";

impl Store {
    /// Creates an account inside the caller's transaction (so the verification mail
    /// commits with it). An address already registered, in any case, is a conflict
    /// on `email`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn create_account(
        tx: &mut StoreTx,
        email: &Email,
        display_name: &str,
        password_hash: Option<&str>,
        locale: Locale,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let result: std::result::Result<(i64,), sqlx::Error> = with_tx!(tx, conn => {
            sqlx::query_as(
                "INSERT INTO accounts (email, email_lower, display_name, password_hash, locale, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
            )
            .bind(&email.address)
            .bind(&email.key)
            .bind(display_name)
            .bind(password_hash)
            .bind(locale.tag())
            .bind(now)
            .fetch_one(&mut **conn)
            .await
        });
        match result {
            Ok((id,)) => Ok(id),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(StoreError::Conflict("email".to_owned()))
            }
            Err(e) => Err(e.into()),
        }
    }

    #[instrument(skip_all, err(level = "debug"))]
    pub async fn account_by_email(&self, email: &Email) -> Result<Option<Account>> {
        with_pool!(self, pool => {
            Ok(sqlx::query_as(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE email_lower = $1"))
                .bind(&email.key)
                .fetch_optional(pool)
                .await?)
        })
    }

    #[instrument(skip_all, fields(account = id), err(level = "debug"))]
    pub async fn account(&self, id: i64) -> Result<Account> {
        with_pool!(self, pool => {
            Ok(sqlx::query_as(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"))
                .bind(id)
                .fetch_one(pool)
                .await?)
        })
    }

    #[instrument(skip_all, fields(account = id), err(level = "warn"))]
    pub async fn update_account_profile(
        &self,
        id: i64,
        display_name: &str,
        locale: Locale,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE accounts SET display_name = $1, locale = $2, updated_at = $3 WHERE id = $4")
                .bind(display_name)
                .bind(locale.tag())
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Sets a new password and ends every session of the account in one transaction.
    #[instrument(skip_all, fields(account = id), err(level = "warn"))]
    pub async fn set_password(
        tx: &mut StoreTx,
        id: i64,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(tx, conn => {
            sqlx::query("UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(password_hash)
                .bind(now)
                .bind(id)
                .execute(&mut **conn)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(id).execute(&mut **conn).await?;
        });
        Ok(())
    }

    #[instrument(skip_all, fields(account = id), err(level = "warn"))]
    pub async fn mark_email_verified(tx: &mut StoreTx, id: i64, now: DateTime<Utc>) -> Result<()> {
        with_tx!(tx, conn => {
            sqlx::query("UPDATE accounts SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut **conn)
                .await?;
        });
        Ok(())
    }

    /// Stores a one-time token (its hash) in the caller's transaction.
    #[instrument(skip_all, fields(account = account_id), err(level = "warn"))]
    pub async fn create_token(
        tx: &mut StoreTx,
        account_id: i64,
        purpose: TokenPurpose,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO account_tokens (token_hash, account_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(account_id)
            .bind(purpose.as_str())
            .bind(now)
            .bind(expires_at)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// Uses a token once: the account it belongs to, or `None` when it is unknown,
    /// expired or already used. Two concurrent uses cannot both succeed.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn consume_token(
        tx: &mut StoreTx,
        purpose: TokenPurpose,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let row: Option<(i64,)> = with_tx!(tx, conn => {
            sqlx::query_as(
                "UPDATE account_tokens SET used_at = $1
                 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1
                 RETURNING account_id",
            )
            .bind(now)
            .bind(token_hash)
            .bind(purpose.as_str())
            .fetch_optional(&mut **conn)
            .await?
        });
        Ok(row.map(|(id,)| id))
    }

    /// Starts a session for an account.
    #[instrument(skip_all, fields(account = account_id), err(level = "warn"))]
    pub async fn create_session(
        &self,
        account_id: i64,
        id_hash: &str,
        policy: SessionPolicy,
        ip: &str,
        user_agent: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO sessions (id_hash, account_id, created_at, last_seen_at, expires_at, ip, user_agent)
                 VALUES ($1, $2, $3, $3, $4, $5, $6)",
            )
            .bind(id_hash)
            .bind(account_id)
            .bind(now)
            .bind(now + policy.absolute)
            .bind(ip)
            .bind(user_agent.chars().take(300).collect::<String>())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The account of a live session, refreshing its idle timer. Expired or idle
    /// sessions are deleted and answer `None`.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn session_account(
        &self,
        id_hash: &str,
        policy: SessionPolicy,
        now: DateTime<Utc>,
    ) -> Result<Option<Account>> {
        let row: Option<(i64, DateTime<Utc>, DateTime<Utc>)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT account_id, last_seen_at, expires_at FROM sessions WHERE id_hash = $1")
                .bind(id_hash)
                .fetch_optional(pool)
                .await?
        });
        let Some((account_id, last_seen, expires)) = row else {
            return Ok(None);
        };
        if now >= expires || now - last_seen >= policy.idle {
            self.delete_session(id_hash).await?;
            return Ok(None);
        }
        // Writing on every request would serialise reads on SQLite; a minute's
        // precision is plenty for an idle timeout measured in hours.
        if now - last_seen >= Duration::minutes(1) {
            with_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                    .bind(now)
                    .bind(id_hash)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            });
        }
        Ok(Some(self.account(account_id).await?))
    }

    #[instrument(skip_all, err(level = "warn"))]
    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Signs an account out everywhere. Returns how many sessions ended.
    #[instrument(skip_all, fields(account = account_id), err(level = "warn"))]
    pub async fn delete_sessions_of(&self, account_id: i64) -> Result<u64> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(account_id).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok(n)
        })
    }

    /// Failures recorded for `key` in the current window (a new window starts once the
    /// old one is `window` old).
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn throttle_failures(
        &self,
        key: &str,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let row: Option<(DateTime<Utc>, i64)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT window_start, CAST(failures AS BIGINT) FROM signin_throttle WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await?
        });
        Ok(match row {
            Some((start, n)) if now - start < window => n,
            _ => 0,
        })
    }

    /// Records one failed sign-in for each key, atomically.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn throttle_record_failure(
        &self,
        keys: &[&str],
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let window_floor = now - window;
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for key in keys {
                sqlx::query(
                    "INSERT INTO signin_throttle (key, window_start, failures) VALUES ($1, $2, 1)
                     ON CONFLICT (key) DO UPDATE SET
                       failures = CASE WHEN signin_throttle.window_start <= $3 THEN 1 ELSE signin_throttle.failures + 1 END,
                       window_start = CASE WHEN signin_throttle.window_start <= $3 THEN $2 ELSE signin_throttle.window_start END",
                )
                .bind(key)
                .bind(now)
                .bind(window_floor)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Forgets failures after a successful sign-in.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn throttle_clear(&self, key: &str) -> Result<()> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM signin_throttle WHERE key = $1").bind(key).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
