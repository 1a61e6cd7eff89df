-- The auditor's console: background verifications of a tenant's audit chain with their progress
-- (the integrity page's "verify now"), and evidence reports generated as jobs. A report row is
-- queued by the console and completed by whichever node holds the evidence job's lease
-- (job_leases); a job whose node stopped is retried, then marked failed, never left running.

-- +goose Up
CREATE TABLE audit_verify_jobs (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    status       TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    started_by   TEXT NOT NULL,
    node         TEXT NOT NULL,
    started_us   BIGINT NOT NULL,
    updated_us   BIGINT NOT NULL,
    finished_us  BIGINT NOT NULL DEFAULT 0,
    checked      BIGINT NOT NULL DEFAULT 0,
    total        BIGINT NOT NULL DEFAULT 0,
    result       TEXT NOT NULL DEFAULT '',
    failure      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_verify_jobs_tenant_idx ON audit_verify_jobs (tenant_id, started_us);
-- One verification at a time per tenant: a second "verify now" joins the running one.
CREATE UNIQUE INDEX audit_verify_jobs_running_idx ON audit_verify_jobs (tenant_id) WHERE status = 'running';

ALTER TABLE evidence_reports ADD COLUMN status TEXT NOT NULL DEFAULT 'done' CHECK (status IN ('queued', 'running', 'done', 'failed'));
ALTER TABLE evidence_reports ADD COLUMN progress INTEGER NOT NULL DEFAULT 100 CHECK (progress BETWEEN 0 AND 100);
ALTER TABLE evidence_reports ADD COLUMN stage TEXT NOT NULL DEFAULT '';
ALTER TABLE evidence_reports ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE evidence_reports ADD COLUMN heartbeat_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE evidence_reports ADD COLUMN failure TEXT NOT NULL DEFAULT '';
CREATE INDEX evidence_reports_status_idx ON evidence_reports (status, created_at);

-- +goose Down
DROP INDEX evidence_reports_status_idx;
ALTER TABLE evidence_reports DROP COLUMN failure;
ALTER TABLE evidence_reports DROP COLUMN heartbeat_us;
ALTER TABLE evidence_reports DROP COLUMN attempts;
ALTER TABLE evidence_reports DROP COLUMN stage;
ALTER TABLE evidence_reports DROP COLUMN progress;
ALTER TABLE evidence_reports DROP COLUMN status;
DROP TABLE audit_verify_jobs;
