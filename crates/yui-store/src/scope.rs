//! Handles that decide whose rows a transaction reaches, opened before any query runs.
//!
//! - [`TenantTx`]: one tenant's data. It sets the row-level-security scope on
//!   PostgreSQL and binds the tenant id into every query itself; no method takes a
//!   tenant id, so a caller cannot ask for another tenant's rows.
//! - [`AccountTx`]: one person's own data (profile, password, sessions, their API
//!   tokens in whatever tenant); every query filters by the account.
//! - [`PlatformTx`]: work across tenants, opened with a [`PlatformReason`]. The enum
//!   is the one list of every platform-wide use.
//!
//! Person-level rows that belong to no tenant (finding an account by address,
//! creating one, queuing mail, the audit trail) can be written in any of them, so a
//! change and everything that belongs to it commit once.

use yui_domain::{AccountId, TenantId};

use crate::{Result, Store, StoreTx, TenantScope};

/// Why a transaction reaches every tenant's rows. Each variant is one deliberate
/// use; adding one is a design decision, reviewed as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformReason {
    /// Applying `tenants/*/tenant.toml` (the `yui tenant` command, start-up) and the
    /// demo loader.
    TenantFiles,
    /// The directory of tenants: slugs, names, parents, status and branding, which
    /// public pages and the tenant extractor need before a tenant is chosen.
    Directory,
    /// Platform operators: suspend and resume tenants, staff counts, the platform's
    /// audit log. Routes check the operator's permission first.
    OperatorConsole,
    /// Who the caller is: sessions, sign-in throttling, one-time links, and which
    /// tenant a presented API token belongs to.
    Authentication,
    /// Loading and changing the authorization policy, which spans every tenant.
    Policy,
    /// Mail workers deliver every tenant's queued mail.
    MailDelivery,
    /// Maintenance commands (`yui admin …`) run by an operator with shell access.
    Admin,
    /// Public listings across regions: open public projects of every active tenant,
    /// what anyone may read anyway.
    PublicListings,
    /// The hourly digest of application messages: one mail per person with new
    /// messages, in whatever regions.
    MessageDigests,
    /// Start-up: indexing for search the projects written before their index
    /// existed (a migration makes the table but cannot compute bigrams in SQL).
    SearchIndex,
    /// Reminder mails before events, for every region's registrants.
    EventReminders,
    /// Anonymous statistics across tenants for operators: counts per tenant, small
    /// ones suppressed before they are shown (yui_domain::kpi::suppress).
    AnonymousStatistics,
    /// Certificates of activity: anyone checks one by its unguessable code without
    /// an account, and the platform's signing keys belong to no tenant.
    Certificates,
    /// `/metrics`: how much mail waits across every tenant, counted, never read.
    Metrics,
}

impl PlatformReason {
    pub fn as_str(self) -> &'static str {
        match self {
            PlatformReason::TenantFiles => "tenant_files",
            PlatformReason::Directory => "directory",
            PlatformReason::OperatorConsole => "operator_console",
            PlatformReason::Authentication => "authentication",
            PlatformReason::Policy => "policy",
            PlatformReason::MailDelivery => "mail_delivery",
            PlatformReason::Admin => "admin",
            PlatformReason::PublicListings => "public_listings",
            PlatformReason::MessageDigests => "message_digests",
            PlatformReason::SearchIndex => "search_index",
            PlatformReason::EventReminders => "event_reminders",
            PlatformReason::AnonymousStatistics => "anonymous_statistics",
            PlatformReason::Certificates => "certificates",
            PlatformReason::Metrics => "metrics",
        }
    }
}

/// Opens transactions on one tenant's data. Cheap: nothing happens until
/// [`read`](TenantHandle::read) or [`write`](TenantHandle::write).
#[derive(Debug, Clone, Copy)]
pub struct TenantHandle<'s> {
    store: &'s Store,
    tenant: TenantId,
}

/// Opens transactions on one account's own data.
#[derive(Debug, Clone, Copy)]
pub struct AccountHandle<'s> {
    store: &'s Store,
    account: AccountId,
}

/// Opens transactions across tenants, for a stated reason.
#[derive(Debug, Clone, Copy)]
pub struct PlatformHandle<'s> {
    store: &'s Store,
    reason: PlatformReason,
}

/// A transaction on one tenant's data.
#[derive(Debug)]
pub struct TenantTx {
    pub(crate) tx: StoreTx,
    pub(crate) tenant: TenantId,
}

/// A transaction on one account's own data.
#[derive(Debug)]
pub struct AccountTx {
    pub(crate) tx: StoreTx,
    pub(crate) account: AccountId,
}

/// A transaction across tenants.
#[derive(Debug)]
pub struct PlatformTx {
    pub(crate) tx: StoreTx,
    pub(crate) reason: PlatformReason,
}

