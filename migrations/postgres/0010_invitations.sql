-- Invitations to a role in a tenant. The role goes to whoever proves the mailbox:
-- the mail carries a one-time token (only its SHA-256 is kept), and accepting it
-- creates the grant for the account of that address, which the acceptance verifies.
-- Nothing is attached to an account before that, so an address registered by someone
-- who cannot read its mail never receives a role.
CREATE TABLE invitations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- The normal form of the address the mail went to, and its comparison key.
    email       TEXT NOT NULL,
    email_key   TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('tenant_admin', 'coordinator',
                    'municipal_staff', 'mentor', 'host_member', 'talent')),
    valid_until TIMESTAMPTZ,
    invited_by  BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    accepted_at TIMESTAMPTZ,
    accepted_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    withdrawn_at TIMESTAMPTZ
);
CREATE INDEX invitations_tenant_id ON invitations (tenant_id);
-- At most one open invitation per address and tenant: inviting again replaces it.
CREATE UNIQUE INDEX invitations_open
    ON invitations (tenant_id, email_key) WHERE accepted_at IS NULL AND withdrawn_at IS NULL;

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invitations
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

-- Before this rule, an invitation attached its role at once, also to an account whose
-- address nobody had proved. Those roles and the API tokens made with them end here;
-- the people are invited again and accept by mail.
SELECT set_config('app.tenant_id', '*', true);
-- Nodes reload their policies when the version moves: only if something changes.
UPDATE policy_version SET version = version + 1
    WHERE EXISTS (SELECT 1 FROM role_grants g JOIN accounts a ON a.id = g.account_id
                  WHERE g.revoked_at IS NULL AND a.email_verified_at IS NULL);
UPDATE role_grants SET revoked_at = now()
    WHERE revoked_at IS NULL
      AND account_id IN (SELECT id FROM accounts WHERE email_verified_at IS NULL);
UPDATE api_tokens SET revoked_at = now()
    WHERE revoked_at IS NULL
      AND account_id IN (SELECT id FROM accounts WHERE email_verified_at IS NULL);
