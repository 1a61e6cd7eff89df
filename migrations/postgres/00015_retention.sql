-- Retention and legal hold (app/retention). Periods per organisation and data kind, with a
-- floor (min_days) the owner sets and a per-site override; 0 means "the default". The visitor
-- retention of 00006 folds into this model as kind 'visitors'. Legal holds suspend every
-- deletion of what they cover (a conversation, a visitor, the whole organisation); released
-- holds stay as history. retention_runs is the job's progress and history per organisation,
-- counts only; job_leases lets one node at a time run an installation-wide job.

-- +goose Up
CREATE TABLE retention_periods (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('transcripts', 'files', 'offline', 'visitors')),
    days        INTEGER NOT NULL DEFAULT 0 CHECK (days = 0 OR days BETWEEN 1 AND 3650),
    min_days    INTEGER NOT NULL DEFAULT 0 CHECK (min_days = 0 OR min_days BETWEEN 1 AND 3650),
    updated_by  TEXT NOT NULL DEFAULT '',
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, kind)
);

INSERT INTO retention_periods (tenant_id, kind, days, min_days, updated_by, updated_at)
    SELECT tenant_id, 'visitors', retention_days, 0, '', updated_at FROM visitor_retention;
DROP TABLE visitor_retention;

CREATE TABLE retention_site_periods (
    site_id     TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('transcripts', 'files', 'offline', 'visitors')),
    days        INTEGER NOT NULL CHECK (days BETWEEN 1 AND 3650),
    updated_by  TEXT NOT NULL DEFAULT '',
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (site_id, kind)
);
CREATE INDEX retention_site_periods_tenant_idx ON retention_site_periods (tenant_id);

CREATE TABLE legal_holds (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('conversation', 'visitor', 'organisation')),
    target_id       TEXT NOT NULL,
    reason          TEXT NOT NULL,
    placed_by       TEXT NOT NULL,
    placed_at       TIMESTAMPTZ NOT NULL,
    released_by     TEXT NOT NULL DEFAULT '',
    released_at     TIMESTAMPTZ,
    release_reason  TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX legal_holds_active_idx ON legal_holds (tenant_id, kind, target_id) WHERE released_at IS NULL;

CREATE TABLE retention_runs (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    node         TEXT NOT NULL DEFAULT '',
    started_by   TEXT NOT NULL CHECK (started_by IN ('schedule', 'cli')),
    status       TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    transcripts  INTEGER NOT NULL DEFAULT 0,
    files        INTEGER NOT NULL DEFAULT 0,
    offline      INTEGER NOT NULL DEFAULT 0,
    visitors     INTEGER NOT NULL DEFAULT 0,
    page_views   INTEGER NOT NULL DEFAULT 0,
    held         INTEGER NOT NULL DEFAULT 0,
    failure      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX retention_runs_tenant_idx ON retention_runs (tenant_id, started_at);

CREATE TABLE job_leases (
    name      TEXT PRIMARY KEY,
    owner     TEXT NOT NULL,
    until_us  BIGINT NOT NULL
);

-- Row-level security as 00011 gives every tenant table.
-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['retention_periods', 'retention_site_periods', 'legal_holds', 'retention_runs']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting(''parley.tenant_id'', true)) WITH CHECK (tenant_id = current_setting(''parley.tenant_id'', true))', t);
        EXECUTE format('CREATE POLICY across_tenants ON %I USING (current_setting(''parley.all_tenants'', true) = ''on'') WITH CHECK (current_setting(''parley.all_tenants'', true) = ''on'')', t);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
CREATE TABLE visitor_retention (
    tenant_id       TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    retention_days  INTEGER NOT NULL DEFAULT 30 CHECK (retention_days BETWEEN 1 AND 3650),
    updated_at      TIMESTAMPTZ NOT NULL
);
ALTER TABLE visitor_retention ENABLE ROW LEVEL SECURITY;
ALTER TABLE visitor_retention FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON visitor_retention USING (tenant_id = current_setting('parley.tenant_id', true)) WITH CHECK (tenant_id = current_setting('parley.tenant_id', true));
CREATE POLICY across_tenants ON visitor_retention USING (current_setting('parley.all_tenants', true) = 'on') WITH CHECK (current_setting('parley.all_tenants', true) = 'on');
INSERT INTO visitor_retention (tenant_id, retention_days, updated_at)
    SELECT tenant_id, days, updated_at FROM retention_periods WHERE kind = 'visitors' AND days > 0;
DROP TABLE job_leases;
DROP TABLE retention_runs;
DROP TABLE legal_holds;
DROP TABLE retention_site_periods;
DROP TABLE retention_periods;
