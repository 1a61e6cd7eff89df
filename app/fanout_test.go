package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/app/chat/hub/natstest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestFanoutChoice: on PostgreSQL the chat relay is LISTEN/NOTIFY unless PARLEY_FANOUT_URL names
// a NATS server; RunChat then connects to it. SQLite has no relay.
func TestFanoutChoice(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := apptest.New(t, db, nil)
		switch _, isPG := a.ChatRelay.(*hub.Postgres); {
		case db.Dialect == migrations.SQLite && a.ChatRelay != nil:
			t.Fatalf("SQLite has relay %T, want none", a.ChatRelay)
		case db.Dialect == migrations.Postgres && !isPG:
			t.Fatalf("PostgreSQL relay = %T, want LISTEN/NOTIFY", a.ChatRelay)
		}
		if db.Dialect != migrations.Postgres {
			return
		}
		// The configuration names a PostgreSQL database, as a node's does (the app runs on db).
		n := apptest.New(t, db, map[string]string{"PARLEY_DATABASE_URL": "postgres://parley_app@db.internal/parley",
			"PARLEY_FANOUT_URL": natstest.URL(t), "PARLEY_FANOUT_PREFIX": natstest.Prefix(t)})
		relay, ok := n.ChatRelay.(*hub.NATS)
		if !ok {
			t.Fatalf("relay with PARLEY_FANOUT_URL = %T, want NATS", n.ChatRelay)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = n.RunChat(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		select {
		case <-relay.Listening():
		case <-time.After(15 * time.Second):
			t.Fatal("the NATS relay did not connect")
		}
	})
}
