package vault

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/hashicorp/vault/api"
)

// TransitConfig configures the Vault transit key provider. Only Address and one of Token or
// AppRole are required.
type TransitConfig struct {
	// Address is Vault's URL, e.g. https://vault.example.com:8200.
	Address string
	// Token is a Vault token (VAULT_TOKEN). Ignored when AppRole is set.
	Token string
	// AppRole logs in with a role id and secret id instead of a static token; Parley logs in again
	// when Vault answers 403 and when the token reaches its maximum lifetime.
	AppRole *AppRole
	// Namespace is the Vault Enterprise namespace (VAULT_NAMESPACE); empty for the root namespace.
	Namespace string
	// TLS configures a custom CA (CACert, CACertBytes or CAPath), client certificates and the server
	// name. Insecure is refused.
	TLS *api.TLSConfig
	// Mount is the transit engine's mount path; default "transit".
	Mount string
	// KeyPrefix prefixes each tenant key's name; default "parley-tenant-".
	KeyPrefix string
	// Timeout bounds each request to Vault, retries included; default 10s.
	Timeout time.Duration
	// MaxRetries is how often a request is retried after a transient failure (connection refused,
	// 5xx); default 2. Set DisableRetries to never retry. Client errors (4xx) are never retried.
	MaxRetries     int
	DisableRetries bool
	// RetryWaitMin and RetryWaitMax bound the exponential backoff between retries; defaults 100ms
	// and 1s.
	RetryWaitMin, RetryWaitMax time.Duration
	// Logger receives login, renewal and retry events; never tokens or key material.
	Logger *slog.Logger
}

// AppRole holds AppRole credentials.
type AppRole struct {
	RoleID   string
	SecretID string
	// Mount is the AppRole auth mount path; default "approle".
	Mount string
}

