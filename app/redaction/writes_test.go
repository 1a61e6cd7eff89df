package redaction_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/app/account/accounttest"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// TestSettingsWritesUnderContention sends 300 settings writes back to back and 300 at once —
// masking mode, redaction rules and visitor retention — and expects no 5xx: on SQLite every
// write transaction takes the write lock at its start and waits under the busy timeout, instead
// of failing with "database is locked" when a read-then-write transaction cannot upgrade its lock.
func TestSettingsWritesUnderContention(t *testing.T) {
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		h := newHarness(t, db)
		hdr := sessionHeader(h.owner)
		write := func(i int) apptest.Request {
			switch i % 4 {
			case 0:
				mode := []string{"bin_last4", "last4"}[(i/4)%2]
				return apptest.Request{Method: http.MethodPut, Path: "/api/v1/redaction/pan-mask-mode", Body: `{"mode":"` + mode + `"}`}
			case 1:
				return apptest.Request{Method: http.MethodPost, Path: "/api/v1/redaction/rules",
					Body: fmt.Sprintf(`{"name":"rule-%d","pattern":"POL-%d","replacement":"[policy]","enabled":true}`, i, i)}
			case 2:
				return apptest.Request{Method: http.MethodPut, Path: "/api/v1/redaction/rules/us_ssn",
					Body: fmt.Sprintf(`{"replacement":"[SSN %d]","enabled":%t}`, i, i%8 == 2)}
			default:
				return apptest.Request{Method: http.MethodPut, Path: "/api/v1/visitor-retention", Body: fmt.Sprintf(`{"days":%d}`, 30+i%60)}
			}
		}
		send := func(i int) (int, string) {
			r := write(i)
			r.Header = hdr.Clone()
			r.RemoteAddr = "192.0.2.10:4000"
			rec := h.a.Do(r)
			return rec.Code, rec.Body.String()
		}
		check := func(name string, codes map[int]int, sample map[int]string) {
			t.Helper()
			for code, n := range codes {
				if code >= 500 {
					t.Errorf("%s: %d answers %d, e.g. %s", name, n, code, sample[code])
				}
			}
		}

		codes, sample := map[int]int{}, map[int]string{}
		for i := 0; i < 300; i++ {
			code, body := send(i)
			codes[code]++
			sample[code] = body
		}
		check("back to back", codes, sample)

		var mu sync.Mutex
		codes, sample = map[int]int{}, map[int]string{}
		var wg sync.WaitGroup
		for i := 300; i < 600; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, body := send(i)
				mu.Lock()
				codes[code]++
				sample[code] = body
				mu.Unlock()
			}()
		}
		wg.Wait()
		check("concurrent", codes, sample)
		if codes[http.StatusOK]+codes[http.StatusCreated] == 0 {
			t.Fatalf("no write succeeded: %v", codes)
		}
	})
}

// sessionHeader is the owner's session cookie and CSRF token as request headers, for requests
// sent from several goroutines at once.
func sessionHeader(c *accounttest.Client) http.Header {
	h := http.Header{}
	var parts []string
	for _, name := range []string{"parley_session", "__Host-parley_session"} {
		if ck := c.Cookie(name); ck != nil {
			parts = append(parts, ck.Name+"="+ck.Value)
		}
	}
	h.Set("Cookie", strings.Join(parts, "; "))
	h.Set("X-CSRF-Token", c.CSRF)
	return h
}
