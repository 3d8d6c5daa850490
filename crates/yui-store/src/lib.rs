//! Persistence for Yui: one interface over SQLite (the embedded default) and
//! PostgreSQL (production), chosen at runtime from the database URL.
//!
//! SQL lives here alone. Query bodies are written once and compiled for each pool type
//! by `with_pool!` and `with_tx!`; only what really differs between the dialects (how
//! a writing transaction starts, row locks, connection set-up) lives in per-backend
//! code. Callers reach rows through the handles of [`Store::tenant`],
//! [`Store::account`] and [`Store::platform`].

mod accounts;
mod applications;
mod audit;
pub mod backup;
mod case_studies;
mod certificates;
mod diagnostics;
mod directory;
mod engagements;
mod error;
mod events;
mod hearings;
mod hosts;
mod invitations;
mod newsletters;
mod outbox;
mod policy;
mod projects;
mod rounds;
mod scope;
mod scouts;
mod search;
mod sqlite_file;
mod talent;
mod tenants;
mod throttle;
mod tokens;
mod transitions;
// Key figures per tenant and fiscal year (issue 13).
mod kpis;
// Onboarding regions and the operator overview (issue 14).
mod onboarding;
// Regions leaving the platform: export and erasure (issue 14).
mod leaving;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, PgPool, SqlitePool};
use tracing::instrument;

pub use accounts::{Account, AccountsTx, NewAccount, SessionPolicy, TokenPurpose};
pub use applications::{
    Application, ApplicationMessage, ApplicationTransition, Audience, Digest, InterestMark,
    MyApplication,
};
pub use audit::{AuditEntry, AuditRecord, AuditTx};
pub use case_studies::{CaseEngagement, CasePhoto, CasePhotoData, CaseStudy, PhotoAdded};
pub use certificates::{Certificate, NewCertificate, PublishedKey, SigningKeyRow};
pub use diagnostics::RowSecurityReport;
pub use directory::DirectoryEntry;
pub use engagements::{
    AtRisk, CheckinRecord, EngagementFilter, EngagementRecord, EngagementTransition, NewEngagement,
    ReflectionRecord, RoleHolder, TermsOutcome, TermsRecord,
};
pub use error::StoreError;
pub use events::{
    AttendanceDay, Event, EventListing, EventQuery, MyRegistration, NewRegistration, Program,
    Registered, Registration, ReminderCandidate, SeatLock, SeatMove,
};
pub use hearings::{Hearing, HearingSubject};
pub use hosts::{Host, HostMember};
pub use invitations::{Invitation, NewInvitation};
pub use leaving::{LeavingKind, LeavingRequest};
pub use newsletters::{Newsletter, NewsletterRecipient, NewsletterSubscription, Unsubscribed};
pub use onboarding::{PlatformTotals, SetupProgress, StateCounts, TenantActivity};
pub use outbox::{
    MailAttachment, MailStatus, NewOutboxMail, OutboxEntry, OutboxTx, QueuedMail, StatusCounts,
};
pub use policy::{
    ChangeOutcome, GrantKey, GrantRow, PermissionRow, PermissionSpec, PolicyChange, PolicyTx,
    TenantNode, UNVERIFIED,
};
pub use projects::{Project, ProjectComment, ProjectTransition};
pub use rounds::{
    Adjustment, AdjustmentRecord, Answered, Engagement, InvitationSource, NewPair, NewRound, Offer,
    PairOrigin, Recipient, Round, RoundEntry, RoundHostMember, RoundLists, RoundPair, RoundProject,
    Side,
};
pub use rounds::{EntrantForHosts, MemberRoundProject};
pub use scope::{
    AccountHandle, AccountTx, PlatformHandle, PlatformReason, PlatformTx, TenantHandle, TenantTx,
    Tx,
};
pub use scouts::{MyScout, Scout, ScoutOutcome};
pub use search::{
    CANDIDATES_PER_SKILL, ProjectFacets, ProjectHit, ProjectQuery, Reach, TalentFacets, TalentHit,
    TalentQuery,
};
pub use sqlite_file::Unhealthy;
pub use talent::{
    AccountData, ConsentChange, ConsentEvent, Erasure, MemberProfile, MemberSummary, Membership,
    MyMembership, PersonalData, StoredProfile, TokenData,
};
pub use tenants::{ApplyOutcome, TenantRecord, local_tenant_changes};
pub use throttle::{Attempt, Limit};
pub use tokens::{ApiToken, TokenPrincipal};

pub use kpis::{EventHeld, KpiTarget, TenantPeopleCounts};

/// Result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend named by a database URL's scheme.
    pub fn from_url(url: &str) -> Result<Backend> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(StoreError::Config(format!(
                "database_url: unsupported scheme {scheme:?}; use sqlite://… or postgres://…"
            ))),
        }
    }
}

