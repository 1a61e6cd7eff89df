package config

import (
	"net/url"
	"strings"

	"github.com/parleyhq/parley/app/chat/hub"
	"github.com/parleyhq/parley/migrations"
)

// Fanout is how chat signals reach the other nodes. With URL empty they travel on PostgreSQL's
// LISTEN/NOTIFY; with a nats:// (or tls://, nats+tls://) URL they travel through NATS under
// subjects starting with Prefix. Credentials is a NATS .creds file; a user and password may
// instead be given in the URL. CACert holds the roots that verify a TLS server (system roots
// when empty). The URL and credentials are secrets: never logged or printed.
type Fanout struct {
	URL         string
	Credentials string
	CACert      string
	Prefix      string
}

// NATS reports whether the fan-out goes through NATS.
func (f Fanout) NATS() bool { return f.URL != "" }

// fanout validates the fan-out settings, reporting each problem through bad.
func (r *rawValues) fanout(dialect migrations.Dialect, bad func(env, format string, a ...any)) Fanout {
	f := Fanout{URL: strings.TrimSpace(r.fanoutURL), Credentials: r.fanoutCreds, CACert: r.fanoutCA, Prefix: strings.TrimSpace(r.fanoutPrefix)}
	if !hub.ValidNATSPrefix(f.Prefix) {
		bad("PARLEY_FANOUT_PREFIX", "%q must be dot-separated words of letters, digits, '_' and '-' (at most 64 characters)", f.Prefix)
	}
	if f.URL == "" {
		if f.Credentials != "" {
			bad("PARLEY_FANOUT_CREDENTIALS", "is only used with PARLEY_FANOUT_URL")
		}
		if f.CACert != "" {
			bad("PARLEY_FANOUT_CA", "is only used with PARLEY_FANOUT_URL")
		}
		return f
	}
	_, secure, err := hub.ParseNATSURL(f.URL)
	if err != nil {
		// The message never repeats the URL: it may hold a password.
		bad("PARLEY_FANOUT_URL", "%s", strings.TrimPrefix(err.Error(), hub.ErrNATSConfig.Error()+": "))
		return f
	}
	if dialect == migrations.SQLite {
		bad("PARLEY_FANOUT_URL", "needs PostgreSQL: an SQLite database serves one node, which has no other nodes to reach")
	}
	if u, _ := url.Parse(f.URL); u != nil && u.User != nil && f.Credentials != "" {
		bad("PARLEY_FANOUT_CREDENTIALS", "set a user and password in PARLEY_FANOUT_URL or a credentials file, not both")
	}
	if f.Credentials != "" {
		if err := checkReadable(f.Credentials); err != nil {
			bad("PARLEY_FANOUT_CREDENTIALS", "cannot read %s: %v", f.Credentials, err)
		}
	}
	if f.CACert != "" {
		if !secure {
			bad("PARLEY_FANOUT_CA", "is only used with a tls:// or nats+tls:// PARLEY_FANOUT_URL")
		} else if _, err := loadCAPool(f.CACert); err != nil {
			bad("PARLEY_FANOUT_CA", "%v", err)
		}
	}
	return f
}
