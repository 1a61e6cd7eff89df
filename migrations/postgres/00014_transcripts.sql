-- Transcripts: each tenant's choice to require a reason before a transcript is opened, the notes
-- agents add to a conversation and the tags they label it with.
-- A note's body is envelope ciphertext in the conversation's scope (vault/), bound to the note's
-- number n within the conversation, so crypto-shredding a conversation shreds its notes too. A tag
-- is a short label stored in clear: the service refuses a card number in it, and so does the
-- storage guard (migrations.CardGuard). Every row carries tenant_id and, like every tenant table,
-- row-level security (see 00011).

-- +goose Up
CREATE TABLE transcript_settings (
    tenant_id       TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    require_reason  BOOLEAN NOT NULL DEFAULT FALSE,
    updated_by      TEXT NOT NULL DEFAULT '',
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE transcript_notes (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    n                INTEGER NOT NULL CHECK (n > 0),
    author_id        TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (conversation_id, n)
);
CREATE INDEX transcript_notes_tenant_idx ON transcript_notes (tenant_id, conversation_id);

CREATE TABLE transcript_tags (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    tag              TEXT NOT NULL,
    added_by         TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (conversation_id, tag)
);
CREATE INDEX transcript_tags_tenant_idx ON transcript_tags (tenant_id, tag);

CREATE INDEX conversations_transcripts_idx ON conversations (tenant_id, queued_at);

-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['transcript_settings', 'transcript_notes', 'transcript_tags']
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
DROP INDEX conversations_transcripts_idx;
DROP TABLE transcript_tags;
DROP TABLE transcript_notes;
DROP TABLE transcript_settings;
