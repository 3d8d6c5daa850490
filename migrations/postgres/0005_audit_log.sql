-- The audit trail: who did what, in which tenant, when and from where. Rows are only
-- ever inserted. tenant_id is NULL for platform-wide events (sign-ins, operator actions
-- on the platform itself).
CREATE TABLE audit_log (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  BIGINT REFERENCES tenants (id),
    actor_id   BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    action     TEXT NOT NULL,
    detail     JSONB NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_log_tenant_time ON audit_log (tenant_id, created_at);
CREATE INDEX audit_log_actor ON audit_log (actor_id);
