package authz_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/identity"
)

// The console's ban list, visitor retention and encryption key pages, and key rotation.
func init() {
	for k, v := range map[string]fixture{
		"GET /bans": {build: get("/bans"), status: http.StatusOK},
		"POST /bans": {status: http.StatusSeeOther, build: func(w *world, _ *principal, _ target) request {
			w.seq++
			return formRequest("/bans", url.Values{"kind": {chat.BanIP}, "value": {fmt.Sprintf("2001:db8::%x", w.seq)}, "reason": {"Matrix."}})
		}},
		"POST /bans/:ban/delete": {status: http.StatusSeeOther, object: true, build: func(w *world, _ *principal, tg target) request {
			return formRequest("/bans/"+w.ban(tg)+"/delete", url.Values{})
		}},
		"GET /retention": {build: get("/retention"), status: http.StatusOK},
		"POST /retention": {status: http.StatusSeeOther, build: func(w *world, _ *principal, _ target) request {
			w.seq++
			return formRequest("/retention", url.Values{"days": {strconv.Itoa(30 + w.seq)}})
		}},
		"GET /keys": {build: get("/keys"), status: http.StatusOK},
		"POST /keys/rotate": {status: http.StatusSeeOther, build: func(w *world, _ *principal, _ target) request {
			return formRequest("/keys/rotate", url.Values{"confirm": {"ROTATE"}, "expected_latest_version": {strconv.Itoa(w.keyVersion())}})
		}},
		"POST /api/v1/keys/rotate": {build: withBody("/api/v1/keys/rotate", "{}"), status: http.StatusOK},
	} {
		routeFixtures[k] = v
	}
}

// ban adds a ban to the target's tenant and returns its id.
func (w *world) ban(tg target) string {
	t, owner := w.tenantOf(tg)
	w.seq++
	b, err := w.a.Chat.AddBan(context.Background(), &identity.Principal{TenantID: t.ID, UserID: owner.ID},
		chat.BanInput{Kind: chat.BanIP, Value: fmt.Sprintf("2001:db8:1::%x", w.seq)}, chat.Origin{})
	if err != nil {
		w.a.t.Fatalf("add ban: %v", err)
	}
	return b.ID
}

// keyVersion is tenant A's current key version.
func (w *world) keyVersion() int {
	rep, err := w.a.KeyTools.Status(context.Background(), w.A.ID)
	if err != nil {
		w.a.t.Fatalf("key status: %v", err)
	}
	return rep.Key.LatestVersion
}
