-- Supervision of live chats: whispers (messages only agents and supervisors see) and supervisors
-- joining a chat. An event's audience says who sees it: 'all' (the visitor too) or 'agents'.
-- The visitor's view of a conversation has a gapless numbering of its own, visitor_seq, over the
-- events of audience 'all' (NULL on the others); conversations.visitor_last_seq is its last value.
-- Every visitor-facing read (socket replay, long poll, acks, read receipts) uses it, so a
-- visitor's client never sees a hole where a whisper was. Existing events are all 'all', so their
-- visitor_seq is their seq.

-- +goose Up
ALTER TABLE conversation_events ADD COLUMN audience TEXT NOT NULL DEFAULT 'all' CHECK (audience IN ('all', 'agents'));
ALTER TABLE conversation_events ADD COLUMN visitor_seq BIGINT CHECK (visitor_seq > 0);
UPDATE conversation_events SET visitor_seq = seq;
CREATE UNIQUE INDEX conversation_events_visitor_seq_idx ON conversation_events (conversation_id, visitor_seq);
ALTER TABLE conversations ADD COLUMN visitor_last_seq BIGINT NOT NULL DEFAULT 0;
UPDATE conversations SET visitor_last_seq = last_seq;

-- +goose Down
ALTER TABLE conversations DROP COLUMN visitor_last_seq;
DROP INDEX conversation_events_visitor_seq_idx;
ALTER TABLE conversation_events DROP COLUMN visitor_seq;
ALTER TABLE conversation_events DROP COLUMN audience;
