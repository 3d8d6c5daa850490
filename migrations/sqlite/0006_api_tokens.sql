-- Personal API tokens, each scoped to one tenant. Only the SHA-256 of the token is
-- kept; the token itself is shown once, when it is created.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_tokens_account_id ON api_tokens (account_id);
CREATE INDEX api_tokens_tenant_id ON api_tokens (tenant_id);
