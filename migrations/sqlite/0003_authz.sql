-- Authorization (yui-authz): casbin policies kept in our own tables, read and written
-- through yui-authz's casbin Adapter. See crates/yui-authz/model.conf for the model.

-- Who may do what: casbin's p rules. tenant_id NULL means every tenant; a row with a
-- tenant narrows a permission to that tenant. `scope` names the grant it needs:
-- 'tenant' (held in the tenant), 'children' (held on the parent tenant for its
-- children, aggregate reads) or 'global' (held platform-wide). The list of roles is
-- closed: each is also a variant of yui_authz::Role, so adding one takes both.
CREATE TABLE role_permissions (
    id        INTEGER PRIMARY KEY,
    role      TEXT NOT NULL CHECK (role IN ('platform_operator', 'tenant_admin', 'coordinator',
                  'municipal_staff', 'mentor', 'host_member', 'talent')),
    scope     TEXT NOT NULL CHECK (scope IN ('tenant', 'children', 'global')),
    tenant_id INTEGER REFERENCES tenants (id) ON DELETE CASCADE,
    object    TEXT NOT NULL CHECK (length(object) BETWEEN 1 AND 64),
    action    TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64)
);
CREATE UNIQUE INDEX role_permissions_rule
    ON role_permissions (role, scope, COALESCE(tenant_id, 0), object, action);
CREATE INDEX role_permissions_tenant_id ON role_permissions (tenant_id);

-- Who holds which role where: casbin's g rules. A grant is held in one tenant
-- (scope 'tenant'), on a tenant for its direct children ('children'), or platform-wide
-- ('global', no tenant, platform operators only). valid_until ends it by itself
-- (contractors change at fiscal-year end); revoking keeps the row for the record.
CREATE TABLE role_grants (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('platform_operator', 'tenant_admin', 'coordinator',
                    'municipal_staff', 'mentor', 'host_member', 'talent')),
    scope       TEXT NOT NULL CHECK (scope IN ('tenant', 'children', 'global')),
    tenant_id   INTEGER REFERENCES tenants (id) ON DELETE CASCADE,
    valid_until TEXT,
    granted_by  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT,
    revoked_by  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    CHECK ((scope = 'global') = (tenant_id IS NULL)),
    CHECK ((role = 'platform_operator') = (scope = 'global'))
);
-- At most one live grant of a role per account and place; granting again changes its end.
CREATE UNIQUE INDEX role_grants_live
    ON role_grants (account_id, role, scope, COALESCE(tenant_id, 0)) WHERE revoked_at IS NULL;
CREATE INDEX role_grants_tenant_id ON role_grants (tenant_id);
CREATE INDEX role_grants_account_id ON role_grants (account_id);

-- Bumped in the same transaction as every policy change; each app node polls it and
-- reloads its policies when it moved.
CREATE TABLE policy_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO policy_version (id, version) VALUES (1, 1);

-- The default permissions of each role, in every tenant (tenant_id NULL). Objects and
-- actions are the names the web layer asks about; `*` means any. An action ending in
-- `_own` is allowed only on the caller's own records: the domain layer checks ownership.
INSERT INTO role_permissions (role, scope, tenant_id, object, action) VALUES
    ('platform_operator', 'global',   NULL, 'tenant',       '*'),
    ('platform_operator', 'global',   NULL, 'audit',        'read'),
    ('tenant_admin',      'tenant',   NULL, 'staff',        '*'),
    ('tenant_admin',      'tenant',   NULL, 'role',         '*'),
    ('tenant_admin',      'tenant',   NULL, 'program',      '*'),
    ('tenant_admin',      'tenant',   NULL, 'tenant',       'configure'),
    ('tenant_admin',      'tenant',   NULL, 'audit',        'read'),
    ('tenant_admin',      'tenant',   NULL, 'kpi',          'read'),
    ('tenant_admin',      'tenant',   NULL, 'report',       'read'),
    ('tenant_admin',      'tenant',   NULL, 'export',       'create'),
    ('tenant_admin',      'children', NULL, 'kpi',          'read'),
    ('tenant_admin',      'children', NULL, 'report',       'read'),
    ('coordinator',       'tenant',   NULL, 'event',        '*'),
    ('coordinator',       'tenant',   NULL, 'round',        '*'),
    ('coordinator',       'tenant',   NULL, 'hearing',      '*'),
    ('coordinator',       'tenant',   NULL, 'engagement',   '*'),
    ('coordinator',       'tenant',   NULL, 'checkin',      'read'),
    ('coordinator',       'tenant',   NULL, 'registration', '*'),
    ('coordinator',       'tenant',   NULL, 'host',         'read'),
    ('coordinator',       'tenant',   NULL, 'project',      'read'),
    ('coordinator',       'tenant',   NULL, 'talent',       'read'),
    ('coordinator',       'tenant',   NULL, 'pool',         'scout'),
    ('coordinator',       'tenant',   NULL, 'case_study',   '*'),
    ('coordinator',       'tenant',   NULL, 'kpi',          'read'),
    ('municipal_staff',   'tenant',   NULL, 'host',         'select'),
    ('municipal_staff',   'tenant',   NULL, 'host',         'read'),
    ('municipal_staff',   'tenant',   NULL, 'event',        'support'),
    ('municipal_staff',   'tenant',   NULL, 'event',        'read'),
    ('municipal_staff',   'tenant',   NULL, 'kpi',          'read'),
    ('mentor',            'tenant',   NULL, 'engagement',   'read'),
    ('mentor',            'tenant',   NULL, 'checkin',      'write'),
    ('mentor',            'tenant',   NULL, 'checkin',      'read'),
    ('host_member',       'tenant',   NULL, 'host',         'write_own'),
    ('host_member',       'tenant',   NULL, 'project',      'write_own'),
    ('host_member',       'tenant',   NULL, 'application',  'review_own'),
    ('host_member',       'tenant',   NULL, 'preference',   'write_own'),
    ('host_member',       'tenant',   NULL, 'engagement',   'report_own'),
    ('talent',            'tenant',   NULL, 'profile',      'write_own'),
    ('talent',            'tenant',   NULL, 'registration', 'write'),
    ('talent',            'tenant',   NULL, 'application',  'write_own'),
    ('talent',            'tenant',   NULL, 'preference',   'write_own'),
    ('talent',            'tenant',   NULL, 'engagement',   'report_own');
