-- Sites get their own visitor rate limits (JSON: messages_per_minute, message_burst,
-- chats_per_hour; empty means the installation's limits apply). They can only tighten the
-- installation's limits: the chat service checks the bounds.

-- +goose Up
ALTER TABLE site_chat_settings ADD COLUMN rate_limits TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE site_chat_settings DROP COLUMN rate_limits;
