package retentionhttp_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/migrations"
)

const testPassword = "Tr1cky-Lantern-Harbour"

// harness is the shared console fixture (accounttest.Console): a tenant whose owner and agent
// are signed in, and a second tenant.
type harness struct {
	*accounttest.Console
	t  *testing.T
	db *migrations.DB
}

func newHarness(t *testing.T, db *migrations.DB) *harness {
	t.Helper()
	return &harness{Console: accounttest.NewConsole(t, db, testPassword), t: t, db: db}
}

// form posts a console form as a browser does (accounttest.Client.PostForm).
func form(c *accounttest.Client, path string, v url.Values) *httptest.ResponseRecorder {
	return c.PostForm(path, v)
}

// formWithout is a form request with no CSRF token at all.
func formWithout(path string, v url.Values) apptest.Request {
	return apptest.Request{Method: http.MethodPost, Path: path, Body: v.Encode(), ContentType: echo.MIMEApplicationForm}
}
