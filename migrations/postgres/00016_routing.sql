-- Routing of queued chats to agents. Each department routes by manual pick (the queue is offered
-- to every agent who serves it) or automatically (one agent at a time: the least busy, then
-- round-robin among equals, within capacity and holding the chat's required skills; an offer
-- not accepted within the department's offer timeout moves on to the next agent).
--   routing_settings    per tenant: minutes of inactivity before an agent is set away, and the
--                       default capacity (most concurrent chats) of an agent;
--   department_routing  per department: mode, capacity override, offer timeout, priority of its
--                       chats, required skills, and the pre-chat question whose answer names a
--                       further required skill;
--   agent_routing       per agent: capacity (0: the tenant's default), skills, chosen status
--                       (online or away, manually or after inactivity), when they were last
--                       offered a chat (round-robin) and when their last connection closed (their
--                       chats return to the queue when they do not come back in time).
-- Conversations get their priority, their required skills and when an automatic offer expires.
-- Skills are short lower-case tokens, space-separated; nothing here is visitor content.

-- +goose Up
CREATE TABLE routing_settings (
    tenant_id         TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    idle_minutes      INTEGER NOT NULL DEFAULT 10 CHECK (idle_minutes BETWEEN 1 AND 480),
    default_capacity  INTEGER NOT NULL DEFAULT 3 CHECK (default_capacity BETWEEN 1 AND 50),
    updated_at        TIMESTAMPTZ NOT NULL
);

CREATE TABLE department_routing (
    department_id          TEXT PRIMARY KEY REFERENCES departments (id) ON DELETE CASCADE,
    tenant_id              TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    mode                   TEXT NOT NULL DEFAULT 'manual' CHECK (mode IN ('manual', 'automatic')),
    capacity               INTEGER NOT NULL DEFAULT 0 CHECK (capacity BETWEEN 0 AND 50),
    offer_timeout_seconds  INTEGER NOT NULL DEFAULT 30 CHECK (offer_timeout_seconds BETWEEN 5 AND 600),
    priority               INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 9),
    required_skills        TEXT NOT NULL DEFAULT '',
    skill_question         TEXT NOT NULL DEFAULT '',
    updated_at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX department_routing_tenant_idx ON department_routing (tenant_id);

CREATE TABLE agent_routing (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL,
    capacity         INTEGER NOT NULL DEFAULT 0 CHECK (capacity BETWEEN 0 AND 50),
    skills           TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'away')),
    status_reason    TEXT NOT NULL DEFAULT 'manual' CHECK (status_reason IN ('manual', 'idle')),
    status_at        TIMESTAMPTZ,
    last_offered_at  TIMESTAMPTZ,
    offline_at       TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

ALTER TABLE conversations ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN required_skills TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN offer_expires_at TIMESTAMPTZ;
CREATE INDEX conversations_routing_idx ON conversations (tenant_id, status, priority, queued_at);

ALTER TABLE routing_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE routing_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON routing_settings USING (tenant_id = current_setting('parley.tenant_id', true)) WITH CHECK (tenant_id = current_setting('parley.tenant_id', true));
CREATE POLICY across_tenants ON routing_settings USING (current_setting('parley.all_tenants', true) = 'on') WITH CHECK (current_setting('parley.all_tenants', true) = 'on');
ALTER TABLE department_routing ENABLE ROW LEVEL SECURITY;
ALTER TABLE department_routing FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON department_routing USING (tenant_id = current_setting('parley.tenant_id', true)) WITH CHECK (tenant_id = current_setting('parley.tenant_id', true));
CREATE POLICY across_tenants ON department_routing USING (current_setting('parley.all_tenants', true) = 'on') WITH CHECK (current_setting('parley.all_tenants', true) = 'on');
ALTER TABLE agent_routing ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_routing FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON agent_routing USING (tenant_id = current_setting('parley.tenant_id', true)) WITH CHECK (tenant_id = current_setting('parley.tenant_id', true));
CREATE POLICY across_tenants ON agent_routing USING (current_setting('parley.all_tenants', true) = 'on') WITH CHECK (current_setting('parley.all_tenants', true) = 'on');

-- +goose Down
DROP INDEX conversations_routing_idx;
ALTER TABLE conversations DROP COLUMN offer_expires_at;
ALTER TABLE conversations DROP COLUMN required_skills;
ALTER TABLE conversations DROP COLUMN priority;
DROP TABLE agent_routing;
DROP TABLE department_routing;
DROP TABLE routing_settings;
