-- Canned messages and the offline-message inbox.
--
-- canned_messages holds the organisation's prepared answers: personal ones (owner_id is the user),
-- a department's (department_id) and shared ones (the whole organisation). scope_key names the
-- list a shortcut is unique in ('personal:<user id>', 'department:<department id>', 'shared').
-- Canned texts are the organisation's own wording, not visitor data, so they are stored in clear;
-- the service refuses a card number in them and the card guard refuses it again at the write.
--
-- offline_messages gains its inbox state: new or handled, who handled it and when, and the reply
-- note the agent recorded (envelope ciphertext under the message's own data key, card numbers
-- masked before sealing). Parley sends no e-mail: the note records the answer given elsewhere.

-- +goose Up
CREATE TABLE canned_messages (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    scope          TEXT NOT NULL CHECK (scope IN ('personal', 'department', 'shared')),
    scope_key      TEXT NOT NULL,
    owner_id       TEXT NOT NULL DEFAULT '',
    department_id  TEXT REFERENCES departments (id) ON DELETE CASCADE,
    shortcut       TEXT NOT NULL,
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    created_by     TEXT NOT NULL DEFAULT '',
    updated_by     TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, scope_key, shortcut)
);
CREATE INDEX canned_messages_tenant_idx ON canned_messages (tenant_id, scope, department_id);

ALTER TABLE canned_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE canned_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON canned_messages
    USING (tenant_id = current_setting('parley.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('parley.tenant_id', true));
CREATE POLICY across_tenants ON canned_messages
    USING (current_setting('parley.all_tenants', true) = 'on')
    WITH CHECK (current_setting('parley.all_tenants', true) = 'on');

ALTER TABLE offline_messages ADD COLUMN status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'handled'));
ALTER TABLE offline_messages ADD COLUMN handled_by TEXT NOT NULL DEFAULT '';
ALTER TABLE offline_messages ADD COLUMN handled_at TIMESTAMPTZ;
ALTER TABLE offline_messages ADD COLUMN reply_note TEXT NOT NULL DEFAULT '';
CREATE INDEX offline_messages_status_idx ON offline_messages (tenant_id, status, created_at);

-- +goose Down
DROP INDEX offline_messages_status_idx;
ALTER TABLE offline_messages DROP COLUMN reply_note;
ALTER TABLE offline_messages DROP COLUMN handled_at;
ALTER TABLE offline_messages DROP COLUMN handled_by;
ALTER TABLE offline_messages DROP COLUMN status;
DROP TABLE canned_messages;
