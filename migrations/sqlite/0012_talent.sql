-- Talent: one profile per account across every region (person-level, no tenant), and
-- what each region may see of it: a membership per (tenant, account) with the consent
-- given, and an append-only log of every consent given or withdrawn.

-- An account deleted by its owner keeps its row as a tombstone (no name, no address,
-- no password), so the anonymous rows that count it (memberships, the consent log)
-- still have something to point at.
ALTER TABLE accounts ADD COLUMN deleted_at TEXT;

CREATE TABLE talent_profiles (
    account_id      INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    -- The display name lives on the account; the reading (katakana) here.
    kana            TEXT NOT NULL,
    residence       INTEGER CHECK (residence BETWEEN 1 AND 47),
    summary         TEXT NOT NULL DEFAULT '',
    hours_per_month INTEGER CHECK (hours_per_month BETWEEN 0 AND 200),
    work_style      TEXT NOT NULL CHECK (work_style IN ('remote', 'onsite', 'either')),
    compensation    TEXT NOT NULL CHECK (compensation IN ('pro_bono', 'expenses', 'honorarium', 'contract')),
    public_servant  INTEGER NOT NULL DEFAULT 0 CHECK (public_servant IN (0, 1)),
    side_job_permission TEXT CHECK (side_job_permission IN ('granted', 'applied', 'not_yet', 'not_required')),
    -- Set while the talent lets every region's coordinators find them (the shared pool).
    pool_opt_in_at  TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CHECK (public_servant OR side_job_permission IS NULL)
);
CREATE INDEX talent_profiles_pool ON talent_profiles (pool_opt_in_at) WHERE pool_opt_in_at IS NOT NULL;

-- Skills keyed by skill first: "who has skill X" is an index range.
CREATE TABLE talent_skills (
    skill      TEXT NOT NULL,
    account_id INTEGER NOT NULL REFERENCES talent_profiles (account_id) ON DELETE CASCADE,
    PRIMARY KEY (skill, account_id)
);
CREATE INDEX talent_skills_account ON talent_skills (account_id);

CREATE TABLE talent_tags (
    account_id INTEGER NOT NULL REFERENCES talent_profiles (account_id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    tag        TEXT NOT NULL,
    PRIMARY KEY (account_id, position)
);

CREATE TABLE talent_ties (
    prefecture INTEGER NOT NULL CHECK (prefecture BETWEEN 1 AND 47),
    kind       TEXT NOT NULL CHECK (kind IN ('hometown', 'former_resident', 'connection', 'fan')),
    account_id INTEGER NOT NULL REFERENCES talent_profiles (account_id) ON DELETE CASCADE,
    PRIMARY KEY (prefecture, kind, account_id)
);
CREATE INDEX talent_ties_account ON talent_ties (account_id);

-- Interests: industries (codes of yui_domain::talent::Industry) and project kinds.
CREATE TABLE talent_interests (
    kind       TEXT NOT NULL CHECK (kind IN ('industry', 'project_kind')),
    code       TEXT NOT NULL,
    account_id INTEGER NOT NULL REFERENCES talent_profiles (account_id) ON DELETE CASCADE,
    PRIMARY KEY (kind, code, account_id)
);
CREATE INDEX talent_interests_account ON talent_interests (account_id);

-- Every wording of a tenant's consent, as applied from its tenant file: a membership
-- points at the version it was given under, so the text agreed to is always known.
CREATE TABLE tenant_consents (
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL CHECK (version >= 1),
    text_ja    TEXT NOT NULL,
    text_en    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, version)
);

-- What a tenant may see of a person: the staff while `left_at` is NULL, the host
-- organizations too while `hosts_since` is set. Withdrawing is one update that every
-- query of the tenant's talents joins on. Rows stay after leaving (and after account
-- deletion, pointing at the tombstone) so counts of members survive.
CREATE TABLE memberships (
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    consent_version INTEGER NOT NULL,
    consented_at    TEXT NOT NULL,
    hosts_since     TEXT,
    joined_at       TEXT NOT NULL,
    left_at         TEXT,
    PRIMARY KEY (tenant_id, account_id),
    FOREIGN KEY (tenant_id, consent_version) REFERENCES tenant_consents (tenant_id, version),
    CHECK (left_at IS NULL OR hosts_since IS NULL)
);
CREATE INDEX memberships_account ON memberships (account_id);
CREATE INDEX memberships_live ON memberships (tenant_id, account_id) WHERE left_at IS NULL;

-- Every consent given or withdrawn, never changed afterwards: the proof of what was
-- agreed to, when, and under which wording.
CREATE TABLE consent_log (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    account_id      INTEGER NOT NULL REFERENCES accounts (id),
    consent_version INTEGER NOT NULL,
    scope           TEXT NOT NULL CHECK (scope IN ('staff', 'hosts')),
    action          TEXT NOT NULL CHECK (action IN ('given', 'withdrawn')),
    at              TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, consent_version) REFERENCES tenant_consents (tenant_id, version)
);
CREATE INDEX consent_log_account ON consent_log (account_id);

CREATE TRIGGER consent_log_no_update BEFORE UPDATE ON consent_log
    BEGIN SELECT RAISE(ABORT, 'consent_log is append-only'); END;
CREATE TRIGGER consent_log_no_delete BEFORE DELETE ON consent_log
    BEGIN SELECT RAISE(ABORT, 'consent_log is append-only'); END;
