-- Tamper-evident audit log (package audit). Events are appended to audit_outbox inside the
-- transaction of the change they record; the sealer moves them, in order, into audit_events,
-- giving each the next sequence number of its tenant's chain and its hash
-- SHA-256(canonical(event) || prev_hash). audit_chains holds each chain's head and is the row
-- sealers lock. audit_checkpoints holds the signed (tenant, seq, head hash, time) statements.
-- Tenant ids are not foreign keys: the audit trail must outlive a deleted tenant, and the
-- installation's own chain ('_system') has no tenant row.

-- +goose Up
CREATE TABLE audit_outbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    at_us        BIGINT NOT NULL,
    actor_id     TEXT NOT NULL,
    actor_role   TEXT NOT NULL,
    actor_kind   TEXT NOT NULL,
    client_ip    TEXT NOT NULL,
    user_agent   TEXT NOT NULL,
    node         TEXT NOT NULL,
    action       TEXT NOT NULL,
    target_kind  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    details      TEXT NOT NULL
);

-- One row per chain: its head (seq, hash) and the seq of its latest checkpoint, so readers
-- (forwarders, the background verifier) find active chains without scanning events.
CREATE TABLE audit_chains (
    tenant_id       TEXT PRIMARY KEY,
    seq             BIGINT NOT NULL,
    hash            BYTEA NOT NULL,
    checkpoint_seq  BIGINT NOT NULL DEFAULT 0,
    updated_us      BIGINT NOT NULL
);

CREATE TABLE audit_events (
    tenant_id    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    at_us        BIGINT NOT NULL,
    actor_id     TEXT NOT NULL,
    actor_role   TEXT NOT NULL,
    actor_kind   TEXT NOT NULL,
    client_ip    TEXT NOT NULL,
    user_agent   TEXT NOT NULL,
    node         TEXT NOT NULL,
    action       TEXT NOT NULL,
    target_kind  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    details      TEXT NOT NULL,
    prev_hash    BYTEA NOT NULL,
    hash         BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_events_time_idx ON audit_events (tenant_id, at_us);
CREATE INDEX audit_events_actor_idx ON audit_events (tenant_id, actor_id, seq);
CREATE INDEX audit_events_action_idx ON audit_events (tenant_id, action, seq);
CREATE INDEX audit_events_target_idx ON audit_events (tenant_id, target_kind, target_id, seq);

CREATE TABLE audit_checkpoints (
    tenant_id  TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    head_hash  BYTEA NOT NULL,
    at_us      BIGINT NOT NULL,
    key_id     TEXT NOT NULL,
    signature  BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

-- An archive inserts a permit naming the last seq it removes, deletes, and drops the permit,
-- all in one transaction; without a permit the triggers below refuse to delete events.
CREATE TABLE audit_archive_permits (
    tenant_id  TEXT PRIMARY KEY,
    upto_seq   BIGINT NOT NULL
);

CREATE TABLE audit_forward_cursors (
    sink            TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    event_seq       BIGINT NOT NULL DEFAULT 0,
    checkpoint_seq  BIGINT NOT NULL DEFAULT 0,
    updated_us      BIGINT NOT NULL,
    PRIMARY KEY (sink, tenant_id)
);

CREATE TABLE audit_forward_leases (
    sink      TEXT PRIMARY KEY,
    owner     TEXT NOT NULL,
    until_us  BIGINT NOT NULL
);

-- Defence in depth: the application never updates or deletes audit rows outside an archive.
-- Anyone able to drop these triggers can still tamper; the hash chain and the signed
-- checkpoints are what detect it.
-- +goose StatementBegin
CREATE FUNCTION audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (
        SELECT 1 FROM audit_archive_permits p WHERE p.tenant_id = OLD.tenant_id AND OLD.seq <= p.upto_seq
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION audit_immutable_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_guard();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_immutable_guard();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_immutable_guard();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_immutable_guard();

-- +goose Down
DROP TABLE audit_forward_leases;
DROP TABLE audit_forward_cursors;
DROP TABLE audit_archive_permits;
DROP TABLE audit_checkpoints;
DROP TABLE audit_events;
DROP TABLE audit_chains;
DROP TABLE audit_outbox;
DROP FUNCTION audit_immutable_guard();
DROP FUNCTION audit_events_guard();
