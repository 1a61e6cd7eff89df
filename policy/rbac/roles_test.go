package rbac

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func perms(t *testing.T, role string) []string {
	t.Helper()
	r, ok := DefaultRole(role)
	if !ok {
		t.Fatalf("no default role %q", role)
	}
	return r.Permissions
}

func TestDefaultRolesUseCatalogueOnly(t *testing.T) {
	for _, r := range DefaultRoles() {
		t.Run(r.Name, func(t *testing.T) {
			if !r.Builtin {
				t.Error("Builtin = false, want true")
			}
			if u := Unknown(r.Permissions); u != nil {
				t.Errorf("unknown permissions %q", u)
			}
			if r.Description == "" {
				t.Error("no description")
			}
			seen := map[string]bool{}
			for _, p := range r.Permissions {
				if seen[p] {
					t.Errorf("%s listed twice", p)
				}
				seen[p] = true
			}
		})
	}
	if got, want := DefaultRoleNames(), []string{"owner", "admin", "supervisor", "agent", "auditor"}; !slices.Equal(got, want) {
		t.Errorf("DefaultRoleNames = %q, want %q", got, want)
	}
}

func TestOwnerHoldsEveryPermission(t *testing.T) {
	if got, want := perms(t, RoleOwner), Names(); !slices.Equal(got, want) {
		t.Errorf("owner holds %d permissions, want all %d", len(got), len(want))
	}
}

// TestRolesNest checks agent ⊆ supervisor ⊆ admin ⊆ owner, so each can assign the roles below it
// without holding more than it needs.
func TestRolesNest(t *testing.T) {
	chain := []string{RoleAgent, RoleSupervisor, RoleAdmin, RoleOwner}
	for i := 0; i+1 < len(chain); i++ {
		lower, upper := perms(t, chain[i]), perms(t, chain[i+1])
		for _, p := range lower {
			if !slices.Contains(upper, p) {
				t.Errorf("%s holds %s but %s does not", chain[i], p, chain[i+1])
			}
		}
	}
}

func TestSeparationOfDuties(t *testing.T) {
	auditor := perms(t, RoleAuditor)
	for _, p := range auditor {
		info, _ := Lookup(p)
		if info.Kind != KindRead && info.Kind != KindAttest {
			t.Errorf("auditor holds %s of kind %q: an auditor changes nothing", p, info.Kind)
		}
		if info.Sensitive {
			t.Errorf("auditor holds %s: an auditor reads no chat content by default", p)
		}
	}
	// Exactly the auditor's five areas: audit search and export, integrity, access reviews,
	// evidence reports and key status; no roles, no security settings.
	want := []string{"audit.view", "audit.export", "audit.verify", "keys.view", "access_review.view", "evidence.view",
		"evidence.generate", "access_review.perform"}
	if got := slices.Sorted(slices.Values(auditor)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("auditor holds %v, want exactly %v", got, want)
	}
	admin := perms(t, RoleAdmin)
	for _, p := range admin {
		info, _ := Lookup(p)
		switch {
		case info.Area() == "audit", info.Area() == "evidence":
			t.Errorf("admin holds %s: the administered are audited by someone else", p)
		case p == "access_review.perform":
			t.Errorf("admin holds %s: who grants access does not sign off its review", p)
		case info.Sensitive && !info.Departmental:
			t.Errorf("admin holds %s: organisation-wide content access is the owner's", p)
		case p == "card.view_full":
			t.Errorf("admin holds %s", p)
		}
	}
	for _, role := range []string{RoleAgent, RoleSupervisor} {
		for _, p := range perms(t, role) {
			info, _ := Lookup(p)
			if info.Kind == KindAttest || info.Area() == "audit" || info.Area() == "role" || info.Area() == "keys" {
				t.Errorf("%s holds %s", role, p)
			}
		}
	}
}

func TestCheckRoleName(t *testing.T) {
	tests := []struct {
		name string
		want error
	}{
		{"billing-lead", nil},
		{"tier_2", nil},
		{"qa", nil},
		{"q", ErrInvalidRoleName},
		{"", ErrInvalidRoleName},
		{"Billing", ErrInvalidRoleName},
		{"2nd-line", ErrInvalidRoleName},
		{"billing lead", ErrInvalidRoleName},
		{"bílling", ErrInvalidRoleName},
		{"role:x", ErrInvalidRoleName},
		{strings.Repeat("a", MaxRoleNameLen+1), ErrInvalidRoleName},
		{strings.Repeat("a", MaxRoleNameLen), nil},
		{"owner", ErrReservedRoleName},
		{"auditor", ErrReservedRoleName},
		{"system", ErrReservedRoleName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckRoleName(tt.name)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("CheckRoleName(%q) = %v, want %v", tt.name, err, tt.want)
			}
		})
	}
}

func TestCleanDescription(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"trimmed", "  Takes billing chats. ", "Takes billing chats.", nil},
		{"empty", "", "", nil},
		{"unicode", "Équipe facturation — niveau 2", "Équipe facturation — niveau 2", nil},
		{"control", "a\x00b", "", ErrInvalidDescription},
		{"newline", "a\nb", "", ErrInvalidDescription},
		{"bidi", "abc\u202edef", "", ErrInvalidDescription},
		{"too long", strings.Repeat("é", MaxDescriptionLen+1), "", ErrInvalidDescription},
		{"invalid utf-8", "a\xffb", "", ErrInvalidDescription},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CleanDescription(tt.in)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCleanPermissions(t *testing.T) {
	got, err := CleanPermissions([]string{"offline.view.all", "chat.accept", "chat.accept"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"chat.accept", "offline.view.all"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q (catalogue order, no repeats)", got, want)
	}
	_, err = CleanPermissions([]string{"chat.accept", "audit.delete", "x"})
	var unknown *UnknownPermissionsError
	if !errors.As(err, &unknown) || !errors.Is(err, ErrUnknownPermission) {
		t.Fatalf("error = %v, want *UnknownPermissionsError", err)
	}
	if want := []string{"audit.delete", "x"}; !slices.Equal(unknown.Names, want) {
		t.Errorf("unknown = %q, want %q", unknown.Names, want)
	}
	if _, err := CleanPermissions(nil); !errors.Is(err, ErrNoPermissions) {
		t.Errorf("empty list: error = %v, want ErrNoPermissions", err)
	}
}
