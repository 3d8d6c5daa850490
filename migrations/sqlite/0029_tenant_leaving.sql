-- A region leaving the platform: an operator asks to export its whole data or to
-- delete it, and a second operator confirms; a deletion waits until not_before.
-- Platform data (operators only), kept after the tenant's data is erased.
CREATE TABLE tenant_leaving (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    kind         TEXT NOT NULL CHECK (kind IN ('export', 'delete')),
    reason       TEXT NOT NULL,
    requested_by INTEGER NOT NULL REFERENCES accounts (id),
    requested_at TEXT NOT NULL,
    not_before   TEXT NOT NULL,
    confirmed_by INTEGER REFERENCES accounts (id),
    confirmed_at TEXT,
    done_at      TEXT,
    cancelled_at TEXT,
    -- The four-eyes rule, whatever the code does.
    CHECK (confirmed_by IS NULL OR confirmed_by <> requested_by)
);
CREATE UNIQUE INDEX tenant_leaving_open ON tenant_leaving (tenant_id, kind)
    WHERE done_at IS NULL AND cancelled_at IS NULL;

-- A deleted tenant's row stays (suspended) for its anonymous figures and the proof
-- of consents; this says when its data was erased.
ALTER TABLE tenants ADD COLUMN deleted_at TEXT;
