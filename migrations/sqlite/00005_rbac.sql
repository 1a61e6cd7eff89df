-- Authorization (policy/rbac, app/authz): custom roles and their permissions per tenant (the
-- default roles owner, admin, supervisor, agent and auditor are defined in code, not stored),
-- who granted each role assignment, the policy version every node polls to reload its cached
-- enforcer, and signed-off access reviews (PCI DSS 7.2.4).
--
-- Any write to roles, role_permissions or role_assignments bumps rbac_policy_version in the same
-- transaction, by trigger, so no code path (the CLI's user creation included) can change the
-- policy without the nodes noticing.

-- +goose Up
CREATE TABLE roles (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    updated_by   TEXT NOT NULL DEFAULT '',
    updated_at   DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE role_permissions (
    tenant_id   TEXT NOT NULL,
    role        TEXT NOT NULL,
    permission  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, role, permission),
    FOREIGN KEY (tenant_id, role) REFERENCES roles (tenant_id, name) ON DELETE CASCADE
);

ALTER TABLE role_assignments ADD COLUMN granted_by TEXT NOT NULL DEFAULT '';
DELETE FROM role_assignments WHERE EXISTS (
    SELECT 1 FROM role_assignments b
    WHERE b.tenant_id = role_assignments.tenant_id AND b.user_id = role_assignments.user_id
      AND b.role = role_assignments.role
      AND COALESCE(b.department_id, '') = COALESCE(role_assignments.department_id, '')
      AND b.id < role_assignments.id
);
CREATE UNIQUE INDEX role_assignments_unique_idx
    ON role_assignments (tenant_id, user_id, role, COALESCE(department_id, ''));
CREATE INDEX role_assignments_role_idx ON role_assignments (tenant_id, role);

CREATE TABLE rbac_policy_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO rbac_policy_version (id, version) VALUES (1, 1);

-- +goose StatementBegin
CREATE TRIGGER roles_policy_version_insert AFTER INSERT ON roles
BEGIN
    UPDATE rbac_policy_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER roles_policy_version_update AFTER UPDATE ON roles
BEGIN
    UPDATE rbac_policy_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER roles_policy_version_delete AFTER DELETE ON roles
BEGIN
    UPDATE rbac_policy_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER role_permissions_policy_version_insert AFTER INSERT ON role_permissions
BEGIN
    UPDATE rbac_policy_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER role_permissions_policy_version_update AFTER UPDATE ON role_permissions
BEGIN
    UPDATE rbac_policy_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER role_permissions_policy_version_delete AFTER DELETE ON role_permissions
BEGIN
    UPDATE rbac_policy_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER role_assignments_policy_version_insert AFTER INSERT ON role_assignments
BEGIN
    UPDATE rbac_policy_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER role_assignments_policy_version_update AFTER UPDATE ON role_assignments
BEGIN
    UPDATE rbac_policy_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER role_assignments_policy_version_delete AFTER DELETE ON role_assignments
BEGIN
    UPDATE rbac_policy_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd

-- A sign-off keeps the report the reviewer saw (JSON) and its SHA-256. reviewer_id is not a
-- foreign key: the record outlives the reviewer's account.
CREATE TABLE access_reviews (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    reviewer_id     TEXT NOT NULL,
    reviewer_email  TEXT NOT NULL,
    signed_at       DATETIME NOT NULL,
    report_digest   TEXT NOT NULL,
    user_count      INTEGER NOT NULL,
    notes           TEXT NOT NULL DEFAULT '',
    report          TEXT NOT NULL
);
CREATE INDEX access_reviews_tenant_idx ON access_reviews (tenant_id, signed_at);

-- +goose Down
DROP TABLE access_reviews;
DROP TRIGGER role_assignments_policy_version_delete;
DROP TRIGGER role_assignments_policy_version_update;
DROP TRIGGER role_assignments_policy_version_insert;
DROP TRIGGER role_permissions_policy_version_delete;
DROP TRIGGER role_permissions_policy_version_update;
DROP TRIGGER role_permissions_policy_version_insert;
DROP TRIGGER roles_policy_version_delete;
DROP TRIGGER roles_policy_version_update;
DROP TRIGGER roles_policy_version_insert;
DROP TABLE rbac_policy_version;
DROP INDEX role_assignments_role_idx;
DROP INDEX role_assignments_unique_idx;
ALTER TABLE role_assignments DROP COLUMN granted_by;
DROP TABLE role_permissions;
DROP TABLE roles;
