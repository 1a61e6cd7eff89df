-- Versions for the session check's per-node caches (app/account). Authenticate reads, with the
-- session, the version of its user and of its tenant's security settings; each node keeps the
-- user with their role names, and the tenant's settings and IP allowlists, as of a version and
-- uses them only for a request that read that same version. Triggers bump the versions in the
-- transaction of every write, so a change made on any node (or by the CLI, or by hand) applies
-- from the next request on every node.
--
-- users.version: any update of a user row, and any write to the user's role assignments, bumps it.
-- security_versions: any write to a tenant's security_settings or ip_allowlists bumps it. An
-- insert or update creates the tenant's row when needed (its row lock serializes concurrent
-- changes); a delete only bumps an existing one (each such row was inserted after this migration
-- or is counted here), so the cascade of a tenant's deletion never recreates it.

-- +goose Up
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- +goose StatementBegin
CREATE FUNCTION users_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER users_version BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_version_bump();

-- +goose StatementBegin
CREATE FUNCTION role_assignments_user_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NEW.user_id <> OLD.user_id) THEN
        UPDATE users SET version = version + 1 WHERE id = OLD.user_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE users SET version = version + 1 WHERE id = NEW.user_id;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER role_assignments_user_version AFTER INSERT OR UPDATE OR DELETE ON role_assignments
    FOR EACH ROW EXECUTE FUNCTION role_assignments_user_version();

CREATE TABLE security_versions (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    version    BIGINT NOT NULL
);
INSERT INTO security_versions (tenant_id, version)
    SELECT tenant_id, 1 FROM security_settings
    UNION
    SELECT tenant_id, 1 FROM ip_allowlists;

-- +goose StatementBegin
CREATE FUNCTION security_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NEW.tenant_id <> OLD.tenant_id) THEN
        UPDATE security_versions SET version = version + 1 WHERE tenant_id = OLD.tenant_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO security_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
            ON CONFLICT (tenant_id) DO UPDATE SET version = security_versions.version + 1;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER security_settings_version AFTER INSERT OR UPDATE OR DELETE ON security_settings
    FOR EACH ROW EXECUTE FUNCTION security_version_bump();
CREATE TRIGGER ip_allowlists_version AFTER INSERT OR UPDATE OR DELETE ON ip_allowlists
    FOR EACH ROW EXECUTE FUNCTION security_version_bump();

-- +goose Down
DROP TRIGGER ip_allowlists_version ON ip_allowlists;
DROP TRIGGER security_settings_version ON security_settings;
DROP FUNCTION security_version_bump();
DROP TABLE security_versions;
DROP TRIGGER role_assignments_user_version ON role_assignments;
DROP FUNCTION role_assignments_user_version();
DROP TRIGGER users_version ON users;
DROP FUNCTION users_version_bump();
ALTER TABLE users DROP COLUMN version;
