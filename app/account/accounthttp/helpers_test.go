package accounthttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	pqtotp "github.com/pquerna/otp/totp"

	"github.com/parleyhq/parley/app/account/accounthttp"
	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
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

// adminAndTenant creates an owner and returns the app's tenant and a signed-in owner client.
func adminAndTenant(t *testing.T, a *accounttest.App) (tenant.Tenant, *accounttest.Client) {
	t.Helper()
	tn, _ := a.CreateUser("Acme Bank", ownerEmail, ownerPass, "owner", false)
	return tn, signedIn(t, a, tn, ownerEmail, ownerPass)
}

// challengeAnswer reads the answer of a CAPTCHA challenge the way the image shows it.
func challengeAnswer(t *testing.T, a *accounttest.App, id string) string {
	t.Helper()
	ch, err := a.Accounts.Captcha.Challenge(context.Background(), id)
	if err != nil {
		t.Fatalf("challenge %s: %v", id, err)
	}
	return ch.Answer
}

// challengeOf returns the CAPTCHA challenge in a captcha_required body.
func challengeOf(t *testing.T, b errBody) accounthttp.ChallengeBody {
	t.Helper()
	var ch accounthttp.ChallengeBody
	if err := json.Unmarshal(b.Error.Details, &ch); err != nil || ch.CaptchaID == "" {
		t.Fatalf("captcha_required without a challenge: %s (%v)", b.Error.Details, err)
	}
	return ch
}

// totpCode computes the code an authenticator app shows for manualKey at at.
func totpCode(t *testing.T, manualKey string, at time.Time) string {
	t.Helper()
	code, err := pqtotp.GenerateCodeCustom(strings.ReplaceAll(manualKey, " ", ""), at, pqtotp.ValidateOpts{
		Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// enrolMFA enrols and activates TOTP for a signed-in client and returns the manual key and the
// recovery codes; the client's CSRF token is updated for the rotated session.
func enrolMFA(t *testing.T, a *accounttest.App, c *accounttest.Client) (string, []string) {
	t.Helper()
	rec := c.Do(http.MethodPost, "/api/v1/account/mfa/enrolment", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("enrolment: %d %s", rec.Code, rec.Body.String())
	}
	enr := decode[accounthttp.EnrolmentBody](t, rec)
	rec = c.Do(http.MethodPost, "/api/v1/account/mfa/activation", fmt.Sprintf(`{"code":%q}`, totpCode(t, enr.ManualKey, a.Clock.Now())))
	if rec.Code != http.StatusOK {
		t.Fatalf("activation: %d %s", rec.Code, rec.Body.String())
	}
	act := decode[accounthttp.ActivationBody](t, rec)
	c.CSRF = act.CSRFToken
	return enr.ManualKey, act.RecoveryCodes
}

// sameBody compares two error bodies without their request ids.
func sameBody(t *testing.T, what string, a, b errBody) {
	t.Helper()
	a.Error.RequestID, b.Error.RequestID = "", ""
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("%s: body %s differs from %s", what, ja, jb)
	}
}

func apptestGet(path string) apptest.Request {
	return apptest.Request{Method: http.MethodGet, Path: path}
}
