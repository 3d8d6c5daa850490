-- Key figures (KPI) that are not computed from rows: the years before the platform,
-- entered by staff as aggregates, and the targets a tenant admin sets per KPI and
-- year (grant-funded projects carry up to four). Everything else is computed from
-- the raw rows of events, rounds and engagements when a page asks.

-- One row per fiscal year run before the platform (Iwate since FY2018): the year's
-- totals as the program reported them then. Years with rows on the platform should
-- not have one too, or the cumulative totals count them twice.
CREATE TABLE kpi_history (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    fiscal_year  INTEGER NOT NULL CHECK (fiscal_year BETWEEN 2000 AND 2100),
    matches      INTEGER NOT NULL DEFAULT 0 CHECK (matches BETWEEN 0 AND 1000000),
    -- Host organizations engaged for the first time that year.
    hosts        INTEGER NOT NULL DEFAULT 0 CHECK (hosts BETWEEN 0 AND 1000000),
    -- People who attended the year's events.
    participants INTEGER NOT NULL DEFAULT 0 CHECK (participants BETWEEN 0 AND 1000000),
    note         TEXT NOT NULL DEFAULT '',
    recorded_by  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    recorded_at  TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, fiscal_year)
);

-- A target for one KPI (yui_domain::kpi::KpiCode) in one fiscal year.
CREATE TABLE kpi_targets (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    fiscal_year INTEGER NOT NULL CHECK (fiscal_year BETWEEN 2000 AND 2100),
    kpi         TEXT NOT NULL,
    target      INTEGER NOT NULL CHECK (target BETWEEN 0 AND 1000000),
    recorded_by INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, fiscal_year, kpi)
);

-- Newly related people: each person's first engagement start in the tenant.
CREATE INDEX engagements_account_started ON engagements (tenant_id, account_id, started_on);