/// The database. Cloning is cheap: it shares the pool.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs one body against whichever pool the store holds. The body is compiled once
/// per backend, so the same SQL text (with `$n` placeholders) serves both.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::Store::Sqlite($pool) => $body,
            $crate::Store::Postgres($pool) => $body,
        }
    };
}

/// Starting a transaction that will write. On SQLite it must be `BEGIN IMMEDIATE`:
/// a deferred transaction that later upgrades to a write fails with "database is
/// locked" under concurrent load instead of waiting for `busy_timeout`.
pub(crate) trait WritePool {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>>;
}

impl WritePool for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.begin_with("BEGIN IMMEDIATE").await?)
    }
}

impl WritePool for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        Ok(self.begin().await?)
    }
}

/// Whose rows a transaction may see on PostgreSQL, where row-level security is the
/// second wall between tenants (the first: every query filters by tenant id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TenantScope {
    /// One tenant's rows (and platform rows, which have no tenant).
    Tenant(i64),
    /// Every tenant's rows: platform work such as the mail workers, the policy
    /// loader and the operator console. Each use is a deliberate choice in code.
    Platform,
}

impl TenantScope {
    fn setting(self) -> String {
        match self {
            TenantScope::Tenant(id) => id.to_string(),
            TenantScope::Platform => "*".to_owned(),
        }
    }
}

/// A transaction on either backend, the raw inside of every handle's transaction.
/// Queries match on it, writing the same SQL for both arms (see `with_tx!`).
#[derive(Debug)]
pub(crate) enum StoreTx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl StoreTx {
    pub async fn commit(self) -> Result<()> {
        match self {
            StoreTx::Sqlite(tx) => tx.commit().await?,
            StoreTx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        match self {
            StoreTx::Sqlite(tx) => tx.rollback().await?,
            StoreTx::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }

    /// `clause` (`FOR UPDATE`, `FOR SHARE`) on PostgreSQL, where concurrent
    /// transactions take turns on a row by locking it; nothing on SQLite, whose
    /// writing transactions already run one at a time (and which has no such clause).
    pub fn row_lock(&self, clause: &'static str) -> &'static str {
        match self {
            StoreTx::Sqlite(_) => "",
            StoreTx::Postgres(_) => clause,
        }
    }
}

/// Runs one body against the connection of a [`StoreTx`], compiled once per backend:
/// `with_tx!(tx, conn => sqlx::query("…").bind(x).execute(&mut **conn).await)`.
macro_rules! with_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::StoreTx::Sqlite($conn) => $body,
            $crate::StoreTx::Postgres($conn) => $body,
        }
    };
}
pub(crate) use with_tx;

async fn set_scope(tx: &mut StoreTx, scope: TenantScope) -> Result<()> {
    // SQLite has no row-level security; its queries filter by tenant id alone.
    if let StoreTx::Postgres(conn) = tx {
        sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
            .bind(scope.setting())
            .execute(&mut **conn)
            .await?;
    }
    Ok(())
}

/// How many connections a pool holds and how many of them wait for work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// The most it may open.
    pub max: u32,
    /// Open now, idle or in use.
    pub size: u32,
    /// Open and waiting for a request.
    pub idle: u32,
}

impl PoolStats {
    /// Open connections lent out right now.
    pub fn in_use(&self) -> u32 {
        self.size.saturating_sub(self.idle)
    }
}

/// Connection settings beyond the URL.
#[derive(Debug, Clone)]
pub struct ConnectSettings {
    pub max_connections: u32,
    /// How long to wait for PostgreSQL before giving up with a clear error.
    pub connect_timeout: Duration,
}

