-- Wrapped data keys for envelope encryption: one per tenant and scope (a conversation, an offline
-- message). Only the wrapped form is stored; deleting it (shredding) makes the scope's ciphertext
-- unreadable everywhere, backups included. A shredded scope keeps a tombstone row (no key,
-- shredded_at set) so it can never silently get a new key. There is deliberately no foreign key to
-- the scope's own table: shredding must outlive the row it protected.

-- +goose Up
CREATE TABLE data_keys (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    scope_id      TEXT NOT NULL,
    wrapped_key   TEXT NOT NULL DEFAULT '',
    key_version   INTEGER NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL,
    rewrapped_at  TIMESTAMPTZ,
    shredded_at   TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, scope_id),
    CHECK ((shredded_at IS NULL AND wrapped_key <> '' AND key_version > 0)
        OR (shredded_at IS NOT NULL AND wrapped_key = '' AND key_version = 0))
);
CREATE INDEX data_keys_version_idx ON data_keys (tenant_id, key_version, scope_id);

-- +goose Down
DROP TABLE data_keys;
