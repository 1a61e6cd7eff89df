package vault

import (
	"testing"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func migrationsDialects() []migrations.Dialect { return migratetest.Dialects() }

func openDB(t *testing.T, d migrations.Dialect) *migrations.DB { return migratetest.Open(t, d) }
