//! Key figures of one tenant and fiscal year, computed from its raw rows: one
//! query per group of figures (events, attendees, round entries, engagements, newly
//! related people, cumulative totals), each filtered by the tenant first, so the
//! cost depends on the tenant's own rows alone. What counts is decided in
//! `yui_domain::kpi`; here the rows are read and folded. Also the figures staff
//! enter: historical years and targets.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use tracing::instrument;
use yui_domain::event::EventKind;
use yui_domain::kpi::{
    CONTINUATION_MONTHS, Continuation, EventKindCounts, Figures, History, KpiCode, MAX_TARGETS,
    Standing, Started,
};
use yui_domain::talent::ProjectKind;
use yui_domain::{AccountId, FiscalYear, HostId};

use crate::scope::TenantTx;
use crate::{Result, StoreError, with_tx};

/// A target of one KPI in one year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KpiTarget {
    pub kpi: KpiCode,
    pub target: u64,
}

/// People counts of one tenant for the operators' anonymous statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantPeopleCounts {
    pub tenant: yui_domain::TenantId,
    /// Distinct people who attended an event of the year's program.
    pub attendees: u64,
    /// Distinct people with an engagement started in the year.
    pub engaged: u64,
}

impl crate::scope::PlatformTx {
    /// Per tenant, people counts of `year` from raw rows, for statistics that the
    /// caller suppresses before showing (no names, no ids of people leave here).
    #[instrument(skip_all, fields(year = year.0), err(level = "warn"))]
    pub async fn people_counts(&mut self, year: FiscalYear) -> Result<Vec<TenantPeopleCounts>> {
        let (first, last) = bounds(year)?;
        let rows: Vec<(yui_domain::TenantId, i64, i64)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT t.id,
                   (SELECT COUNT(DISTINCT r.account_id) FROM registrations r
                    JOIN events e ON e.tenant_id = r.tenant_id AND e.id = r.event_id
                    JOIN programs p ON p.tenant_id = e.tenant_id AND p.id = e.program_id
                    WHERE r.tenant_id = t.id AND p.fiscal_year = $1
                      AND EXISTS (SELECT 1 FROM attendance a
                                  WHERE a.tenant_id = r.tenant_id AND a.registration_id = r.id)),
                   (SELECT COUNT(DISTINCT g.account_id) FROM engagements g
                    WHERE g.tenant_id = t.id AND g.status <> 'proposed'
                      AND g.started_on >= $2 AND g.started_on <= $3)
                 FROM tenants t ORDER BY t.id",
            )
            .bind(year.0)
            .bind(first)
            .bind(last)
            .fetch_all(&mut **conn)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(tenant, a, e)| TenantPeopleCounts {
                tenant,
                attendees: count(a),
                engaged: count(e),
            })
            .collect())
    }
}

/// An event of the year as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHeld {
    pub title: String,
    pub kind: Option<EventKind>,
    pub starts_at: DateTime<Utc>,
    pub registrations: u64,
    pub attended: u64,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The first and last day of a fiscal year (April–March).
fn bounds(year: FiscalYear) -> Result<(NaiveDate, NaiveDate)> {
    match (year.first_day(), year.last_day()) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(StoreError::Invalid(format!(
            "fiscal year {year} out of range"
        ))),
    }
}

type EngagementRow = (
    AccountId,
    HostId,
    String,
    NaiveDate,
    Option<NaiveDate>,
    String,
    Option<i32>,
    String,
);

