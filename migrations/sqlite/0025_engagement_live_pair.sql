-- One live engagement (proposed, active or paused) per talent and project: a
-- coordinator's double submit or a confirmed match for a pair already engaged would
-- otherwise count the same partnership twice in the matches KPI. Duplicates made
-- before this rule are ended (the oldest stays) so the index can be built.
UPDATE engagements SET status = 'ended', end_reason = 'other'
WHERE status IN ('proposed', 'active', 'paused')
  AND EXISTS (SELECT 1 FROM engagements o
              WHERE o.tenant_id = engagements.tenant_id AND o.account_id = engagements.account_id
                AND o.project_id = engagements.project_id AND o.id < engagements.id
                AND o.status IN ('proposed', 'active', 'paused'));
CREATE UNIQUE INDEX engagements_live_pair ON engagements (tenant_id, account_id, project_id)
    WHERE status IN ('proposed', 'active', 'paused');
