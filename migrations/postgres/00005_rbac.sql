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
    created_at   TIMESTAMPTZ NOT NULL,
    updated_by   TEXT NOT NULL DEFAULT '',
    updated_at   TIMESTAMPTZ NOT NULL,
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
DELETE FROM role_assignments a USING role_assignments b
    WHERE a.tenant_id = b.tenant_id AND a.user_id = b.user_id AND a.role = b.role
      AND COALESCE(a.department_id, '') = COALESCE(b.department_id, '') AND a.id > b.id;
CREATE UNIQUE INDEX role_assignments_unique_idx
    ON role_assignments (tenant_id, user_id, role, COALESCE(department_id, ''));
CREATE INDEX role_assignments_role_idx ON role_assignments (tenant_id, role);

CREATE TABLE rbac_policy_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO rbac_policy_version (id, version) VALUES (1, 1);

-- +goose StatementBegin
CREATE FUNCTION rbac_policy_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE rbac_policy_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER roles_policy_version AFTER INSERT OR UPDATE OR DELETE ON roles
    FOR EACH STATEMENT EXECUTE FUNCTION rbac_policy_changed();
CREATE TRIGGER role_permissions_policy_version AFTER INSERT OR UPDATE OR DELETE ON role_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION rbac_policy_changed();
CREATE TRIGGER role_assignments_policy_version AFTER INSERT OR UPDATE OR DELETE ON role_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION rbac_policy_changed();

-- A sign-off keeps the report the reviewer saw (JSON) and its SHA-256. reviewer_id is not a
-- foreign key: the record outlives the reviewer's account.
CREATE TABLE access_reviews (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    reviewer_id     TEXT NOT NULL,
    reviewer_email  TEXT NOT NULL,
    signed_at       TIMESTAMPTZ NOT NULL,
    report_digest   TEXT NOT NULL,
    user_count      INTEGER NOT NULL,
    notes           TEXT NOT NULL DEFAULT '',
    report          TEXT NOT NULL
);
CREATE INDEX access_reviews_tenant_idx ON access_reviews (tenant_id, signed_at);

-- +goose Down
DROP TABLE access_reviews;
DROP TRIGGER role_assignments_policy_version ON role_assignments;
DROP TRIGGER role_permissions_policy_version ON role_permissions;
DROP TRIGGER roles_policy_version ON roles;
DROP FUNCTION rbac_policy_changed();
DROP TABLE rbac_policy_version;
DROP INDEX role_assignments_role_idx;
DROP INDEX role_assignments_unique_idx;
ALTER TABLE role_assignments DROP COLUMN granted_by;
DROP TABLE role_permissions;
DROP TABLE roles;
