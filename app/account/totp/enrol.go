package totp

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"strings"
	"unicode"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

const (
	// Issuer is the name authenticator apps show above the code.
	Issuer = "Parley"
	// QRSize is the width and height of the enrolment QR code in pixels.
	QRSize = 256
	// maxLabelRunes bounds the tenant name shown in an authenticator app.
	maxLabelRunes = 64
)

// Enroller creates TOTP enrolments. It is safe for concurrent use if its
// random source is.
type Enroller struct {
	rand io.Reader
}

// NewEnroller returns an Enroller drawing secrets from r; nil means
// crypto/rand.Reader.
func NewEnroller(r io.Reader) *Enroller {
	if r == nil {
		r = rand.Reader
	}
	return &Enroller{rand: r}
}

// Enrolment is what a user needs to add Parley to an authenticator app. The
// account stores Secret (encrypted) as pending and activates it only after
// Verify accepts a first code. URL, ManualKey and QRCode all contain the
// secret: send them to the user once, over the authenticated console, and
// never log them.
type Enrolment struct {
	// Secret is the new shared secret, SecretSize random bytes.
	Secret Secret
	// URL is the otpauth:// key URI the QR code encodes.
	URL string
	// ManualKey is the secret in base32, in groups of four, for typing in.
	ManualKey string
	// QRCode is a QRSize×QRSize PNG of URL.
	QRCode []byte
}

// String hides the enrolment's secret material from fmt.
func (Enrolment) String() string { return "totp.Enrolment{[redacted]}" }

// GoString hides the enrolment's secret material from fmt's %#v.
func (e Enrolment) GoString() string { return e.String() }

// LogValue hides the enrolment's secret material from log/slog.
func (Enrolment) LogValue() slog.Value { return slog.StringValue("[redacted]") }

var _ slog.LogValuer = Enrolment{}

// Enrol generates a secret for the user email in tenant. Authenticator apps
// show it as "Parley (tenant)" with the email below.
func (e *Enroller) Enrol(tenant, email string) (*Enrolment, error) {
	account := label(email)
	if account == "" {
		return nil, errors.New("totp: enrolment needs the account's email")
	}
	issuer := Issuer
	if t := label(tenant); t != "" {
		issuer += " (" + t + ")"
	}
	secret := make(Secret, SecretSize)
	if _, err := io.ReadFull(e.rand, secret); err != nil {
		return nil, fmt.Errorf("totp: reading random bytes: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      uint(Period.Seconds()),
		Secret:      secret,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("totp: building the key URI: %w", err)
	}
	img, err := key.Image(QRSize, QRSize)
	if err != nil {
		return nil, fmt.Errorf("totp: drawing the QR code: %w", err)
	}
	var qr bytes.Buffer
	if err := png.Encode(&qr, img); err != nil {
		return nil, fmt.Errorf("totp: encoding the QR code: %w", err)
	}
	return &Enrolment{
		Secret:    secret,
		URL:       key.URL(),
		ManualKey: group(b32.EncodeToString(secret), 4),
		QRCode:    qr.Bytes(),
	}, nil
}

// label makes s safe for the otpauth label "issuer:account": no colon (the
// separator), no control or invisible characters, trimmed and bounded.
func label(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == ':':
			return '-'
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > maxLabelRunes {
		s = strings.TrimSpace(string(r[:maxLabelRunes]))
	}
	return s
}

// group splits s into space-separated groups of n characters.
func group(s string, n int) string {
	var sb strings.Builder
	for i := 0; i < len(s); i += n {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(s[i:min(i+n, len(s))])
	}
	return sb.String()
}
