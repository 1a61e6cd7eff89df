package auditlog

import (
	"strings"

	"github.com/parleyhq/parley/migrations"
)

// entryCols are the columns of audit_events in the order scanEntry reads them.
const entryCols = "tenant_id, seq, at_us, actor_id, actor_role, actor_kind, client_ip, user_agent, node, " +
	"action, target_kind, target_id, outcome, reason, request_id, details, prev_hash, hash"

const eventColsN = 18

// eventsChunk is how many rows one INSERT into audit_events carries (18 × 250 parameters,
// below SQLite's and PostgreSQL's limits).
const eventsChunk = 250

// deleteChunk is how many outbox ids one DELETE names.
const deleteChunk = 500

// queries holds the audit SQL of one dialect with its placeholders already rebound.
type queries struct {
	d            migrations.Dialect
	outboxFull   string
	eventsFull   string
	deleteFull   string
	chainInit    string
	chainLock    string
	chainUpdate  string
	chainHead    string
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
		d:            d,
		chainInit:    r("INSERT INTO audit_chains (tenant_id, seq, hash, updated_us) VALUES (?, 0, ?, ?) ON CONFLICT (tenant_id) DO NOTHING"),
		chainLock:    r("SELECT seq, hash FROM audit_chains WHERE tenant_id = ?" + lock),
		chainUpdate:  r("UPDATE audit_chains SET seq = ?, hash = ?, updated_us = ? WHERE tenant_id = ?"),
		chainHead:    r("SELECT seq, hash FROM audit_chains WHERE tenant_id = ?"),
		outboxTake:   r("SELECT id, tenant_id, at_us, actor_id, actor_role, actor_kind, client_ip, user_agent, node, action, target_kind, target_id, outcome, reason, request_id, details FROM audit_outbox WHERE tenant_id = ? ORDER BY id LIMIT ?"),
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
		tenants: "SELECT tenant_id FROM audit_chains UNION SELECT DISTINCT tenant_id FROM audit_events UNION SELECT DISTINCT tenant_id FROM audit_checkpoints ORDER BY 1",
	}
	q.outboxFull = q.outboxInsert(outboxChunk)
	q.eventsFull = q.eventsInsert(eventsChunk)
	q.deleteFull = q.deleteOutbox(deleteChunk)
	return q
}

func (q queries) outboxInsert(n int) string {
	if n == outboxChunk && q.outboxFull != "" {
		return q.outboxFull
	}
	return rebind(q.d, "INSERT INTO audit_outbox (tenant_id, at_us, actor_id, actor_role, actor_kind, client_ip, "+
		"user_agent, node, action, target_kind, target_id, outcome, reason, request_id, details) VALUES "+placeholders(n, outboxCols))
}

func (q queries) eventsInsert(n int) string {
	if n == eventsChunk && q.eventsFull != "" {
		return q.eventsFull
	}
	return rebind(q.d, "INSERT INTO audit_events ("+entryCols+") VALUES "+placeholders(n, eventColsN))
}

func (q queries) deleteOutbox(n int) string {
	if n == deleteChunk && q.deleteFull != "" {
		return q.deleteFull
	}
	return rebind(q.d, "DELETE FROM audit_outbox WHERE id IN ("+strings.TrimSuffix(strings.Repeat("?, ", n), ", ")+")")
}
