package vault

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/vault/vaulttest"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	eachProvider(t, func(t *testing.T, db *migrations.DB, p KeyProvider) {
		ctx := ctxT(t)
		cp := &counting{KeyProvider: p}
		e := newEnvelope(t, db, cp)
		tenant := newTenant(t, db)
		if err := e.CreateTenantKey(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		conv := vaulttest.Name("c")
		tests := []struct {
			name  string
			field string
			seq   int64
			plain string
		}{
			{name: "message", field: FieldMessageBody, seq: 1, plain: "Hello, my card is 4111 **** **** 1111"},
			{name: "second message", field: FieldMessageBody, seq: 2, plain: "Can you help?"},
			{name: "empty message", field: FieldMessageBody, seq: 3, plain: ""},
			{name: "visitor name", field: FieldVisitorName, plain: "Zoë Ŋgüyen"},
			{name: "visitor email", field: FieldVisitorEmail, plain: "zoe@example.com"},
			{name: "prechat", field: FieldPreChatAnswers, plain: `{"reason":"billing"}`},
			{name: "survey", field: FieldSurveyAnswers, plain: `{"score":5}`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b := Binding{Tenant: tenant, Scope: conv, Field: tt.field, Seq: tt.seq}
				ct, err := e.Seal(ctx, b, []byte(tt.plain))
				if err != nil {
					t.Fatalf("Seal: %v", err)
				}
				if tt.plain != "" && bytes.Contains(ct, []byte(tt.plain)) {
					t.Fatal("ciphertext contains the plaintext")
				}
				if got, want := len(ct), len(tt.plain)+minCiphertext; got != want {
					t.Errorf("ciphertext length = %d, want %d", got, want)
				}
				got, err := e.Open(ctx, b, ct)
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if string(got) != tt.plain {
					t.Errorf("Open = %q, want %q", got, tt.plain)
				}
				s, err := e.SealString(ctx, b, tt.plain)
				if err != nil {
					t.Fatalf("SealString: %v", err)
				}
				if gs, err := e.OpenString(ctx, b, s); err != nil || gs != tt.plain {
					t.Errorf("OpenString = %q, %v; want %q, nil", gs, err, tt.plain)
				}
			})
		}
		// Two seals of the same plaintext differ (random nonce).
		b := Binding{Tenant: tenant, Scope: conv, Field: FieldMessageBody, Seq: 9}
		c1, _ := e.Seal(ctx, b, []byte("same"))
		c2, _ := e.Seal(ctx, b, []byte("same"))
		if bytes.Equal(c1, c2) {
			t.Error("two seals of one plaintext are equal; want distinct nonces")
		}
		if got := cp.generated.Load(); got != 1 {
			t.Errorf("provider GenerateDataKey calls for one conversation = %d, want 1", got)
		}
		if got := cp.unwrapped.Load(); got != 0 {
			t.Errorf("provider UnwrapDataKey calls while cached = %d, want 0", got)
		}
		// A new envelope (a restart, another node) unwraps once per conversation, not per message.
		e2 := newEnvelope(t, db, cp)
		for i := range 20 {
			mb := Binding{Tenant: tenant, Scope: conv, Field: FieldMessageBody, Seq: int64(100 + i)}
			ct, err := e.Seal(ctx, mb, []byte(fmt.Sprint("message ", i)))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := e2.Open(ctx, mb, ct); err != nil || string(got) != fmt.Sprint("message ", i) {
				t.Fatalf("Open on a second envelope = %q, %v", got, err)
			}
		}
		if got := cp.unwrapped.Load(); got != 1 {
			t.Errorf("provider UnwrapDataKey calls for 20 messages on a fresh envelope = %d, want 1", got)
		}
		rec, err := NewStore(db, nil).Get(ctx, tenant, conv)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Wrapped == "" || rec.KeyVersion != 1 || rec.Shredded() {
			t.Errorf("stored key = %+v, want a wrapped key at version 1", rec)
		}
	})
}

