package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/app/api"
)

// loginBody is a typical small request: the sign-in form.
type loginBody struct {
	Tenant        string `json:"tenant"`
	Email         string `json:"email"`
	Password      string `json:"password"`
	TOTP          string `json:"totp"`
	CaptchaID     string `json:"captcha_id"`
	CaptchaAnswer string `json:"captcha_answer"`
}

// settingsBody is a typical nested request: a policy with a list of objects.
type settingsBody struct {
	MinLength int        `json:"min_length"`
	History   int        `json:"history"`
	MaxAge    int        `json:"max_age_days"`
	Rules     []ruleBody `json:"rules"`
	Notify    *struct {
		Email bool `json:"email"`
	} `json:"notify"`
}

type ruleBody struct {
	Name        string `json:"name"`
	Pattern     string `json:"pattern"`
	Replacement string `json:"replacement"`
	Enabled     bool   `json:"enabled"`
}

const (
	loginJSON    = `{"tenant":"acme-insurance","email":"agent@acme.example","password":"Quiet-harbour-2026-lamp","totp":"123456","captcha_id":"","captcha_answer":""}`
	settingsJSON = `{"min_length":12,"history":4,"max_age_days":90,"rules":[{"name":"ssn","pattern":"\\d{3}-\\d{2}-\\d{4}","replacement":"[SSN]","enabled":true},{"name":"iban","pattern":"[A-Z]{2}\\d{2}[A-Z0-9]{11,30}","replacement":"[IBAN]","enabled":false}],"notify":{"email":true}}`
)

func benchBind[T any](b *testing.B, body string) {
	e := echo.New()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/x", strings.NewReader(body))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		c := e.NewContext(req, httptest.NewRecorder())
		var v T
		if err := api.Bind(c, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBindLogin(b *testing.B)    { benchBind[loginBody](b, loginJSON) }
func BenchmarkBindSettings(b *testing.B) { benchBind[settingsBody](b, settingsJSON) }

func benchDecode[T any](b *testing.B, body string) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	r := strings.NewReader(body)
	for b.Loop() {
		r.Reset(body)
		var v T
		if err := api.Decode(r, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeLogin(b *testing.B)    { benchDecode[loginBody](b, loginJSON) }
func BenchmarkDecodeSettings(b *testing.B) { benchDecode[settingsBody](b, settingsJSON) }
