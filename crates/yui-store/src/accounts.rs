//! Accounts, sessions and one-time tokens.

use chrono::{DateTime, Duration, Utc};
use tracing::instrument;
use yui_domain::account::Email;
use yui_domain::{AccountId, Locale};

use crate::scope::{AccountTx, PlatformReason, Tx, sealed::Inner};
use crate::{Result, Store, StoreError, StoreTx, with_tx};

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Account {
    pub id: AccountId,
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub locale: String,
    /// Moves with every change of credentials; sessions and tokens are made only
    /// under the epoch their sign-in checked.
    pub credential_epoch: i64,
}

impl Account {
    pub fn locale(&self) -> Locale {
        Locale::parse(&self.locale).unwrap_or_default()
    }

    /// The stored address, which passed [`Email::parse`] when it was stored.
    pub fn email(&self) -> Result<Email> {
        Email::parse("email", &self.email)
            .map_err(|e| StoreError::Invalid(format!("stored address: {e}")))
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

const ACCOUNT_COLUMNS: &str =
    "id, email, display_name, password_hash, email_verified_at, locale, credential_epoch";

/// Finds an account by address, in any transaction.
pub(crate) async fn by_email(tx: &mut StoreTx, email: &Email) -> Result<Option<Account>> {
    with_tx!(tx, conn => {
        Ok(sqlx::query_as(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE email_lower = $1"))
            .bind(email.key())
            .fetch_optional(&mut **conn)
            .await?)
    })
}

async fn by_id(tx: &mut StoreTx, id: AccountId) -> Result<Account> {
    with_tx!(tx, conn => {
        Ok(sqlx::query_as(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"))
            .bind(id)
            .fetch_one(&mut **conn)
            .await?)
    })
}

/// Person-level account work that belongs with a change in any transaction: an
/// invitation creates the invited person's account in the tenant's transaction.
pub trait AccountsTx: Tx + Sized {
    /// The account with this address (in any case), if one exists.
    fn account_by_email(
        &mut self,
        email: &Email,
    ) -> impl Future<Output = Result<Option<Account>>> + Send {
        by_email(self.inner(), email)
    }

    /// One account by id.
    fn account_by_id(&mut self, id: AccountId) -> impl Future<Output = Result<Account>> + Send {
        by_id(self.inner(), id)
    }

    /// Creates an account. An address already registered, in any case, is a
    /// conflict on `email`.
    fn create_account(
        &mut self,
        new: NewAccount<'_>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<AccountId>> + Send {
        create(self.inner(), new, now)
    }

    /// Stores a one-time token (its hash) for an account: a verification, reset or
    /// sign-in link, or the link of an invitation.
    fn create_login_token(
        &mut self,
        account: AccountId,
        purpose: TokenPurpose,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<()>> + Send {
        create_token(self.inner(), account, purpose, token_hash, now, expires_at)
    }

    /// Records that the person proved the mailbox is theirs (first time only).
    fn mark_account_verified(
        &mut self,
        account: AccountId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<()>> + Send {
        mark_verified(self.inner(), account, now)
    }

    /// Sets the account's display name.
    fn set_account_name(
        &mut self,
        account: AccountId,
        display_name: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<()>> + Send {
        set_name(self.inner(), account, display_name, now)
    }

    /// Sets a new password and ends every session of the account: whoever held one
    /// before the change holds nothing after it.
    fn set_account_password(
        &mut self,
        account: AccountId,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<()>> + Send {
        set_password(self.inner(), account, password_hash, now)
    }
}

impl<T: Tx + Sized> AccountsTx for T {}

async fn set_name(
    tx: &mut StoreTx,
    account: AccountId,
    display_name: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    with_tx!(tx, conn => {
        sqlx::query("UPDATE accounts SET display_name = $1, updated_at = $2 WHERE id = $3")
            .bind(display_name)
            .bind(now)
            .bind(account)
            .execute(&mut **conn)
            .await?;
    });
    Ok(())
}

async fn mark_verified(tx: &mut StoreTx, account: AccountId, now: DateTime<Utc>) -> Result<()> {
    with_tx!(tx, conn => {
        sqlx::query("UPDATE accounts SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(account)
            .execute(&mut **conn)
            .await?;
    });
    Ok(())
}

async fn set_password(
    tx: &mut StoreTx,
    account: AccountId,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    // First, so on PostgreSQL the account's row is held until the commit: a session or
    // token being made under the old epoch waits, then finds the epoch moved.
    with_tx!(tx, conn => {
        sqlx::query(
            "UPDATE accounts SET password_hash = $1, updated_at = $2, credential_epoch = credential_epoch + 1 WHERE id = $3",
        )
        .bind(password_hash)
        .bind(now)
        .bind(account)
        .execute(&mut **conn)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(account).execute(&mut **conn).await?;
    });
    Ok(())
}

/// Holds the account's row (PostgreSQL) and checks its credential epoch: what a new
/// session or token is made under. A change of credentials in progress is waited for.
pub(crate) async fn check_epoch(tx: &mut StoreTx, account: AccountId, epoch: i64) -> Result<()> {
    let lock = tx.row_lock("FOR SHARE");
    let row: Option<(i64,)> = with_tx!(tx, conn => {
        sqlx::query_as(&format!("SELECT credential_epoch FROM accounts WHERE id = $1 {lock}"))
            .bind(account)
            .fetch_optional(&mut **conn)
            .await?
    });
    match row {
        Some((current,)) if current == epoch => Ok(()),
        Some(_) => Err(StoreError::Conflict("credentials".to_owned())),
        None => Err(StoreError::NotFound),
    }
}

/// A new account.
#[derive(Debug, Clone, Copy)]
pub struct NewAccount<'a> {
    pub email: &'a Email,
    pub display_name: &'a str,
    pub password_hash: Option<&'a str>,
    pub locale: Locale,
}

#[instrument(skip_all, err(level = "debug"))]
async fn create(tx: &mut StoreTx, new: NewAccount<'_>, now: DateTime<Utc>) -> Result<AccountId> {
    let result: std::result::Result<(AccountId,), sqlx::Error> = with_tx!(tx, conn => {
        sqlx::query_as(
            "INSERT INTO accounts (email, email_lower, display_name, password_hash, locale, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(new.email.as_str())
        .bind(new.email.key())
        .bind(new.display_name)
        .bind(new.password_hash)
        .bind(new.locale.tag())
        .bind(now)
        .fetch_one(&mut **conn)
        .await
    });
    result.map(|(id,)| id).map_err(StoreError::taken("email"))
}

#[instrument(skip_all, fields(account = %account), err(level = "warn"))]
async fn create_token(
    tx: &mut StoreTx,
    account: AccountId,
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
        .bind(account)
        .bind(purpose.as_str())
        .bind(now)
        .bind(expires_at)
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

impl AccountTx {
    /// The account itself.
    #[instrument(skip_all, fields(account = %self.account), err(level = "debug"))]
    pub async fn get(&mut self) -> Result<Account> {
        by_id(&mut self.tx, self.account).await
    }

    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn update_profile(
        &mut self,
        display_name: &str,
        locale: Locale,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query("UPDATE accounts SET display_name = $1, locale = $2, updated_at = $3 WHERE id = $4")
                .bind(display_name)
                .bind(locale.tag())
                .bind(now)
                .bind(self.account)
                .execute(&mut **conn)
                .await?;
        });
        Ok(())
    }

    /// Sets a new password and ends every session of the account.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn set_password(&mut self, password_hash: &str, now: DateTime<Utc>) -> Result<()> {
        set_password(&mut self.tx, self.account, password_hash, now).await
    }

    /// The mailbox proved by a sign-in link: an account nobody had proved loses the
    /// password chosen before (whoever registered it may not own the mailbox) and
    /// every session, and is marked verified. A proven account is left as it is.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn claim_by_mailbox(&mut self, now: DateTime<Utc>) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            let changed = sqlx::query(
                "UPDATE accounts SET password_hash = NULL, credential_epoch = credential_epoch + 1, updated_at = $1
                 WHERE id = $2 AND email_verified_at IS NULL",
            )
            .bind(now)
            .bind(self.account)
            .execute(&mut **conn)
            .await?
            .rows_affected();
            if changed > 0 {
                sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(self.account).execute(&mut **conn).await?;
            }
        });
        mark_verified(&mut self.tx, self.account, now).await
    }

    /// Records that the person proved the mailbox is theirs (first time only).
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn mark_email_verified(&mut self, now: DateTime<Utc>) -> Result<()> {
        mark_verified(&mut self.tx, self.account, now).await
    }

    /// Whether a token for `purpose` was issued to this account at or after `since`
    /// (so a burst of requests sends one mail, not many). In a writing transaction it
    /// holds the account until the commit, so the check and the new token are one step.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn token_issued_since(
        &mut self,
        purpose: TokenPurpose,
        since: DateTime<Utc>,
    ) -> Result<bool> {
        // Concurrent requests of one account take turns from here: on PostgreSQL by
        // locking the account's row (SQLite's writing transactions already do).
        if let StoreTx::Postgres(conn) = &mut self.tx {
            sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE")
                .bind(self.account)
                .execute(&mut **conn)
                .await?;
        }
        let row: Option<(i64,)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT CAST(1 AS BIGINT) FROM account_tokens WHERE account_id = $1 AND purpose = $2 AND created_at >= $3 LIMIT 1",
            )
            .bind(self.account)
            .bind(purpose.as_str())
            .bind(since)
            .fetch_optional(&mut **conn)
            .await?
        });
        Ok(row.is_some())
    }

    /// Starts a session.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    /// Starts a session under `epoch`, the credential epoch the sign-in was checked
    /// against: [`StoreError::Conflict`] (`credentials`) when the credentials changed
    /// since, so a sign-in racing a password change gains nothing.
    pub async fn create_session(
        &mut self,
        id_hash: &str,
        policy: SessionPolicy,
        ip: &str,
        user_agent: &str,
        epoch: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        check_epoch(&mut self.tx, self.account, epoch).await?;
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO sessions (id_hash, account_id, created_at, last_seen_at, expires_at, ip, user_agent, credential_epoch)
                 VALUES ($1, $2, $3, $3, $4, $5, $6, $7)",
            )
            .bind(id_hash)
            .bind(self.account)
            .bind(now)
            .bind(now + policy.absolute)
            .bind(ip)
            .bind(user_agent.chars().take(300).collect::<String>())
            .bind(epoch)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// Signs the account out everywhere. Returns how many sessions ended.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn end_all_sessions(&mut self) -> Result<u64> {
        with_tx!(&mut self.tx, conn => {
            // The epoch moves first: a sign-in still running ends with nothing.
            sqlx::query("UPDATE accounts SET credential_epoch = credential_epoch + 1 WHERE id = $1")
                .bind(self.account)
                .execute(&mut **conn)
                .await?;
            Ok(sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                .bind(self.account)
                .execute(&mut **conn)
                .await?
                .rows_affected())
        })
    }
}

