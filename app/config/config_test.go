package config_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/config"
)

func load(t *testing.T, env map[string]string, args ...string) (*config.Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	return config.Load(fs, args, func(k string) string { return env[k] })
}

func TestDefaults(t *testing.T) {
	cfg, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:8080" || cfg.DataDir != "data" || cfg.DatabaseURL != "sqlite://data/parley.db" {
		t.Errorf("defaults = %q %q %q", cfg.Addr, cfg.DataDir, cfg.DatabaseURL)
	}
	if cfg.Vault.Enabled() || cfg.TLS() || cfg.PublicURL != "http://127.0.0.1:8080" {
		t.Errorf("vault %v tls %v public %q; want off, off, http://127.0.0.1:8080", cfg.Vault.Enabled(), cfg.TLS(), cfg.PublicURL)
	}
	if cfg.ReadHeaderTimeout != 10*time.Second || cfg.MaxBodyBytes != 1<<20 {
		t.Errorf("timeouts/limits = %v %d", cfg.ReadHeaderTimeout, cfg.MaxBodyBytes)
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	cfg, err := load(t, map[string]string{"PARLEY_ADDR": "127.0.0.1:9000", "PARLEY_LOG_LEVEL": "debug"}, "--addr", "127.0.0.1:9100")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9100" || cfg.LogLevel != "debug" {
		t.Errorf("addr, level = %q, %q; want flag's 127.0.0.1:9100 and env's debug", cfg.Addr, cfg.LogLevel)
	}
}

func TestProblems(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want []string // settings named, one line each
	}{
		{name: "unknown database scheme", env: map[string]string{"PARLEY_DATABASE_URL": "mysql://root@db/parley"}, want: []string{"PARLEY_DATABASE_URL"}},
		{name: "invalid trusted proxy", env: map[string]string{"PARLEY_TRUSTED_PROXIES": "10.0.0.0/8, 10.0.0.300/33"}, want: []string{"PARLEY_TRUSTED_PROXIES"}},
		{name: "missing certificate", env: map[string]string{"PARLEY_TLS_CERT": filepath.Join(dir, "nope.pem"), "PARLEY_TLS_KEY": junk}, want: []string{"PARLEY_TLS_CERT"}},
		{name: "unparsable certificate", env: map[string]string{"PARLEY_TLS_CERT": junk, "PARLEY_TLS_KEY": junk}, want: []string{"PARLEY_TLS_CERT"}},
		{name: "cert without key", env: map[string]string{"PARLEY_TLS_CERT": junk}, want: []string{"PARLEY_TLS_KEY"}},
		{name: "bad address", env: map[string]string{"PARLEY_ADDR": "localhost"}, want: []string{"PARLEY_ADDR"}},
		{name: "bad duration", env: map[string]string{"PARLEY_READ_TIMEOUT": "soon"}, want: []string{"PARLEY_READ_TIMEOUT"}},
		{name: "vault without credentials", env: map[string]string{"VAULT_ADDR": "http://127.0.0.1:8200"}, want: []string{"VAULT_TOKEN"}},
		{name: "short card peer secret", env: map[string]string{"PARLEY_CARD_PEER_SECRET": "short"}, want: []string{"PARLEY_CARD_PEER_SECRET"}},
		{name: "plain-http tokenizer", env: map[string]string{"PARLEY_CARD_TOKENIZER_URL": "http://pay.example.com/tokens"}, want: []string{"PARLEY_CARD_TOKENIZER_URL"}},
		{name: "bad node URL", env: map[string]string{"PARLEY_NODE_URL": "node-2:8080"}, want: []string{"PARLEY_NODE_URL"}},
		{name: "syslog without a port", env: map[string]string{"PARLEY_AUDIT_FORWARD_SYSLOG": "siem.example.com"}, want: []string{"PARLEY_AUDIT_FORWARD_SYSLOG"}},
		{name: "syslog CA that is not PEM", env: map[string]string{"PARLEY_AUDIT_FORWARD_SYSLOG": "siem.example.com:6514", "PARLEY_AUDIT_FORWARD_SYSLOG_CA": junk}, want: []string{"PARLEY_AUDIT_FORWARD_SYSLOG_CA"}},
		{name: "syslog client cert without key", env: map[string]string{"PARLEY_AUDIT_FORWARD_SYSLOG": "siem.example.com:6514", "PARLEY_AUDIT_FORWARD_SYSLOG_CERT": junk}, want: []string{"PARLEY_AUDIT_FORWARD_SYSLOG_KEY"}},
		{name: "syslog client pair unparsable", env: map[string]string{"PARLEY_AUDIT_FORWARD_SYSLOG": "siem.example.com:6514", "PARLEY_AUDIT_FORWARD_SYSLOG_CERT": junk, "PARLEY_AUDIT_FORWARD_SYSLOG_KEY": junk}, want: []string{"PARLEY_AUDIT_FORWARD_SYSLOG_CERT"}},
		{name: "syslog settings without a collector", env: map[string]string{"PARLEY_AUDIT_FORWARD_SYSLOG_CA": junk, "PARLEY_AUDIT_FORWARD_SYSLOG_SERVER_NAME": "siem"}, want: []string{"PARLEY_AUDIT_FORWARD_SYSLOG_CA", "PARLEY_AUDIT_FORWARD_SYSLOG_SERVER_NAME"}},
		{name: "forward file in a missing folder", env: map[string]string{"PARLEY_AUDIT_FORWARD_FILE": filepath.Join(dir, "nope", "audit.jsonl")}, want: []string{"PARLEY_AUDIT_FORWARD_FILE"}},
		{name: "forward file is a folder", env: map[string]string{"PARLEY_AUDIT_FORWARD_FILE": dir}, want: []string{"PARLEY_AUDIT_FORWARD_FILE"}},
		{name: "forward interval", env: map[string]string{"PARLEY_AUDIT_FORWARD_INTERVAL": "0s"}, want: []string{"PARLEY_AUDIT_FORWARD_INTERVAL"}},
		{name: "forward batch", env: map[string]string{"PARLEY_AUDIT_FORWARD_BATCH": "0"}, want: []string{"PARLEY_AUDIT_FORWARD_BATCH"}},
		{name: "retention under 12 months", env: map[string]string{"PARLEY_AUDIT_RETENTION_DAYS": "90"}, want: []string{"PARLEY_AUDIT_RETENTION_DAYS"}},
		{name: "short metrics token", env: map[string]string{"PARLEY_METRICS_TOKEN": "too-short"}, want: []string{"PARLEY_METRICS_TOKEN"}},
		{name: "metrics token with a space", env: map[string]string{"PARLEY_METRICS_TOKEN": "0123456789abcdef 0123456789abcdef"}, want: []string{"PARLEY_METRICS_TOKEN"}},
		{name: "visitor rate of zero", env: map[string]string{"PARLEY_VISITOR_MESSAGES_PER_MINUTE": "0"}, want: []string{"PARLEY_VISITOR_MESSAGES_PER_MINUTE"}},
		{name: "visitor burst over the bound", env: map[string]string{"PARLEY_VISITOR_MESSAGE_BURST": "1001"}, want: []string{"PARLEY_VISITOR_MESSAGE_BURST"}},
		{name: "address rate not a number", env: map[string]string{"PARLEY_ADDRESS_MESSAGES_PER_MINUTE": "lots"}, want: []string{"PARLEY_ADDRESS_MESSAGES_PER_MINUTE"}},
		{name: "several at once", env: map[string]string{"PARLEY_DATABASE_URL": "oracle://x", "PARLEY_LOG_LEVEL": "loud"}, want: []string{"PARLEY_DATABASE_URL", "PARLEY_LOG_LEVEL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.env)
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("error = %v, want ErrInvalid", err)
			}
			var p config.Problems
			if !errors.As(err, &p) {
				t.Fatalf("error %T is not Problems", err)
			}
			if len(p) != len(tt.want) {
				t.Fatalf("problems = %q, want %d lines naming %v", p, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(p[i], w+": ") || strings.Contains(p[i], "\n") {
					t.Errorf("problem %d = %q, want one line naming %s", i, p[i], w)
				}
			}
		})
	}
}

