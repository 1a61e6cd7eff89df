-- Foundation schema: tenancy (tenants, sites, departments), users and role assignments, and the
-- one-time setup tokens that replace default credentials. Every tenant-owned row carries tenant_id.

-- +goose Up
CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE sites (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    site_key         TEXT NOT NULL UNIQUE,
    allowed_origins  TEXT NOT NULL DEFAULT '',
    enabled          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE INDEX sites_tenant_idx ON sites (tenant_id);

CREATE TABLE departments (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE users (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email                 TEXT NOT NULL,
    email_key             TEXT NOT NULL,
    display_name          TEXT NOT NULL DEFAULT '',
    status                TEXT NOT NULL CHECK (status IN ('invited', 'active', 'disabled', 'locked')),
    password_hash         TEXT NOT NULL DEFAULT '',
    password_changed_at   TIMESTAMPTZ,
    must_change_password  BOOLEAN NOT NULL DEFAULT FALSE,
    last_login_at         TIMESTAMPTZ,
    last_login_ip         TEXT NOT NULL DEFAULT '',
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, email_key)
);

CREATE TABLE role_assignments (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role           TEXT NOT NULL,
    department_id  TEXT REFERENCES departments (id) ON DELETE CASCADE,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX role_assignments_user_idx ON role_assignments (tenant_id, user_id);

CREATE TABLE setup_tokens (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE setup_tokens;
DROP TABLE role_assignments;
DROP TABLE users;
DROP TABLE departments;
DROP TABLE sites;
DROP TABLE tenants;
