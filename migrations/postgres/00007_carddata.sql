-- Cardholder data: the secure card form's requests (ids, states and times only — the card data
-- itself lives in the memory of one node and is never written anywhere), the per-tenant secret
-- the nodes authenticate each other with (wrapped by the tenant's key at the key provider), each
-- tenant's masking mode and redaction rules, and the results of PAN discovery scans kept as
-- evidence for PCI DSS 3.5.1 (counts and masked samples only). Every tenant row carries tenant_id.

-- +goose Up
CREATE TABLE card_form_requests (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    requested_by     TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('requested', 'submitted', 'done', 'expired', 'ended')),
    token_hash       TEXT UNIQUE,
    holder_node      TEXT NOT NULL DEFAULT '',
    holder_url       TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    submitted_at     TIMESTAMPTZ,
    held_until       TIMESTAMPTZ,
    closed_at        TIMESTAMPTZ
);
CREATE INDEX card_form_requests_conversation_idx ON card_form_requests (tenant_id, conversation_id);
CREATE INDEX card_form_requests_open_idx ON card_form_requests (status, expires_at);

CREATE TABLE card_peer_keys (
    tenant_id    TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    wrapped_key  TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE tenant_card_settings (
    tenant_id      TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    pan_mask_mode  TEXT NOT NULL DEFAULT 'bin_last4' CHECK (pan_mask_mode IN ('bin_last4', 'last4')),
    updated_by     TEXT NOT NULL DEFAULT '',
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE redaction_rules (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    builtin      BOOLEAN NOT NULL DEFAULT FALSE,
    pattern      TEXT NOT NULL DEFAULT '',
    replacement  TEXT NOT NULL DEFAULT '',
    validator    TEXT NOT NULL DEFAULT '',
    enabled      BOOLEAN NOT NULL DEFAULT FALSE,
    position     INTEGER NOT NULL DEFAULT 0,
    updated_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, name_key)
);

CREATE TABLE pan_scan_runs (
    id           TEXT PRIMARY KEY,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ NOT NULL,
    node         TEXT NOT NULL DEFAULT '',
    actor        TEXT NOT NULL DEFAULT '',
    outcome      TEXT NOT NULL CHECK (outcome IN ('clean', 'found', 'incomplete')),
    locations    INTEGER NOT NULL DEFAULT 0,
    findings     BIGINT NOT NULL DEFAULT 0,
    report       TEXT NOT NULL
);
CREATE INDEX pan_scan_runs_time_idx ON pan_scan_runs (finished_at);

-- +goose Down
DROP TABLE pan_scan_runs;
DROP TABLE redaction_rules;
DROP TABLE tenant_card_settings;
DROP TABLE card_peer_keys;
DROP TABLE card_form_requests;
