package faults_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/chat/hub/natstest"
	"github.com/parleyhq/parley/app/faults"
)

// The load of every scenario: visitors each with one message in flight, a new one every pace
// (the installation's per-visitor limit, a burst of 10 then 1 a second, answers the rest with
// rate_limited and a wait, which the clients honour), two agents.
const (
	visitors = 6
	agents   = 2
	pace     = 50 * time.Millisecond
)

// TestFaultPostgresRestart: PostgreSQL is stopped (fast shutdown: every connection terminated)
// and started again while two nodes carry chats with the LISTEN/NOTIFY relay. Sends during the
// outage get retryable answers; each node's pool and listener reconnect by themselves; every
// acked message is stored and delivered exactly once.
func TestFaultPostgresRestart(t *testing.T) {
	scenario(t)
	pg := newPG(t)
	c := newCluster(t, pg.AppURL, nil)
	c.start()
	c.start()
	c.setup(agents)
	ld := c.startLoad(visitors, agents, pace)
	ld.waitAcks(time.Time{}, 30, 30*time.Second)

	pg.Stop()
	time.Sleep(2 * time.Second) // the outage: sends meanwhile are refused as retryable
	pg.Start()
	back := time.Now()
	ld.waitAcks(back, 30, 45*time.Second)
	ld.finish()
}

// TestFaultVaultRestart: Vault (file storage, so its keys survive) is killed and started again
// while chats go on. Messages in open conversations keep flowing on the data keys in memory; a
// chat started during the outage is refused as retryable (503 unavailable), never stored
// unencrypted; once Vault is back new chats start again without anything done to Parley.
func TestFaultVaultRestart(t *testing.T) {
	scenario(t)
	v := newVault(t)
	pg := newPG(t)
	c := newCluster(t, pg.AppURL, map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.Token})
	c.start()
	c.start()
	c.setup(agents)
	ld := c.startLoad(visitors, agents, pace)
	ld.waitAcks(time.Time{}, 30, 30*time.Second)

	late := c.pageView(c.live()[0])
	v.Stop()
	down := time.Now()
	code, errCode := c.tryChat(c.live()[0], late)
	if code != http.StatusServiceUnavailable || errCode != "unavailable" {
		t.Errorf("a chat started while Vault is down = %d %q, want 503 unavailable", code, errCode)
	}
	ld.waitAcks(down, 10, 30*time.Second) // open conversations carry on
	v.Start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// A new visitor each time: a visitor may start only a few chats a minute.
		code, errCode = c.tryChat(c.live()[1], c.pageView(c.live()[1]))
		if code == http.StatusCreated {
			break
		}
		if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("a chat started after Vault came back = %d %q, want 201 (503 while it recovers)", code, errCode)
		}
		time.Sleep(200 * time.Millisecond)
	}
	ld.waitAcks(time.Now(), 10, 30*time.Second)
	ld.finish()
}

// TestFaultNodeKilled: three nodes relay through NATS; one is killed under load (every
// connection to it drops with no close frame). Its visitors and agents reconnect to the other
// nodes with their last seq and get the gap replayed; nothing acked is lost or repeated.
func TestFaultNodeKilled(t *testing.T) {
	scenario(t)
	natsURL := natstest.URL(t)
	pg := newPG(t)
	c := newCluster(t, pg.AppURL, map[string]string{"PARLEY_FANOUT_URL": natsURL, "PARLEY_FANOUT_PREFIX": natstest.Prefix(t)})
	c.start()
	c.start()
	c.start()
	c.setup(agents)
	ld := c.startLoad(visitors, agents, pace)
	ld.waitAcks(time.Time{}, 30, 30*time.Second)

	c.nodes[1].kill()
	killed := time.Now()
	ld.waitAcks(killed, 30, 45*time.Second)
	ld.finish()
	if ld.l.closes[1006] == 0 {
		t.Error("no socket saw the node die: the scenario did not exercise a reconnect")
	}
}

// TestFaultSlowDatabase: every answer of PostgreSQL comes 30 ms late (a delaying proxy between
// the nodes and the server) for a while. Messages are acked later, never lost or repeated, and
// the pace comes back when the database does.
func TestFaultSlowDatabase(t *testing.T) {
	scenario(t)
	pg := newPG(t)
	proxy, err := faults.NewProxy(pg.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	c := newCluster(t, pg.URLVia(proxy.Addr()), nil)
	c.start()
	c.start()
	c.setup(agents)
	ld := c.startLoad(visitors, agents, pace)
	ld.waitAcks(time.Time{}, 30, 30*time.Second)

	proxy.SetDelay(30 * time.Millisecond)
	slow := time.Now()
	before := proxy.Delayed()
	ld.waitAcks(slow, 20, 45*time.Second)
	if proxy.Delayed() == before {
		t.Fatal("no database answer went through the delaying proxy")
	}
	proxy.SetDelay(0)
	ld.waitAcks(time.Now(), 20, 30*time.Second)
	ld.finish()
}
