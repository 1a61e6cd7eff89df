package auditlog

import "github.com/parleyhq/parley/migrations"

// entryCols are the columns of audit_events in the order scanEntry reads them.
const entryCols = "tenant_id, seq, at_us, actor_id, actor_role, actor_kind, client_ip, user_agent, node, " +
	"action, target_kind, target_id, outcome, reason, request_id, details, prev_hash, hash"

const eventColsN = 18

// Rows per multi-row INSERT. PostgreSQL takes up to 65,535 parameters and each statement is a
// network round trip, so its chunks are large. The SQLite driver matches each positional
// parameter by a linear search, so the cost of a statement grows with the square of its
// parameters; small chunks are much faster there, and cost no round trip.
func chunkRows(d migrations.Dialect, pg int) int {
	if d == migrations.Postgres {
		return pg
	}
	return 40
}

// queries holds the audit SQL of one dialect with its placeholders already rebound.
type queries struct {
	d            migrations.Dialect
	outboxChunk  int
	eventsChunk  int
	outboxFull   string
	eventsFull   string
	outboxArray  string
	eventsArray  string
	chainInit    string
	chainLock    string
	chainUpdate  string
	chainHead    string
	chainCkpt    string
	chainList    string
	outboxTake   string
	pendingTenan string
	cpInsert     string
	cpGet        string
	cpLast       string
	cpList       string
	cpBelow      string
	entriesPage  string
	entryGet     string
	chainSummary string
	tenants      string
}

func newQueries(d migrations.Dialect) queries {
	r := func(s string) string { return rebind(d, s) }
	lock := ""
	if d == migrations.Postgres {
		lock = " FOR UPDATE"
	}
	q := queries{
		d:           d,
		chainInit:   r("INSERT INTO audit_chains (tenant_id, seq, hash, updated_us) VALUES (?, 0, ?, ?) ON CONFLICT (tenant_id) DO NOTHING"),
		chainLock:   r("SELECT seq, hash FROM audit_chains WHERE tenant_id = ?" + lock),
		chainUpdate: r("UPDATE audit_chains SET seq = ?, hash = ?, updated_us = ? WHERE tenant_id = ?"),
		chainHead:   r("SELECT seq, hash FROM audit_chains WHERE tenant_id = ?"),
		chainCkpt:   r("UPDATE audit_chains SET checkpoint_seq = ? WHERE tenant_id = ? AND checkpoint_seq < ?"),
		chainList:   "SELECT tenant_id, seq, hash, checkpoint_seq FROM audit_chains ORDER BY tenant_id",
		// Take and remove the oldest pending events in one statement; RETURNING order is
		// unspecified, so the sealer sorts by id.
		outboxTake: r("DELETE FROM audit_outbox WHERE id IN (SELECT id FROM audit_outbox WHERE tenant_id = ? ORDER BY id LIMIT ?) " +
			"RETURNING id, tenant_id, at_us, actor_id, actor_role, actor_kind, client_ip, user_agent, node, action, target_kind, target_id, outcome, reason, request_id, details"),
		pendingTenan: "SELECT DISTINCT tenant_id FROM audit_outbox",
		cpInsert:     r("INSERT INTO audit_checkpoints (tenant_id, seq, head_hash, at_us, key_id, signature) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, seq) DO NOTHING"),
		cpGet:        r("SELECT tenant_id, seq, head_hash, at_us, key_id, signature FROM audit_checkpoints WHERE tenant_id = ? AND seq = ?"),
		cpLast:       r("SELECT seq, at_us FROM audit_checkpoints WHERE tenant_id = ? ORDER BY seq DESC LIMIT 1"),
		cpList:       r("SELECT tenant_id, seq, head_hash, at_us, key_id, signature FROM audit_checkpoints WHERE tenant_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?"),
		cpBelow:      r("SELECT tenant_id, seq, head_hash, at_us, key_id, signature FROM audit_checkpoints WHERE tenant_id = ? AND seq >= ? AND seq <= ? ORDER BY seq DESC LIMIT ?"),
		entriesPage:  r("SELECT " + entryCols + " FROM audit_events WHERE tenant_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?"),
		entryGet:     r("SELECT " + entryCols + " FROM audit_events WHERE tenant_id = ? AND seq = ?"),
		chainSummary: r("SELECT (SELECT seq FROM audit_chains WHERE tenant_id = ?), (SELECT hash FROM audit_chains WHERE tenant_id = ?), " +
			"(SELECT MIN(seq) FROM audit_events WHERE tenant_id = ?), (SELECT MAX(seq) FROM audit_events WHERE tenant_id = ?)"),
		tenants: "SELECT tenant_id FROM audit_chains UNION SELECT DISTINCT tenant_id FROM audit_checkpoints ORDER BY 1",
	}
	q.outboxChunk, q.eventsChunk = chunkRows(d, 500), chunkRows(d, 1000)
	q.outboxFull = q.outboxInsert(q.outboxChunk)
	q.eventsFull = q.eventsInsert(q.eventsChunk)
	if d == migrations.Postgres {
		// One array parameter per column: PostgreSQL binds and plans 18 parameters instead
		// of 18 per row, which is what makes batched appends fast.
		q.outboxArray = "INSERT INTO audit_outbox (tenant_id, at_us, actor_id, actor_role, actor_kind, client_ip, user_agent, node, " +
			"action, target_kind, target_id, outcome, reason, request_id, details) SELECT * FROM unnest(" +
			"$1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], " +
			"$9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[])"
		q.eventsArray = "INSERT INTO audit_events (" + entryCols + ") SELECT * FROM unnest(" +
			"$1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], " +
			"$10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::bytea[], $18::bytea[])"
	}
	return q
}

func (q queries) outboxInsert(n int) string {
	if n == q.outboxChunk && q.outboxFull != "" {
		return q.outboxFull
	}
	return rebind(q.d, "INSERT INTO audit_outbox (tenant_id, at_us, actor_id, actor_role, actor_kind, client_ip, "+
		"user_agent, node, action, target_kind, target_id, outcome, reason, request_id, details) VALUES "+placeholders(n, outboxCols))
}

func (q queries) eventsInsert(n int) string {
	if n == q.eventsChunk && q.eventsFull != "" {
		return q.eventsFull
	}
	return rebind(q.d, "INSERT INTO audit_events ("+entryCols+") VALUES "+placeholders(n, eventColsN))
}