func TestEnvelopeBinding(t *testing.T) {
	eachProvider(t, func(t *testing.T, db *migrations.DB, p KeyProvider) {
		ctx := ctxT(t)
		e := newEnvelope(t, db, p)
		tenant, other := newTenant(t, db), newTenant(t, db)
		convA, convB := vaulttest.Name("a"), vaulttest.Name("b")
		home := Binding{Tenant: tenant, Scope: convA, Field: FieldMessageBody, Seq: 7}
		ct, err := e.Seal(ctx, home, []byte("Visitor secret 4111 1111 1111 1111"))
		if err != nil {
			t.Fatal(err)
		}
		// Give every target scope a key of its own, as real conversations have.
		for _, b := range []Binding{{Tenant: tenant, Scope: convB, Field: FieldMessageBody}, {Tenant: other, Scope: convA, Field: FieldMessageBody}} {
			if _, err := e.Seal(ctx, b, []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		tampered := bytes.Clone(ct)
		tampered[len(tampered)-1] ^= 1
		badNonce := bytes.Clone(ct)
		badNonce[3] ^= 0x80
		future := bytes.Clone(ct)
		future[0] = 2
		tests := []struct {
			name string
			b    Binding
			ct   []byte
			want error
		}{
			{name: "other seq", b: Binding{Tenant: tenant, Scope: convA, Field: FieldMessageBody, Seq: 8}, ct: ct, want: ErrMismatch},
			{name: "other field", b: Binding{Tenant: tenant, Scope: convA, Field: FieldVisitorName, Seq: 7}, ct: ct, want: ErrMismatch},
			{name: "other conversation", b: Binding{Tenant: tenant, Scope: convB, Field: FieldMessageBody, Seq: 7}, ct: ct, want: ErrMismatch},
			{name: "other tenant", b: Binding{Tenant: other, Scope: convA, Field: FieldMessageBody, Seq: 7}, ct: ct, want: ErrMismatch},
			{name: "unknown conversation", b: Binding{Tenant: tenant, Scope: vaulttest.Name("z"), Field: FieldMessageBody, Seq: 7}, ct: ct, want: ErrUnreadable},
			{name: "tampered tag", b: home, ct: tampered, want: ErrMismatch},
			{name: "tampered nonce", b: home, ct: badNonce, want: ErrMismatch},
			{name: "unknown format", b: home, ct: future, want: ErrMalformed},
			{name: "truncated", b: home, ct: ct[:minCiphertext-1], want: ErrMalformed},
			{name: "empty", b: home, ct: nil, want: ErrMalformed},
			{name: "invalid tenant", b: Binding{Tenant: "a/b", Scope: convA, Field: FieldMessageBody}, ct: ct, want: ErrInvalidID},
			{name: "negative seq", b: Binding{Tenant: tenant, Scope: convA, Field: FieldMessageBody, Seq: -1}, ct: ct, want: ErrInvalidID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := e.Open(ctx, tt.b, tt.ct)
				if !errors.Is(err, tt.want) {
					t.Fatalf("Open error = %v, want %v", err, tt.want)
				}
				if got != nil {
					t.Errorf("Open returned %d bytes with an error, want none", len(got))
				}
				if errors.Is(err, ErrUnavailable) {
					t.Errorf("Open error %v is retryable; a moved ciphertext must not be", err)
				}
			})
		}
		if got, err := e.Open(ctx, home, ct); err != nil || !bytes.Contains(got, []byte("Visitor secret")) {
			t.Errorf("Open at home = %q, %v", got, err)
		}
		// Opening never creates a data key.
		if _, err := NewStore(db, nil).Get(ctx, tenant, tests[4].b.Scope); !errors.Is(err, ErrNotFound) {
			t.Errorf("Open of an unknown conversation stored a key: Get = %v, want ErrNotFound", err)
		}
	})
}

func TestEnvelopeConcurrentFirstUse(t *testing.T) {
	eachProvider(t, func(t *testing.T, db *migrations.DB, p KeyProvider) {
		ctx := ctxT(t)
		cp := &counting{KeyProvider: p}
		e := newEnvelope(t, db, cp)
		tenant := newTenant(t, db)
		if err := e.CreateTenantKey(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		conv := vaulttest.Name("c")
		const n = 24
		cts := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				cts[i], errs[i] = e.Seal(ctx, Binding{Tenant: tenant, Scope: conv, Field: FieldMessageBody, Seq: int64(i)}, []byte(fmt.Sprint("first ", i)))
			})
		}
		close(start)
		wg.Wait()
		if got := cp.generated.Load(); got != 1 {
			t.Errorf("GenerateDataKey calls for %d concurrent first messages = %d, want 1", n, got)
		}
		fresh := newEnvelope(t, db, p)
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("Seal %d: %v", i, errs[i])
			}
			got, err := fresh.Open(ctx, Binding{Tenant: tenant, Scope: conv, Field: FieldMessageBody, Seq: int64(i)}, cts[i])
			if err != nil || string(got) != fmt.Sprint("first ", i) {
				t.Errorf("Open %d = %q, %v", i, got, err)
			}
		}
	})
}

