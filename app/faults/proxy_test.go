package faults_test

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/faults"
)

// echoServer answers every line with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader) error {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	line, err := r.ReadString('\n')
	if err == nil && line != "ping\n" {
		t.Fatalf("echo = %q", line)
	}
	return err
}

// TestProxy: bytes pass both ways; a delay holds back every answer; Cut drops open connections
// and refuses new ones; Restore lets them through again; Close ends everything.
func TestProxy(t *testing.T) {
	p, err := faults.NewProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Close() }()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	if err := roundTrip(t, c, r); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	before := p.Delayed()
	p.SetDelay(60 * time.Millisecond)
	start := time.Now()
	if err := roundTrip(t, c, r); err != nil {
		t.Fatal(err)
	}
	// A lower bound only: the answer cannot arrive before the delay passed.
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Fatalf("answer came after %s, want at least the 60ms delay", d)
	}
	if p.Delayed() <= before {
		t.Fatal("the delayed answer was not counted")
	}
	p.SetDelay(0)

	p.Cut()
	if err := roundTrip(t, c, r); err == nil {
		t.Fatal("an open connection survived the cut")
	}
	if c2, err := net.Dial("tcp", p.Addr()); err == nil {
		_ = c2.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c2.Read(make([]byte, 1)); err == nil {
			t.Fatal("a new connection got through while cut")
		}
		_ = c2.Close()
	}
	p.Restore()
	c3, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c3.Close() }()
	if err := roundTrip(t, c3, bufio.NewReader(c3)); err != nil {
		t.Fatalf("after restore: %v", err)
	}
	if p.Open() != 2 {
		t.Fatalf("open = %d, want 2 (both sides of one connection)", p.Open())
	}
}
