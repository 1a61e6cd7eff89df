package authz_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/authz"
)

// TestSessionCSRF: a page's forms carry the token of the session the browser will hold after the
// response: the cookie the response sets (a rotated session) before the one the request sent.
func TestSessionCSRF(t *testing.T) {
	const name = "parley_session"
	tests := []struct {
		name     string
		request  string
		response *http.Cookie
		want     string
	}{
		{name: "the request's session", request: "old-token", want: account.CSRFToken("old-token")},
		{name: "a session the response replaces it with", request: "old-token",
			response: &http.Cookie{Name: name, Value: "new-token", Path: "/"}, want: account.CSRFToken("new-token")},
		{name: "a cleared cookie is no session", request: "old-token",
			response: &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1}, want: account.CSRFToken("old-token")},
		{name: "another cookie set", request: "old-token",
			response: &http.Cookie{Name: "other", Value: "x", Path: "/"}, want: account.CSRFToken("old-token")},
		{name: "no session at all", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.request != "" {
				req.AddCookie(&http.Cookie{Name: name, Value: tt.request})
			}
			rec := httptest.NewRecorder()
			c := echo.New().NewContext(req, rec)
			if tt.response != nil {
				c.SetCookie(tt.response)
			}
			if got := authz.SessionCSRF(name)(c); got != tt.want {
				t.Errorf("token = %q, want %q", got, tt.want)
			}
		})
	}
}
