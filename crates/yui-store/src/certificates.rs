//! The activity record and its certificates (活動証明).
//!
//! A talent reads their own activities in every region through their [`AccountTx`];
//! a certificate is issued in one tenant's transaction from that tenant's rows
//! alone. The signing keys are platform rows: anyone may check a certificate, so
//! the public verification reads it by its unguessable code across tenants, for
//! the stated [`PlatformReason::Certificates`](crate::PlatformReason::Certificates).

use chrono::{DateTime, NaiveDate, Utc};
use tracing::instrument;
use yui_domain::certificate::{Activity, CertificateCode};
use yui_domain::{AccountId, FiscalYear, TenantId};

use crate::scope::{AccountTx, PlatformTx, TenantTx};
use crate::{Result, StoreTx, with_tx};

/// A certificate as stored: the payload text exactly as signed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Certificate {
    pub tenant_id: TenantId,
    pub tenant_slug: String,
    pub code: String,
    pub account_id: AccountId,
    pub fiscal_year: i32,
    pub payload: String,
    pub signature: String,
    pub key_id: String,
    pub issued_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A signing key as stored (keys in base64).
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SigningKeyRow {
    pub key_id: String,
    pub public_key: String,
    pub private_key: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for SigningKeyRow {
    // The private key never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRow")
            .field("key_id", &self.key_id)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// A public key as the platform publishes it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PublishedKey {
    pub key_id: String,
    pub public_key: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

/// A certificate to store, signed by the caller.
#[derive(Debug)]
pub struct NewCertificate<'a> {
    pub code: &'a CertificateCode,
    pub account: AccountId,
    pub fiscal_year: FiscalYear,
    pub payload: &'a str,
    pub signature: &'a str,
    pub key_id: &'a str,
    pub now: DateTime<Utc>,
}

#[derive(Debug, sqlx::FromRow)]
struct EventRow {
    tenant_id: TenantId,
    title: String,
    day: NaiveDate,
}

#[derive(Debug, sqlx::FromRow)]
struct MonthRow {
    tenant_id: TenantId,
    month: String,
    project: String,
    host: String,
    started_on: Option<NaiveDate>,
    ended_on: Option<NaiveDate>,
}

impl MonthRow {
    /// Whether the month lies within the engagement: only such months are
    /// activities, whatever a check-in says (one kept from before the form refused
    /// months before the start, say).
    fn within(&self) -> bool {
        let ym = |d: NaiveDate| d.format("%Y-%m").to_string();
        self.started_on.is_some_and(|s| self.month >= ym(s))
            && self.ended_on.is_none_or(|e| self.month <= ym(e))
    }
}

#[derive(Debug, sqlx::FromRow)]
struct CaseRow {
    tenant_id: TenantId,
    title: String,
    published_at: DateTime<Utc>,
}

const CERTIFICATE_COLUMNS: &str = "c.tenant_id, t.slug AS tenant_slug, c.code, c.account_id, \
    c.fiscal_year, c.payload, c.signature, c.key_id, c.issued_at, c.revoked_at";

/// The person's activities, in one tenant or (with `None`) in every tenant: the
/// events they attended (the first day checked in), the months with their own
/// check-in on an engagement that is theirs, and the published case studies of
/// their engagements. Another person's rows never match:
/// both the row and its engagement or registration must be the person's.
async fn activities(
    tx: &mut StoreTx,
    account: AccountId,
    tenant: Option<TenantId>,
) -> Result<Vec<(TenantId, Activity)>> {
    let events: Vec<EventRow> = with_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT r.tenant_id, e.title, MIN(a.day) AS day
             FROM attendance a
             JOIN registrations r ON r.tenant_id = a.tenant_id AND r.id = a.registration_id
             JOIN events e ON e.tenant_id = r.tenant_id AND e.id = r.event_id
             WHERE r.account_id = $1 AND ($2 IS NULL OR r.tenant_id = $2)
             GROUP BY r.tenant_id, r.id, e.title",
        )
        .bind(account)
        .bind(tenant)
        .fetch_all(&mut **conn)
        .await?
    });
    let months: Vec<MonthRow> = with_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT c.tenant_id, c.month, p.title AS project, h.name AS host,
                    g.started_on, g.ended_on
             FROM engagement_checkins c
             JOIN engagements g ON g.tenant_id = c.tenant_id AND g.id = c.engagement_id
             JOIN projects p ON p.tenant_id = g.tenant_id AND p.id = g.project_id
             JOIN hosts h ON h.tenant_id = g.tenant_id AND h.id = g.host_id
             WHERE c.side = 'talent' AND c.account_id = $1 AND g.account_id = $1
               AND ($2 IS NULL OR c.tenant_id = $2)
             ORDER BY c.month, c.id",
        )
        .bind(account)
        .bind(tenant)
        .fetch_all(&mut **conn)
        .await?
    });
    let cases: Vec<CaseRow> = with_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT s.tenant_id, s.title_ja AS title, s.published_at
             FROM case_studies s
             JOIN engagements g ON g.tenant_id = s.tenant_id AND g.id = s.engagement_id
             WHERE s.status = 'public' AND s.published_at IS NOT NULL AND g.account_id = $1
               AND ($2 IS NULL OR s.tenant_id = $2)",
        )
        .bind(account)
        .bind(tenant)
        .fetch_all(&mut **conn)
        .await?
    });
    let mut out: Vec<(TenantId, Activity)> = events
        .into_iter()
        .map(|e| (e.tenant_id, Activity::event(e.day, &e.title)))
        .collect();
    out.extend(months.into_iter().filter(MonthRow::within).map(|m| {
        (
            m.tenant_id,
            Activity::engagement_month(&m.month, &m.project, &m.host),
        )
    }));
    out.extend(
        cases
            .into_iter()
            .map(|c| (c.tenant_id, Activity::case_study(c.published_at, &c.title))),
    );
    Ok(out)
}

