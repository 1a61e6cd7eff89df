-- Chat: the widget settings of each site, visitor tracking, conversations with their participants
-- and their event log (messages, files, system events, each with a gapless per-conversation seq),
-- files, offline messages, the visitor ban list and the presence of agents across nodes.
-- Sensitive text (message bodies, visitor names and e-mail addresses, pre-chat and survey answers,
-- offline messages, file names and contents) is stored only as envelope ciphertext (vault/); card
-- numbers are masked before they are sealed. Every row carries tenant_id.

-- +goose Up
CREATE TABLE site_chat_settings (
    site_id                TEXT PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    tenant_id              TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    cookie_mode            TEXT NOT NULL DEFAULT 'persistent' CHECK (cookie_mode IN ('persistent', 'session', 'none')),
    default_language       TEXT NOT NULL DEFAULT 'en',
    texts                  TEXT NOT NULL DEFAULT '{}',
    appearance             TEXT NOT NULL DEFAULT '{}',
    business_hours         TEXT NOT NULL DEFAULT '',
    prechat                TEXT NOT NULL DEFAULT '{}',
    postchat_enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    file_transfer          BOOLEAN NOT NULL DEFAULT FALSE,
    file_max_bytes         INTEGER NOT NULL DEFAULT 1048576 CHECK (file_max_bytes > 0),
    transcript_email       BOOLEAN NOT NULL DEFAULT FALSE,
    sensitive_params       TEXT NOT NULL DEFAULT '',
    default_department_id  TEXT REFERENCES departments (id) ON DELETE SET NULL,
    queue_timeout_seconds  INTEGER NOT NULL DEFAULT 300 CHECK (queue_timeout_seconds > 0),
    updated_at             DATETIME NOT NULL
);
CREATE INDEX site_chat_settings_tenant_idx ON site_chat_settings (tenant_id);

CREATE TABLE visitor_retention (
    tenant_id       TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    retention_days  INTEGER NOT NULL DEFAULT 30 CHECK (retention_days BETWEEN 1 AND 3650),
    updated_at      DATETIME NOT NULL
);

CREATE TABLE visitors (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id           TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    token_hash        TEXT NOT NULL UNIQUE,
    cookie_mode       TEXT NOT NULL,
    first_seen_at     DATETIME NOT NULL,
    last_seen_at      DATETIME NOT NULL,
    visit_started_at  DATETIME NOT NULL,
    visits            INTEGER NOT NULL DEFAULT 1,
    visit_pages       INTEGER NOT NULL DEFAULT 0,
    current_url       TEXT NOT NULL DEFAULT '',
    current_title     TEXT NOT NULL DEFAULT '',
    referrer          TEXT NOT NULL DEFAULT '',
    browser           TEXT NOT NULL DEFAULT '',
    os                TEXT NOT NULL DEFAULT '',
    device            TEXT NOT NULL DEFAULT '',
    language          TEXT NOT NULL DEFAULT '',
    ip                TEXT NOT NULL DEFAULT '',
    is_returning      BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at        DATETIME NOT NULL
);
CREATE INDEX visitors_live_idx ON visitors (tenant_id, site_id, last_seen_at);
CREATE INDEX visitors_expiry_idx ON visitors (expires_at);

CREATE TABLE page_views (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    visitor_id  TEXT NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    viewed_at   DATETIME NOT NULL
);
CREATE INDEX page_views_visitor_idx ON page_views (visitor_id, viewed_at);
CREATE INDEX page_views_age_idx ON page_views (tenant_id, viewed_at);

