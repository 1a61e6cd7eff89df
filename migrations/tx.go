package migrations

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Transaction runs fn in a transaction on g (which carries the request's context) and runs it
// again, a few times with a growing pause, when the database reports a transient lock conflict
// (IsBusy): SQLite's busy answer in the cases its busy timeout cannot wait, PostgreSQL's
// serialization failure or deadlock. The failed attempt was rolled back whole, so fn starts
// over on a clean slate; fn must not keep state of its own across attempts. Every write
// transaction of Parley's stores goes through it. Inside another transaction it runs fn once as a
// nested transaction: the outer one is retried as a whole, or not at all.
func Transaction(g *gorm.DB, fn func(tx *gorm.DB) error) error {
	if _, nested := g.Statement.ConnPool.(gorm.TxCommitter); nested {
		return g.Transaction(fn)
	}
	ctx := g.Statement.Context
	if ctx == nil {
		ctx = context.Background()
	}
	wait := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := g.Transaction(fn)
		if err == nil || attempt == maxTxAttempts || !IsBusy(err) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait *= 2
	}
}

// maxTxAttempts bounds Transaction's attempts.
const maxTxAttempts = 5
