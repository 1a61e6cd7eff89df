package config_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app/config"
)

func TestFanout(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "parley.creds")
	if err := os.WriteFile(creds, []byte("-----BEGIN NATS USER JWT-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	const pg = "postgres://parley@db/parley"
	cfg, err := load(t, map[string]string{"PARLEY_DATABASE_URL": pg})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Fanout.NATS() || cfg.Fanout.Prefix != "parley" {
		t.Fatalf("default fan-out = %+v, want LISTEN/NOTIFY with prefix parley", cfg.Fanout)
	}
	cfg, err = load(t, map[string]string{"PARLEY_DATABASE_URL": pg, "PARLEY_FANOUT_URL": "nats+tls://nats.internal:4222",
		"PARLEY_FANOUT_CREDENTIALS": creds, "PARLEY_FANOUT_PREFIX": "acme.prod"})
	if err != nil {
		t.Fatal(err)
	}
	if f := cfg.Fanout; !f.NATS() || f.URL != "nats+tls://nats.internal:4222" || f.Credentials != creds || f.Prefix != "acme.prod" {
		t.Fatalf("fan-out = %+v", f)
	}

	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{name: "not a NATS URL", env: map[string]string{"PARLEY_FANOUT_URL": "redis://u:s3cret@cache:6379"}, want: []string{"PARLEY_FANOUT_URL"}},
		{name: "no host", env: map[string]string{"PARLEY_FANOUT_URL": "nats://"}, want: []string{"PARLEY_FANOUT_URL"}},
		{name: "a path", env: map[string]string{"PARLEY_FANOUT_URL": "nats://u:s3cret@h:4222/x"}, want: []string{"PARLEY_FANOUT_URL"}},
		{name: "SQLite has no other nodes", env: map[string]string{"PARLEY_DATABASE_URL": "sqlite:///tmp/p.db", "PARLEY_FANOUT_URL": "nats://h:4222"}, want: []string{"PARLEY_FANOUT_URL"}},
		{name: "two kinds of credentials", env: map[string]string{"PARLEY_FANOUT_URL": "nats://u:s3cret@h:4222", "PARLEY_FANOUT_CREDENTIALS": creds}, want: []string{"PARLEY_FANOUT_CREDENTIALS"}},
		{name: "missing credentials file", env: map[string]string{"PARLEY_FANOUT_URL": "nats://h:4222", "PARLEY_FANOUT_CREDENTIALS": filepath.Join(dir, "nope.creds")}, want: []string{"PARLEY_FANOUT_CREDENTIALS"}},
		{name: "CA without TLS", env: map[string]string{"PARLEY_FANOUT_URL": "nats://h:4222", "PARLEY_FANOUT_CA": junk}, want: []string{"PARLEY_FANOUT_CA"}},
		{name: "CA that is not PEM", env: map[string]string{"PARLEY_FANOUT_URL": "tls://h:4222", "PARLEY_FANOUT_CA": junk}, want: []string{"PARLEY_FANOUT_CA"}},
		{name: "wildcard prefix", env: map[string]string{"PARLEY_FANOUT_PREFIX": "acme.>"}, want: []string{"PARLEY_FANOUT_PREFIX"}},
		{name: "settings without a URL", env: map[string]string{"PARLEY_FANOUT_CREDENTIALS": creds, "PARLEY_FANOUT_CA": junk}, want: []string{"PARLEY_FANOUT_CREDENTIALS", "PARLEY_FANOUT_CA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"PARLEY_DATABASE_URL": pg}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := load(t, env)
			var p config.Problems
			if !errors.Is(err, config.ErrInvalid) || !errors.As(err, &p) {
				t.Fatalf("error = %v, want Problems", err)
			}
			if len(p) != len(tt.want) {
				t.Fatalf("problems = %q, want %d naming %v", p, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(p[i], w+": ") {
					t.Errorf("problem %d = %q, want one naming %s", i, p[i], w)
				}
				if strings.Contains(p[i], "s3cret") {
					t.Errorf("problem %q reveals the password in the URL", p[i])
				}
			}
		})
	}
}

func TestFanoutURLNotEchoedInHelp(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var out strings.Builder
	fs.SetOutput(&out)
	env := map[string]string{"PARLEY_FANOUT_URL": "nats://parley:natssecret@nats.internal:4222"}
	config.Register(fs, func(k string) string { return env[k] })
	fs.PrintDefaults()
	if strings.Contains(out.String(), "natssecret") {
		t.Error("--help shows the NATS password from the environment")
	}
}
