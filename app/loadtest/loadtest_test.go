package loadtest_test

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/account"
	"github.com/parleyhq/parley/app/apptest"
	"github.com/parleyhq/parley/app/loadtest"
	"github.com/parleyhq/parley/app/tenant"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

const (
	metricsToken = "l0ad-m3trics-t0ken-for-tests-0123456789"
	siteOrigin   = "https://shop.load.example"
	password     = "Quiet-river-7-stones-bright"
)

// parley is an in-process Parley on a real listener and the real clock (the rate limits refill as
// in production), trusting the loopback proxy's X-Forwarded-For as a deployment behind one does.
type parley struct {
	url     string
	agents  []loadtest.Account
	siteKey string
}

func startParley(t *testing.T, db *migrations.DB, agents int) *parley {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	cfg := apptest.Config(t, map[string]string{"PARLEY_PUBLIC_URL": base, "PARLEY_TRUSTED_PROXIES": "127.0.0.1/32",
		"PARLEY_METRICS_TOKEN": metricsToken})
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, db, app.Options{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.Server.Echo)
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	chatDone := make(chan struct{})
	go func() { defer close(chatDone); _ = a.RunChat(ctx) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = a.ChatHTTP.Shutdown(sctx)
		_ = a.Chat.Shutdown(sctx)
		cancel()
		<-chatDone
		srv.Close()
		a.Envelope.Close()
	})

	p := &parley{url: base}
	var org tenant.Tenant
	for i := range agents + 1 {
		role, email := "agent", "agent"+string(rune('a'+i))+"@load.example"
		if i == 0 {
			role, email = "owner", "owner@load.example"
		}
		err := migrations.Transaction(a.DB.Gorm.WithContext(ctx), func(tx *gorm.DB) error {
			ts := a.Tenants.WithTx(tx)
			t, err := ts.BySlug(ctx, tenant.Slug("Load Test Bank"))
			created := false
			if errors.Is(err, tenant.ErrNotFound) {
				if t, err = ts.CreateTenant(ctx, "Load Test Bank"); err != nil {
					return err
				}
				created = true
			}
			if err != nil {
				return err
			}
			org = t
			u, err := a.Accounts.CreateUser(ctx, tx, account.NewUser{TenantID: t.ID, TenantName: t.Name, Email: email,
				Name: email, Password: password, Role: role})
			if err != nil || !created {
				return err
			}
			return a.TenantCreated(ctx, tx, t, u)
		})
		if err != nil {
			t.Fatalf("create %s: %v", email, err)
		}
		if i > 0 {
			p.agents = append(p.agents, loadtest.Account{Tenant: org.Slug, Email: email, Password: password})
		}
	}
	if err := a.Enforcer.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	site, err := a.Tenants.CreateSite(migrations.WithTenant(ctx, org.ID), org.ID, "Shop", []string{siteOrigin})
	if err != nil {
		t.Fatal(err)
	}
	p.siteKey = site.SiteKey
	return p
}

// TestContract drives a real server over real sockets with a small load — three visitors of two
// agents, twenty messages each (past the visitor's burst, so throttled messages are re-sent as
// the protocol says), every fifth with a card number, six sign-ins of two other users meanwhile
// — and checks the delivery contract:
// every acked message reaches its agent exactly once, at the seq of its ack, the card masked.
// Correctness only: no timing is asserted.
func TestContract(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a server for about 15 s")
	}
	migratetest.Each(t, func(t *testing.T, db *migrations.DB) {
		p := startParley(t, db, 4)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		res, err := loadtest.Run(ctx, loadtest.Config{
			BaseURL: p.url, Agents: p.agents[:2], StormAccounts: p.agents[2:], SiteKey: p.siteKey, SiteOrigin: siteOrigin,
			Visitors: 3, Messages: 20, Size: 120, InFlight: 2, CardEvery: 5, MetricsToken: metricsToken,
			SignIns: 6, SignInConcurrency: 2,
			Server: loadtest.Scrape{URLs: []string{p.url}, Token: metricsToken},
		})
		if err != nil {
			t.Fatal(err)
		}
		checkContract(t, res, 60)
		if res.SignIn.Count != 6 {
			t.Errorf("got %d sign-ins of the storm, want 6 (errors %v)", res.SignIn.Count, res.Errors)
		}
		if res.CardMessages != 12 || res.CardsMasked != 12 || res.CardsInClear != 0 {
			t.Errorf("got %d card messages, %d masked, %d in clear; want 12, 12, 0", res.CardMessages, res.CardsMasked, res.CardsInClear)
		}
		// The server counted what the load sent: its own metrics agree.
		if got := res.ServerMetrics[`parley_chat_messages_total{sender="visitor"}`]; got != 60 {
			t.Errorf("server counted %v visitor messages, want 60", got)
		}
		if got := res.ServerMetrics[`parley_chat_message_delivery_seconds_count{receiver="agent"}`]; got < 60 {
			t.Errorf("server counted %v deliveries to agents, want at least 60", got)
		}
		if got := res.ServerMetrics[`parley_chat_sockets_open{kind="agent"}`]; got != 2 {
			t.Errorf("server counted %v open agent sockets at the end of the run, want 2", got)
		}
		if res.Server == nil || res.Server.RSSIdleMB <= 0 {
			t.Errorf("no server memory sampled: %+v", res.Server)
		}
	})
}

// TestBaseline: the bare fan-out server keeps the same contract under the same load.
func TestBaseline(t *testing.T) {
	srv := httptest.NewServer(loadtest.NewBaseline())
	defer srv.Close()
	res, err := loadtest.Run(context.Background(), loadtest.Config{BaseURL: srv.URL, Baseline: true, Visitors: 3, Messages: 20, InFlight: 4, CardEvery: 5})
	if err != nil {
		t.Fatal(err)
	}
	checkContract(t, res, 60)
}

func checkContract(t *testing.T, res *loadtest.Result, want int64) {
	t.Helper()
	if !res.ContractOK || res.Lost != 0 || res.Duplicated != 0 || res.OutOfOrder != 0 {
		t.Errorf("contract broken: lost %d, duplicated %d, out of order %d:\n%s", res.Lost, res.Duplicated, res.OutOfOrder,
			strings.Join(res.Violations, "\n"))
	}
	if res.Acked != want || res.Delivered != want || res.Failed != 0 {
		t.Errorf("got %d acked, %d delivered, %d failed; want %d, %d, 0 (errors %v)", res.Acked, res.Delivered, res.Failed, want, want, res.Errors)
	}
	if res.Ack.Count != int(want) || res.Delivery.Count != int(want) {
		t.Errorf("got %d ack and %d delivery latencies, want %d each", res.Ack.Count, res.Delivery.Count, want)
	}
}
