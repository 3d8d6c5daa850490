-- Matching rounds in a program: the projects taking part and their seats, who was
-- invited, who entered, both sides' ranked lists (private to their side), the
-- result with each side's answer, the coordinator's adjustments, the second phase's
-- applications and offers, and the engagements confirmed matches become. Every
-- table carries its tenant and every reference carries it too.

CREATE TABLE rounds (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id         BIGINT NOT NULL,
    program_id        BIGINT NOT NULL,
    title_ja          TEXT NOT NULL,
    title_en          TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('draft', 'open', 'closed', 'published',
                          'second_phase', 'finished')),
    mode              TEXT NOT NULL CHECK (mode IN ('engine', 'manual')),
    entry_rule        TEXT NOT NULL CHECK (entry_rule IN ('members', 'invited')),
    entry_opens_at    TIMESTAMPTZ NOT NULL,
    entry_closes_at   TIMESTAMPTZ NOT NULL,
    ranks_close_at    TIMESTAMPTZ NOT NULL,
    talent_rank_limit BIGINT NOT NULL CHECK (talent_rank_limit BETWEEN 1 AND 100),
    host_rank_limit   BIGINT NOT NULL CHECK (host_rank_limit BETWEEN 1 AND 100),
    -- 中間公表: per project the number of first choices, while lists are open.
    interim_on        BOOLEAN NOT NULL DEFAULT FALSE,
    -- The second phase: its offer rounds, once the coordinator starts it.
    offer_rounds      BIGINT CHECK (offer_rounds BETWEEN 1 AND 20),
    offer_minutes     BIGINT CHECK (offer_minutes BETWEEN 1 AND 10080),
    second_phase_at   TIMESTAMPTZ,
    solved_at         TIMESTAMPTZ,
    published_at      TIMESTAMPTZ,
    created_by        BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    CHECK (entry_opens_at < entry_closes_at AND entry_closes_at <= ranks_close_at),
    FOREIGN KEY (tenant_id, program_id) REFERENCES programs (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX rounds_program ON rounds (tenant_id, program_id, id);

CREATE TABLE round_projects (
    tenant_id  BIGINT NOT NULL,
    round_id   BIGINT NOT NULL,
    project_id BIGINT NOT NULL,
    seats      BIGINT NOT NULL CHECK (seats BETWEEN 1 AND 50),
    PRIMARY KEY (tenant_id, round_id, project_id),
    FOREIGN KEY (tenant_id, round_id) REFERENCES rounds (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);

-- Talents asked to take part: by the coordinator, or for attending the field work.
CREATE TABLE round_invitations (
    tenant_id  BIGINT NOT NULL,
    round_id   BIGINT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    source     TEXT NOT NULL CHECK (source IN ('staff', 'fieldwork')),
    invited_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, round_id, account_id),
    FOREIGN KEY (tenant_id, round_id) REFERENCES rounds (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE round_entries (
    tenant_id    BIGINT NOT NULL,
    round_id     BIGINT NOT NULL,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    entered_at   TIMESTAMPTZ NOT NULL,
    -- A talent who leaves the round keeps the row (the statistics count entries);
    -- their list is deleted and nobody ranks them any more.
    withdrawn_at TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, round_id, account_id),
    FOREIGN KEY (tenant_id, round_id) REFERENCES rounds (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX round_entries_account ON round_entries (account_id);

-- A talent's list, most preferred first. Only the talent and the engine read it.
CREATE TABLE talent_preferences (
    tenant_id  BIGINT NOT NULL,
    round_id   BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    rank       BIGINT NOT NULL CHECK (rank >= 1),
    project_id BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, round_id, account_id, rank),
    UNIQUE (tenant_id, round_id, account_id, project_id),
    FOREIGN KEY (tenant_id, round_id, account_id)
        REFERENCES round_entries (tenant_id, round_id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, round_id, project_id)
        REFERENCES round_projects (tenant_id, round_id, project_id) ON DELETE CASCADE
);

-- A project's list of entrants, most preferred first. Only its host and the engine read it.
CREATE TABLE host_preferences (
    tenant_id  BIGINT NOT NULL,
    round_id   BIGINT NOT NULL,
    project_id BIGINT NOT NULL,
    rank       BIGINT NOT NULL CHECK (rank >= 1),
    account_id BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, round_id, project_id, rank),
    UNIQUE (tenant_id, round_id, project_id, account_id),
    FOREIGN KEY (tenant_id, round_id, project_id)
        REFERENCES round_projects (tenant_id, round_id, project_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, round_id, account_id)
        REFERENCES round_entries (tenant_id, round_id, account_id) ON DELETE CASCADE
);

-- The result: one live pair per talent, with each side's answer once published.
CREATE TABLE round_pairs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     BIGINT NOT NULL,
    round_id      BIGINT NOT NULL,
    account_id    BIGINT NOT NULL,
    project_id    BIGINT NOT NULL,
    -- The talent's rank of the project; NULL for a pair off the talent's list.
    talent_rank   BIGINT CHECK (talent_rank >= 1),
    origin        TEXT NOT NULL CHECK (origin IN ('engine', 'manual', 'second_phase')),
    status        TEXT NOT NULL CHECK (status IN ('proposed', 'confirmed', 'declined')),
    talent_answer TEXT CHECK (talent_answer IN ('confirmed', 'declined')),
    host_answer   TEXT CHECK (host_answer IN ('confirmed', 'declined')),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, round_id, account_id)
        REFERENCES round_entries (tenant_id, round_id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, round_id, project_id)
        REFERENCES round_projects (tenant_id, round_id, project_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX round_pairs_live ON round_pairs (tenant_id, round_id, account_id)
    WHERE status <> 'declined';
CREATE INDEX round_pairs_project ON round_pairs (tenant_id, round_id, project_id);

-- Every manual change to the result, with its reason (also in the audit log).
CREATE TABLE round_adjustments (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  BIGINT NOT NULL,
    round_id   BIGINT NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('add', 'remove')),
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    actor_id   BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    at         TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, round_id) REFERENCES rounds (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX round_adjustments_round ON round_adjustments (tenant_id, round_id, id);

CREATE TABLE round_transitions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   BIGINT NOT NULL,
    round_id    BIGINT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    actor_id    BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    at          TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, round_id) REFERENCES rounds (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX round_transitions_round ON round_transitions (tenant_id, round_id, id);

-- The second phase (二次募集): left-over talents apply to projects with open seats,
-- and hosts make offers in timed offer rounds.
CREATE TABLE round_applications (
    tenant_id  BIGINT NOT NULL,
    round_id   BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    project_id BIGINT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, round_id, account_id, project_id),
    FOREIGN KEY (tenant_id, round_id, account_id)
        REFERENCES round_entries (tenant_id, round_id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, round_id, project_id)
        REFERENCES round_projects (tenant_id, round_id, project_id) ON DELETE CASCADE
);

CREATE TABLE round_offers (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   BIGINT NOT NULL,
    round_id    BIGINT NOT NULL,
    account_id  BIGINT NOT NULL,
    project_id  BIGINT NOT NULL,
    offer_round BIGINT NOT NULL CHECK (offer_round >= 1),
    status      TEXT NOT NULL CHECK (status IN ('offered', 'accepted', 'declined', 'expired')),
    made_by     BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    made_at     TIMESTAMPTZ NOT NULL,
    answered_at TIMESTAMPTZ,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, round_id, account_id, project_id)
        REFERENCES round_applications (tenant_id, round_id, account_id, project_id) ON DELETE CASCADE
);
-- A talent holds one open offer from a project at a time.
CREATE UNIQUE INDEX round_offers_open ON round_offers (tenant_id, round_id, account_id, project_id)
    WHERE status = 'offered';