CREATE TABLE conversations (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id        TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    department_id  TEXT REFERENCES departments (id) ON DELETE SET NULL,
    visitor_id     TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('queued', 'assigned', 'active', 'ended', 'missed')),
    agent_id       TEXT,
    offered_to     TEXT,
    last_seq       INTEGER NOT NULL DEFAULT 0,
    visitor_name   TEXT NOT NULL DEFAULT '',
    visitor_email  TEXT NOT NULL DEFAULT '',
    prechat        TEXT NOT NULL DEFAULT '',
    consent        BOOLEAN NOT NULL DEFAULT FALSE,
    language       TEXT NOT NULL DEFAULT '',
    survey         TEXT NOT NULL DEFAULT '',
    rating         INTEGER CHECK (rating BETWEEN 1 AND 5),
    queued_at      DATETIME NOT NULL,
    accepted_at    DATETIME,
    ended_at       DATETIME,
    ended_by       TEXT NOT NULL DEFAULT '',
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL
);
CREATE INDEX conversations_queue_idx ON conversations (tenant_id, status, department_id);
CREATE INDEX conversations_visitor_idx ON conversations (tenant_id, visitor_id, status);
CREATE INDEX conversations_agent_idx ON conversations (tenant_id, agent_id, status);

CREATE TABLE conversation_participants (
    conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('visitor', 'agent', 'supervisor')),
    participant_id   TEXT NOT NULL,
    display_name     TEXT NOT NULL DEFAULT '',
    joined_at        DATETIME NOT NULL,
    left_at          DATETIME,
    last_read_seq    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, kind, participant_id)
);
CREATE INDEX conversation_participants_who_idx ON conversation_participants (tenant_id, participant_id);

CREATE TABLE conversation_refusals (
    conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL,
    refused_at       DATETIME NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);

CREATE TABLE conversation_events (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq              INTEGER NOT NULL CHECK (seq > 0),
    kind             TEXT NOT NULL CHECK (kind IN ('message', 'system', 'file', 'amend')),
    sender_kind      TEXT NOT NULL CHECK (sender_kind IN ('visitor', 'agent', 'system')),
    sender_id        TEXT NOT NULL DEFAULT '',
    idempotency_key  TEXT,
    body             TEXT NOT NULL DEFAULT '',
    event            TEXT NOT NULL DEFAULT '',
    data             TEXT NOT NULL DEFAULT '',
    target_seq       INTEGER,
    file_id          TEXT,
    created_at       DATETIME NOT NULL,
    UNIQUE (conversation_id, seq),
    UNIQUE (conversation_id, sender_id, idempotency_key)
);

CREATE TABLE chat_files (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    uploader_kind    TEXT NOT NULL CHECK (uploader_kind IN ('visitor', 'agent')),
    uploader_id      TEXT NOT NULL,
    name             TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             INTEGER NOT NULL,
    content          BLOB NOT NULL,
    created_at       DATETIME NOT NULL
);
CREATE INDEX chat_files_conversation_idx ON chat_files (conversation_id);

CREATE TABLE offline_messages (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id        TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    department_id  TEXT REFERENCES departments (id) ON DELETE SET NULL,
    visitor_id     TEXT NOT NULL DEFAULT '',
    name           TEXT NOT NULL DEFAULT '',
    email          TEXT NOT NULL DEFAULT '',
    body           TEXT NOT NULL,
    consent        BOOLEAN NOT NULL DEFAULT FALSE,
    language       TEXT NOT NULL DEFAULT '',
    created_at     DATETIME NOT NULL,
    read_at        DATETIME
);
CREATE INDEX offline_messages_tenant_idx ON offline_messages (tenant_id, department_id, created_at);

CREATE TABLE visitor_bans (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('ip', 'cidr', 'visitor')),
    value       TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    expires_at  DATETIME,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    UNIQUE (tenant_id, kind, value)
);

CREATE TABLE agent_presence (
    socket_id    TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL,
    node_id      TEXT NOT NULL DEFAULT '',
    departments  TEXT NOT NULL DEFAULT '',
    seen_at      DATETIME NOT NULL
);
CREATE INDEX agent_presence_tenant_idx ON agent_presence (tenant_id, seen_at);

-- +goose Down
DROP TABLE agent_presence;
DROP TABLE visitor_bans;
DROP TABLE offline_messages;
DROP TABLE chat_files;
DROP TABLE conversation_events;
DROP TABLE conversation_refusals;
DROP TABLE conversation_participants;
DROP TABLE conversations;
DROP TABLE page_views;
DROP TABLE visitors;
DROP TABLE visitor_retention;
DROP TABLE site_chat_settings;
