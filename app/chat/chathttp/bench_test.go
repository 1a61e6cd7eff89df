package chathttp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/app/chat"
	"github.com/parleyhq/parley/app/chat/limit"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/migrations/migratetest"
)

// unlimited lifts the throttles so a benchmark measures the engine, not the limiter.
var unlimited = chat.Limits{
	VisitorMessages: limit.Every(time.Microsecond, 1<<30), AgentMessages: limit.Every(time.Microsecond, 1<<30),
	IPMessages: limit.Every(time.Microsecond, 1<<30), VisitorStarts: limit.Every(time.Microsecond, 1<<30),
	IPStarts: limit.Every(time.Microsecond, 1<<30), IPPageViews: limit.Every(time.Microsecond, 1<<30),
	VisitorPageViews: limit.Every(time.Microsecond, 1<<30), IPConnects: limit.Every(time.Microsecond, 1<<30),
	VisitorConnects: limit.Every(time.Microsecond, 1<<30), PresenceTTL: 24 * time.Hour,
}

// benchDialects runs a benchmark on SQLite and, when configured, PostgreSQL: as the server's role
// (row-level security in force) and, as "postgres-without-rls", as a superuser it does not bind,
// so the two show what row-level security costs.
func benchDialects(b *testing.B, fn func(b *testing.B, e *env)) {
	for _, d := range migratetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			url := migratetest.URL(b, d)
			fn(b, newEnv(b, openURL(b, url, true), url))
		})
		if d == migrations.Postgres {
			b.Run("postgres-without-rls", func(b *testing.B) {
				url := migratetest.BeneathURL(b, migratetest.URL(b, d))
				fn(b, newEnv(b, openURL(b, url, false), url))
			})
		}
	}
}

// BenchmarkMessagePath measures messages per second through the whole path on one node: a
// visitor's WebSocket frame is decoded, sanitized, PAN-masked (with split detection), sealed
// with AES-256-GCM under the conversation's data key, stored with its seq, acked, and delivered
// to the agent's socket and the visitor's own. One op is one message, sent with up to 64 in
// flight and counted when the agent has received it.
func BenchmarkMessagePath(b *testing.B) {
	benchDialects(b, func(b *testing.B, e *env) {
		n := e.node(e.db, unlimited)
		ch := openChat(b, e, n)
		go func() {
			for range ch.visitor.ch { // the visitor's acks and own events
			}
		}()
		const window = 64
		text := "Hello, my card 4111 1111 1111 1111 was declined at checkout, can you help?"
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		sent, got := 0, 0
		for got < b.N {
			for sent < b.N && sent-got < window {
				ch.visitor.send(map[string]any{"type": "message", "key": fmt.Sprint("b-", sent), "text": text})
				sent++
			}
			f := ch.agent.next()
			if f.Type == "event" {
				got++
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	})
}

// BenchmarkMessagePathParallel is BenchmarkMessagePath over 16 conversations at once (16
// visitor sockets, 16 agent sockets): the aggregate rate one node sustains when commits of
// different conversations overlap.
func BenchmarkMessagePathParallel(b *testing.B) {
	benchDialects(b, func(b *testing.B, e *env) {
		n := e.node(e.db, unlimited)
		const convs, window = 16, 16
		chats := make([]*activeChat, convs)
		for i := range chats {
			chats[i] = openChat(b, e, n)
			go func() {
				for range chats[i].visitor.ch {
				}
			}()
		}
		text := "Hello, my card 4111 1111 1111 1111 was declined at checkout, can you help?"
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		per := (b.N + convs - 1) / convs
		done := make(chan struct{}, convs)
		for ci, ch := range chats {
			go func() {
				defer func() { done <- struct{}{} }()
				sent, got := 0, 0
				for got < per {
					for sent < per && sent-got < window {
						ch.visitor.send(map[string]any{"type": "message", "key": fmt.Sprint("p-", ci, "-", sent), "text": text})
						sent++
					}
					if f, ok := <-ch.agent.ch; !ok {
						return
					} else if f.Type == "event" {
						got++
					}
				}
			}()
		}
		for range convs {
			<-done
		}
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(per*convs)/elapsed.Seconds(), "msgs/s")
	})
}

// BenchmarkIdleSockets measures the server memory an idle visitor socket holds (after hello,
// welcome and replay): the clients run in a child process so only the server is counted. It
// reports the growth of the process's resident set (VmRSS, what the operating system charges)
// per socket as KB/socket, the heap and stacks in use per socket as B/socket, and sockets per
// GiB of RSS; -benchtime=1x is enough. PARLEY_BENCH_IDLE_SOCKETS sets the number of sockets.
func BenchmarkIdleSockets(b *testing.B) {
	sockets := 2000
	if n, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_IDLE_SOCKETS")); err == nil && n > 0 {
		sockets = n // 10000 for the density target: needs that many open files in both processes
	}
	url := migratetest.URL(b, migrations.SQLite)
	e := newEnv(b, openURL(b, url, true), url)
	n := e.node(e.db, unlimited)
	n.agentSocket(b, e.fullAgent("Ivy"), nil)
	var lines []string
	for range sockets {
		id := n.newVisitor(b, e)
		c := n.start(b, e, id.VisitorToken, e.cards.ID, "")
		lines = append(lines, id.VisitorToken+" "+c.ConversationID)
	}
	list := filepath.Join(b.TempDir(), "sockets.txt")
	if err := os.WriteFile(list, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		before := memInUse()
		stackBefore := stackInUse()
		rssBefore := rss(b)
		cmd := exec.Command(os.Args[0], "-test.run=^TestIdleClientsHelper$", "-test.v")
		cmd.Env = append(os.Environ(), "PARLEY_IDLE_URL="+n.widgetURL(e, "/ws"), "PARLEY_IDLE_LIST="+list)
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		ready := false
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "READY") {
				ready = true
				break
			}
		}
		if !ready {
			b.Fatal("client process did not connect its sockets")
		}
		if hs := n.svc.Hub().Subscribers(); hs < sockets {
			b.Fatalf("server holds %d subscribers, want %d", hs, sockets)
		}
		after := memInUse()
		stackAfter := stackInUse()
		rssAfter := rss(b)
		_ = stdin.Close()
		_ = cmd.Wait()
		per := float64(after-before) / float64(sockets)
		perRSS := float64(rssAfter-rssBefore) / float64(sockets)
		b.ReportMetric(per, "B/socket")
		b.ReportMetric(float64(stackAfter-stackBefore)/float64(sockets), "stack-B/socket")
		b.ReportMetric(perRSS/1024, "KB/socket")
		b.ReportMetric(float64(1<<30)/perRSS, "sockets/GiB")
	}
}