-- A partnership: created when both sides confirm a match (or by a coordinator).
-- The follow-up issue adds terms, check-ins and the later states.
CREATE TABLE engagements (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  BIGINT NOT NULL,
    round_id   BIGINT,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    host_id    BIGINT NOT NULL,
    project_id BIGINT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('proposed', 'active', 'paused', 'completed', 'ended')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    -- A round with engagements stays: they are what it produced.
    FOREIGN KEY (tenant_id, round_id) REFERENCES rounds (tenant_id, id),
    FOREIGN KEY (tenant_id, host_id) REFERENCES hosts (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
-- One engagement per talent and project from a round, however often both confirm.
CREATE UNIQUE INDEX engagements_round_pair ON engagements (tenant_id, round_id, account_id, project_id)
    WHERE round_id IS NOT NULL;
CREATE INDEX engagements_account ON engagements (account_id);

ALTER TABLE rounds ENABLE ROW LEVEL SECURITY;
ALTER TABLE rounds FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rounds
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE round_projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE round_projects FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON round_projects
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE round_invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE round_invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON round_invitations
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE round_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE round_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON round_entries
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE talent_preferences ENABLE ROW LEVEL SECURITY;
ALTER TABLE talent_preferences FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON talent_preferences
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE host_preferences ENABLE ROW LEVEL SECURITY;
ALTER TABLE host_preferences FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON host_preferences
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE round_pairs ENABLE ROW LEVEL SECURITY;
ALTER TABLE round_pairs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON round_pairs
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE round_adjustments ENABLE ROW LEVEL SECURITY;
ALTER TABLE round_adjustments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON round_adjustments
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE round_transitions ENABLE ROW LEVEL SECURITY;
ALTER TABLE round_transitions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON round_transitions
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE round_applications ENABLE ROW LEVEL SECURITY;
ALTER TABLE round_applications FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON round_applications
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE round_offers ENABLE ROW LEVEL SECURITY;
ALTER TABLE round_offers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON round_offers
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE engagements ENABLE ROW LEVEL SECURITY;
ALTER TABLE engagements FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON engagements
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));
