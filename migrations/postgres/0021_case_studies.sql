-- Case studies (事例): a coordinator writes up an engagement; the engagement's talent
-- and a member of its host approve the text; then it may go public. Photos are kept
-- in the database (a few per case, small), so a backup is the database alone.

CREATE TABLE case_studies (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id           BIGINT NOT NULL,
    engagement_id       BIGINT NOT NULL,
    title_ja            TEXT NOT NULL,
    title_en            TEXT NOT NULL DEFAULT '',
    overview_ja         TEXT NOT NULL,
    overview_en         TEXT NOT NULL DEFAULT '',
    challenge_ja        TEXT NOT NULL,
    challenge_en        TEXT NOT NULL DEFAULT '',
    talent_skills_ja    TEXT NOT NULL,
    talent_skills_en    TEXT NOT NULL DEFAULT '',
    proposal_ja         TEXT NOT NULL,
    proposal_en         TEXT NOT NULL DEFAULT '',
    outcome_ja          TEXT NOT NULL,
    outcome_en          TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL CHECK (status IN ('draft', 'awaiting_approval', 'public', 'withdrawn')),
    talent_approved_at  TIMESTAMPTZ,
    talent_approved_by  BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    host_approved_at    TIMESTAMPTZ,
    host_approved_by    BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    -- The last request for changes from a side, shown to the coordinator until the
    -- case is sent for approval again.
    change_request      TEXT,
    change_requested_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    published_at        TIMESTAMPTZ,
    created_by          BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    -- Public only with both approvals on record.
    CHECK (status <> 'public' OR (talent_approved_at IS NOT NULL AND host_approved_at IS NOT NULL
                                  AND published_at IS NOT NULL)),
    FOREIGN KEY (tenant_id, engagement_id) REFERENCES engagements (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX case_studies_status ON case_studies (tenant_id, status, published_at);
CREATE INDEX case_studies_engagement ON case_studies (tenant_id, engagement_id);

CREATE TABLE case_study_photos (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     BIGINT NOT NULL,
    case_study_id BIGINT NOT NULL,
    content_type  TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    size_bytes    BIGINT NOT NULL CHECK (size_bytes BETWEEN 1 AND 2097152),
    bytes         BYTEA NOT NULL,
    alt_ja        TEXT NOT NULL CHECK (alt_ja <> ''),
    position      BIGINT NOT NULL CHECK (position >= 1),
    created_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, case_study_id) REFERENCES case_studies (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX case_study_photos_case ON case_study_photos (tenant_id, case_study_id, position);

ALTER TABLE case_studies ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_studies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON case_studies
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE case_study_photos ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_study_photos FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON case_study_photos
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));
