-- Interest marks (「気になる」) and applications (talent → project) with their status
-- history, message thread, and the pending notifications that the hourly digest
-- turns into one mail per person. Every table carries its tenant and every
-- reference carries it too.

CREATE TABLE project_interests (
    tenant_id  INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    -- One mark per person per project: a second click takes it back.
    PRIMARY KEY (tenant_id, project_id, account_id),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX project_interests_account ON project_interests (tenant_id, account_id);
CREATE INDEX project_interests_recent ON project_interests (tenant_id, created_at);

CREATE TABLE applications (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The proposal (提案書): what the talent proposes, how, how often, where.
    proposal   TEXT NOT NULL,
    approach   TEXT NOT NULL,
    frequency  TEXT NOT NULL,
    format     TEXT NOT NULL CHECK (format IN ('online', 'onsite', 'both')),
    status     TEXT NOT NULL CHECK (status IN ('submitted', 'in_review', 'meeting',
                   'accepted', 'declined', 'withdrawn')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
-- One live application per person per project: a double-submitted form creates one.
CREATE UNIQUE INDEX applications_live ON applications (tenant_id, project_id, account_id)
    WHERE status NOT IN ('declined', 'withdrawn');
CREATE INDEX applications_account ON applications (account_id);
CREATE INDEX applications_project ON applications (tenant_id, project_id, id);
CREATE INDEX applications_recent ON applications (tenant_id, created_at);

CREATE TABLE application_transitions (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL,
    application_id INTEGER NOT NULL,
    from_status    TEXT NOT NULL,
    to_status      TEXT NOT NULL,
    actor_id       INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    at             TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX application_transitions_application
    ON application_transitions (tenant_id, application_id, id);

CREATE TABLE application_messages (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL,
    application_id INTEGER NOT NULL,
    author_id      INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    body           TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX application_messages_application
    ON application_messages (tenant_id, application_id, id);

-- A message waiting to be told to one person. due_at is the top of the hour after
-- the message, so every message of an hour goes out in one digest; sent_at is set
-- by the transaction that queues the digest mail (one of several nodes wins).
CREATE TABLE application_notifications (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL,
    application_id INTEGER NOT NULL,
    message_id     INTEGER NOT NULL,
    account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    due_at         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    sent_at        TEXT,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, message_id, account_id),
    FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, message_id) REFERENCES application_messages (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX application_notifications_due ON application_notifications (due_at, account_id)
    WHERE sent_at IS NULL;
