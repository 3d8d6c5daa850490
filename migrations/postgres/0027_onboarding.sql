-- Onboarding from the operator console: a tenant created there is being set up (its
-- administrator works through the setup checklist) until it is launched, and is not
-- listed publicly before. Tenants applied from files are complete: NULL.
ALTER TABLE tenants ADD COLUMN setting_up_since TIMESTAMPTZ;

-- The operator overview counts each tenant's failed mail.
CREATE INDEX mail_outbox_failed ON mail_outbox (tenant_id) WHERE status = 'failed';
