-- Engagements after the match: terms kept as history, the state machine's moves,
-- monthly check-ins from both sides and the mentor's notes, reflections at the end of
-- each term, and the claim that lets one node send a coordinator's daily at-risk digest.

-- The partnership's dates are Japan dates (a civil servant's calendar day), the reason
-- it ended is one of a list for the reports, and the mentor (関係案内人) accompanies it.
ALTER TABLE engagements ADD COLUMN started_on DATE;
ALTER TABLE engagements ADD COLUMN ended_on DATE;
ALTER TABLE engagements ADD COLUMN end_reason TEXT CHECK (end_reason IN
    ('goal_reached', 'term_over', 'host_circumstances', 'talent_circumstances', 'mismatch', 'other'));
ALTER TABLE engagements ADD COLUMN end_note TEXT;
ALTER TABLE engagements ADD COLUMN mentor_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL;
ALTER TABLE engagements ADD COLUMN created_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL;
-- The current term's number: a renewal adds a term rather than rewriting the first.
ALTER TABLE engagements ADD COLUMN term_no BIGINT NOT NULL DEFAULT 1;
CREATE INDEX engagements_tenant_status ON engagements (tenant_id, status);
CREATE INDEX engagements_tenant_started ON engagements (tenant_id, started_on);
CREATE INDEX engagements_host ON engagements (tenant_id, host_id);

-- Terms as history: a change (pro bono to a paid contract) or a renewal adds a row;
-- the latest row of the engagement is its current terms.
CREATE TABLE engagement_terms (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       BIGINT NOT NULL,
    engagement_id   BIGINT NOT NULL,
    term_no         BIGINT NOT NULL CHECK (term_no >= 1),
    change          TEXT NOT NULL CHECK (change IN ('initial', 'change', 'renewal')),
    starts_on       DATE NOT NULL,
    ends_on         DATE,
    hours_per_month BIGINT CHECK (hours_per_month BETWEEN 0 AND 744),
    work_style      TEXT NOT NULL CHECK (work_style IN ('remote', 'onsite', 'mixed')),
    compensation    TEXT NOT NULL CHECK (compensation IN ('pro_bono', 'expenses', 'honorarium', 'contract')),
    amount_yen      BIGINT CHECK (amount_yen >= 0),
    note            TEXT,
    recorded_by     BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, engagement_id) REFERENCES engagements (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX engagement_terms_engagement ON engagement_terms (tenant_id, engagement_id, id);

CREATE TABLE engagement_transitions (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     BIGINT NOT NULL,
    engagement_id BIGINT NOT NULL,
    from_status   TEXT NOT NULL,
    to_status     TEXT NOT NULL,
    actor_id      BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    at            TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, engagement_id) REFERENCES engagements (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX engagement_transitions_engagement ON engagement_transitions (tenant_id, engagement_id, id);

-- A monthly check-in (伴走) from the talent or the host, one per side and month (a
-- second one that month edits it), or a mentor's note (any number). `concern` set is a
-- concern flagged; satisfaction is 1–5 and absent from a mentor's note.
CREATE TABLE engagement_checkins (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     BIGINT NOT NULL,
    engagement_id BIGINT NOT NULL,
    account_id    BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    side          TEXT NOT NULL CHECK (side IN ('talent', 'host', 'mentor')),
    month         TEXT NOT NULL,
    progress      TEXT NOT NULL,
    satisfaction  BIGINT CHECK (satisfaction BETWEEN 1 AND 5),
    concern       TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    CHECK ((side = 'mentor') = (satisfaction IS NULL)),
    FOREIGN KEY (tenant_id, engagement_id) REFERENCES engagements (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX engagement_checkins_monthly ON engagement_checkins (tenant_id, engagement_id, side, month)
    WHERE side IN ('talent', 'host');
CREATE INDEX engagement_checkins_engagement ON engagement_checkins (tenant_id, engagement_id, created_at);

-- A reflection (振り返り) at the end of a term, one per side.
CREATE TABLE engagement_reflections (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      BIGINT NOT NULL,
    engagement_id  BIGINT NOT NULL,
    term_no        BIGINT NOT NULL,
    side           TEXT NOT NULL CHECK (side IN ('talent', 'host')),
    account_id     BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    achieved       TEXT NOT NULL,
    learned        TEXT NOT NULL,
    continue_wish  TEXT NOT NULL CHECK (continue_wish IN ('yes', 'maybe', 'no')),
    created_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, engagement_id, term_no, side),
    FOREIGN KEY (tenant_id, engagement_id) REFERENCES engagements (tenant_id, id) ON DELETE CASCADE
);

-- The daily at-risk digest, claimed by inserting this row in the transaction that
-- queues the mail: with any number of nodes a coordinator gets it once a day.
CREATE TABLE at_risk_digests (
    tenant_id  BIGINT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day        DATE NOT NULL,
    sent_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, account_id, day)
);

ALTER TABLE engagement_terms ENABLE ROW LEVEL SECURITY;
ALTER TABLE engagement_terms FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON engagement_terms
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE engagement_transitions ENABLE ROW LEVEL SECURITY;
ALTER TABLE engagement_transitions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON engagement_transitions
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE engagement_checkins ENABLE ROW LEVEL SECURITY;
ALTER TABLE engagement_checkins FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON engagement_checkins
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE engagement_reflections ENABLE ROW LEVEL SECURITY;
ALTER TABLE engagement_reflections FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON engagement_reflections
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE at_risk_digests ENABLE ROW LEVEL SECURITY;
ALTER TABLE at_risk_digests FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON at_risk_digests
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));