impl Store {
    /// Uses a mailed token once, in a new writing transaction on the account it was
    /// for: the token is what proves whose account it is. `None` (nothing changed)
    /// when it is unknown, expired or already used; two concurrent uses cannot both
    /// succeed. Commit the returned transaction to use the token up.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn redeem_token(
        &self,
        purpose: TokenPurpose,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<AccountTx>> {
        let mut tx = self
            .platform(PlatformReason::Authentication)
            .write()
            .await?
            .into_inner();
        let row: Option<(AccountId,)> = with_tx!(&mut tx, conn => {
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
        match row {
            Some((account,)) => Ok(Some(AccountTx { tx, account })),
            None => {
                tx.rollback().await?;
                Ok(None)
            }
        }
    }

    /// The account with this address, if any: who is signing in or asking for a link.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn find_account(&self, email: &Email) -> Result<Option<Account>> {
        let mut tx = self.platform(PlatformReason::Authentication).read().await?;
        let found = tx.account_by_email(email).await?;
        tx.commit().await?;
        Ok(found)
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
        let mut tx = self
            .platform(PlatformReason::Authentication)
            .read()
            .await?
            .into_inner();
        let row: Option<(AccountId, DateTime<Utc>, DateTime<Utc>)> = with_tx!(&mut tx, conn => {
            // A session made under an older credential epoch is no session.
            sqlx::query_as(
                "SELECT s.account_id, s.last_seen_at, s.expires_at FROM sessions s
                 JOIN accounts a ON a.id = s.account_id AND a.credential_epoch = s.credential_epoch
                 WHERE s.id_hash = $1",
            )
                .bind(id_hash)
                .fetch_optional(&mut **conn)
                .await?
        });
        let Some((account_id, last_seen, expires)) = row else {
            tx.commit().await?;
            return Ok(None);
        };
        let account = by_id(&mut tx, account_id).await?;
        tx.commit().await?;
        if now >= expires || now - last_seen >= policy.idle {
            self.end_session(id_hash).await?;
            return Ok(None);
        }
        // Writing on every request would serialise reads on SQLite; a minute's
        // precision is plenty for an idle timeout measured in hours.
        if now - last_seen >= Duration::minutes(1) {
            let mut tx = self
                .platform(PlatformReason::Authentication)
                .write()
                .await?;
            with_tx!(tx.inner(), conn => {
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                    .bind(now)
                    .bind(id_hash)
                    .execute(&mut **conn)
                    .await?;
            });
            tx.commit().await?;
        }
        Ok(Some(account))
    }

    /// Ends one session (signing out), whoever's it is: the id is the proof.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn end_session(&self, id_hash: &str) -> Result<()> {
        let mut tx = self
            .platform(PlatformReason::Authentication)
            .write()
            .await?;
        with_tx!(tx.inner(), conn => {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&mut **conn).await?;
        });
        tx.commit().await
    }
}
