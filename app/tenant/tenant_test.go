package tenant

import (
	"errors"
	"testing"
)

func TestNamesAndOriginsRefuseCardNumbers(t *testing.T) {
	names := []struct {
		in   string
		want error
	}{
		{"Acme Bank", nil},
		{"Agency 1901", nil},
		{"Acme 4111 1111 1111 1111", ErrCardNumber},
		{"5500-0000-0000-0004", ErrCardNumber},
		{"x", ErrInvalidName},
	}
	for _, tt := range names {
		if _, err := CleanName(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("CleanName(%q) = %v, want %v", tt.in, err, tt.want)
		}
	}
	origins := []struct {
		in   string
		want error
	}{
		{"https://shop.example", nil},
		{"https://4111111111111111.example", ErrCardNumber},
		{"https://shop.example:4111", nil},
		{"ftp://shop.example", ErrInvalidOrigin},
	}
	for _, tt := range origins {
		if _, err := NormalizeOrigin(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("NormalizeOrigin(%q) = %v, want %v", tt.in, err, tt.want)
		}
	}
	// "4111€1111€1111€1111" holds no card number, but its slug would: CreateTenant refuses it.
	if got := Slug("Acme 4111€1111€1111€1111"); got != "acme-4111-1111-1111-1111" {
		t.Errorf("Slug = %q", got)
	}
}
