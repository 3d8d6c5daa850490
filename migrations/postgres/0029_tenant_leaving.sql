-- A region leaving the platform: an operator asks to export its whole data or to
-- delete it, and a second operator confirms; a deletion waits until not_before.
-- Platform data (operators only), kept after the tenant's data is erased.
CREATE TABLE tenant_leaving (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    BIGINT NOT NULL REFERENCES tenants (id),
    kind         TEXT NOT NULL CHECK (kind IN ('export', 'delete')),
    reason       TEXT NOT NULL,
    requested_by BIGINT NOT NULL REFERENCES accounts (id),
    requested_at TIMESTAMPTZ NOT NULL,
    not_before   TIMESTAMPTZ NOT NULL,
    confirmed_by BIGINT REFERENCES accounts (id),
    confirmed_at TIMESTAMPTZ,
    done_at      TIMESTAMPTZ,
    cancelled_at TIMESTAMPTZ,
    -- The four-eyes rule, whatever the code does.
    CHECK (confirmed_by IS NULL OR confirmed_by <> requested_by)
);
CREATE UNIQUE INDEX tenant_leaving_open ON tenant_leaving (tenant_id, kind)
    WHERE done_at IS NULL AND cancelled_at IS NULL;

-- A deleted tenant's row stays (suspended) for its anonymous figures and the proof
-- of consents; this says when its data was erased.
ALTER TABLE tenants ADD COLUMN deleted_at TIMESTAMPTZ;

-- The second wall, as on every table that carries a tenant: only the platform's
-- handles (operators) see these rows.
ALTER TABLE tenant_leaving ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_leaving FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_leaving
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));
