-- Host organizations (受入企業・団体) and their projects (案件). Every table carries
-- its tenant, and every reference carries it too, so a row can never point at another
-- tenant's row whatever the code does: (tenant_id, host_id) REFERENCES hosts
-- (tenant_id, id). Listings read from indexes that lead with the tenant.

CREATE TABLE hosts (
    id                INTEGER PRIMARY KEY,
    tenant_id         INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    -- Reading in katakana, as Japanese registers sort names.
    kana              TEXT NOT NULL,
    -- The municipality's local-government code (6 digits with check digit).
    municipality_code TEXT NOT NULL,
    industry          TEXT NOT NULL,
    summary           TEXT NOT NULL,
    website           TEXT,
    -- pending until staff approve it (municipal staff select their hosts);
    -- archived hosts keep their history but open nothing new.
    status            TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'archived')),
    created_by        INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    approved_by       INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    approved_at       TEXT,
    UNIQUE (tenant_id, id),
    -- One host per name in a region: a double-submitted form creates it once.
    UNIQUE (tenant_id, name)
);
CREATE INDEX hosts_tenant_kana ON hosts (tenant_id, kana);

CREATE TABLE host_members (
    tenant_id  INTEGER NOT NULL,
    host_id    INTEGER NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, host_id, account_id),
    FOREIGN KEY (tenant_id, host_id) REFERENCES hosts (tenant_id, id) ON DELETE CASCADE
);
-- "Which hosts is this person a member of" on every host member's request.
CREATE INDEX host_members_account ON host_members (tenant_id, account_id);

CREATE TABLE projects (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL,
    host_id         INTEGER NOT NULL,
    title           TEXT NOT NULL,
    -- 課題: the challenge the host faces.
    challenge       TEXT NOT NULL,
    help_wanted     TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('business', 'fan_community')),
    hours_per_month INTEGER CHECK (hours_per_month BETWEEN 1 AND 200),
    months          INTEGER CHECK (months BETWEEN 1 AND 36),
    -- Share of the work done remotely, in percent.
    remote_ratio    INTEGER NOT NULL CHECK (remote_ratio BETWEEN 0 AND 100),
    compensation    TEXT NOT NULL
                    CHECK (compensation IN ('pro_bono', 'expenses', 'honorarium', 'contract')),
    -- Yen; only an honorarium or a contract has an amount.
    amount_min      INTEGER CHECK (amount_min >= 0),
    amount_max      INTEGER CHECK (amount_max >= 0),
    location        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'open', 'closed')),
    visibility      TEXT NOT NULL CHECK (visibility IN ('public', 'members')),
    created_by      INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CHECK (compensation IN ('honorarium', 'contract')
           OR (amount_min IS NULL AND amount_max IS NULL)),
    CHECK (amount_min IS NULL OR amount_max IS NULL OR amount_min <= amount_max),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, host_id) REFERENCES hosts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX projects_host ON projects (tenant_id, host_id, id);
-- The public list of a region, and the list across regions (newest first), read
-- only the rows that can be shown.
CREATE INDEX projects_open_public ON projects (tenant_id, id)
    WHERE status = 'open' AND visibility = 'public';
CREATE INDEX projects_open_public_all ON projects (id)
    WHERE status = 'open' AND visibility = 'public';

-- Desired skills (codes of yui_domain::talent::Skill), one row each, so a filter by
-- skill is an index lookup.
CREATE TABLE project_skills (
    tenant_id  INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    skill      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, project_id, skill),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX project_skills_skill ON project_skills (tenant_id, skill, project_id);

-- Co-design (ふるさと兼業): coordinator and host discuss a project before it opens.
CREATE TABLE project_comments (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    author_id  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX project_comments_project ON project_comments (tenant_id, project_id, id);

-- Every status change of a project, with who and when.
CREATE TABLE project_transitions (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL,
    project_id  INTEGER NOT NULL,
    from_status TEXT NOT NULL CHECK (from_status IN ('draft', 'open', 'closed')),
    to_status   TEXT NOT NULL CHECK (to_status IN ('draft', 'open', 'closed')),
    actor_id    INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    at          TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX project_transitions_project ON project_transitions (tenant_id, project_id, id);

-- A host member is invited by mail like staff; the invitation names the host, and
-- accepting it makes the person a member of that host (of this tenant only).
-- SQLite adds no table constraint to an existing table, so the table is rebuilt with
-- the host reference that carries the tenant (nothing references invitations).
CREATE TABLE invitations_new (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    email_key   TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('tenant_admin', 'coordinator',
                    'municipal_staff', 'mentor', 'host_member', 'talent')),
    valid_until TEXT,
    invited_by  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    accepted_at TEXT,
    accepted_by INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    withdrawn_at TEXT,
    host_id     INTEGER,
    CONSTRAINT invitations_host_role CHECK (host_id IS NULL OR role = 'host_member'),
    CONSTRAINT invitations_host FOREIGN KEY (tenant_id, host_id)
        REFERENCES hosts (tenant_id, id) ON DELETE CASCADE
);
INSERT INTO invitations_new (id, tenant_id, email, email_key, role, valid_until, invited_by,
        token_hash, created_at, expires_at, accepted_at, accepted_by, withdrawn_at)
    SELECT id, tenant_id, email, email_key, role, valid_until, invited_by,
        token_hash, created_at, expires_at, accepted_at, accepted_by, withdrawn_at
    FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_new RENAME TO invitations;
CREATE INDEX invitations_tenant_id ON invitations (tenant_id);
CREATE UNIQUE INDEX invitations_open
    ON invitations (tenant_id, email_key) WHERE accepted_at IS NULL AND withdrawn_at IS NULL;

-- Who may do what with hosts and projects (yui_authz::DEFAULT_PERMISSIONS lists the
-- same): coordinators and municipal staff create, approve and edit hosts;
-- coordinators co-design projects. Host members already hold write_own on both
-- (0003); the handlers check which host is theirs.
INSERT INTO role_permissions (role, scope, tenant_id, object, action) VALUES
    ('coordinator',     'tenant', NULL, 'host',    'manage'),
    ('coordinator',     'tenant', NULL, 'project', 'manage'),
    ('municipal_staff', 'tenant', NULL, 'host',    'manage'),
    ('municipal_staff', 'tenant', NULL, 'project', 'read');
-- Nodes reload their policies when the version moves: only where someone holds a role.
UPDATE policy_version SET version = version + 1 WHERE EXISTS (SELECT 1 FROM role_grants);