impl TenantTx {
    /// Every figure of `year` as of `today` (continuation needs it). `home` is the
    /// tenant's prefecture (1–47), for the inside/outside split of residence.
    #[instrument(skip_all, fields(tenant = %self.tenant, year = year.0), err(level = "warn"))]
    pub async fn kpi_figures(
        &mut self,
        year: FiscalYear,
        today: NaiveDate,
        home: Option<u8>,
    ) -> Result<Figures> {
        let (first, last) = bounds(year)?;
        let mut f = Figures::empty(year);

        // Registrations and attendance per event kind and residence.
        let rows: Vec<(String, Option<i32>, i64, i64)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT e.kind, tp.residence, COUNT(*),
                        SUM(CASE WHEN EXISTS (SELECT 1 FROM attendance a
                                              WHERE a.tenant_id = r.tenant_id AND a.registration_id = r.id)
                                 THEN 1 ELSE 0 END)
                 FROM registrations r
                 JOIN events e ON e.tenant_id = r.tenant_id AND e.id = r.event_id
                 JOIN programs p ON p.tenant_id = e.tenant_id AND p.id = e.program_id
                 LEFT JOIN talent_profiles tp ON tp.account_id = r.account_id
                 WHERE r.tenant_id = $1 AND p.fiscal_year = $2 AND r.status <> 'cancelled'
                 GROUP BY e.kind, tp.residence",
            )
            .bind(self.tenant)
            .bind(year.0)
            .fetch_all(&mut **conn)
            .await?
        });
        for kind in EventKind::ALL {
            f.by_event_kind.push(EventKindCounts {
                kind: *kind,
                registrations: 0,
                attended: 0,
            });
        }
        for (kind, residence, registrations, attended) in rows {
            let residence = residence.map(i64::from);
            f.registrations
                .add_residence(residence, home, count(registrations));
            f.attended.add_residence(residence, home, count(attended));
            if let Some(k) = f.by_event_kind.iter_mut().find(|k| k.kind.code() == kind) {
                k.registrations += count(registrations);
                k.attended += count(attended);
            }
        }

        // Distinct people who attended (参加・交流型); one residence per person.
        let rows: Vec<(Option<i32>, i64)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT tp.residence, COUNT(DISTINCT r.account_id)
                 FROM registrations r
                 JOIN events e ON e.tenant_id = r.tenant_id AND e.id = r.event_id
                 JOIN programs p ON p.tenant_id = e.tenant_id AND p.id = e.program_id
                 LEFT JOIN talent_profiles tp ON tp.account_id = r.account_id
                 WHERE r.tenant_id = $1 AND p.fiscal_year = $2
                   AND EXISTS (SELECT 1 FROM attendance a
                               WHERE a.tenant_id = r.tenant_id AND a.registration_id = r.id)
                 GROUP BY tp.residence",
            )
            .bind(self.tenant)
            .bind(year.0)
            .fetch_all(&mut **conn)
            .await?
        });
        for (residence, n) in rows {
            f.attendees
                .add_residence(residence.map(i64::from), home, count(n));
        }

        // Entries in the year's rounds, withdrawn ones included.
        let rows: Vec<(Option<i32>, i64)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT tp.residence, COUNT(*)
                 FROM round_entries re
                 JOIN rounds ro ON ro.tenant_id = re.tenant_id AND ro.id = re.round_id
                 JOIN programs p ON p.tenant_id = ro.tenant_id AND p.id = ro.program_id
                 LEFT JOIN talent_profiles tp ON tp.account_id = re.account_id
                 WHERE re.tenant_id = $1 AND p.fiscal_year = $2
                 GROUP BY tp.residence",
            )
            .bind(self.tenant)
            .bind(year.0)
            .fetch_all(&mut **conn)
            .await?
        });
        for (residence, n) in rows {
            f.round_entries
                .add_residence(residence.map(i64::from), home, count(n));
        }

        // Engagements running at some time in the year: those started in it are the
        // matches; all of them are 就労型 related people.
        let rows: Vec<EngagementRow> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT e.account_id, e.host_id, e.status, e.started_on, e.ended_on, p.kind,
                        tp.residence, h.municipality_code
                 FROM engagements e
                 JOIN projects p ON p.tenant_id = e.tenant_id AND p.id = e.project_id
                 JOIN hosts h ON h.tenant_id = e.tenant_id AND h.id = e.host_id
                 LEFT JOIN talent_profiles tp ON tp.account_id = e.account_id
                 WHERE e.tenant_id = $1 AND e.status <> 'proposed'
                   AND e.started_on IS NOT NULL AND e.started_on <= $3
                   AND (e.ended_on IS NULL OR e.ended_on >= $2)",
            )
            .bind(self.tenant)
            .bind(first)
            .bind(last)
            .fetch_all(&mut **conn)
            .await?
        });
        let mut started = Vec::new();
        let mut hosts: HashSet<(HostId, Option<ProjectKind>)> = HashSet::new();
        let mut host_seen: HashSet<HostId> = HashSet::new();
        let mut workers: HashSet<AccountId> = HashSet::new();
        for (account, host, status, started_on, ended_on, kind, residence, municipality) in rows {
            let Some(standing) = Standing::of_status(&status) else {
                continue;
            };
            let residence = residence.map(i64::from);
            if workers.insert(account) {
                f.related_work.add_residence(residence, home, 1);
            }
            if started_on < first {
                continue;
            }
            let kind = ProjectKind::parse(&kind);
            started.push(Started {
                standing,
                started_on,
                ended_on,
            });
            f.matches.add_residence(residence, home, 1);
            f.matches.add_kind(kind, 1);
            *f.matches
                .municipalities
                .entry(municipality.clone())
                .or_default() += 1;
            if hosts.insert((host, kind)) {
                f.hosts_engaged.add_kind(kind, 1);
            }
            if host_seen.insert(host) {
                f.hosts_engaged.add(1);
                *f.hosts_engaged
                    .municipalities
                    .entry(municipality)
                    .or_default() += 1;
            }
        }
        f.continuation = CONTINUATION_MONTHS
            .iter()
            .map(|m| Continuation::of(&started, *m, today))
            .collect();

        // Newly related: the first attendance day or engagement start of each person
        // in this tenant falls in the year.
        let rows: Vec<(Option<i32>, i64)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT tp.residence, COUNT(*)
                 FROM (SELECT x.account_id, MIN(x.day) AS first_day
                       FROM (SELECT r.account_id, a.day
                             FROM attendance a
                             JOIN registrations r ON r.tenant_id = a.tenant_id AND r.id = a.registration_id
                             WHERE a.tenant_id = $1
                             UNION ALL
                             SELECT e.account_id, e.started_on
                             FROM engagements e
                             WHERE e.tenant_id = $1 AND e.status <> 'proposed' AND e.started_on IS NOT NULL) x
                       GROUP BY x.account_id) firsts
                 LEFT JOIN talent_profiles tp ON tp.account_id = firsts.account_id
                 WHERE firsts.first_day >= $2 AND firsts.first_day <= $3
                 GROUP BY tp.residence",
            )
            .bind(self.tenant)
            .bind(first)
            .bind(last)
            .fetch_all(&mut **conn)
            .await?
        });
        for (residence, n) in rows {
            f.newly_related
                .add_residence(residence.map(i64::from), home, count(n));
        }

        // Since the program began: entered history plus the platform's engagements.
        let (matches, hosts, past_matches, past_hosts): (i64, i64, i64, i64) = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT
                       (SELECT COUNT(*) FROM engagements
                        WHERE tenant_id = $1 AND status <> 'proposed'
                          AND started_on IS NOT NULL AND started_on <= $2),
                       (SELECT COUNT(DISTINCT host_id) FROM engagements
                        WHERE tenant_id = $1 AND status <> 'proposed'
                          AND started_on IS NOT NULL AND started_on <= $2),
                       (SELECT CAST(COALESCE(SUM(matches), 0) AS BIGINT) FROM kpi_history
                        WHERE tenant_id = $1 AND fiscal_year <= $3),
                       (SELECT CAST(COALESCE(SUM(hosts), 0) AS BIGINT) FROM kpi_history
                        WHERE tenant_id = $1 AND fiscal_year <= $3)",
            )
            .bind(self.tenant)
            .bind(last)
            .bind(year.0)
            .fetch_one(&mut **conn)
            .await?
        });
        f.cumulative_matches = count(matches) + count(past_matches);
        f.cumulative_hosts = count(hosts) + count(past_hosts);
        Ok(f)
    }

    /// Engagements started per day up to the end of `until`, for the chart of
    /// matches over the years (grouped by day: the years are folded in the domain).
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn engagement_starts(&mut self, until: FiscalYear) -> Result<Vec<(NaiveDate, u64)>> {
        let (_, last) = bounds(until)?;
        let rows: Vec<(NaiveDate, i64)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT started_on, COUNT(*) FROM engagements
                 WHERE tenant_id = $1 AND status <> 'proposed'
                   AND started_on IS NOT NULL AND started_on <= $2
                 GROUP BY started_on ORDER BY started_on",
            )
            .bind(self.tenant)
            .bind(last)
            .fetch_all(&mut **conn)
            .await?
        });
        Ok(rows.into_iter().map(|(d, n)| (d, count(n))).collect())
    }

    /// The events of `year`'s program that were not called off and had begun by
    /// `now`, with their registrations (not cancelled) and attended registrations:
    /// the report's list of events held. Drafts and events still to come are left out.
    #[instrument(skip_all, fields(tenant = %self.tenant, year = year.0), err(level = "warn"))]
    pub async fn events_held(
        &mut self,
        year: FiscalYear,
        now: DateTime<Utc>,
    ) -> Result<Vec<EventHeld>> {
        let rows: Vec<(String, String, DateTime<Utc>, i64, i64)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT e.title, e.kind, e.starts_at,
                        COUNT(r.id),
                        COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM attendance a
                                                       WHERE a.tenant_id = r.tenant_id AND a.registration_id = r.id)
                                          THEN 1 ELSE 0 END), 0)
                 FROM events e
                 JOIN programs p ON p.tenant_id = e.tenant_id AND p.id = e.program_id
                 LEFT JOIN registrations r ON r.tenant_id = e.tenant_id AND r.event_id = e.id
                                          AND r.status <> 'cancelled'
                 WHERE e.tenant_id = $1 AND p.fiscal_year = $2 AND e.status = 'published'
                   AND e.starts_at <= $3
                 GROUP BY e.id, e.title, e.kind, e.starts_at
                 ORDER BY e.starts_at, e.id",
            )
            .bind(self.tenant)
            .bind(year.0)
            .bind(now)
            .fetch_all(&mut **conn)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(title, kind, starts_at, registrations, attended)| EventHeld {
                    title,
                    kind: EventKind::parse(&kind),
                    starts_at,
                    registrations: count(registrations),
                    attended: count(attended),
                },
            )
            .collect())
    }

    /// The years entered as history, oldest first.
    #[instrument(skip_all, fields(tenant = %self.tenant), err(level = "warn"))]
    pub async fn kpi_history(&mut self) -> Result<Vec<History>> {
        let rows: Vec<(i32, i32, i32, i32)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT fiscal_year, matches, hosts, participants FROM kpi_history
                 WHERE tenant_id = $1 ORDER BY fiscal_year",
            )
            .bind(self.tenant)
            .fetch_all(&mut **conn)
            .await?
        });
        let n = |v: i32| u64::try_from(v).unwrap_or(0);
        Ok(rows
            .into_iter()
            .map(|(y, m, h, p)| History {
                fiscal_year: FiscalYear(y),
                matches: n(m),
                hosts: n(h),
                participants: n(p),
            })
            .collect())
    }

    /// Enters (or replaces) a year's history; `None` removes the year.
    #[instrument(skip_all, fields(tenant = %self.tenant, year = year.0), err(level = "warn"))]
    pub async fn put_kpi_history(
        &mut self,
        year: FiscalYear,
        history: Option<&History>,
        by: AccountId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let int = |v: u64| i32::try_from(v).unwrap_or(i32::MAX);
        with_tx!(&mut self.tx, conn => {
            match history {
                Some(h) => sqlx::query(
                    "INSERT INTO kpi_history (tenant_id, fiscal_year, matches, hosts, participants, recorded_by, recorded_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (tenant_id, fiscal_year) DO UPDATE SET matches = excluded.matches,
                       hosts = excluded.hosts, participants = excluded.participants,
                       recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
                )
                .bind(self.tenant)
                .bind(year.0)
                .bind(int(h.matches))
                .bind(int(h.hosts))
                .bind(int(h.participants))
                .bind(by)
                .bind(now)
                .execute(&mut **conn)
                .await?,
                None => sqlx::query("DELETE FROM kpi_history WHERE tenant_id = $1 AND fiscal_year = $2")
                    .bind(self.tenant)
                    .bind(year.0)
                    .execute(&mut **conn)
                    .await?,
            };
        });
        Ok(())
    }

    /// The targets of `year`, in the order KPIs are listed.
    #[instrument(skip_all, fields(tenant = %self.tenant, year = year.0), err(level = "warn"))]
    pub async fn kpi_targets(&mut self, year: FiscalYear) -> Result<Vec<KpiTarget>> {
        let rows: Vec<(String, i32)> = with_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT kpi, target FROM kpi_targets WHERE tenant_id = $1 AND fiscal_year = $2",
            )
            .bind(self.tenant)
            .bind(year.0)
            .fetch_all(&mut **conn)
            .await?
        });
        let mut targets: Vec<KpiTarget> = rows
            .into_iter()
            .filter_map(|(k, t)| {
                Some(KpiTarget {
                    kpi: KpiCode::parse(&k)?,
                    target: u64::try_from(t).ok()?,
                })
            })
            .collect();
        targets.sort_by_key(|t| t.kpi);
        Ok(targets)
    }

    /// Sets (or with `None` removes) a target. A fifth KPI with a target in one year
    /// is [`StoreError::Conflict`]`("kpi")`; the tenant's row is locked first, so two
    /// admins adding at once cannot pass the limit together.
    #[instrument(skip_all, fields(tenant = %self.tenant, year = year.0), err(level = "warn"))]
    pub async fn put_kpi_target(
        &mut self,
        year: FiscalYear,
        kpi: KpiCode,
        target: Option<u64>,
        by: AccountId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.lock_staff().await?;
        let Some(target) = target else {
            with_tx!(&mut self.tx, conn => {
                sqlx::query("DELETE FROM kpi_targets WHERE tenant_id = $1 AND fiscal_year = $2 AND kpi = $3")
                    .bind(self.tenant)
                    .bind(year.0)
                    .bind(kpi.code())
                    .execute(&mut **conn)
                    .await?;
            });
            return Ok(());
        };
        let others: i64 = with_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM kpi_targets WHERE tenant_id = $1 AND fiscal_year = $2 AND kpi <> $3",
            )
            .bind(self.tenant)
            .bind(year.0)
            .bind(kpi.code())
            .fetch_one(&mut **conn)
            .await?
        });
        if others >= MAX_TARGETS as i64 {
            return Err(StoreError::Conflict("kpi".to_owned()));
        }
        with_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO kpi_targets (tenant_id, fiscal_year, kpi, target, recorded_by, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (tenant_id, fiscal_year, kpi) DO UPDATE SET target = excluded.target,
                   recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
            )
            .bind(self.tenant)
            .bind(year.0)
            .bind(kpi.code())
            .bind(i32::try_from(target).unwrap_or(i32::MAX))
            .bind(by)
            .bind(now)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }
}
