-- Co-browsing (app/cobrowse): each session's ids, state, the node holding it and times only —
-- the shared page itself is relayed in memory and never written anywhere — and each site's
-- co-browsing settings (off until an administrator turns it on; the form fields whose values
-- may be shown; how long the agent may be idle). Every row carries tenant_id.

-- +goose Up
CREATE TABLE cobrowse_sessions (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    site_id          TEXT NOT NULL,
    agent_id         TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('requested', 'active', 'ended')),
    holder_node      TEXT NOT NULL DEFAULT '',
    holder_url       TEXT NOT NULL DEFAULT '',
    end_reason       TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    started_at       TIMESTAMPTZ,
    ended_at         TIMESTAMPTZ
);
CREATE INDEX cobrowse_sessions_conversation_idx ON cobrowse_sessions (tenant_id, conversation_id);

CREATE TABLE site_cobrowse_settings (
    site_id          TEXT PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    enabled          BOOLEAN NOT NULL DEFAULT FALSE,
    input_allowlist  TEXT NOT NULL DEFAULT '',
    idle_seconds     INTEGER NOT NULL DEFAULT 120 CHECK (idle_seconds > 0),
    updated_by       TEXT NOT NULL DEFAULT '',
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX site_cobrowse_settings_tenant_idx ON site_cobrowse_settings (tenant_id);

ALTER TABLE cobrowse_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE cobrowse_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON cobrowse_sessions USING (tenant_id = current_setting('parley.tenant_id', true)) WITH CHECK (tenant_id = current_setting('parley.tenant_id', true));
CREATE POLICY across_tenants ON cobrowse_sessions USING (current_setting('parley.all_tenants', true) = 'on') WITH CHECK (current_setting('parley.all_tenants', true) = 'on');

ALTER TABLE site_cobrowse_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE site_cobrowse_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON site_cobrowse_settings USING (tenant_id = current_setting('parley.tenant_id', true)) WITH CHECK (tenant_id = current_setting('parley.tenant_id', true));
CREATE POLICY across_tenants ON site_cobrowse_settings USING (current_setting('parley.all_tenants', true) = 'on') WITH CHECK (current_setting('parley.all_tenants', true) = 'on');

-- +goose Down
DROP TABLE site_cobrowse_settings;
DROP TABLE cobrowse_sessions;
