-- Reports select a tenant's conversations by the time they were queued: this index keeps a short
-- range fast however much history the tenant has (a day out of a month of 10,000 chats reads
-- about a thirtieth of the rows instead of all of them).

-- +goose Up
CREATE INDEX conversations_queued_idx ON conversations (tenant_id, queued_at);

-- +goose Down
DROP INDEX conversations_queued_idx;