impl Default for ConnectSettings {
    fn default() -> Self {
        ConnectSettings {
            max_connections: 10,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

impl Store {
    /// Opens the database named by `url`. An SQLite file is created when missing.
    /// Errors are one line a person can act on; they never contain the password.
    // The caller reports a failure; logging it here too would print it twice.
    #[instrument(skip_all)]
    pub async fn connect(url: &str, settings: &ConnectSettings) -> Result<Store> {
        match Backend::from_url(url)? {
            Backend::Sqlite => {
                let opts = SqliteConnectOptions::from_str(url)
                    .map_err(|e| StoreError::Config(format!("database_url: {e}")))?
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    // Erased personal data is overwritten in the file, not only
                    // unlinked from the tree where a file copy could still read it.
                    .pragma("secure_delete", "ON");
                let filename = opts.get_filename().display().to_string();
                let cannot_open = |e: sqlx::Error| {
                    StoreError::Unavailable(format!("cannot open SQLite database {filename}: {e}"))
                };
                // The file is created here, at start-up, and never again: a pool that
                // created missing files would answer a deleted database with a new,
                // empty one and carry on as if nothing happened.
                sqlx::SqliteConnection::connect_with(&opts.clone().create_if_missing(true))
                    .await
                    .map_err(cannot_open)?
                    .close()
                    .await
                    .map_err(cannot_open)?;
                let file = sqlite_file::SqliteFile::at(opts.get_filename());
                let pool = file
                    .guard(SqlitePoolOptions::new())
                    // A ping is a round trip to the connection's worker thread on every
                    // acquire, and tells nothing about a local file that the guard's
                    // check (is the file still there) does not.
                    .test_before_acquire(false)
                    .max_connections(settings.max_connections)
                    .connect_with(opts.create_if_missing(false))
                    .await
                    .map_err(cannot_open)?;
                Ok(Store::Sqlite(pool))
            }
            Backend::Postgres => {
                let opts = PgConnectOptions::from_str(url)
                    .map_err(|e| StoreError::Config(format!("database_url: {e}")))?;
                let opts = opts.log_statements(tracing::log::LevelFilter::Debug);
                let place = format!(
                    "{}:{} (database {})",
                    opts.get_host(),
                    opts.get_port(),
                    opts.get_database().unwrap_or("default")
                );
                // One direct connection first: a pool only reports "timed out",
                // while the connection says why (refused, unknown host, auth).
                let probe = tokio::time::timeout(
                    settings.connect_timeout,
                    sqlx::PgConnection::connect_with(&opts),
                )
                .await
                .map_err(|_| {
                    StoreError::Unavailable(format!(
                        "cannot reach PostgreSQL at {place}: timed out"
                    ))
                })?
                .map_err(|e| {
                    StoreError::Unavailable(format!("cannot connect to PostgreSQL at {place}: {e}"))
                })?;
                probe.close().await.ok();
                let pool = PgPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .acquire_timeout(settings.connect_timeout)
                    .connect_with(opts)
                    .await
                    .map_err(|e| {
                        StoreError::Unavailable(format!(
                            "cannot connect to PostgreSQL at {place}: {e}"
                        ))
                    })?;
                Ok(Store::Postgres(pool))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(_) => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    /// Brings the schema up to date. On PostgreSQL sqlx holds an advisory lock, so
    /// several nodes starting at once migrate one after another.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Store::Sqlite(pool) => SQLITE_MIGRATOR.run(pool).await?,
            Store::Postgres(pool) => POSTGRES_MIGRATOR.run(pool).await?,
        }
        self.index_unindexed_projects().await
    }

    /// Whether this node can serve: the database answers, it is still the database
    /// the node started with (an SQLite file not deleted or replaced since), and it
    /// holds the schema. `/readyz` reports this, so a balancer stops sending traffic
    /// to a node whose database went away underneath it.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn health(&self) -> Result<(), Unhealthy> {
        // A table every migration set has had since the first one.
        let present: bool = match self {
            Store::Sqlite(pool) => sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'accounts')",
            )
            .fetch_one(pool)
            .await
            .map_err(|e| Unhealthy::from_sqlx(&e))?,
            Store::Postgres(pool) => {
                sqlx::query_scalar("SELECT to_regclass('accounts') IS NOT NULL")
                    .fetch_one(pool)
                    .await
                    .map_err(|e| Unhealthy::from_sqlx(&e))?
            }
        };
        if present {
            Ok(())
        } else {
            Err(Unhealthy::SchemaMissing)
        }
    }

    /// Starts a writing transaction (`BEGIN IMMEDIATE` on SQLite) that sees no
    /// tenant's rows on PostgreSQL: for accounts and other platform rows.
    pub(crate) async fn begin_write(&self) -> Result<StoreTx> {
        Ok(match self {
            Store::Sqlite(pool) => StoreTx::Sqlite(pool.begin_write().await?),
            Store::Postgres(pool) => StoreTx::Postgres(pool.begin_write().await?),
        })
    }

    /// Starts a writing transaction in a tenant scope: on PostgreSQL the scope is set
    /// with `set_config('app.tenant_id', …, true)`, which ends with the transaction,
    /// so a pooled connection never carries it to the next user.
    pub(crate) async fn begin_write_in(&self, scope: TenantScope) -> Result<StoreTx> {
        let mut tx = self.begin_write().await?;
        set_scope(&mut tx, scope).await?;
        Ok(tx)
    }

    /// Starts a reading transaction in a tenant scope (deferred on SQLite).
    pub(crate) async fn begin_read_in(&self, scope: TenantScope) -> Result<StoreTx> {
        let mut tx = match self {
            Store::Sqlite(pool) => StoreTx::Sqlite(pool.begin().await?),
            Store::Postgres(pool) => StoreTx::Postgres(pool.begin().await?),
        };
        set_scope(&mut tx, scope).await?;
        Ok(tx)
    }

    /// The connection pool as it is now, for `/metrics`.
    pub fn pool_stats(&self) -> PoolStats {
        with_pool!(self, pool => PoolStats {
            max: pool.options().get_max_connections(),
            size: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
        })
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}
