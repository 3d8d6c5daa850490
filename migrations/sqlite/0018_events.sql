-- Programs (a tenant's program for one fiscal year) and their events, registrations
-- with their status history, attendance per day, reminders sent, and mail
-- attachments (the .ics a confirmation carries). Every table carries its tenant and
-- every reference carries it too.

CREATE TABLE programs (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- April–March, named by the year it starts in (2025 = 2025年度 = 令和7年度).
    fiscal_year    INTEGER NOT NULL CHECK (fiscal_year BETWEEN 2000 AND 2100),
    title_ja       TEXT NOT NULL,
    title_en       TEXT NOT NULL,
    -- How the program's matching round weighs attendance at its field work.
    fieldwork_rule TEXT NOT NULL DEFAULT 'open' CHECK (fieldwork_rule IN ('open', 'preferred', 'required')),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    -- One program per year: a double-submitted form creates it once.
    UNIQUE (tenant_id, fiscal_year)
);

CREATE TABLE events (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL,
    program_id       INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('draft', 'published', 'cancelled')),
    kind             TEXT NOT NULL CHECK (kind IN ('seminar', 'lecture', 'fieldwork', 'matching_event')),
    audience         TEXT NOT NULL CHECK (audience IN ('talent', 'hosts')),
    format           TEXT NOT NULL CHECK (format IN ('online', 'onsite', 'hybrid')),
    selection        TEXT NOT NULL CHECK (selection IN ('first_come', 'screened')),
    title            TEXT NOT NULL,
    -- The first day's start and the last day's end, for listings and windows.
    starts_at        TEXT NOT NULL,
    ends_at          TEXT NOT NULL,
    opens_at         TEXT,
    closes_at        TEXT,
    -- NULL when the format offers no such seats.
    capacity_onsite  INTEGER CHECK (capacity_onsite >= 0),
    capacity_online  INTEGER CHECK (capacity_online >= 0),
    -- Seats held (confirmed, attended, no-show) and people waiting, per kind, kept in
    -- the transaction that moves a registration: the conditional update of these
    -- counters is the seat lock.
    confirmed_onsite INTEGER NOT NULL DEFAULT 0 CHECK (confirmed_onsite >= 0),
    confirmed_online INTEGER NOT NULL DEFAULT 0 CHECK (confirmed_online >= 0),
    waitlisted       INTEGER NOT NULL DEFAULT 0 CHECK (waitlisted >= 0),
    -- Everything else of the event (days with itineraries, venue, fee, questions,
    -- subsidy …) as yui_domain::event::EventFields in JSON.
    details          TEXT NOT NULL,
    created_by       INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, program_id) REFERENCES programs (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX events_tenant_starts ON events (tenant_id, starts_at);
CREATE INDEX events_program ON events (tenant_id, program_id, starts_at);
-- The list of upcoming events across regions.
CREATE INDEX events_published_starts ON events (starts_at) WHERE status = 'published';

CREATE TABLE registrations (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL,
    event_id        INTEGER NOT NULL,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
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
    queued_at       TEXT,
    subsidy_eligible INTEGER NOT NULL DEFAULT 0 CHECK (subsidy_eligible IN (0, 1)),
    subsidy_paid_yen INTEGER CHECK (subsidy_paid_yen >= 0),
    subsidy_paid_at  TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
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
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL,
    registration_id INTEGER NOT NULL,
    from_status     TEXT NOT NULL,
    to_status       TEXT NOT NULL,
    actor_id        INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    at              TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, registration_id) REFERENCES registrations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX registration_transitions_registration
    ON registration_transitions (tenant_id, registration_id, id);

-- Attendance per day of the event (a tour checks people in each morning).
CREATE TABLE attendance (
    tenant_id       INTEGER NOT NULL,
    registration_id INTEGER NOT NULL,
    day             TEXT NOT NULL,
    checked_in_at   TEXT NOT NULL,
    checked_in_by   INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    PRIMARY KEY (tenant_id, registration_id, day),
    FOREIGN KEY (tenant_id, registration_id) REFERENCES registrations (tenant_id, id) ON DELETE CASCADE
);

-- A reminder is sent when its row is inserted, in the transaction that queues the
-- mail: with several nodes, one insert wins and the others skip.
CREATE TABLE reminders_sent (
    tenant_id       INTEGER NOT NULL,
    registration_id INTEGER NOT NULL,
    offset_minutes  INTEGER NOT NULL,
    sent_at         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, registration_id, offset_minutes),
    FOREIGN KEY (tenant_id, registration_id) REFERENCES registrations (tenant_id, id) ON DELETE CASCADE
);

-- One attachment per mail (a confirmation's .ics), kept with the mail it rides on.
ALTER TABLE mail_outbox ADD COLUMN attachment_name TEXT;
ALTER TABLE mail_outbox ADD COLUMN attachment_type TEXT;
ALTER TABLE mail_outbox ADD COLUMN attachment_body TEXT;

-- The admin who configures the year's program sees and runs its events too, and the
-- secretariat keeps its program.
INSERT INTO role_permissions (role, scope, tenant_id, object, action) VALUES
    ('tenant_admin', 'tenant', NULL, 'event',        '*'),
    ('tenant_admin', 'tenant', NULL, 'registration', '*'),
    ('coordinator',  'tenant', NULL, 'program',      'manage');
-- Nodes reload their policies when the version moves: only where someone holds a role.
UPDATE policy_version SET version = version + 1 WHERE EXISTS (SELECT 1 FROM role_grants);
