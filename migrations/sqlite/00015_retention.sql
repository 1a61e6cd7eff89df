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
    updated_at  DATETIME NOT NULL,
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
    updated_at  DATETIME NOT NULL,
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
    placed_at       DATETIME NOT NULL,
    released_by     TEXT NOT NULL DEFAULT '',
    released_at     DATETIME,
    release_reason  TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX legal_holds_active_idx ON legal_holds (tenant_id, kind, target_id) WHERE released_at IS NULL;

CREATE TABLE retention_runs (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    node         TEXT NOT NULL DEFAULT '',
    started_by   TEXT NOT NULL CHECK (started_by IN ('schedule', 'cli')),
    status       TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    started_at   DATETIME NOT NULL,
    finished_at  DATETIME,
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

-- +goose Down
CREATE TABLE visitor_retention (
    tenant_id       TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    retention_days  INTEGER NOT NULL DEFAULT 30 CHECK (retention_days BETWEEN 1 AND 3650),
    updated_at      DATETIME NOT NULL
);
INSERT INTO visitor_retention (tenant_id, retention_days, updated_at)
    SELECT tenant_id, days, updated_at FROM retention_periods WHERE kind = 'visitors' AND days > 0;
DROP TABLE job_leases;
DROP TABLE retention_runs;
DROP TABLE legal_holds;
DROP TABLE retention_site_periods;
DROP TABLE retention_periods;
