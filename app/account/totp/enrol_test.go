package totp

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/png"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
)

func seeded(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

func TestEnrol(t *testing.T) {
	tests := []struct {
		name, tenant, email string
		wantIssuer          string
		wantAccount         string
	}{
		{"plain", "Acme Bank", "alice@acme.example", "Parley (Acme Bank)", "alice@acme.example"},
		{"no tenant", "", "bob@example.com", "Parley", "bob@example.com"},
		{"colon in tenant", "Acme: Cards", "carol@acme.example", "Parley (Acme- Cards)", "carol@acme.example"},
		{"control characters", "Ac\x00me\u200b\n", " dave@acme.example\t", "Parley (Acme)", "dave@acme.example"},
		{"long tenant", strings.Repeat("x", 100), "erin@example.com", "Parley (" + strings.Repeat("x", 64) + ")", "erin@example.com"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEnroller(seeded(byte(i)))
			en, err := e.Enrol(tt.tenant, tt.email)
			if err != nil {
				t.Fatalf("Enrol: %v", err)
			}
			if len(en.Secret) != SecretSize {
				t.Fatalf("secret: got %d bytes, want %d", len(en.Secret), SecretSize)
			}
			key, err := otp.NewKeyFromURL(en.URL)
			if err != nil {
				t.Fatalf("URL does not parse: %v", err)
			}
			if got := key.Issuer(); got != tt.wantIssuer {
				t.Errorf("issuer: got %q, want %q", got, tt.wantIssuer)
			}
			if got := key.AccountName(); got != tt.wantAccount {
				t.Errorf("account: got %q, want %q", got, tt.wantAccount)
			}
			if got, want := key.Secret(), b32.EncodeToString(en.Secret); got != want {
				t.Errorf("URL secret: got %q, want %q", got, want)
			}
			if key.Period() != 30 || key.Digits() != otp.DigitsSix || key.Algorithm() != otp.AlgorithmSHA1 {
				t.Errorf("parameters: got period %d digits %v algorithm %v, want 30, 6, SHA1", key.Period(), key.Digits(), key.Algorithm())
			}
			if got, want := strings.ReplaceAll(en.ManualKey, " ", ""), key.Secret(); got != want {
				t.Errorf("manual key: got %q, want %q", got, want)
			}
			for _, g := range strings.Split(en.ManualKey, " ") {
				if len(g) != 4 {
					t.Errorf("manual key group %q: want 4 characters", g)
				}
			}
			img, err := png.Decode(bytes.NewReader(en.QRCode))
			if err != nil {
				t.Fatalf("QR code is not a PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != QRSize || b.Dy() != QRSize {
				t.Errorf("QR size: got %dx%d, want %dx%d", b.Dx(), b.Dy(), QRSize, QRSize)
			}
		})
	}
}

func TestEnrolThenActivate(t *testing.T) {
	en, err := NewEnroller(seeded(9)).Enrol("Acme Bank", "alice@acme.example")
	if err != nil {
		t.Fatalf("Enrol: %v", err)
	}
	now := time.Unix(1_750_000_000, 0)
	// The secret the app reads from the QR code is the one Verify checks.
	key, err := otp.NewKeyFromURL(en.URL)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b32.DecodeString(key.Secret())
	if err != nil {
		t.Fatal(err)
	}
	step, err := Verify(en.Secret, codeAt(t, Secret(raw), Step(now)), now, 0)
	if err != nil || step != Step(now) {
		t.Fatalf("activation code: got step %d err %v, want step %d", step, err, Step(now))
	}
}

func TestEnrolSecretsDiffer(t *testing.T) {
	e := NewEnroller(nil)
	a, err := e.Enrol("t", "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Enrol("t", "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Secret, b.Secret) {
		t.Errorf("two enrolments got the same secret")
	}
}

func TestEnrolErrors(t *testing.T) {
	if _, err := NewEnroller(seeded(1)).Enrol("Acme", " \x00 "); err == nil {
		t.Errorf("Enrol without an email: got nil error, want one")
	}
	if _, err := NewEnroller(bytes.NewReader(make([]byte, 5))).Enrol("Acme", "a@example.com"); err == nil {
		t.Errorf("Enrol with an exhausted random source: got nil error, want one")
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	en, err := NewEnroller(seeded(7)).Enrol("Acme", "alice@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	forms := []string{
		string(en.Secret),
		hex.EncodeToString(en.Secret),
		b32.EncodeToString(en.Secret),
		url.QueryEscape(b32.EncodeToString(en.Secret)),
		en.ManualKey,
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("enrolled", "secret", en.Secret, "enrolment", *en, "ptr", en)
	log.Info("text", slog.Any("secret", en.Secret))
	var text bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("enrolled", "secret", en.Secret, "enrolment", *en)
	outputs := map[string]string{
		"%v secret":     fmt.Sprintf("%v", en.Secret),
		"%s secret":     fmt.Sprintf("secret=%s", en.Secret),
		"%x secret":     fmt.Sprintf("%x", en.Secret),
		"%q secret":     fmt.Sprintf("%q", en.Secret),
		"%#v secret":    fmt.Sprintf("%#v", en.Secret),
		"%v enrolment":  fmt.Sprintf("%v", *en),
		"%+v enrolment": fmt.Sprintf("%+v", *en),
		"%#v enrolment": fmt.Sprintf("%#v", *en),
		"%v pointer":    fmt.Sprintf("%v", en),
		"error":         fmt.Errorf("enrol: %v", en.Secret).Error(),
		"slog json":     logs.String(),
		"slog text":     text.String(),
		"json secret":   string(mustJSON(t, struct{ S Secret }{en.Secret})),
	}
	for name, out := range outputs {
		for _, f := range forms {
			if strings.Contains(out, f) {
				t.Errorf("%s printed the secret: %s", name, out)
			}
		}
		if !strings.Contains(out, "redacted") && !strings.Contains(out, hex.EncodeToString([]byte("[redacted]"))) {
			t.Errorf("%s: got %q, want a redaction marker", name, out)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return b
}
