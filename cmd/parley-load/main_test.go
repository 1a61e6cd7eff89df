package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestUsage: bad flag combinations are refused with exit 2 and a reason; -help lists the flags
// and exits 0.
func TestUsage(t *testing.T) {
	getenv := func(string) string { return "" }
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"-help"}, exitOK, "-visitors"},
		{"unknown database", []string{"-db", "mysql"}, exitUsage, "-db is sqlite or postgres"},
		{"nodes on sqlite", []string{"-nodes", "2"}, exitUsage, "-nodes > 1 needs -db postgres"},
		{"url without accounts", []string{"-url", "http://127.0.0.1:1"}, exitUsage, "-url needs -accounts"},
		{"no visitors", []string{"-visitors", "0"}, exitUsage, "-visitors ≥ 1"},
		{"huge messages", []string{"-size", "5000"}, exitUsage, "-size ≤ 4000"},
		{"name with a path", []string{"-name", "../x"}, exitUsage, "-name is a plain file name"},
		{"stray argument", []string{"now"}, exitUsage, "unexpected arguments"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if got := run(context.Background(), tt.args, getenv, &out, &errb); got != tt.code {
				t.Errorf("got exit %d, want %d (stderr %s)", got, tt.code, errb.String())
			}
			if !strings.Contains(errb.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", errb.String(), tt.want)
			}
		})
	}
}

// TestReadAccounts: -accounts needs agents, the site key and its origin.
func TestReadAccounts(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, body string
		ok         bool
	}{
		{"complete", `{"agents":[{"tenant":"acme","email":"a@acme.test","password":"p"}],"site_key":"site_abc","site_origin":"https://shop.test"}`, true},
		{"no agents", `{"agents":[],"site_key":"site_abc","site_origin":"https://shop.test"}`, false},
		{"no site", `{"agents":[{"tenant":"acme","email":"a@acme.test","password":"p"}]}`, false},
		{"not JSON", `agents: []`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := dir + "/" + strings.ReplaceAll(tt.name, " ", "-") + ".json"
			if err := writeFile(path, tt.body); err != nil {
				t.Fatal(err)
			}
			_, err := readAccounts(path)
			if (err == nil) != tt.ok {
				t.Errorf("got error %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func writeFile(path, body string) error { return os.WriteFile(path, []byte(body), 0o600) }
