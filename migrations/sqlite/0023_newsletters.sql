-- Newsletters (関係人口のコミュニティ化): staff of a tenant write to the members who
-- opted in. The opt-in is per (tenant, account) and hangs on the membership, so
-- leaving the region or erasing the account takes it along. `token` is the random
-- secret of the unsubscribe link in every newsletter: it names the person in this
-- tenant without an id anyone could guess, and works without signing in.
CREATE TABLE newsletter_subscriptions (
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL,
    token           TEXT NOT NULL CHECK (length(token) >= 32),
    -- Set while the person wants the newsletter; NULL after opting out or
    -- unsubscribing by the link.
    opted_in_at     TEXT,
    opted_out_at    TEXT,
    unsubscribed_at TEXT,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, account_id),
    UNIQUE (tenant_id, token),
    FOREIGN KEY (tenant_id, account_id) REFERENCES memberships (tenant_id, account_id) ON DELETE CASCADE
);
-- The recipients of a send: the tenant's opted-in members.
CREATE INDEX newsletter_subscriptions_in ON newsletter_subscriptions (tenant_id) WHERE opted_in_at IS NOT NULL;

-- A newsletter as sent. `send_key` comes from the compose form: the same form posted
-- twice (a double click, two tabs) finds its newsletter and sends nothing more.
CREATE TABLE newsletters (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    send_key    TEXT NOT NULL,
    subject_ja  TEXT NOT NULL,
    body_ja     TEXT NOT NULL,
    subject_en  TEXT,
    body_en     TEXT,
    recipients  INTEGER NOT NULL DEFAULT 0,
    -- When the last of its mails may leave, after the tenant's pace.
    last_slot_at TEXT,
    sent_by     INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, send_key)
);
CREATE INDEX newsletters_created ON newsletters (tenant_id, created_at);

-- Which outbox row carries a newsletter to whom, so unsubscribing can drop the
-- person's mails still waiting for their slot. No key to mail_outbox: sent rows are
-- purged, the record stays.
CREATE TABLE newsletter_deliveries (
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    newsletter_id INTEGER NOT NULL,
    account_id    INTEGER NOT NULL,
    mail_id       INTEGER NOT NULL,
    scheduled_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, newsletter_id, account_id),
    FOREIGN KEY (tenant_id, newsletter_id) REFERENCES newsletters (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, account_id) REFERENCES memberships (tenant_id, account_id) ON DELETE CASCADE
);
CREATE INDEX newsletter_deliveries_account ON newsletter_deliveries (tenant_id, account_id);

-- The tenant's newsletter pace: the first free send slot. Every send takes this
-- row's lock (an upsert) before it schedules, so sends of one tenant on any number
-- of nodes line up behind each other instead of sharing slots.
CREATE TABLE newsletter_pace (
    tenant_id    INTEGER PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    next_slot_at TEXT NOT NULL
);

-- The List-Unsubscribe target of a mail (RFC 2369/8058), NULL for all but newsletters.
ALTER TABLE mail_outbox ADD COLUMN list_unsubscribe TEXT;

-- Coordinators and tenant admins write the newsletters.
INSERT INTO role_permissions (role, scope, tenant_id, object, action) VALUES
    ('coordinator',  'tenant', NULL, 'newsletter', '*'),
    ('tenant_admin', 'tenant', NULL, 'newsletter', '*');
-- Nodes reload their policies when the version moves: only where someone holds a role.
UPDATE policy_version SET version = version + 1 WHERE EXISTS (SELECT 1 FROM role_grants);
