-- Agent-to-agent chat and proactive invitations.
--
-- team_threads are direct threads between two console users of a tenant (member_a < member_b,
-- so a pair has one thread); team_messages is each thread's log, numbered by a gapless seq per
-- thread, idempotent per (thread, sender, key), the body envelope ciphertext under the thread's
-- own data key (scope = thread id).
--
-- chat_invitations are an agent's invitations of a live visitor to chat: pending until the
-- visitor accepts (a conversation already assigned to the agent starts), declines, or it expires.
-- The optional message is envelope ciphertext under the invitation's own data key.

-- +goose Up
CREATE TABLE team_threads (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    member_a    TEXT NOT NULL,
    member_b    TEXT NOT NULL,
    last_seq    BIGINT NOT NULL DEFAULT 0,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    CHECK (member_a < member_b),
    UNIQUE (tenant_id, member_a, member_b)
);
CREATE INDEX team_threads_member_b_idx ON team_threads (tenant_id, member_b);

CREATE TABLE team_messages (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    thread_id        TEXT NOT NULL REFERENCES team_threads (id) ON DELETE CASCADE,
    seq              BIGINT NOT NULL CHECK (seq > 0),
    sender_id        TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       DATETIME NOT NULL,
    UNIQUE (thread_id, seq),
    UNIQUE (thread_id, sender_id, idempotency_key)
);

CREATE TABLE chat_invitations (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id          TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    visitor_id       TEXT NOT NULL,
    agent_id         TEXT NOT NULL,
    message          TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'expired')),
    conversation_id  TEXT,
    created_at       DATETIME NOT NULL,
    expires_at       DATETIME NOT NULL,
    decided_at       DATETIME
);
CREATE INDEX chat_invitations_visitor_idx ON chat_invitations (tenant_id, visitor_id, status);
CREATE INDEX chat_invitations_expiry_idx ON chat_invitations (status, expires_at);

-- +goose Down
DROP TABLE chat_invitations;
DROP TABLE team_messages;
DROP TABLE team_threads;
