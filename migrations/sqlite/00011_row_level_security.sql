-- Row-level security is PostgreSQL's (see postgres/00011): an SQLite file is a single-tenant or
-- single-node store with no separate database roles, so this version changes nothing here and keeps
-- both dialects at the same schema version.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
