-- Certificates of activity (活動証明): a talent's record of activities in one tenant
-- and fiscal year, signed with Ed25519 so that anyone can check it without an account.

-- The platform's signing keys. The one without `retired_at` signs new certificates;
-- retired keys stay, so every certificate they signed still verifies.
CREATE TABLE certificate_keys (
    key_id      TEXT PRIMARY KEY,
    -- Ed25519 keys, 32 bytes each, in base64.
    public_key  TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    retired_at  TEXT
);
-- At most one current key, even when two nodes create the first one at once.
CREATE UNIQUE INDEX certificate_keys_current ON certificate_keys ((retired_at IS NULL))
    WHERE retired_at IS NULL;

CREATE TABLE certificates (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- The public, unguessable id in the verification URL (128 random bits).
    code        TEXT NOT NULL UNIQUE,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    fiscal_year INTEGER NOT NULL CHECK (fiscal_year BETWEEN 2000 AND 2100),
    -- The canonical payload exactly as signed (JSON text), and the signature over it.
    payload     TEXT NOT NULL,
    signature   TEXT NOT NULL,
    key_id      TEXT NOT NULL REFERENCES certificate_keys (key_id),
    issued_at   TEXT NOT NULL,
    revoked_at  TEXT,
    UNIQUE (tenant_id, id)
);
CREATE INDEX certificates_account ON certificates (account_id, issued_at);
CREATE INDEX certificates_tenant ON certificates (tenant_id, fiscal_year);
