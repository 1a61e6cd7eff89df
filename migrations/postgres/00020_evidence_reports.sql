-- Compliance evidence reports (compliance/evidence): each generated report's signed bundle with
-- its framework, period and summary, kept six years from its creation (HIPAA 164.316(b)(2));
-- the retention sweep deletes nothing younger than retain_until.

-- +goose Up
CREATE TABLE evidence_reports (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    framework     TEXT NOT NULL CHECK (framework IN ('pci', 'hipaa')),
    period_from   TIMESTAMPTZ NOT NULL,
    period_to     TIMESTAMPTZ NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    created_by    TEXT NOT NULL,
    events        BIGINT NOT NULL DEFAULT 0,
    pass          INTEGER NOT NULL DEFAULT 0,
    fail          INTEGER NOT NULL DEFAULT 0,
    manual        INTEGER NOT NULL DEFAULT 0,
    sha256        TEXT NOT NULL,
    size          BIGINT NOT NULL,
    bundle        BYTEA NOT NULL,
    retain_until  TIMESTAMPTZ NOT NULL
);
CREATE INDEX evidence_reports_tenant_idx ON evidence_reports (tenant_id, created_at);

ALTER TABLE evidence_reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE evidence_reports FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON evidence_reports USING (tenant_id = current_setting('parley.tenant_id', true)) WITH CHECK (tenant_id = current_setting('parley.tenant_id', true));
CREATE POLICY across_tenants ON evidence_reports USING (current_setting('parley.all_tenants', true) = 'on') WITH CHECK (current_setting('parley.all_tenants', true) = 'on');

-- +goose Down
DROP TABLE evidence_reports;
