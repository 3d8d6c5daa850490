-- Mail outbox: one row per message, written in the same transaction as the change that
-- caused it and rendered at that moment, so a row is everything a worker needs to send.
-- Workers claim due rows for a lease (claimed_until); a crashed worker's rows become due
-- again when the lease runs out. claim_token names one claim, so a worker whose lease was
-- taken over cannot record an outcome for a row it no longer owns.
CREATE TABLE mail_outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL for platform mail (account-level, outside any tenant)
    tenant_id       BIGINT REFERENCES tenants (id) ON DELETE CASCADE,
    template        TEXT NOT NULL,
    locale          TEXT NOT NULL CHECK (locale IN ('ja', 'en')),
    from_name       TEXT NOT NULL,
    from_address    TEXT NOT NULL,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    -- fixed at enqueue time, so a retried delivery carries the same Message-ID
    message_id      TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    -- counted when a worker claims the row, so a mail that crashes workers still runs out
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_by      TEXT,
    claim_token     TEXT,
    claimed_until   TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);
-- The workers' claim query: due pending rows in order.
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX mail_outbox_tenant_id ON mail_outbox (tenant_id, created_at);
