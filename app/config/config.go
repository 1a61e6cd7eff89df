// Package config reads Parley's configuration: environment first, command-line flags override,
// every value validated at start. Every subcommand reads the same settings through Load, and
// `parley serve --help` prints them with their environment variables.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/migrations"
)

// Config is the validated configuration of one Parley process.
type Config struct {
	Addr        string
	DataDir     string
	DatabaseURL string
	PublicURL   string
	NodeID      string
	LogLevel    string

	TLSCert string
	TLSKey  string
	// TrustedProxies are the peers whose X-Forwarded-For header is believed.
	TrustedProxies []netip.Prefix

	Vault Vault

	MaxBodyBytes      int64
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration

	// Cards configures the secure card form across nodes and its optional tokenization endpoint.
	Cards Cards

	// AuditForward copies the audit log to central stores; AuditRetention is how long audit
	// events stay online before `parley audit archive` may remove them.
	AuditForward   AuditForward
	AuditRetention time.Duration

	// MetricsToken is the bearer token GET /metrics requires; empty turns the endpoint off.
	MetricsToken string

	// Fanout chooses how chat signals reach the other nodes: LISTEN/NOTIFY or NATS.
	Fanout Fanout

	// ChatLimits are the installation's throttles of visitor messages.
	ChatLimits ChatLimits

	// Migrate lets serve apply pending migrations before it starts.
	Migrate bool
}

// Cards is the secure card form's deployment: the URL other nodes reach this node at for card
// data it holds in memory, an optional shared node-to-node secret, and an optional payment or
// tokenization endpoint that receives card data at submission so agents never see it.
type Cards struct {
	NodeURL       string
	PeerSecret    string
	TokenizerURL  string
	TokenizerAuth string
}

// AuditForward is where the audit log is copied as it is written (PCI DSS 10.3.3): a syslog
// collector over TLS (RFC 5425) and/or a JSON-lines file. Events and signed checkpoints are
// sent; one node at a time forwards to each destination, resuming from a cursor in the
// database.
type AuditForward struct {
	// SyslogAddr is the collector's host:port; SyslogCA the PEM roots to verify it (system
	// roots when empty), SyslogServerName the name its certificate must carry (default: the
	// host of SyslogAddr), SyslogCert and SyslogKey a client certificate for mutual TLS.
	SyslogAddr       string
	SyslogCA         string
	SyslogServerName string
	SyslogCert       string
	SyslogKey        string
	// File is the path of the JSON-lines file.
	File string
	// Interval is how often new events are looked for; Batch the most events per send.
	Interval time.Duration
	Batch    int
}

// Enabled reports whether any forwarding destination is configured.
func (f AuditForward) Enabled() bool { return f.SyslogAddr != "" || f.File != "" }

// Vault is how Parley reaches HashiCorp Vault. With no address, the local dev key provider is used
// and reported as not for production.
type Vault struct {
	Addr         string
	Token        string
	RoleID       string
	SecretID     string
	Namespace    string
	CACert       string
	TransitMount string
}

// Enabled reports whether a Vault server is configured.
func (v Vault) Enabled() bool { return v.Addr != "" }

// TLS reports whether serve listens with HTTPS.
func (c *Config) TLS() bool { return c.TLSCert != "" }

// setting describes one configuration value: its flag, environment variable, default and help.
type setting struct {
	flag, env, def, help string
	secret               bool
	target               *string
}

// Settings lists every setting as (environment variable, default, description), for docs and help.
func Settings() [][3]string {
	var c Config
	raw := rawValues{}
	out := [][3]string{}
	for _, s := range raw.settings(&c) {
		out = append(out, [3]string{s.env, s.def, s.help})
	}
	return out
}

// rawValues holds settings as strings before validation.
type rawValues struct {
	addr, dataDir, databaseURL, publicURL, nodeID, logLevel            string
	tlsCert, tlsKey, trustedProxies                                    string
	vaultAddr, vaultToken, vaultRoleID, vaultSecretID, vaultNS         string
	vaultCACert, vaultMount                                            string
	maxBody, readHeaderTimeout, readTimeout, writeTimeout, idleTimeout string
	shutdownTimeout                                                    string
	nodeURL, cardPeerSecret, tokenizerURL, tokenizerAuth               string
	fwdSyslog, fwdCA, fwdServerName, fwdCert, fwdKey, fwdFile          string
	fwdInterval, fwdBatch, auditRetention                              string
	metricsToken                                                       string
	fanoutURL, fanoutCreds, fanoutCA, fanoutPrefix                     string
	visitorPerMinute, visitorBurst, addressPerMinute                   string
}

