-- Hearings (ヒアリング): the secretariat's intake interviews with a talent or a host,
-- seen by the tenant's staff only. A talent's hearing references the membership, so
-- it can only exist for a person who joined this tenant; pages show it only while
-- that membership is live. Erasing the account deletes the hearings about the person.
CREATE TABLE hearings (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- Exactly one subject: a talent (a member of this tenant) or a host of it.
    talent_id   BIGINT,
    host_id     BIGINT,
    held_on     DATE NOT NULL,
    notes       TEXT NOT NULL,
    needs       TEXT NOT NULL DEFAULT '',
    strengths   TEXT NOT NULL DEFAULT '',
    next_step   TEXT NOT NULL DEFAULT '',
    next_due_on DATE,
    recorded_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    CHECK ((talent_id IS NULL) <> (host_id IS NULL)),
    FOREIGN KEY (tenant_id, talent_id) REFERENCES memberships (tenant_id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, host_id) REFERENCES hosts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX hearings_talent ON hearings (tenant_id, talent_id, held_on) WHERE talent_id IS NOT NULL;
CREATE INDEX hearings_host ON hearings (tenant_id, host_id, held_on) WHERE host_id IS NOT NULL;
-- The coordinator inbox's "hearings due": a range of due dates within a tenant.
CREATE INDEX hearings_due ON hearings (tenant_id, next_due_on) WHERE next_due_on IS NOT NULL;

-- Scouts (スカウト): a coordinator invites a talent of the shared pool (not a member
-- of this tenant) to one of its projects. The talent answers; accepting goes through
-- the tenant's join page, with consent.
CREATE TABLE scouts (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id     BIGINT NOT NULL,
    talent_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    coordinator_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    message        TEXT NOT NULL,
    status         TEXT NOT NULL
                   CHECK (status IN ('open', 'accepted', 'declined', 'withdrawn', 'expired')),
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    answered_at    TIMESTAMPTZ,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
-- At most one open scout per talent per project.
CREATE UNIQUE INDEX scouts_open ON scouts (tenant_id, project_id, talent_id) WHERE status = 'open';
-- The talent's scouts across regions (their dashboard).
CREATE INDEX scouts_talent ON scouts (talent_id, id);
CREATE INDEX scouts_tenant ON scouts (tenant_id, id);

-- How many scouts a coordinator sent on a day (Asia/Tokyo): a counter bumped in the
-- same transaction as the scout, by an upsert that refuses past the limit, so
-- parallel requests cannot exceed it on either database.
CREATE TABLE scout_days (
    tenant_id      BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    coordinator_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day            DATE NOT NULL,
    sent           INTEGER NOT NULL CHECK (sent >= 0),
    PRIMARY KEY (tenant_id, coordinator_id, day)
);

ALTER TABLE hearings ENABLE ROW LEVEL SECURITY;
ALTER TABLE hearings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON hearings
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE scouts ENABLE ROW LEVEL SECURITY;
ALTER TABLE scouts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON scouts
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE scout_days ENABLE ROW LEVEL SECURITY;
ALTER TABLE scout_days FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON scout_days
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));
