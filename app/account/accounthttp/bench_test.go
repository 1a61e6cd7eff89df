package accounthttp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/account/passhash/storm"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/sanitize"
	"github.com/parleyhq/parley/compliance/pan"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// benchUsers creates n users and returns their e-mail addresses.
func benchUsers(b *testing.B, a *accounttest.App, n int) (string, []string) {
	b.Helper()
	var slug string
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("agent%d@acme.test", i)
		tn, _ := a.CreateUser("Acme Bank", emails[i], agentPass, "agent", false)
		slug = tn.Slug
	}
	return slug, emails
}

// BenchmarkSignIn measures successful sign-ins per second through POST /api/v1/auth/login at
// the configured argon2id cost (m=19 MiB, t=2, p=1): password check, counters, session and audit
// record, on SQLite.
func BenchmarkSignIn(b *testing.B) {
	a := accounttest.New(b, migratetest.Open(b, migrations.SQLite), nil)
	slug, emails := benchUsers(b, a, 16)
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		email := emails[int(next.Add(1)-1)%len(emails)]
		body, _ := json.Marshal(map[string]string{"tenant": slug, "email": email, "password": agentPass})
		for pb.Next() {
			rec := a.Do(apptest.Request{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: string(body), RemoteAddr: "198.51.100.7:1"})
			if rec.Code != http.StatusOK {
				b.Errorf("sign-in: %d %s", rec.Code, rec.Body.String())
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sign-ins/s")
}

// BenchmarkFailedSignIn compares a wrong password with an unknown account: both cost one
// password check and one counted failure, so their times should be close (no enumeration by
// timing). Counters are cleared between runs so no CAPTCHA or lockout cuts the work short.
func BenchmarkFailedSignIn(b *testing.B) {
	a := accounttest.New(b, migratetest.Open(b, migrations.SQLite), nil)
	slug, emails := benchUsers(b, a, 1)
	for _, tc := range []struct{ name, email string }{{"wrong password", emails[0]}, {"unknown account", "nobody@acme.test"}} {
		b.Run(tc.name, func(b *testing.B) {
			body, _ := json.Marshal(map[string]string{"tenant": slug, "email": tc.email, "password": "Wrong guess 123456"})
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if i%4 == 0 {
					b.StopTimer()
					a.DB.Gorm.Exec("DELETE FROM signin_attempts")
					a.DB.Gorm.Exec("DELETE FROM signin_ip_failures")
					b.StartTimer()
				}
				rec := a.Do(apptest.Request{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: string(body), RemoteAddr: "198.51.100.7:1"})
				if rec.Code != http.StatusUnauthorized {
					b.Fatalf("failed sign-in: %d %s", rec.Code, rec.Body.String())
				}
			}
		})
	}
}

// BenchmarkChatPathDuringSignInStorm times the CPU-bound part of the chat message path
// (sanitizing and PAN-masking a visitor message) and an authenticated console request through
// the router, first alone and then while a sign-in storm keeps the application's password
// hasher saturated. Compare p99 between the two: the bounded hashing pool is what keeps them
// apart.
func BenchmarkChatPathDuringSignInStorm(b *testing.B) {
	a := accounttest.New(b, migratetest.Open(b, migrations.SQLite), nil)
	tn, _ := a.CreateUser("Acme Bank", agentEmail, agentPass, "agent", false)
	rec := a.Client(clientAddr).Login(tn.Slug, agentEmail, agentPass, nil)
	if rec.Code != http.StatusOK {
		b.Fatalf("sign-in: %d", rec.Code)
	}
	cookie := rec.Result().Cookies()[0]
	masker, err := pan.NewMasker(pan.Options{})
	if err != nil {
		b.Fatal(err)
	}
	msg := "Hi, my card 4111 1111 1111 1111 was charged twice on the 3rd; order #55821, can you refund one?"
	chat := func() {
		clean, err := sanitize.Text(msg, sanitize.Message)
		if err != nil {
			b.Fatal(err)
		}
		if out, _ := masker.Mask(clean); out == clean {
			b.Fatal("card number not masked")
		}
	}
	console := func() {
		rec := a.Do(apptest.Request{Method: http.MethodGet, Path: "/api/v1/auth/session", RemoteAddr: clientAddr,
			Header: http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}}})
		if rec.Code != http.StatusOK {
			b.Fatalf("session: %d", rec.Code)
		}
	}
	for _, phase := range []string{"quiet", "storm"} {
		b.Run(phase, func(b *testing.B) {
			var s *storm.Storm
			if phase == "storm" {
				var err error
				if s, err = storm.Start(storm.Config{Hasher: a.Accounts.Hasher}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				chat()
			}
			chatFig := storm.Measure(20000, chat)
			consoleFig := storm.Measure(300, console)
			if s != nil {
				tot, err := s.Stop()
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(tot.VerifiesPerSecond(), "storm-verifies/s")
				b.ReportMetric(tot.BusyPerSecond(), "storm-refused/s")
			}
			b.ReportMetric(float64(chatFig.P50.Nanoseconds()), "chat-p50-ns")
			b.ReportMetric(float64(chatFig.P99.Nanoseconds()), "chat-p99-ns")
			b.ReportMetric(float64(consoleFig.P50.Microseconds()), "console-p50-µs")
			b.ReportMetric(float64(consoleFig.P99.Microseconds()), "console-p99-µs")
			b.Logf("%s: chat path %s; console request %s", phase, chatFig, consoleFig)
		})
	}
}
