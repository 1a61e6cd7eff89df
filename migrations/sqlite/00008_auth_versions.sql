-- Versions for the session check's per-node caches (app/account). Authenticate reads, with the
-- session, the version of its user and of its tenant's security settings; each node keeps the
-- user with their role names, and the tenant's settings and IP allowlists, as of a version and
-- uses them only for a request that read that same version. Triggers bump the versions in the
-- transaction of every write, so a change made on any node (or by the CLI, or by hand) applies
-- from the next request on every node.
--
-- users.version: any update of a user row, and any write to the user's role assignments, bumps it.
-- security_versions: any write to a tenant's security_settings or ip_allowlists bumps it. An
-- insert or update creates the tenant's row when needed; a delete only bumps an existing one
-- (each such row was inserted after this migration or is counted here), so the cascade of a
-- tenant's deletion never recreates it. (Not INSERT OR IGNORE: an upsert that fires the trigger
-- would impose its own conflict handling on it.)

-- +goose Up
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- +goose StatementBegin
CREATE TRIGGER users_version AFTER UPDATE ON users FOR EACH ROW WHEN NEW.version = OLD.version
BEGIN
    UPDATE users SET version = OLD.version + 1 WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER role_assignments_user_version_insert AFTER INSERT ON role_assignments
BEGIN
    UPDATE users SET version = version + 1 WHERE id = NEW.user_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER role_assignments_user_version_update AFTER UPDATE ON role_assignments
BEGIN
    UPDATE users SET version = version + 1 WHERE id IN (OLD.user_id, NEW.user_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER role_assignments_user_version_delete AFTER DELETE ON role_assignments
BEGIN
    UPDATE users SET version = version + 1 WHERE id = OLD.user_id;
END;
-- +goose StatementEnd

CREATE TABLE security_versions (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    version    BIGINT NOT NULL
);
INSERT INTO security_versions (tenant_id, version)
    SELECT tenant_id, 1 FROM security_settings
    UNION
    SELECT tenant_id, 1 FROM ip_allowlists;

-- +goose StatementBegin
CREATE TRIGGER security_settings_version_insert AFTER INSERT ON security_settings
BEGIN
    INSERT INTO security_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM security_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE security_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER security_settings_version_update AFTER UPDATE ON security_settings
BEGIN
    INSERT INTO security_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM security_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE security_versions SET version = version + 1 WHERE tenant_id IN (OLD.tenant_id, NEW.tenant_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER security_settings_version_delete AFTER DELETE ON security_settings
BEGIN
    UPDATE security_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ip_allowlists_version_insert AFTER INSERT ON ip_allowlists
BEGIN
    INSERT INTO security_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM security_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE security_versions SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ip_allowlists_version_update AFTER UPDATE ON ip_allowlists
BEGIN
    INSERT INTO security_versions (tenant_id, version)
        SELECT NEW.tenant_id, 0 WHERE NOT EXISTS (SELECT 1 FROM security_versions WHERE tenant_id = NEW.tenant_id);
    UPDATE security_versions SET version = version + 1 WHERE tenant_id IN (OLD.tenant_id, NEW.tenant_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER ip_allowlists_version_delete AFTER DELETE ON ip_allowlists
BEGIN
    UPDATE security_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER ip_allowlists_version_delete;
DROP TRIGGER ip_allowlists_version_update;
DROP TRIGGER ip_allowlists_version_insert;
DROP TRIGGER security_settings_version_delete;
DROP TRIGGER security_settings_version_update;
DROP TRIGGER security_settings_version_insert;
DROP TABLE security_versions;
DROP TRIGGER role_assignments_user_version_delete;
DROP TRIGGER role_assignments_user_version_update;
DROP TRIGGER role_assignments_user_version_insert;
DROP TRIGGER users_version;
ALTER TABLE users DROP COLUMN version;
