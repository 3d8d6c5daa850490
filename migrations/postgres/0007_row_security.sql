-- Row-level security: the second wall between tenants (the first is that every query
-- filters by tenant id). Each transaction names its scope with
-- set_config('app.tenant_id', <tenant id> | '*', true); a transaction that names none
-- sees only rows that belong to no tenant. Platform work ('*') is a deliberate choice
-- in code: the mail workers, the policy loader, the operator console.
-- The owner of these tables is subject to the policies too (FORCE); the application
-- must connect as a role that owns nothing and has no BYPASSRLS (see ops/README.md).

CREATE FUNCTION yui_tenant_visible(row_tenant BIGINT) RETURNS BOOLEAN
    LANGUAGE sql STABLE
    AS $$
        SELECT row_tenant IS NULL
            OR current_setting('app.tenant_id', true) = '*'
            OR current_setting('app.tenant_id', true) = row_tenant::text
    $$;

ALTER TABLE tenant_introductions ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_introductions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_introductions
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE role_permissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE role_permissions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON role_permissions
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE role_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE role_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON role_grants
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE mail_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE mail_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON mail_outbox
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_log
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));

ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_tokens
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));