func TestEnvelopeTwoNodesRace(t *testing.T) {
	// Two envelopes (two nodes) sealing the first message of one conversation at once end up with
	// one stored key, and each can read the other's messages.
	eachProvider(t, func(t *testing.T, db *migrations.DB, p KeyProvider) {
		ctx := ctxT(t)
		e1, e2 := newEnvelope(t, db, p), newEnvelope(t, db, p)
		tenant := newTenant(t, db)
		conv := vaulttest.Name("c")
		b1 := Binding{Tenant: tenant, Scope: conv, Field: FieldMessageBody, Seq: 1}
		b2 := Binding{Tenant: tenant, Scope: conv, Field: FieldMessageBody, Seq: 2}
		var c1, c2 []byte
		var err1, err2 error
		var wg sync.WaitGroup
		wg.Go(func() { c1, err1 = e1.Seal(ctx, b1, []byte("from node one")) })
		wg.Go(func() { c2, err2 = e2.Seal(ctx, b2, []byte("from node two")) })
		wg.Wait()
		if err1 != nil || err2 != nil {
			t.Fatalf("Seal: %v, %v", err1, err2)
		}
		if got, err := e2.Open(ctx, b1, c1); err != nil || string(got) != "from node one" {
			t.Errorf("node two opens node one's message = %q, %v", got, err)
		}
		if got, err := e1.Open(ctx, b2, c2); err != nil || string(got) != "from node two" {
			t.Errorf("node one opens node two's message = %q, %v", got, err)
		}
	})
}

func TestEnvelopeCacheBoundAndZeroing(t *testing.T) {
	db := openDB(t, "sqlite")
	ctx := ctxT(t)
	cp := &counting{KeyProvider: newLocal(t)}
	e, err := NewEnvelope(EnvelopeConfig{Provider: cp, Store: NewStore(db, nil), CacheSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tenant := newTenant(t, db)
	var first *cachedKey
	for i := range 3 {
		b := Binding{Tenant: tenant, Scope: fmt.Sprint("conv", i), Field: FieldMessageBody}
		if _, err := e.Seal(ctx, b, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = e.cache.peek(cacheID(tenant, "conv0"))
		}
	}
	if st := e.CacheStats(); st.Size != 2 || st.Evictions != 1 {
		t.Errorf("cache stats = %+v, want size 2 and 1 eviction", st)
	}
	if first == nil || !first.dead || !bytes.Equal(first.key, make([]byte, 32)) {
		t.Error("evicted data key was not zeroed")
	}
	if _, err := e.Seal(ctx, Binding{Tenant: tenant, Scope: "conv0", Field: FieldMessageBody, Seq: 1}, []byte("again")); err != nil {
		t.Fatal(err)
	}
	if got := cp.unwrapped.Load(); got != 1 {
		t.Errorf("UnwrapDataKey after eviction = %d calls, want 1", got)
	}
	e.Close()
	if st := e.CacheStats(); st.Size != 0 {
		t.Errorf("cache size after Close = %d, want 0", st.Size)
	}
	if _, err := e.Seal(ctx, Binding{Tenant: tenant, Scope: "conv0", Field: FieldMessageBody}, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Seal after Close = %v, want ErrClosed", err)
	}
}
