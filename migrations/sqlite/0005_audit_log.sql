-- The audit trail: who did what, in which tenant, when and from where. Rows are only
-- ever inserted. tenant_id is NULL for platform-wide events (sign-ins, operator actions
-- on the platform itself).
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER REFERENCES tenants (id),
    actor_id   INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX audit_log_tenant_time ON audit_log (tenant_id, created_at);
CREATE INDEX audit_log_actor ON audit_log (actor_id);
