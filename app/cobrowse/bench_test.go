package cobrowse_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/app/cobrowse"
)

// benchSession starts a session whose visitor shares on node a and whose agent watches from b
// (a itself for one node), and returns both sockets with the agent's state and the first
// snapshot read.
func benchSession(b *testing.B, nodes int) (vis, ag *sock) {
	b.Helper()
	w, a := newWorld(b, "sqlite://"+b.TempDir()+"/db.sqlite", cobrowse.Options{QueueFrames: 4096, VisitorRate: 1 << 30, VisitorBurst: 1 << 30})
	agentNode := a
	if nodes == 2 {
		agentNode = w.newNode(openDB(w.t, w.dbURL))
	}
	owner := agentNode.login(w.owner)
	owner.enable(3600)
	conv := w.conversation(w.visitorA, w.owner)
	id := owner.request(conv)
	vis = a.visitorSocket(w.visitorA, conv, id)
	ag, _, err := owner.agentSocket(conv, id)
	if err != nil {
		b.Fatal(err)
	}
	_ = ag.next()
	_ = vis.next()
	vis.send(page)
	_ = ag.nextRaw()
	return vis, ag
}

// mutationFrame is a frame of n text mutations, as a busy page sends.
func mutationFrame(n, round int) string {
	var sb strings.Builder
	sb.WriteString(`{"t":"mutations","m":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"op":"text","id":4,"v":"Basket: %d items"}`, round*n+i)
	}
	sb.WriteString(`]}`)
	return sb.String()
}

func benchThroughput(b *testing.B, nodes int) {
	vis, ag := benchSession(b, nodes)
	const per = 20
	frames := make([]string, 64)
	for i := range frames {
		frames[i] = mutationFrame(per, i)
	}
	done := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	go func() {
		for i := 0; i < b.N; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, _, err := ag.conn.Read(ctx)
			cancel()
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := vis.conn.Write(ctx, websocket.MessageText, []byte(frames[i%len(frames)]))
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*per)/time.Since(start).Seconds(), "mutations/s")
}

func benchLatency(b *testing.B, nodes int) {
	vis, ag := benchSession(b, nodes)
	frame := []byte(`{"t":"pointer","x":10,"y":20}`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := vis.conn.Write(ctx, websocket.MessageText, frame); err != nil {
			b.Fatal(err)
		}
		if _, _, err := ag.conn.Read(ctx); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
}

// BenchmarkRelayThroughputOneNode: frames of 20 mutations from the visitor's socket to the
// agent's on the same node, pipelined; the metric is mutations relayed (sanitised) per second.
func BenchmarkRelayThroughputOneNode(b *testing.B) { benchThroughput(b, 1) }

// BenchmarkRelayThroughputTwoNodes: the same with the agent on another node (signed, sealed
// node-to-node link).
func BenchmarkRelayThroughputTwoNodes(b *testing.B) { benchThroughput(b, 2) }

// BenchmarkRelayLatencyOneNode: one pointer frame from the visitor's socket until the agent's
// socket has it (ns/op is the round through the relay).
func BenchmarkRelayLatencyOneNode(b *testing.B) { benchLatency(b, 1) }

// BenchmarkRelayLatencyTwoNodes: the same across two nodes.
func BenchmarkRelayLatencyTwoNodes(b *testing.B) { benchLatency(b, 2) }