func (r *rawValues) settings(_ *Config) []setting {
	return []setting{
		{"addr", "PARLEY_ADDR", "127.0.0.1:8080", "address to listen on (host:port)", false, &r.addr},
		{"data-dir", "PARLEY_DATA_DIR", "./data", "folder for the embedded database, dev keys and local signing keys (created 0700)", false, &r.dataDir},
		{"database-url", "PARLEY_DATABASE_URL", "", "postgres://… or sqlite:///path (default: SQLite file parley.db in the data dir)", true, &r.databaseURL},
		{"public-url", "PARLEY_PUBLIC_URL", "", "external base URL used in links (default: derived from the address and TLS)", false, &r.publicURL},
		{"node-id", "PARLEY_NODE_ID", "", "name of this node in logs and audit records (default: host name)", false, &r.nodeID},
		{"log-level", "PARLEY_LOG_LEVEL", "info", "debug, info, warn or error", false, &r.logLevel},
		{"tls-cert", "PARLEY_TLS_CERT", "", "PEM certificate chain; with PARLEY_TLS_KEY serves HTTPS (TLS 1.2+), reloaded when the file changes", false, &r.tlsCert},
		{"tls-key", "PARLEY_TLS_KEY", "", "PEM private key for PARLEY_TLS_CERT", false, &r.tlsKey},
		{"trusted-proxies", "PARLEY_TRUSTED_PROXIES", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is trusted", false, &r.trustedProxies},
		{"vault-addr", "VAULT_ADDR", "", "Vault server address; unset = local dev key provider (not for production)", false, &r.vaultAddr},
		{"vault-token", "VAULT_TOKEN", "", "Vault token (or use AppRole below)", true, &r.vaultToken},
		{"vault-role-id", "PARLEY_VAULT_ROLE_ID", "", "Vault AppRole role_id", false, &r.vaultRoleID},
		{"vault-secret-id", "PARLEY_VAULT_SECRET_ID", "", "Vault AppRole secret_id", true, &r.vaultSecretID},
		{"vault-namespace", "VAULT_NAMESPACE", "", "Vault Enterprise namespace", false, &r.vaultNS},
		{"vault-cacert", "VAULT_CACERT", "", "PEM CA certificate to verify Vault's TLS certificate", false, &r.vaultCACert},
		{"vault-transit-mount", "PARLEY_VAULT_TRANSIT_MOUNT", "transit", "mount path of Vault's transit engine", false, &r.vaultMount},
		{"max-body-bytes", "PARLEY_MAX_BODY_BYTES", "1048576", "largest request body accepted, in bytes", false, &r.maxBody},
		{"read-header-timeout", "PARLEY_READ_HEADER_TIMEOUT", "10s", "time allowed to read request headers", false, &r.readHeaderTimeout},
		{"read-timeout", "PARLEY_READ_TIMEOUT", "30s", "time allowed to read a whole request", false, &r.readTimeout},
		{"write-timeout", "PARLEY_WRITE_TIMEOUT", "30s", "time allowed to write a response (not WebSocket streams)", false, &r.writeTimeout},
		{"idle-timeout", "PARLEY_IDLE_TIMEOUT", "120s", "keep-alive idle time", false, &r.idleTimeout},
		{"shutdown-timeout", "PARLEY_SHUTDOWN_TIMEOUT", "20s", "time given to open requests on SIGINT/SIGTERM", false, &r.shutdownTimeout},
		{"node-url", "PARLEY_NODE_URL", "", "URL other nodes reach this node at for secure-form card data it holds (several nodes)", false, &r.nodeURL},
		{"card-peer-secret", "PARLEY_CARD_PEER_SECRET", "", "shared node-to-node secret for card data (at least 32 bytes; default: per-tenant keys from the key provider)", true, &r.cardPeerSecret},
		{"card-tokenizer-url", "PARLEY_CARD_TOKENIZER_URL", "", "https:// payment or tokenization endpoint that receives secure-form card data at submission", false, &r.tokenizerURL},
		{"card-tokenizer-auth", "PARLEY_CARD_TOKENIZER_AUTH", "", "Authorization header value for the tokenization endpoint", true, &r.tokenizerAuth},
		{"audit-forward-syslog", "PARLEY_AUDIT_FORWARD_SYSLOG", "", "host:port of a syslog collector receiving audit events and checkpoints (RFC 5424 over TLS, RFC 5425)", false, &r.fwdSyslog},
		{"audit-forward-syslog-ca", "PARLEY_AUDIT_FORWARD_SYSLOG_CA", "", "PEM CA certificates to verify the syslog collector (default: system roots)", false, &r.fwdCA},
		{"audit-forward-syslog-server-name", "PARLEY_AUDIT_FORWARD_SYSLOG_SERVER_NAME", "", "name the collector's certificate must carry (default: the host of PARLEY_AUDIT_FORWARD_SYSLOG)", false, &r.fwdServerName},
		{"audit-forward-syslog-cert", "PARLEY_AUDIT_FORWARD_SYSLOG_CERT", "", "PEM client certificate for mutual TLS with the collector", false, &r.fwdCert},
		{"audit-forward-syslog-key", "PARLEY_AUDIT_FORWARD_SYSLOG_KEY", "", "PEM private key for PARLEY_AUDIT_FORWARD_SYSLOG_CERT", false, &r.fwdKey},
		{"audit-forward-file", "PARLEY_AUDIT_FORWARD_FILE", "", "file that receives audit events and checkpoints as JSON lines (created 0600)", false, &r.fwdFile},
		{"audit-forward-interval", "PARLEY_AUDIT_FORWARD_INTERVAL", "1s", "how often new audit events are looked for (also the first retry delay after a failure)", false, &r.fwdInterval},
		{"audit-forward-batch", "PARLEY_AUDIT_FORWARD_BATCH", "500", "most audit events per send to a forwarding destination (1 to 10000)", false, &r.fwdBatch},
		{"audit-retention-days", "PARLEY_AUDIT_RETENTION_DAYS", "365", "days audit events stay online before `parley audit archive` may remove them (at least 365)", false, &r.auditRetention},
		{"metrics-token", "PARLEY_METRICS_TOKEN", "", "bearer token a Prometheus scraper sends to GET /metrics, and monitoring to GET /readyz for the per-check details (at least 32 printable ASCII characters, no spaces; unset = no metrics endpoint, no readiness details)", true, &r.metricsToken},
		{"fanout-url", "PARLEY_FANOUT_URL", "", "nats://[user:password@]host:port (tls:// or nats+tls:// for TLS) of a NATS server that carries chat signals between nodes instead of PostgreSQL LISTEN/NOTIFY (unset = LISTEN/NOTIFY)", true, &r.fanoutURL},
		{"fanout-credentials", "PARLEY_FANOUT_CREDENTIALS", "", "NATS credentials file (.creds: user JWT and NKey seed) for PARLEY_FANOUT_URL", false, &r.fanoutCreds},
		{"fanout-ca", "PARLEY_FANOUT_CA", "", "PEM CA certificates that verify a TLS NATS server (default: system roots)", false, &r.fanoutCA},
		{"fanout-prefix", "PARLEY_FANOUT_PREFIX", hub.DefaultNATSPrefix, "NATS subject prefix of this installation, so installations sharing one NATS never mix", false, &r.fanoutPrefix},
		{"visitor-messages-per-minute", "PARLEY_VISITOR_MESSAGES_PER_MINUTE", strconv.Itoa(DefaultVisitorMessagesPerMinute), "messages each visitor may send per minute once the burst is spent (sites may set less; 1 to 60000)", false, &r.visitorPerMinute},
		{"visitor-message-burst", "PARLEY_VISITOR_MESSAGE_BURST", strconv.Itoa(DefaultVisitorMessageBurst), "messages each visitor may send at once (sites may set less; 1 to 1000)", false, &r.visitorBurst},
		{"address-messages-per-minute", "PARLEY_ADDRESS_MESSAGES_PER_MINUTE", strconv.Itoa(DefaultAddressMessagesPerMinute), "messages all visitors behind one client address may send per minute, after a burst of 200 (1 to 600000)", false, &r.addressPerMinute},
	}
}

// ErrInvalid wraps every validation failure; Problems lists them one per line.
var ErrInvalid = errors.New("invalid configuration")

// Problems is the list of everything wrong with a configuration, one clear line each.
type Problems []string

func (p Problems) Error() string { return strings.Join(p, "\n") }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (p Problems) Unwrap() error { return ErrInvalid }

// Register adds the shared settings to fs with defaults taken from the environment, and returns a
// function that validates the parsed result.
func Register(fs *flag.FlagSet, getenv func(string) string) func() (*Config, error) {
	raw := &rawValues{}
	cfg := &Config{}
	settings := raw.settings(cfg)
	for _, s := range settings {
		def := s.def
		if v := getenv(s.env); v != "" {
			def = v
		}
		help := s.help + " [$" + s.env + "]"
		if s.secret && def != "" && def != s.def {
			// Never echo a secret from the environment in --help output.
			fs.Var(&secretValue{target: s.target, set: def}, s.flag, help)
			*s.target = def
			continue
		}
		fs.StringVar(s.target, s.flag, def, help)
	}
	fs.BoolVar(&cfg.Migrate, "migrate", false, "apply pending database migrations before serving")
	return func() (*Config, error) { return raw.validate(cfg) }
}

type secretValue struct {
	target *string
	set    string
}

func (s *secretValue) String() string {
	if s == nil || s.target == nil || *s.target == "" {
		return ""
	}
	return "(set)"
}

func (s *secretValue) Set(v string) error { *s.target = v; return nil }

// Load parses args with the shared settings and validates them; fs receives any extra flags the
// caller registered before.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (*Config, error) {
	validate := Register(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return validate()
}

func (r *rawValues) validate(cfg *Config) (*Config, error) {
	var p Problems
	bad := func(env, format string, a ...any) { p = append(p, env+": "+fmt.Sprintf(format, a...)) }

	cfg.Addr = strings.TrimSpace(r.addr)
	if _, port, err := net.SplitHostPort(cfg.Addr); err != nil || port == "" {
		bad("PARLEY_ADDR", "%q is not host:port", cfg.Addr)
	}
	cfg.DataDir = filepath.Clean(r.dataDir)
	if r.dataDir == "" {
		bad("PARLEY_DATA_DIR", "must not be empty")
	}
	cfg.DatabaseURL = r.databaseURL
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = "sqlite://" + filepath.Join(cfg.DataDir, "parley.db")
	}
	if _, err := migrations.ParseURL(cfg.DatabaseURL); err != nil {
		bad("PARLEY_DATABASE_URL", "%v", err)
	}
	cfg.LogLevel = strings.ToLower(r.logLevel)
	switch cfg.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("PARLEY_LOG_LEVEL", "%q is not one of debug, info, warn, error", r.logLevel)
	}
	cfg.NodeID = r.nodeID
	if cfg.NodeID == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "parley"
		}
		cfg.NodeID = h
	}

	cfg.TLSCert, cfg.TLSKey = r.tlsCert, r.tlsKey
	switch {
	case cfg.TLSCert != "" && cfg.TLSKey == "":
		bad("PARLEY_TLS_KEY", "must be set with PARLEY_TLS_CERT")
	case cfg.TLSKey != "" && cfg.TLSCert == "":
		bad("PARLEY_TLS_CERT", "must be set with PARLEY_TLS_KEY")
	case cfg.TLSCert != "":
		if err := checkReadable(cfg.TLSCert); err != nil {
			bad("PARLEY_TLS_CERT", "cannot read %s: %v", cfg.TLSCert, err)
		} else if err := checkReadable(cfg.TLSKey); err != nil {
			bad("PARLEY_TLS_KEY", "cannot read %s: %v", cfg.TLSKey, err)
		} else if _, err := LoadKeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			bad("PARLEY_TLS_CERT", "%v", err)
		}
	}
	proxies, err := ParseCIDRList(r.trustedProxies)
	if err != nil {
		bad("PARLEY_TRUSTED_PROXIES", "%v", err)
	}
	cfg.TrustedProxies = proxies

	cfg.PublicURL = strings.TrimRight(r.publicURL, "/")
	if cfg.PublicURL == "" {
		scheme := "http"
		if cfg.TLS() {
			scheme = "https"
		}
		cfg.PublicURL = scheme + "://" + cfg.Addr
	} else if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("PARLEY_PUBLIC_URL", "%q is not an http(s) URL", r.publicURL)
	}

	cfg.Vault = Vault{
		Addr: r.vaultAddr, Token: r.vaultToken, RoleID: r.vaultRoleID, SecretID: r.vaultSecretID,
		Namespace: r.vaultNS, CACert: r.vaultCACert, TransitMount: strings.Trim(r.vaultMount, "/"),
	}
	if v := cfg.Vault; v.Addr != "" {
		if u, err := url.Parse(v.Addr); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("VAULT_ADDR", "%q is not an http(s) URL", v.Addr)
		}
		if v.Token == "" && (v.RoleID == "" || v.SecretID == "") {
			bad("VAULT_TOKEN", "set VAULT_TOKEN, or PARLEY_VAULT_ROLE_ID and PARLEY_VAULT_SECRET_ID for AppRole")
		}
		if v.CACert != "" {
			if err := checkReadable(v.CACert); err != nil {
				bad("VAULT_CACERT", "cannot read %s: %v", v.CACert, err)
			}
		}
		if v.TransitMount == "" {
			bad("PARLEY_VAULT_TRANSIT_MOUNT", "must not be empty")
		}
	}

	cfg.MaxBodyBytes = parseSize(r.maxBody, "PARLEY_MAX_BODY_BYTES", 1024, 64<<20, &p)
	cfg.ReadHeaderTimeout = parseDuration(r.readHeaderTimeout, "PARLEY_READ_HEADER_TIMEOUT", &p)
	cfg.ReadTimeout = parseDuration(r.readTimeout, "PARLEY_READ_TIMEOUT", &p)
	cfg.WriteTimeout = parseDuration(r.writeTimeout, "PARLEY_WRITE_TIMEOUT", &p)
	cfg.IdleTimeout = parseDuration(r.idleTimeout, "PARLEY_IDLE_TIMEOUT", &p)
	cfg.ShutdownTimeout = parseDuration(r.shutdownTimeout, "PARLEY_SHUTDOWN_TIMEOUT", &p)

	cfg.Cards = Cards{NodeURL: strings.TrimRight(r.nodeURL, "/"), PeerSecret: r.cardPeerSecret,
		TokenizerURL: r.tokenizerURL, TokenizerAuth: r.tokenizerAuth}
	if c := cfg.Cards; c.NodeURL != "" {
		if u, err := url.Parse(c.NodeURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("PARLEY_NODE_URL", "%q is not an http(s) URL", c.NodeURL)
		}
	}
	if c := cfg.Cards; c.PeerSecret != "" && len(c.PeerSecret) < 32 {
		bad("PARLEY_CARD_PEER_SECRET", "must be at least 32 bytes")
	}
	if c := cfg.Cards; c.TokenizerURL != "" {
		if u, err := url.Parse(c.TokenizerURL); err != nil || u.Scheme != "https" || u.Host == "" {
			bad("PARLEY_CARD_TOKENIZER_URL", "must be an https:// URL")
		}
	}

	cfg.AuditForward = r.auditForward(bad, &p)
	cfg.AuditRetention = parseRetention(r.auditRetention, &p)
	cfg.MetricsToken = parseMetricsToken(r.metricsToken, &p)
	var dialect migrations.Dialect // unknown when the database URL is wrong (reported above)
	if u, err := migrations.ParseURL(cfg.DatabaseURL); err == nil {
		dialect = u.Dialect
	}
	cfg.Fanout = r.fanout(dialect, bad)
	cfg.ChatLimits = r.chatLimits(bad)

	if len(p) > 0 {
		return nil, p
	}
	return cfg, nil
}

