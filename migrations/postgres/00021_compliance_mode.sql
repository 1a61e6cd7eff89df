-- Compliance mode (compliance/mode): per organisation, whether PCI DSS, HIPAA or both are
-- enforced; while a framework is on, settings that would break one of its controls are refused.
-- One row per organisation that ever set it; the last change's author and reason.

-- +goose Up
CREATE TABLE compliance_modes (
    tenant_id   TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    pci         BOOLEAN NOT NULL DEFAULT FALSE,
    hipaa       BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at  TIMESTAMPTZ NOT NULL,
    updated_by  TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT ''
);

ALTER TABLE compliance_modes ENABLE ROW LEVEL SECURITY;
ALTER TABLE compliance_modes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON compliance_modes USING (tenant_id = current_setting('parley.tenant_id', true)) WITH CHECK (tenant_id = current_setting('parley.tenant_id', true));
CREATE POLICY across_tenants ON compliance_modes USING (current_setting('parley.all_tenants', true) = 'on') WITH CHECK (current_setting('parley.all_tenants', true) = 'on');

-- +goose Down
DROP TABLE compliance_modes;
