package chathttp_test

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/migrations"
)

const pagePassword = "Tr1cky-Lantern-Harbour"

// pageHarness is the shared console fixture (accounttest.Console): a tenant whose owner and
// agent are signed in, and a second tenant.
type pageHarness struct {
	*accounttest.Console
	t *testing.T
}

func newPageHarness(t *testing.T, db *migrations.DB) *pageHarness {
	t.Helper()
	return &pageHarness{Console: accounttest.NewConsole(t, db, pagePassword), t: t}
}

// postForm posts a console form as a browser does (accounttest.Client.PostForm).
func postForm(c *accounttest.Client, path string, v url.Values) *httptest.ResponseRecorder {
	return c.PostForm(path, v)
}
