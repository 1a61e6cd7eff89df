package passhash

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	p := MinParams()
	salt := bytes.Repeat([]byte{0xA5}, int(p.SaltLen))
	key := bytes.Repeat([]byte{0x5A}, int(p.KeyLen))
	enc := encode(p, salt, key)
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(enc, want) {
		t.Fatalf("encode: got %q, want prefix %q", enc, want)
	}
	d, err := decode(enc)
	if err != nil {
		t.Fatalf("decode(encode()): %v", err)
	}
	if d.params != p {
		t.Errorf("params: got %+v, want %+v", d.params, p)
	}
	if !bytes.Equal(d.salt, salt) || !bytes.Equal(d.key, key) {
		t.Errorf("salt/key did not survive the round trip")
	}
}

func TestParseParams(t *testing.T) {
	got, err := ParseParams("$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")
	if err != nil {
		t.Fatalf("ParseParams: %v", err)
	}
	want := Params{Memory: 65536, Iterations: 3, Parallelism: 4, SaltLen: 8, KeyLen: 32}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	const (
		salt = "c29tZXNhbHQ"
		key  = "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	)
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"garbage", "not a hash", ErrMalformed},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ012", ErrMalformed},
		{"argon2i", "$argon2i$v=19$m=65536,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"argon2d", "$argon2d$v=19$m=65536,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"version 16", "$argon2id$v=16$m=65536,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"no version", "$argon2id$m=65536,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"leading text", "x$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"trailing field", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$" + key + "$", ErrMalformed},
		{"params out of order", "$argon2id$v=19$t=2,m=65536,p=1$" + salt + "$" + key, ErrMalformed},
		{"missing p", "$argon2id$v=19$m=65536,t=2$" + salt + "$" + key, ErrMalformed},
		{"extra param", "$argon2id$v=19$m=65536,t=2,p=1,k=1$" + salt + "$" + key, ErrMalformed},
		{"leading zero", "$argon2id$v=19$m=065536,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"sign", "$argon2id$v=19$m=+65536,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"negative", "$argon2id$v=19$m=65536,t=-2,p=1$" + salt + "$" + key, ErrMalformed},
		{"empty number", "$argon2id$v=19$m=,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"overflow", "$argon2id$v=19$m=99999999999,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"padded salt", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "=$" + key, ErrMalformed},
		{"url alphabet", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$C4TWUs9rDEvq7w3-J4umqA32aWKB1-DSiRuBfYxFj94", ErrMalformed},
		{"non-canonical trailing bits", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHR$" + key, ErrMalformed},
		{"newline in hash", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$" + key[:20] + "\r\n" + key[20:], ErrMalformed},
		{"empty salt", "$argon2id$v=19$m=65536,t=2,p=1$$" + key, ErrInvalidParams},
		{"short salt", "$argon2id$v=19$m=65536,t=2,p=1$c29tZQ$" + key, ErrInvalidParams},
		{"short key", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$c29tZXNhbHQ", ErrInvalidParams},
		{"long key", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$" + strings.Repeat("A", 200), ErrInvalidParams},
		{"memory too high", "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key, ErrInvalidParams},
		{"memory below 8p", "$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + key, ErrInvalidParams},
		{"zero iterations", "$argon2id$v=19$m=65536,t=0,p=1$" + salt + "$" + key, ErrInvalidParams},
		{"too many iterations", "$argon2id$v=19$m=65536,t=1000,p=1$" + salt + "$" + key, ErrInvalidParams},
		{"zero parallelism", "$argon2id$v=19$m=65536,t=2,p=0$" + salt + "$" + key, ErrInvalidParams},
		{"parallelism above 255", "$argon2id$v=19$m=65536,t=2,p=256$" + salt + "$" + key, ErrInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decode(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("decode: got error %v, want %v", err, tt.want)
			}
			if tt.in != "" && strings.Contains(err.Error(), tt.in) {
				t.Errorf("error %q quotes the stored hash", err)
			}
		})
	}
}

// FuzzDecode checks that the PHC parser never panics, that whatever it
// accepts is within bounds, and that it accepts exactly one spelling of each
// hash: re-encoding an accepted string gives the same string back.
func FuzzDecode(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")
	f.Add("$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc")
	f.Add("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$")
	f.Add("$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := decode(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("decode: error %v wraps neither ErrMalformed nor ErrInvalidParams", err)
			}
			return
		}
		if err := d.params.validate(); err != nil {
			t.Fatalf("accepted out-of-bounds params %+v: %v", d.params, err)
		}
		if got := encode(d.params, d.salt, d.key); got != s {
			t.Fatalf("re-encode: got %q, want %q", got, s)
		}
	})
}
