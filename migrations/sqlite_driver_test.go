package migrations_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/migrations"
)

// TestSQLiteReadThenWriteTransactions runs many transactions that read before they write, from
// concurrent connections. With deferred transactions SQLite refuses the lock upgrade of all but
// one at once (SQLITE_BUSY, which the busy timeout does not cover); with BEGIN IMMEDIATE each waits
// for the write lock at its start and every one commits.
func TestSQLiteReadThenWriteTransactions(t *testing.T) {
	ctx := context.Background()
	db, err := migrations.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "lock.db"), migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Gorm.Exec("CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Exec("INSERT INTO counters (name, n) VALUES ('c', 0)").Error; err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				errs <- db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
					var n int
					if err := tx.Raw("SELECT n FROM counters WHERE name = 'c'").Scan(&n).Error; err != nil {
						return fmt.Errorf("read: %w", err)
					}
					return tx.Exec("UPDATE counters SET n = ? WHERE name = 'c'", n+1).Error
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
			if failed == 1 {
				t.Errorf("transaction: %v", err)
			}
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d read-then-write transactions failed", failed, workers*each)
	}
	var n int
	if err := db.Gorm.Raw("SELECT n FROM counters WHERE name = 'c'").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != workers*each {
		t.Fatalf("counter = %d, want %d (a lost update)", n, workers*each)
	}
}

// TestSQLiteSecureDelete checks that a deleted row leaves none of its bytes in the database file
// or its write-ahead log.
func TestSQLiteSecureDelete(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "delete.db")
	db, err := migrations.Open(ctx, "sqlite://"+path, migrations.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	var on int
	if err := db.Gorm.Raw("PRAGMA secure_delete").Scan(&on).Error; err != nil || on != 1 {
		t.Fatalf("secure_delete = %d (%v), want 1", on, err)
	}
	marker := "Mozilla/5.0 marker-7c1f3a9e-deleted-row"
	if err := db.Gorm.Exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if err := db.Gorm.Exec("INSERT INTO notes (body) VALUES (?)", fmt.Sprintf("%s %d", marker, i)).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Gorm.Exec("DELETE FROM notes").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error; err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("marker-7c1f3a9e")) {
			t.Errorf("%s still holds the deleted rows' bytes", filepath.Base(f))
		}
	}
}
