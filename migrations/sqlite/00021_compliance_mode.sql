-- Compliance mode (compliance/mode): per organisation, whether PCI DSS, HIPAA or both are
-- enforced; while a framework is on, settings that would break one of its controls are refused.
-- One row per organisation that ever set it; the last change's author and reason.

-- +goose Up
CREATE TABLE compliance_modes (
    tenant_id   TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    pci         BOOLEAN NOT NULL DEFAULT FALSE,
    hipaa       BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at  DATETIME NOT NULL,
    updated_by  TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE compliance_modes;