// parseMetricsToken checks the metrics bearer token: long enough not to be guessed, and made of
// characters an Authorization header carries as they are.
func parseMetricsToken(s string, p *Problems) string {
	if s == "" {
		return ""
	}
	for _, r := range s {
		if r <= ' ' || r > '~' {
			*p = append(*p, "PARLEY_METRICS_TOKEN: must be printable ASCII without spaces")
			return ""
		}
	}
	if len(s) < 32 {
		*p = append(*p, "PARLEY_METRICS_TOKEN: must be at least 32 characters")
		return ""
	}
	return s
}

func checkReadable(path string) error {
	f, err := os.Open(path) // #nosec G304 -- the operator names this file in the configuration.
	if err != nil {
		return errors.Unwrap(err)
	}
	return f.Close()
}

func parseDuration(s, env string, p *Problems) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		*p = append(*p, fmt.Sprintf("%s: %q is not a positive duration such as 30s or 2m", env, s))
		return 0
	}
	return d
}

func parseSize(s, env string, lo, hi int64, p *Problems) int64 {
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || n < lo || n > hi {
		*p = append(*p, fmt.Sprintf("%s: %q must be a whole number of bytes between %d and %d", env, s, lo, hi))
		return 0
	}
	return n
}

// ParseCIDRList parses a comma- or space-separated list of CIDRs or bare addresses.
func ParseCIDRList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var bad []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		if pfx, err := netip.ParsePrefix(f); err == nil {
			out = append(out, pfx.Masked())
			continue
		}
		if a, err := netip.ParseAddr(f); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		bad = append(bad, fmt.Sprintf("%q is not a CIDR or IP address", f))
	}
	if len(bad) > 0 {
		return nil, errors.New(strings.Join(bad, "; "))
	}
	return out, nil
}

// PrintSettings writes the settings table (for --help).
func PrintSettings(w io.Writer) {
	for _, s := range Settings() {
		def := s[1]
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(w, "  %-28s default %-16s %s\n", s[0], def, s[2])
	}
}
