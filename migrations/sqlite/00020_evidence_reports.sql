-- Compliance evidence reports (compliance/evidence): each generated report's signed bundle with
-- its framework, period and summary, kept six years from its creation (HIPAA 164.316(b)(2));
-- the retention sweep deletes nothing younger than retain_until.

-- +goose Up
CREATE TABLE evidence_reports (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    framework     TEXT NOT NULL CHECK (framework IN ('pci', 'hipaa')),
    period_from   DATETIME NOT NULL,
    period_to     DATETIME NOT NULL,
    created_at    DATETIME NOT NULL,
    created_by    TEXT NOT NULL,
    events        BIGINT NOT NULL DEFAULT 0,
    pass          INTEGER NOT NULL DEFAULT 0,
    fail          INTEGER NOT NULL DEFAULT 0,
    manual        INTEGER NOT NULL DEFAULT 0,
    sha256        TEXT NOT NULL,
    size          BIGINT NOT NULL,
    bundle        BLOB NOT NULL,
    retain_until  DATETIME NOT NULL
);
CREATE INDEX evidence_reports_tenant_idx ON evidence_reports (tenant_id, created_at);

-- +goose Down
DROP TABLE evidence_reports;
