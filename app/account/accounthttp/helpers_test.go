package accounthttp_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/tenant"
)

const (
	ownerEmail = "owner@acme.test"
	ownerPass  = "Harbour lights 2031"
	agentEmail = "agent@acme.test"
	agentPass  = "Quiet orchard 4471"
	clientAddr = "198.51.100.7:51000"
)

// errBody is the error body every failure has.
type errBody struct {
	Error struct {
		Code      string          `json:"code"`
		Message   string          `json:"message"`
		Field     string          `json:"field"`
		Details   json.RawMessage `json:"details"`
		RequestID string          `json:"request_id"`
	} `json:"error"`
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s body %q: %v", rec.Result().Status, rec.Body.String(), err)
	}
	return v
}

func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) errBody {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body.String())
	}
	b := decode[errBody](t, rec)
	if b.Error.Code != code {
		t.Fatalf("error code = %q, want %q; body %s", b.Error.Code, code, rec.Body.String())
	}
	if b.Error.RequestID == "" {
		t.Errorf("error body has no request_id: %s", rec.Body.String())
	}
	return b
}

// signedIn returns a client signed in as email, with its CSRF token set.
func signedIn(t *testing.T, a *accounttest.App, tn tenant.Tenant, email, password string) *accounttest.Client {
	t.Helper()
	c := a.Client(clientAddr)
	rec := c.Login(tn.Slug, email, password, nil)
	if rec.Code != 200 {
		t.Fatalf("sign in %s: %d %s", email, rec.Code, rec.Body.String())
	}
	c.CSRF = decode[struct {
		CSRFToken string `json:"csrf_token"`
	}](t, rec).CSRFToken
	return c
}