/// A person's certificates in every tenant, the latest first (also part of their
/// own data download).
pub(crate) async fn certificates_of(
    tx: &mut StoreTx,
    account: AccountId,
) -> Result<Vec<Certificate>> {
    let sql = format!(
        "SELECT {CERTIFICATE_COLUMNS} FROM certificates c JOIN tenants t ON t.id = c.tenant_id
         WHERE c.account_id = $1 ORDER BY c.issued_at DESC, c.id DESC"
    );
    with_tx!(tx, conn => {
        Ok(sqlx::query_as(&sql).bind(account).fetch_all(&mut **conn).await?)
    })
}

impl AccountTx {
    /// The person's own activities in every tenant.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn my_activities(&mut self) -> Result<Vec<(TenantId, Activity)>> {
        activities(&mut self.tx, self.account, None).await
    }

    /// The person's own certificates, the latest first.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn my_certificates(&mut self) -> Result<Vec<Certificate>> {
        certificates_of(&mut self.tx, self.account).await
    }

    /// One of the person's own certificates; another person's is `None`.
    #[instrument(skip_all, fields(account = %self.account), err(level = "warn"))]
    pub async fn my_certificate(&mut self, code: &CertificateCode) -> Result<Option<Certificate>> {
        let sql = format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM certificates c JOIN tenants t ON t.id = c.tenant_id
             WHERE c.account_id = $1 AND c.code = $2"
        );
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&sql)
                .bind(self.account)
                .bind(code.as_str())
                .fetch_optional(&mut **conn)
                .await?)
        })
    }
}

