package faults_test

import (
	"context"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// load is visitors chatting with agents across the cluster's nodes while a fault happens.
type load struct {
	c        *cluster
	l        *ledger
	visitors []*visitor
	agents   []*agent
	stop     chan struct{}
	wg       sync.WaitGroup
	errs     chan error
	cancel   context.CancelFunc
	agentsWG sync.WaitGroup
	// goroutines is the process's count once the cluster is up, before the load.
	goroutines int
	ackMu      sync.Mutex
	acks       []time.Time
}

// startLoad starts chats for visitors, lets agents accept them (each agent accepts whatever is
// offered, capacity permitting) and starts the visitors sending a message every pace.
func (c *cluster) startLoad(visitors, agents int, pace time.Duration) *load {
	t := c.t
	t.Helper()
	ld := &load{c: c, l: newLedger(), stop: make(chan struct{}), errs: make(chan error, visitors), goroutines: chatGoroutines()}
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	ld.cancel = cancel
	// Agents first: a department with nobody online sends visitors to the offline form.
	for i := range agents {
		a := c.newAgent(ld.l, i)
		ld.agents = append(ld.agents, a)
		ld.agentsWG.Add(1)
		go func() { defer ld.agentsWG.Done(); a.run(ctx) }()
	}
	for !ld.agentsOnline() {
		if time.Since(start) > 20*time.Second {
			t.Fatal("the agents did not come online")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := range visitors {
		v := c.newVisitor(ld.l, i)
		v.onAck = ld.noteAck
		ld.visitors = append(ld.visitors, v)
	}
	// Every chat is taken before the load starts.
	deadline := time.Now().Add(30 * time.Second)
	for !ld.allTaken() {
		if time.Now().After(deadline) {
			t.Fatal("the agents did not take every chat")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, v := range ld.visitors {
		ld.wg.Add(1)
		go func() {
			defer ld.wg.Done()
			if err := v.run(ld.stop, 45*time.Second, pace); err != nil {
				ld.errs <- err
			}
		}()
	}
	return ld
}

// agentsOnline reports whether every agent has its socket open.
func (ld *load) agentsOnline() bool {
	for _, a := range ld.agents {
		a.mu.Lock()
		up := a.up
		a.mu.Unlock()
		if !up {
			return false
		}
	}
	return true
}

// noteAck records when a message was acked.
func (ld *load) noteAck() {
	ld.ackMu.Lock()
	ld.acks = append(ld.acks, time.Now())
	ld.ackMu.Unlock()
}

// allTaken reports whether an agent follows every visitor's chat with the join seen.
func (ld *load) allTaken() bool {
	for _, v := range ld.visitors {
		taken := false
		for _, a := range ld.agents {
			a.mu.Lock()
			if a.cursor[v.conv] >= 2 {
				taken = true
			}
			a.mu.Unlock()
		}
		if !taken {
			return false
		}
	}
	return true
}

// acksSince returns how many messages were acked after at.
func (ld *load) acksSince(at time.Time) int {
	ld.ackMu.Lock()
	defer ld.ackMu.Unlock()
	n := 0
	for _, a := range ld.acks {
		if a.After(at) {
			n++
		}
	}
	return n
}

// waitAcks waits until n messages were acked after at.
func (ld *load) waitAcks(at time.Time, n int, within time.Duration) {
	ld.c.t.Helper()
	deadline := time.Now().Add(within)
	for ld.acksSince(at) < n {
		if time.Now().After(deadline) {
			ld.c.t.Fatalf("only %d messages acked within %s after the fault (want %d): Parley did not recover", ld.acksSince(at), within, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// finish stops the visitors (each finishes its message in flight), waits until the agents have
// every acked message, reads the transcripts and checks the delivery contract.
func (ld *load) finish() {
	t := ld.c.t
	t.Helper()
	close(ld.stop)
	ld.wg.Wait()
	close(ld.errs)
	for err := range ld.errs {
		t.Error(err)
	}
	total := 0
	acked := map[string]map[string]bool{}
	for _, v := range ld.visitors {
		acked[v.conv] = map[string]bool{}
		for k := range v.acked {
			acked[v.conv][k] = true
		}
		total += len(v.acked)
	}
	// The agents' live streams catch up.
	deadline := time.Now().Add(30 * time.Second)
	for !ld.agentsHave(acked) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	live := ld.agentKeys()
	for conv, keys := range acked {
		for k := range keys {
			if n := live[conv][k]; n != 1 {
				t.Errorf("conversation %s: acked message %s reached the agents %d times, want exactly once", conv, k, n)
			}
		}
	}
	// The record: every acked message once, nothing else (every message sent was acked).
	record := map[string]map[string]int{}
	for _, a := range ld.agents {
		for conv, keys := range a.transcript(t) {
			if record[conv] == nil {
				record[conv] = map[string]int{}
			}
			for k, n := range keys {
				record[conv][k] += n
			}
		}
	}
	for conv, keys := range acked {
		for k := range keys {
			if n := record[conv][k]; n != 1 {
				t.Errorf("conversation %s: acked message %s is stored %d times, want exactly once", conv, k, n)
			}
		}
		for k, n := range record[conv] {
			if !keys[k] {
				t.Errorf("conversation %s: stored message %s (%d times) was never acked", conv, k, n)
			}
		}
	}
	ld.l.mu.Lock()
	for _, p := range ld.l.problems {
		t.Error(p)
	}
	for code, n := range ld.l.errors {
		if !retryable[code] && code != "agent:conflict" {
			t.Errorf("clients got %d %q errors: not a retryable answer", n, code)
		}
	}
	if ld.l.noRetryAfter > 0 {
		t.Errorf("%d retryable errors came without retry_after_ms", ld.l.noRetryAfter)
	}
	for code, n := range ld.l.closes {
		if !reconnectable[code] {
			t.Errorf("%d sockets closed with %d: not a code a client reconnects after", n, code)
		}
	}
	for status, n := range ld.l.httpStatus {
		if status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests {
			t.Errorf("%d socket upgrades were refused with %d: not a status a client retries after", n, status)
		}
	}
	t.Logf("delivery: %d messages acked, each stored and delivered once; errors %v, socket closes %v, failed connects %d (refused upgrades by status %v)",
		total, sorted(ld.l.errors), ld.l.closes, ld.l.dialFailures, ld.l.httpStatus)
	ld.l.mu.Unlock()
	ld.cancel()
	ld.agentsWG.Wait()
	ld.bounded()
}

func sorted(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	for i, k := range out {
		out[i] = k + "=" + itoa(m[k])
	}
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func (ld *load) agentsHave(acked map[string]map[string]bool) bool {
	live := ld.agentKeys()
	for conv, keys := range acked {
		for k := range keys {
			if live[conv][k] < 1 {
				return false
			}
		}
	}
	return true
}

func (ld *load) agentKeys() map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, a := range ld.agents {
		a.mu.Lock()
		for conv, keys := range a.keys {
			if out[conv] == nil {
				out[conv] = map[string]int{}
			}
			for k, n := range keys {
				out[conv][k] += n
			}
		}
		a.mu.Unlock()
	}
	return out
}

// chatGoroutines counts the goroutines serving sockets and the chat (the transport, the engine,
// the WebSocket library): one set per socket and per background loop, so their number comes back
// to where it was when every client has gone. (Database pools and the test's proxies keep
// connections of their own, bounded by their size, and are not counted.)
func chatGoroutines() int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "parley/app/chat") || strings.Contains(g, "coder/websocket") {
			n++
		}
	}
	return n
}

// bounded checks, once every client is gone, that no node keeps a subscriber and that the
// goroutines of sockets and the chat came back to their number before the load: sockets and
// their queues were released, nothing grew without bound.
func (ld *load) bounded() {
	t := ld.c.t
	t.Helper()
	for _, v := range ld.visitors {
		v.drop()
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		subs := 0
		for _, n := range ld.c.live() {
			subs += n.app.ChatHub.Subscribers()
		}
		g := chatGoroutines()
		if subs == 0 && g <= ld.goroutines {
			t.Logf("bounded: 0 subscribers left, %d goroutines (%d before the load)", g, ld.goroutines)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the load: %d hub subscribers, %d goroutines (%d before): something is not released", subs, g, ld.goroutines)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
