package audit

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// exportAll exports tenant t1 of l to memory.
func exportAll(t testing.TB, l *Log, from, to time.Time) ([]byte, ExportInfo) {
	t.Helper()
	var buf bytes.Buffer
	info, err := l.Export(context.Background(), &buf, "t1", from, to)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	return buf.Bytes(), info
}

// rewriteTar re-packs a bundle, passing each file through fn; fn returning nil drops the file.
func rewriteTar(t testing.TB, b []byte, fn func(name string, data []byte) []byte) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		data = fn(h.Name, data)
		if data == nil {
			continue
		}
		h.Size = int64(len(data))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// appendTarFile adds a file at the end of a bundle.
func appendTarFile(t testing.TB, b []byte, name string, data []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// editLines applies fn to the lines of one file of a bundle.
func editLines(name string, fn func(lines []string) []string) func(string, []byte) []byte {
	return func(n string, data []byte) []byte {
		if n != name {
			return data
		}
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		return []byte(strings.Join(fn(lines), "\n") + "\n")
	}
}

func TestExportVerifiesOffline(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		clock := newTestClock()
		clock.step = time.Second
		l := newTestLog(t, db, clock)
		for i := 0; i < 3; i++ {
			fill(t, l, "t1", 10)
		}
		fill(t, l, "t1", 5) // events 31..35 after the last checkpoint
		all, info := exportAll(t, l, time.Time{}, time.Time{})
		if info.Events != 35 || info.FirstSeq != 1 || info.LastSeq != 35 || info.Checkpoints != 3 {
			t.Fatalf("got %+v, want events 1..35 and 3 checkpoints", info)
		}

		t.Run("intact with trusted key", func(t *testing.T) {
			r, err := VerifyBundle(bytes.NewReader(all), l.TrustedKeys()...)
			if err != nil || !r.OK() {
				t.Fatalf("got %v, %v; want an intact bundle", r.Damage, err)
			}
			if !r.KeysTrusted || r.Events != 35 || r.Matched != 3 || r.Tenant != "t1" {
				t.Errorf("got %+v, want 35 events, 3 matched checkpoints, trusted keys", r)
			}
		})
		t.Run("intact without trusted keys reports fingerprints", func(t *testing.T) {
			r, err := VerifyBundle(bytes.NewReader(all))
			if err != nil || !r.OK() || r.KeysTrusted {
				t.Fatalf("got %+v, %v; want intact, keys not trusted", r, err)
			}
			if len(r.Keys) != 1 || r.Keys[0].Fingerprint != (PublicKey{Key: l.signer.PublicKey()}).Fingerprint() {
				t.Errorf("got keys %+v, want the signer's fingerprint", r.Keys)
			}
		})
		t.Run("mid-chain bundle", func(t *testing.T) {
			e15, e27 := getEntry(t, l, 15), getEntry(t, l, 27)
			b, info := exportAll(t, l, e15.Time, e27.Time)
			if info.FirstSeq != 15 || info.LastSeq != 26 {
				t.Fatalf("got %+v, want events 15..26", info)
			}
			r, err := VerifyBundle(bytes.NewReader(b), l.TrustedKeys()...)
			if err != nil || !r.OK() || r.FirstSeq != 15 || r.Matched != 1 {
				t.Fatalf("got %+v, %v; want intact 15..26 matching the checkpoint at 20", r, err)
			}
		})
		t.Run("empty range", func(t *testing.T) {
			b, info := exportAll(t, l, clock.Now().Add(time.Hour), time.Time{})
			r, err := VerifyBundle(bytes.NewReader(b), l.TrustedKeys()...)
			if err != nil || !r.OK() || info.Events != 0 || r.Events != 0 {
				t.Fatalf("got %+v, %+v, %v; want an intact empty bundle", info, r, err)
			}
		})
		t.Run("untrusted signer", func(t *testing.T) {
			r, err := VerifyBundle(bytes.NewReader(all), PublicKey{ID: "other", Key: seedSigner(7).PublicKey()})
			if err != nil || r.OK() || r.KeysTrusted {
				t.Fatalf("got %v, %v; want damage with untrusted keys", r.Damage, err)
			}
		})

		swap := func(i, j int) func([]string) []string {
			return func(ls []string) []string { ls[i], ls[j] = ls[j], ls[i]; return ls }
		}
		tampered := []struct {
			name string
			edit func(string, []byte) []byte
			kind DamageKind
			seq  int64
		}{
			{"modified event", editLines("events-000001.jsonl", func(ls []string) []string {
				ls[11] = strings.Replace(ls[11], `"outcome":"success"`, `"outcome":"failure"`, 1)
				return ls
			}), DamageModified, 12},
			{"deleted event", editLines("events-000001.jsonl", func(ls []string) []string {
				return append(ls[:11:11], ls[12:]...)
			}), DamageDeleted, 12},
			{"reordered events", editLines("events-000001.jsonl", swap(11, 12)), DamageReordered, 12},
			{"inserted event", editLines("events-000001.jsonl", func(ls []string) []string {
				return append(ls[:12:12], ls[11:]...)
			}), DamageInserted, 12},
			{"truncated after the last checkpoint", editLines("events-000001.jsonl", func(ls []string) []string {
				return ls[:33]
			}), DamageTruncated, 34},
			{"truncated before a checkpoint", editLines("events-000001.jsonl", func(ls []string) []string {
				return ls[:25]
			}), DamageTruncated, 26},
			{"forged checkpoint", editLines("checkpoints.jsonl", func(ls []string) []string {
				ls[1] = strings.Replace(ls[1], `"seq":20`, `"seq":21`, 1)
				return ls
			}), DamageCheckpoint, 21},
			{"manifest edited", func(n string, d []byte) []byte {
				if n == "manifest.json" {
					return bytes.Replace(d, []byte(`"events": 35`), []byte(`"events": 34`), 1)
				}
				return d
			}, DamageBundle, 0},
			{"signature replaced", func(n string, d []byte) []byte {
				if n == "manifest.sig" {
					return ed25519.Sign(seedSigner(7).priv, d)
				}
				return d
			}, DamageBundle, 0},
			{"key file reformatted", func(n string, d []byte) []byte {
				if n == "keys.json" {
					return append(d, ' ')
				}
				return d
			}, DamageBundle, 0},
		}
		for _, tc := range tampered {
			t.Run(tc.name, func(t *testing.T) {
				b := rewriteTar(t, all, tc.edit)
				r, err := VerifyBundle(bytes.NewReader(b), l.TrustedKeys()...)
				if err != nil {
					t.Fatalf("got error %v, want a damage report", err)
				}
				if r.Damage == nil || r.Damage.Kind != tc.kind || r.Damage.Seq != tc.seq {
					t.Errorf("got %v, want %s at %d", r.Damage, tc.kind, tc.seq)
				}
			})
		}

		malformed := []struct {
			name string
			b    []byte
		}{
			{"not a tar", []byte("hello")},
			{"empty", nil},
			{"missing manifest", rewriteTar(t, all, func(n string, d []byte) []byte {
				if strings.HasPrefix(n, "manifest") {
					return nil
				}
				return d
			})},
			{"extra file", rewriteTar(t, all, func(n string, d []byte) []byte {
				if n == "keys.json" {
					return nil
				}
				return d
			})},
			{"file after the signature", appendTarFile(t, all, "notes.txt", []byte("hello"))},
		}
		for _, tc := range malformed {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := VerifyBundle(bytes.NewReader(tc.b), l.TrustedKeys()...); !errors.Is(err, ErrBundleFormat) {
					t.Errorf("got %v, want ErrBundleFormat", err)
				}
			})
		}
	})
}

func TestExportOfDamagedChainFailsOffline(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		l := tamperChain(t, db)
		exec(t, db, "UPDATE audit_events SET reason = 'edited' WHERE tenant_id = 't1' AND seq = 7")
		b, _ := exportAll(t, l, time.Time{}, time.Time{})
		r, err := VerifyBundle(bytes.NewReader(b), l.TrustedKeys()...)
		if err != nil || r.Damage == nil || r.Damage.Kind != DamageModified || r.Damage.Seq != 7 {
			t.Fatalf("got %v, %v; want modified at 7", r.Damage, err)
		}
	})
}
