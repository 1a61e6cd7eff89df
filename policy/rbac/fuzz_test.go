package rbac

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzCleanDescription(f *testing.F) {
	for _, s := range []string{"", "Billing team", " \t trimmed \n", "a\u202eb", "\xff", strings.Repeat("x", 400), "ÉÉ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := CleanDescription(in)
		if err != nil {
			if got != "" {
				t.Fatalf("error %v with result %q", err, got)
			}
			return
		}
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > MaxDescriptionLen {
			t.Fatalf("accepted %q", got)
		}
		if got != strings.TrimSpace(got) {
			t.Fatalf("result %q is not trimmed", got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
				t.Fatalf("result %q holds control character %U", got, r)
			}
		}
		if again, err := CleanDescription(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q, %v", got, again, err)
		}
	})
}

func FuzzCheckRoleName(f *testing.F) {
	for _, s := range []string{"billing", "owner", "a", "A-b", "x/y", "tier_2", "role:admin", "*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if CheckRoleName(name) != nil {
			return
		}
		if IsDefaultRole(name) || strings.ContainsAny(name, "/:* ") || len(name) < 2 || len(name) > MaxRoleNameLen {
			t.Fatalf("accepted %q", name)
		}
		for _, r := range name {
			if r > unicode.MaxASCII || unicode.IsUpper(r) {
				t.Fatalf("accepted %q", name)
			}
		}
	})
}

// FuzzCovers checks the domain rule on arbitrary ids: a tenant covers its own departments and
// nothing of another tenant, and checkID refuses every id that could forge a domain.
func FuzzCovers(f *testing.F) {
	f.Add("t1", "t2", "d1")
	f.Add("t", "t/dept:x", "d")
	f.Add("a", "a", "")
	f.Add("tenant", "tenan", "*")
	f.Fuzz(func(t *testing.T, t1, t2, d string) {
		if checkID("tenant", t1) != nil || checkID("tenant", t2) != nil {
			return
		}
		if !Covers(TenantDomain(t1), TenantDomain(t1)) {
			t.Fatal("a tenant does not cover itself")
		}
		if t1 != t2 && (Covers(TenantDomain(t1), TenantDomain(t2)) || Covers(TenantDomain(t2), TenantDomain(t1))) {
			t.Fatalf("tenant %q and %q cover each other", t1, t2)
		}
		if checkID("department", d) != nil {
			return
		}
		dd := DepartmentDomain(t1, d)
		if !Covers(TenantDomain(t1), dd) {
			t.Fatalf("tenant %q does not cover its department %q", t1, d)
		}
		if Covers(dd, TenantDomain(t1)) {
			t.Fatalf("department %q covers its tenant", d)
		}
		if t1 != t2 && Covers(TenantDomain(t2), dd) {
			t.Fatalf("tenant %q covers department %q of tenant %q", t2, d, t1)
		}
		if tenantDomainOf(dd) != TenantDomain(t1) {
			t.Fatalf("tenantDomainOf(%q) = %q", dd, tenantDomainOf(dd))
		}
	})
}
