package keysapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

func TestKeyStatus(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		a := accounttest.New(t, db, nil)
		const pw = "Tr1cky-Lantern-Harbour"
		tn, _ := a.CreateUser("Acme Bank", "owner@acme.test", pw, "owner", false)
		a.CreateUser("Acme Bank", "agent@acme.test", pw, "agent", false)
		owner := a.Client("198.51.100.7:1000")
		if rec := owner.Login(tn.Slug, "owner@acme.test", pw, nil); rec.Code != http.StatusOK {
			t.Fatalf("sign-in: %d %s", rec.Code, rec.Body.String())
		}
		rec := owner.Do(http.MethodGet, "/api/v1/keys/status", "")
		if rec.Code != http.StatusOK {
			t.Fatalf("status = %d %s", rec.Code, rec.Body.String())
		}
		raw := rec.Body.String()
		for _, want := range []string{`"local-dev"`, `"latest_version"`} {
			if !json.Valid(rec.Body.Bytes()) || !strings.Contains(raw, want) {
				t.Errorf("status body lacks %s: %s", want, raw)
			}
		}
		agent := a.Client("198.51.100.8:1000")
		if rec := agent.Login(tn.Slug, "agent@acme.test", pw, nil); rec.Code != http.StatusOK {
			t.Fatalf("agent sign-in: %d", rec.Code)
		}
		if rec := agent.Do(http.MethodGet, "/api/v1/keys/status", ""); rec.Code != http.StatusForbidden {
			t.Errorf("agent status = %d, want 403", rec.Code)
		}
	})
}
