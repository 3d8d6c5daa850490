-- Programs (a tenant's program for one fiscal year) and their events, registrations
-- with their status history, attendance per day, reminders sent, and mail
-- attachments (the .ics a confirmation carries). Every table carries its tenant and
-- every reference carries it too.

CREATE TABLE programs (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- April–March, named by the year it starts in (2025 = 2025年度 = 令和7年度).
    fiscal_year    INTEGER NOT NULL CHECK (fiscal_year BETWEEN 2000 AND 2100),
    title_ja       TEXT NOT NULL,
    title_en       TEXT NOT NULL,
    -- How the program's matching round weighs attendance at its field work.
    fieldwork_rule TEXT NOT NULL DEFAULT 'open' CHECK (fieldwork_rule IN ('open', 'preferred', 'required')),
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    -- One program per year: a double-submitted form creates it once.
    UNIQUE (tenant_id, fiscal_year)
);

CREATE TABLE events (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        BIGINT NOT NULL,
    program_id       BIGINT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('draft', 'published', 'cancelled')),
    kind             TEXT NOT NULL CHECK (kind IN ('seminar', 'lecture', 'fieldwork', 'matching_event')),
    audience         TEXT NOT NULL CHECK (audience IN ('talent', 'hosts')),
    format           TEXT NOT NULL CHECK (format IN ('online', 'onsite', 'hybrid')),
    selection        TEXT NOT NULL CHECK (selection IN ('first_come', 'screened')),
    title            TEXT NOT NULL,
    -- The first day's start and the last day's end, for listings and windows.
    starts_at        TIMESTAMPTZ NOT NULL,
    ends_at          TIMESTAMPTZ NOT NULL,
    opens_at         TIMESTAMPTZ,
    closes_at        TIMESTAMPTZ,
    -- NULL when the format offers no such seats.
    capacity_onsite  BIGINT CHECK (capacity_onsite >= 0),
    capacity_online  BIGINT CHECK (capacity_online >= 0),
    -- Seats held (confirmed, attended, no-show) and people waiting, per kind, kept in
    -- the transaction that moves a registration: the conditional update of these
    -- counters is the seat lock.
    confirmed_onsite BIGINT NOT NULL DEFAULT 0 CHECK (confirmed_onsite >= 0),
    confirmed_online BIGINT NOT NULL DEFAULT 0 CHECK (confirmed_online >= 0),
    waitlisted       BIGINT NOT NULL DEFAULT 0 CHECK (waitlisted >= 0),
    -- Everything else of the event (days with itineraries, venue, fee, questions,
    -- subsidy …) as yui_domain::event::EventFields in JSON.
    details          TEXT NOT NULL,
    created_by       BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, program_id) REFERENCES programs (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX events_tenant_starts ON events (tenant_id, starts_at);
CREATE INDEX events_program ON events (tenant_id, program_id, starts_at);
-- The list of upcoming events across regions.
CREATE INDEX events_published_starts ON events (starts_at) WHERE status = 'published';

CREATE TABLE registrations (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       BIGINT NOT NULL,
    event_id        BIGINT NOT NULL,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    seat_kind       TEXT NOT NULL CHECK (seat_kind IN ('onsite', 'online')),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'waitlisted',
                        'cancelled', 'attended', 'no_show')),
    -- The answers to the event's questions, and to the logistics form once filled.
    answers         TEXT NOT NULL DEFAULT '[]',
    logistics       TEXT,
    -- A retried POST with the same key gets this registration.
    idempotency_key TEXT,
    -- What the QR code on the confirmation encodes.
    checkin_code    TEXT NOT NULL,
    -- The place in the waitlist: set when the registration joins it.
    queued_at       TIMESTAMPTZ,
    subsidy_eligible BOOLEAN NOT NULL DEFAULT FALSE,
    subsidy_paid_yen BIGINT CHECK (subsidy_paid_yen >= 0),
    subsidy_paid_at  TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, checkin_code),
    FOREIGN KEY (tenant_id, event_id) REFERENCES events (tenant_id, id) ON DELETE CASCADE
);
-- One live registration per person per event: a double click registers once.
CREATE UNIQUE INDEX registrations_live ON registrations (tenant_id, event_id, account_id)
    WHERE status <> 'cancelled';
CREATE UNIQUE INDEX registrations_idempotency ON registrations (tenant_id, account_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX registrations_event ON registrations (tenant_id, event_id, status, id);
CREATE INDEX registrations_waitlist ON registrations (tenant_id, event_id, seat_kind, queued_at, id)
    WHERE status = 'waitlisted';
CREATE INDEX registrations_account ON registrations (account_id);

CREATE TABLE registration_transitions (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       BIGINT NOT NULL,
    registration_id BIGINT NOT NULL,
    from_status     TEXT NOT NULL,
    to_status       TEXT NOT NULL,
    actor_id        BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    at              TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, registration_id) REFERENCES registrations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX registration_transitions_registration
    ON registration_transitions (tenant_id, registration_id, id);

-- Attendance per day of the event (a tour checks people in each morning).
CREATE TABLE attendance (
    tenant_id       BIGINT NOT NULL,
    registration_id BIGINT NOT NULL,
    day             DATE NOT NULL,
    checked_in_at   TIMESTAMPTZ NOT NULL,
    checked_in_by   BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    PRIMARY KEY (tenant_id, registration_id, day),
    FOREIGN KEY (tenant_id, registration_id) REFERENCES registrations (tenant_id, id) ON DELETE CASCADE
);

-- A reminder is sent when its row is inserted, in the transaction that queues the
-- mail: with several nodes, one insert wins and the others skip.
CREATE TABLE reminders_sent (
    tenant_id       BIGINT NOT NULL,
    registration_id BIGINT NOT NULL,
    offset_minutes  BIGINT NOT NULL,
    sent_at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, registration_id, offset_minutes),
    FOREIGN KEY (tenant_id, registration_id) REFERENCES registrations (tenant_id, id) ON DELETE CASCADE
);

-- One attachment per mail (a confirmation's .ics), kept with the mail it rides on.
ALTER TABLE mail_outbox ADD COLUMN attachment_name TEXT;
ALTER TABLE mail_outbox ADD COLUMN attachment_type TEXT;
ALTER TABLE mail_outbox ADD COLUMN attachment_body TEXT;

ALTER TABLE programs ENABLE ROW LEVEL SECURITY;
ALTER TABLE programs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON programs
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON events
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE registrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE registrations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON registrations
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE registration_transitions ENABLE ROW LEVEL SECURITY;
ALTER TABLE registration_transitions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON registration_transitions
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE attendance ENABLE ROW LEVEL SECURITY;
ALTER TABLE attendance FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON attendance
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE reminders_sent ENABLE ROW LEVEL SECURITY;
ALTER TABLE reminders_sent FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reminders_sent
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

-- The admin who configures the year's program sees and runs its events too, and the
-- secretariat keeps its program.
INSERT INTO role_permissions (role, scope, tenant_id, object, action) VALUES
    ('tenant_admin', 'tenant', NULL, 'event',        '*'),
    ('tenant_admin', 'tenant', NULL, 'registration', '*'),
    ('coordinator',  'tenant', NULL, 'program',      'manage');
-- Nodes reload their policies when the version moves: only where someone holds a role.
SELECT set_config('app.tenant_id', '*', true);
UPDATE policy_version SET version = version + 1 WHERE EXISTS (SELECT 1 FROM role_grants);