func TestMetricsToken(t *testing.T) {
	cfg, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MetricsToken != "" {
		t.Errorf("default metrics token = %q, want empty (endpoint off)", cfg.MetricsToken)
	}
	const token = "0123456789abcdef0123456789abcdef"
	cfg, err = load(t, map[string]string{"PARLEY_METRICS_TOKEN": "from-the-environment-0123456789ab"}, "--metrics-token", token)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MetricsToken != token {
		t.Errorf("metrics token = %q, want the flag's %q", cfg.MetricsToken, token)
	}
}

func TestSecretsNotEchoedInHelp(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var out strings.Builder
	fs.SetOutput(&out)
	env := map[string]string{"VAULT_TOKEN": "hvs.supersecret", "PARLEY_DATABASE_URL": "postgres://u:hunter2@db/parley",
		"PARLEY_METRICS_TOKEN": "scrape-secret-0123456789abcdefghij"}
	config.Register(fs, func(k string) string { return env[k] })
	fs.PrintDefaults()
	for _, s := range []string{"supersecret", "hunter2", "scrape-secret"} {
		if strings.Contains(out.String(), s) {
			t.Errorf("--help shows a secret from the environment: %q", s)
		}
	}
}

func TestChatLimits(t *testing.T) {
	cfg, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := (config.ChatLimits{VisitorMessagesPerMinute: 60, VisitorMessageBurst: 10, AddressMessagesPerMinute: 600}); cfg.ChatLimits != want {
		t.Errorf("defaults %+v, want %+v", cfg.ChatLimits, want)
	}
	cfg, err = load(t, map[string]string{"PARLEY_VISITOR_MESSAGES_PER_MINUTE": "6000", "PARLEY_VISITOR_MESSAGE_BURST": " 100 ",
		"PARLEY_ADDRESS_MESSAGES_PER_MINUTE": "12000"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (config.ChatLimits{VisitorMessagesPerMinute: 6000, VisitorMessageBurst: 100, AddressMessagesPerMinute: 12000}); cfg.ChatLimits != want {
		t.Errorf("got %+v, want %+v", cfg.ChatLimits, want)
	}
}
