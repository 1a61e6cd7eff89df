-- Accounts and sign-in: second factor and lifecycle columns on users, password history, server-side
-- sessions (only a SHA-256 of each token is stored), sign-in failure counters per identity and per
-- client address, per-tenant security settings, IP allowlists, invitations, recovery codes and
-- CAPTCHA challenges. No secret is stored in the clear: TOTP secrets are sealed by the key
-- provider, tokens and recovery codes are hashed, CAPTCHA answers are derived and never stored.

-- +goose Up
ALTER TABLE users ADD COLUMN mfa_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN mfa_secret BLOB;
ALTER TABLE users ADD COLUMN mfa_pending BLOB;
ALTER TABLE users ADD COLUMN mfa_pending_at DATETIME;
ALTER TABLE users ADD COLUMN mfa_enrolled_at DATETIME;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN mfa_grace_used INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN activated_at DATETIME;
ALTER TABLE users ADD COLUMN disabled_at DATETIME;
ALTER TABLE users ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN previous_login_at DATETIME;
ALTER TABLE users ADD COLUMN previous_login_ip TEXT NOT NULL DEFAULT '';
CREATE INDEX users_status_idx ON users (status);

CREATE TABLE password_history (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash  TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('initial', 'change', 'reset', 'invitation')),
    created_at     DATETIME NOT NULL
);
CREATE INDEX password_history_user_idx ON password_history (user_id, created_at);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash    TEXT NOT NULL UNIQUE,
    mfa           BOOLEAN NOT NULL DEFAULT FALSE,
    restriction   TEXT NOT NULL DEFAULT '' CHECK (restriction IN ('', 'password_change', 'mfa_enrolment')),
    client_ip     TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT '',
    created_at    DATETIME NOT NULL,
    last_seen_at  DATETIME NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (tenant_id, user_id);

CREATE TABLE signin_attempts (
    tenant_key       TEXT NOT NULL,
    email_key        TEXT NOT NULL,
    consecutive      INTEGER NOT NULL DEFAULT 0,
    lifetime         INTEGER NOT NULL DEFAULT 0,
    last_failure_at  DATETIME,
    locked_until     DATETIME,
    attempt_until    DATETIME,
    PRIMARY KEY (tenant_key, email_key)
);

CREATE TABLE signin_ip_failures (
    ip            TEXT PRIMARY KEY,
    window_start  DATETIME NOT NULL,
    failures      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE security_settings (
    tenant_id                  TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    password_policy            TEXT NOT NULL DEFAULT '',
    signin_policy              TEXT NOT NULL DEFAULT '',
    session_policy             TEXT NOT NULL DEFAULT '',
    mfa_policy                 TEXT NOT NULL DEFAULT '',
    allowlist_suspended_until  DATETIME,
    updated_at                 DATETIME NOT NULL,
    updated_by                 TEXT NOT NULL DEFAULT ''
);

CREATE TABLE ip_allowlists (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    entries     TEXT NOT NULL,
    updated_at  DATETIME NOT NULL,
    updated_by  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, role)
);

CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  DATETIME NOT NULL,
    used_at     DATETIME,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL
);
CREATE INDEX invitations_user_idx ON invitations (user_id);

CREATE TABLE recovery_codes (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   BLOB NOT NULL,
    created_at  DATETIME NOT NULL
);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id);

CREATE TABLE captcha_challenges (
    id          TEXT PRIMARY KEY,
    expires_at  DATETIME NOT NULL
);
CREATE INDEX captcha_challenges_expiry_idx ON captcha_challenges (expires_at);

CREATE TABLE auth_keys (
    name        TEXT PRIMARY KEY,
    key_bytes   BLOB NOT NULL,
    created_at  DATETIME NOT NULL
);

-- +goose Down
DROP TABLE auth_keys;
DROP TABLE captcha_challenges;
DROP TABLE recovery_codes;
DROP TABLE invitations;
DROP TABLE ip_allowlists;
DROP TABLE security_settings;
DROP TABLE signin_ip_failures;
DROP TABLE signin_attempts;
DROP TABLE sessions;
DROP TABLE password_history;
DROP INDEX users_status_idx;
ALTER TABLE users DROP COLUMN previous_login_ip;
ALTER TABLE users DROP COLUMN previous_login_at;
ALTER TABLE users DROP COLUMN disabled_reason;
ALTER TABLE users DROP COLUMN disabled_at;
ALTER TABLE users DROP COLUMN activated_at;
ALTER TABLE users DROP COLUMN mfa_grace_used;
ALTER TABLE users DROP COLUMN totp_last_step;
ALTER TABLE users DROP COLUMN mfa_enrolled_at;
ALTER TABLE users DROP COLUMN mfa_pending_at;
ALTER TABLE users DROP COLUMN mfa_pending;
ALTER TABLE users DROP COLUMN mfa_secret;
ALTER TABLE users DROP COLUMN mfa_enabled;