impl TenantTx {
    /// Revokes a certificate of `account` in this tenant (their own act: the
    /// caller passes the signed-in person); false when there is none or it was
    /// revoked already.
    #[instrument(skip_all, fields(tenant = %self.tenant, account = %account), err(level = "warn"))]
    pub async fn revoke_certificate_of(
        &mut self,
        account: AccountId,
        code: &CertificateCode,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query(
                "UPDATE certificates SET revoked_at = $4
                 WHERE tenant_id = $1 AND account_id = $2 AND code = $3 AND revoked_at IS NULL",
            )
            .bind(self.tenant)
            .bind(account)
            .bind(code.as_str())
            .bind(now)
            .execute(&mut **conn)
            .await?
            .rows_affected()
                > 0)
        })
    }

    /// A person's activities in this tenant.
    #[instrument(skip_all, fields(tenant = %self.tenant, account = %account), err(level = "warn"))]
    pub async fn activities_of(&mut self, account: AccountId) -> Result<Vec<Activity>> {
        Ok(activities(&mut self.tx, account, Some(self.tenant))
            .await?
            .into_iter()
            .map(|(_, a)| a)
            .collect())
    }

    /// Stores a signed certificate of this tenant.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn insert_certificate(&mut self, new: &NewCertificate<'_>) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO certificates (tenant_id, code, account_id, fiscal_year, payload, signature, key_id, issued_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(self.tenant)
            .bind(new.code.as_str())
            .bind(new.account)
            .bind(new.fiscal_year.0)
            .bind(new.payload)
            .bind(new.signature)
            .bind(new.key_id)
            .bind(new.now)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }
}

impl PlatformTx {
    /// The certificate with this public code, in whatever tenant.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn certificate_by_code(
        &mut self,
        code: &CertificateCode,
    ) -> Result<Option<Certificate>> {
        let sql = format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM certificates c JOIN tenants t ON t.id = c.tenant_id
             WHERE c.code = $1"
        );
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(&sql)
                .bind(code.as_str())
                .fetch_optional(&mut **conn)
                .await?)
        })
    }

    /// The public key named `key_id`, current or retired.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn certificate_key(&mut self, key_id: &str) -> Result<Option<PublishedKey>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT key_id, public_key, created_at, retired_at FROM certificate_keys WHERE key_id = $1",
            )
            .bind(key_id)
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// Every public key, the newest first: what third parties check against.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn certificate_keys(&mut self) -> Result<Vec<PublishedKey>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT key_id, public_key, created_at, retired_at FROM certificate_keys
                 ORDER BY created_at DESC, key_id",
            )
            .fetch_all(&mut **conn)
            .await?)
        })
    }

    /// The key that signs new certificates, if there is one yet.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn current_signing_key(&mut self) -> Result<Option<SigningKeyRow>> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query_as(
                "SELECT key_id, public_key, private_key, created_at, retired_at
                 FROM certificate_keys WHERE retired_at IS NULL",
            )
            .fetch_optional(&mut **conn)
            .await?)
        })
    }

    /// Makes a first signing key current, unless another node just did: `false`
    /// then, and the caller reads the winner with [`current_signing_key`](Self::current_signing_key).
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn add_first_signing_key(
        &mut self,
        key_id: &str,
        public_key: &str,
        private_key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        with_tx!(&mut self.tx, conn => {
            Ok(sqlx::query(
                "INSERT INTO certificate_keys (key_id, public_key, private_key, created_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(key_id)
            .bind(public_key)
            .bind(private_key)
            .bind(now)
            .execute(&mut **conn)
            .await?
            .rows_affected()
                > 0)
        })
    }

    /// Makes `key_id` the current key (inserting it, or bringing a retired one back)
    /// and retires any other; for a key held in configuration, whose private half
    /// the caller leaves out. Two nodes doing this at once end with the same key.
    #[instrument(skip_all, err(level = "warn"))]
    pub async fn make_current_signing_key(
        &mut self,
        key_id: &str,
        public_key: &str,
        private_key: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE certificate_keys SET retired_at = $1
                 WHERE retired_at IS NULL AND key_id <> $2",
            )
            .bind(now)
            .bind(key_id)
            .execute(&mut **conn)
            .await?;
            sqlx::query(
                "INSERT INTO certificate_keys (key_id, public_key, private_key, created_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (key_id) DO UPDATE SET retired_at = NULL",
            )
            .bind(key_id)
            .bind(public_key)
            .bind(private_key)
            .bind(now)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }
}