// Transit is the Vault transit key provider: each tenant has an aes256-gcm96 transit key, data keys
// come from transit/datakey, and signing keys are transit ed25519 keys.
type Transit struct {
	client    *api.Client
	mount     string
	prefix    string
	appRole   *AppRole
	log       *slog.Logger
	loginMu   sync.Mutex
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

var _ KeyProvider = (*Transit)(nil)

// NewTransit returns a transit provider and starts its token maintenance (renewal, and re-login
// for AppRole) in the background; Close stops it. NewTransit does not contact Vault: a Vault that
// is down at start-up shows in Health and recovers on its own.
func NewTransit(cfg TransitConfig) (*Transit, error) {
	if cfg.Address == "" {
		return nil, errors.New("vault transit: address is required")
	}
	if cfg.AppRole == nil && cfg.Token == "" {
		return nil, errors.New("vault transit: a token or AppRole credentials are required")
	}
	if cfg.AppRole != nil && (cfg.AppRole.RoleID == "" || cfg.AppRole.SecretID == "") {
		return nil, errors.New("vault transit: AppRole needs a role id and a secret id")
	}
	if cfg.TLS != nil && cfg.TLS.Insecure {
		return nil, errors.New("vault transit: TLS verification cannot be disabled")
	}
	ac := &api.Config{
		Address:      cfg.Address,
		HttpClient:   newHTTPClient(),
		Timeout:      orDuration(cfg.Timeout, 10*time.Second),
		MinRetryWait: orDuration(cfg.RetryWaitMin, 100*time.Millisecond),
		MaxRetryWait: orDuration(cfg.RetryWaitMax, time.Second),
		MaxRetries:   2,
		Backoff:      retryablehttp.DefaultBackoff,
		CheckRetry:   retryTransient,
	}
	switch {
	case cfg.DisableRetries:
		ac.MaxRetries = 0
	case cfg.MaxRetries > 0:
		ac.MaxRetries = cfg.MaxRetries
	}
	if cfg.TLS != nil {
		if err := ac.ConfigureTLS(cfg.TLS); err != nil {
			return nil, fmt.Errorf("vault transit: configure TLS: %w", err)
		}
	}
	client, err := api.NewClient(ac)
	if err != nil {
		return nil, fmt.Errorf("vault transit: %w", err)
	}
	// api.NewClient reads VAULT_TOKEN and VAULT_NAMESPACE from the environment; the configuration
	// given here is the only one that counts.
	client.ClearToken()
	client.ClearNamespace()
	if cfg.Namespace != "" {
		client.SetNamespace(cfg.Namespace)
	}
	t := &Transit{
		client:  client,
		mount:   strings.Trim(orString(cfg.Mount, "transit"), "/"),
		prefix:  orString(cfg.KeyPrefix, "parley-tenant-"),
		log:     cfg.Logger,
		appRole: cfg.AppRole,
		done:    make(chan struct{}),
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.appRole != nil {
		t.appRole.Mount = strings.Trim(orString(t.appRole.Mount, "approle"), "/")
	} else {
		client.SetToken(cfg.Token)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	go t.maintain(ctx)
	return t, nil
}

// Close stops token maintenance and, for AppRole logins, revokes the token Parley obtained.
func (t *Transit) Close() error {
	t.closeOnce.Do(func() {
		t.cancel()
		<-t.done
		if t.appRole != nil && t.client.Token() != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := t.client.Auth().Token().RevokeSelfWithContext(ctx, ""); err != nil {
				t.log.Warn("vault: could not revoke Parley's token on shutdown", "error", describe(err))
			}
			t.client.ClearToken()
		}
	})
	return nil
}

// Kind reports KindTransit.
func (t *Transit) Kind() string { return KindTransit }

// Production reports true: keys stay in Vault.
func (t *Transit) Production() bool { return true }

// Health checks that Vault answers and accepts Parley's token (logging in again if needed).
func (t *Transit) Health(ctx context.Context) error {
	_, err := t.call(ctx, "health check", func(ctx context.Context) (*api.Secret, error) {
		return t.client.Auth().Token().LookupSelfWithContext(ctx)
	})
	return err
}

func newHTTPClient() *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	return &http.Client{
		Transport: tr,
		// Vault's client follows its own redirects; the HTTP client must hand them back.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// retryTransient retries connection failures and server errors (5xx but 501), never client errors:
// a 4xx would answer the same again, and a 403 is handled by logging in again.
func retryTransient(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		// The default policy declines certificate, scheme and redirect errors and retries the rest.
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented {
		return true, nil
	}
	return false, nil
}

// call runs one Vault request; on 403 with AppRole configured it logs in again and retries once.
// Errors are classified: unreachable or 5xx → ErrUnavailable; 403 → ErrDenied (and
// ErrUnavailable); other answers → *vaultError carrying the status.
func (t *Transit) call(ctx context.Context, op string, fn func(context.Context) (*api.Secret, error)) (*api.Secret, error) {
	if t.appRole != nil && t.client.Token() == "" {
		if err := t.login(ctx, ""); err != nil {
			return nil, fmt.Errorf("vault %s: %w", op, err)
		}
	}
	tok := t.client.Token()
	sec, err := fn(ctx)
	if statusOf(err) == http.StatusForbidden && t.appRole != nil {
		if lerr := t.login(ctx, tok); lerr != nil {
			return nil, fmt.Errorf("vault %s: %w", op, lerr)
		}
		sec, err = fn(ctx)
	}
	if err != nil {
		return nil, classify(op, err)
	}
	return sec, nil
}

// vaultError is a Vault answer that is neither a success nor transient.
type vaultError struct {
	op     string
	status int
	msg    string
}

func (e *vaultError) Error() string {
	return fmt.Sprintf("vault %s: HTTP %d: %s", e.op, e.status, e.msg)
}

func classify(op string, err error) error {
	var re *api.ResponseError
	switch {
	case errors.As(err, &re) && re.StatusCode == http.StatusForbidden:
		return fmt.Errorf("vault %s: %w: %w", op, ErrUnavailable, ErrDenied)
	case errors.As(err, &re) && re.StatusCode >= 500:
		return fmt.Errorf("vault %s: %w: HTTP %d: %s", op, ErrUnavailable, re.StatusCode, vaultMessages(re))
	case errors.As(err, &re):
		return &vaultError{op: op, status: re.StatusCode, msg: vaultMessages(re)}
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("vault %s: %w: %w", op, ErrUnavailable, context.Canceled)
	default:
		return fmt.Errorf("vault %s: %w: %s", op, ErrUnavailable, describe(err))
	}
}

// statusOf returns the HTTP status of a Vault answer, or 0.
func statusOf(err error) int {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	var ve *vaultError
	if errors.As(err, &ve) {
		return ve.status
	}
	return 0
}

// vaultMessages joins Vault's error messages, bounded; they name keys and causes, never secrets.
func vaultMessages(re *api.ResponseError) string {
	if re.RawError {
		return "unparsable error body"
	}
	s := strings.Join(re.Errors, "; ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		s = http.StatusText(re.StatusCode)
	}
	return s
}

// describe reduces a transport error to something loggable: the error text of net and url errors
// carries the address and the cause, never a header or a body.
func describe(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// hasMessage reports whether a Vault answer carried a message containing sub.
func hasMessage(err error, sub string) bool {
	var ve *vaultError
	return errors.As(err, &ve) && strings.Contains(ve.msg, sub)
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func orString(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
