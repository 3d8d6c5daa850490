-- Tenant settings edited in the tenant admin's pages (issue 14): a logo may be a PNG
-- (its bytes; `logo_svg` is then empty), the time of the last tenant-file apply that
-- changed the tenant, and which sections were edited in pages and when, so a file
-- apply can warn before it overwrites them and onboarding can show what is done.
ALTER TABLE tenants ADD COLUMN logo_png BYTEA;
ALTER TABLE tenants ADD COLUMN files_applied_at TIMESTAMPTZ;

CREATE TABLE tenant_settings_edits (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    section   TEXT NOT NULL CHECK (section IN ('names', 'introduction', 'branding', 'consent', 'mail', 'templates')),
    edited_at TIMESTAMPTZ NOT NULL,
    edited_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    PRIMARY KEY (tenant_id, section)
);

ALTER TABLE tenant_settings_edits ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_settings_edits FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_settings_edits
    USING (yui_tenant_visible(tenant_id)) WITH CHECK (yui_tenant_visible(tenant_id));