impl Store {
    /// The data of tenant `id`.
    pub fn tenant(&self, id: TenantId) -> TenantHandle<'_> {
        TenantHandle {
            store: self,
            tenant: id,
        }
    }

    /// The own data of account `id`.
    pub fn account(&self, id: AccountId) -> AccountHandle<'_> {
        AccountHandle {
            store: self,
            account: id,
        }
    }

    /// Every tenant's data, for `reason`.
    pub fn platform(&self, reason: PlatformReason) -> PlatformHandle<'_> {
        PlatformHandle {
            store: self,
            reason,
        }
    }
}

impl TenantHandle<'_> {
    pub fn id(&self) -> TenantId {
        self.tenant
    }

    /// A reading transaction (deferred on SQLite).
    pub async fn read(self) -> Result<TenantTx> {
        let tx = self
            .store
            .begin_read_in(TenantScope::Tenant(self.tenant.get()))
            .await?;
        Ok(TenantTx {
            tx,
            tenant: self.tenant,
        })
    }

    /// A writing transaction (`BEGIN IMMEDIATE` on SQLite).
    pub async fn write(self) -> Result<TenantTx> {
        let tx = self
            .store
            .begin_write_in(TenantScope::Tenant(self.tenant.get()))
            .await?;
        Ok(TenantTx {
            tx,
            tenant: self.tenant,
        })
    }
}

// An account's own rows (its API tokens, say) may lie in several tenants; every
// account query filters by the account, so on PostgreSQL it runs in the platform scope.
impl AccountHandle<'_> {
    pub fn id(&self) -> AccountId {
        self.account
    }

    pub async fn read(self) -> Result<AccountTx> {
        let tx = self.store.begin_read_in(TenantScope::Platform).await?;
        Ok(AccountTx {
            tx,
            account: self.account,
        })
    }

    pub async fn write(self) -> Result<AccountTx> {
        let tx = self.store.begin_write_in(TenantScope::Platform).await?;
        Ok(AccountTx {
            tx,
            account: self.account,
        })
    }
}

impl PlatformHandle<'_> {
    pub async fn read(self) -> Result<PlatformTx> {
        tracing::trace!(reason = self.reason.as_str(), "platform read");
        let tx = self.store.begin_read_in(TenantScope::Platform).await?;
        Ok(PlatformTx {
            tx,
            reason: self.reason,
        })
    }

    pub async fn write(self) -> Result<PlatformTx> {
        tracing::trace!(reason = self.reason.as_str(), "platform write");
        let tx = self.store.begin_write_in(TenantScope::Platform).await?;
        Ok(PlatformTx {
            tx,
            reason: self.reason,
        })
    }
}

/// What every handle's transaction can do: end, and reach the rows of people and
/// mail that belong to no tenant. Sealed: only this crate's handles implement it.
pub trait Tx: sealed::Inner + Send {
    /// The tenant whose rows this transaction reaches, if it is a tenant's.
    fn tenant(&self) -> Option<TenantId>;
}

pub(crate) mod sealed {
    use crate::StoreTx;

    /// The raw transaction, reachable only inside the store: outside it the trait
    /// cannot be named and `StoreTx` (whose variants hold the sqlx connection) is
    /// private, so no other crate can run a query through a handle.
    #[allow(private_interfaces)]
    pub trait Inner {
        fn inner(&mut self) -> &mut StoreTx;
        fn into_inner(self) -> StoreTx;
    }
}

macro_rules! handle_tx {
    ($($ty:ident => $tenant:expr),* $(,)?) => {$(
        #[allow(private_interfaces)]
        impl sealed::Inner for $ty {
            fn inner(&mut self) -> &mut StoreTx {
                &mut self.tx
            }
            fn into_inner(self) -> StoreTx {
                self.tx
            }
        }

        impl Tx for $ty {
            fn tenant(&self) -> Option<TenantId> {
                #[allow(clippy::redundant_closure_call)]
                ($tenant)(self)
            }
        }

        impl $ty {
            /// Makes every write of this transaction permanent, together.
            pub async fn commit(self) -> Result<()> {
                self.tx.commit().await
            }

            /// Undoes everything this transaction wrote.
            pub async fn rollback(self) -> Result<()> {
                self.tx.rollback().await
            }
        }
    )*};
}

handle_tx! {
    TenantTx => |t: &TenantTx| Some(t.tenant),
    AccountTx => |_: &AccountTx| None,
    PlatformTx => |_: &PlatformTx| None,
}

impl TenantTx {
    pub fn tenant_id(&self) -> TenantId {
        self.tenant
    }
}

impl AccountTx {
    pub fn account_id(&self) -> AccountId {
        self.account
    }
}

impl PlatformTx {
    pub fn reason(&self) -> PlatformReason {
        self.reason
    }
}
