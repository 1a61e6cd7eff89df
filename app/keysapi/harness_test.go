package keysapi_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/migrations"
)

const testPassword = "Tr1cky-Lantern-Harbour"

// harness is the shared console fixture (accounttest.Console) over the local development key
// provider: a tenant whose owner and agent are signed in, and a second tenant.
type harness struct {
	*accounttest.Console
	t *testing.T
}

func newHarness(t *testing.T, db *migrations.DB) *harness {
	t.Helper()
	return &harness{Console: accounttest.NewConsole(t, db, testPassword), t: t}
}

// form posts a console form as a browser does (accounttest.Client.PostForm).
func form(c *accounttest.Client, path string, v url.Values) *httptest.ResponseRecorder {
	return c.PostForm(path, v)
}

// version is the tenant's current key version.
func (h *harness) version(tenantID string) int {
	h.t.Helper()
	rep, err := h.App.KeyTools.Status(context.Background(), tenantID)
	if err != nil {
		h.t.Fatal(err)
	}
	return rep.Key.LatestVersion
}