// memInUse is the heap and goroutine stack memory in use after collections; several cycles let
// the runtime shrink the stacks idle goroutines no longer need, as it does on a long-running node.
func memInUse() uint64 {
	for range 6 {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// stackInUse is the goroutine stack memory in use (after memInUse's collections).
func stackInUse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.StackInuse
}

// rss returns the process's resident set size in bytes (VmRSS of /proc/self/status), after the
// collections memInUse runs and with freed memory returned to the operating system, as a node
// that has been idle a while holds it.
func rss(b *testing.B) uint64 {
	b.Helper()
	debug.FreeOSMemory()
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status: resident set size unknown")
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb * 1024
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// TestIdleClientsHelper is BenchmarkIdleSockets' client process: it opens one visitor socket per
// line of PARLEY_IDLE_LIST, says hello, reads the replay, prints READY and idles until its stdin
// closes. Without the variables it does nothing.
func TestIdleClientsHelper(t *testing.T) {
	url, list := os.Getenv("PARLEY_IDLE_URL"), os.Getenv("PARLEY_IDLE_LIST")
	if url == "" || list == "" {
		t.Skip("only run by BenchmarkIdleSockets")
	}
	raw, err := os.ReadFile(list) // #nosec G304 -- the path comes from the parent benchmark
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var conns []*websocket.Conn
	for _, line := range strings.Split(string(raw), "\n") {
		token, conv, _ := strings.Cut(line, " ")
		c, _, err := websocket.Dial(ctx, strings.Replace(url, "http://", "ws://", 1), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {siteOrigin}}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(map[string]any{"type": "hello", "token": token, "conversation_id": conv, "last_seq": 0})
		if err := c.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
		for range 2 { // welcome and the started event
			if _, _, err := c.Read(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// Keep answering pings and take whatever else comes (queue positions) while idle:
		// CloseRead would close the socket on the first data frame.
		go func() {
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
		}()
		conns = append(conns, c)
	}
	fmt.Println("READY", len(conns))
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		_ = c.CloseNow()
	}
}
