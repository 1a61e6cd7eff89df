package server

import (
	"crypto/tls"
	"fmt"
	"io"
	"sync"
	"time"
)

// TicketKeyPeriod is how long a TLS session ticket key encrypts new tickets. The key then only
// decrypts tickets for one more period and is dropped, so no session resumes from a ticket more
// than two periods old, and a key stolen from memory opens at most two days of tickets.
const TicketKeyPeriod = 24 * time.Hour

// TicketKeys rotates a TLS server's session ticket keys on the injected clock instead of Go's
// defaults (a new key daily, each kept for a week). Keys come from rand (crypto/rand in service).
// The rotation is checked on every handshake, through the config's GetConfigForClient, so no
// goroutine runs and a test drives it with its clock.
type TicketKeys struct {
	cfg    *tls.Config
	period time.Duration
	now    func() time.Time
	rand   io.Reader

	mu sync.Mutex
	// keys holds the current key first, then the previous one while it may still decrypt.
	keys  [][32]byte
	since time.Time
}

// NewTicketKeys installs rotating session ticket keys on cfg, which must not be in use yet: a
// first key now, and a rotation check before each handshake (chained before any
// GetConfigForClient cfg already has).
func NewTicketKeys(cfg *tls.Config, period time.Duration, now func() time.Time, rand io.Reader) (*TicketKeys, error) {
	if period <= 0 || now == nil || rand == nil {
		return nil, fmt.Errorf("session ticket keys: period, clock and entropy are required")
	}
	k := &TicketKeys{cfg: cfg, period: period, now: now, rand: rand}
	key, err := k.newKey()
	if err != nil {
		return nil, err
	}
	k.keys, k.since = [][32]byte{key}, now()
	cfg.SetSessionTicketKeys(k.keys)
	next := cfg.GetConfigForClient
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if err := k.Rotate(); err != nil {
			return nil, err
		}
		if next != nil {
			return next(hello)
		}
		return nil, nil
	}
	return k, nil
}

// Rotate makes a fresh key current once a period has passed since the last rotation, keeping
// the previous current key for resumption only; after two periods without a handshake both go.
func (k *TicketKeys) Rotate() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	elapsed := now.Sub(k.since)
	if elapsed < k.period {
		return nil
	}
	key, err := k.newKey()
	if err != nil {
		return err
	}
	keys := [][32]byte{key}
	if elapsed < 2*k.period {
		keys = append(keys, k.keys[0])
	}
	k.keys, k.since = keys, now
	k.cfg.SetSessionTicketKeys(keys)
	return nil
}

// Keys returns the keys in service, the current one first.
func (k *TicketKeys) Keys() [][32]byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([][32]byte(nil), k.keys...)
}

func (k *TicketKeys) newKey() ([32]byte, error) {
	var key [32]byte
	if _, err := io.ReadFull(k.rand, key[:]); err != nil {
		return key, fmt.Errorf("session ticket key: %w", err)
	}
	return key, nil
}
