package accounthttp

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/app/api"
)

// FuzzLoginRequest: any body either is refused by the strict decoder or the input bounds, or
// yields credentials within those bounds; nothing panics.
func FuzzLoginRequest(f *testing.F) {
	f.Add(`{"tenant":"acme-bank","email":"owner@acme.test","password":"Harbour lights 2031"}`)
	f.Add(`{"tenant":"acme-bank","email":"a@b.test","password":"x","totp":"123 456","captcha_id":"AAAAAAAAAAAAAAAAAAAAAA","captcha_answer":"１２３４５６"}`)
	f.Add(`{"tenant":"a","email":"b","password":"` + strings.Repeat("é", 600) + `"}`)
	f.Add(`{"tenant":1}`)
	f.Add(`{"tenant":"a","extra":true}`)
	f.Add(`{"password":"\u0000"}{}`)
	f.Fuzz(func(t *testing.T, body string) {
		var req loginRequest
		if err := api.Decode(strings.NewReader(body), &req); err != nil {
			return
		}
		in, err := req.credentials()
		if err != nil {
			return
		}
		switch {
		case in.Tenant == "" || len(in.Tenant) > maxTenantLen:
			t.Fatalf("tenant of %d bytes accepted", len(in.Tenant))
		case in.Email == "" || len(in.Email) > maxEmailLen:
			t.Fatalf("email of %d bytes accepted", len(in.Email))
		case in.Password == "" || len(in.Password) > 1024:
			t.Fatalf("password of %d bytes accepted", len(in.Password))
		case len(in.TOTP) > maxCodeLen || len(in.CaptchaID) > maxCodeLen || len(in.CaptchaAnswer) > maxCodeLen:
			t.Fatalf("code fields over %d bytes accepted", maxCodeLen)
		case !utf8.ValidString(in.Password):
			t.Fatalf("invalid UTF-8 password accepted from JSON")
		}
	})
}
