package rbac

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// designCatalogue is the starting list of DESIGN.md §5; every name is in the catalogue or
// planned, never both.
var designCatalogue = strings.Fields(`chat.accept chat.refuse chat.join chat.transfer chat.monitor
chat.whisper chat.agent_chat chat.invite chat.end chat.request_card card.view_full visitor.view
visitor.view_pii transcript.view.own transcript.view.department transcript.view.all
transcript.export transcript.delete offline.view.department offline.view.all cobrowse.view
cobrowse.control canned.use canned.manage campaign.manage routing.manage department.manage
user.manage role.manage security.manage ban.manage survey.manage site.manage retention.manage
keys.manage report.view.department report.view.all audit.view audit.export audit.verify
evidence.generate evidence.view access_review.perform`)

var permissionName = regexp.MustCompile(`^[a-z][a-z_]*\.[a-z][a-z_]*(\.[a-z][a-z_]*)?$`)

func TestCatalogueHoldsDesignPermissions(t *testing.T) {
	for _, name := range designCatalogue {
		t.Run(name, func(t *testing.T) {
			if _, isPlanned := planned[name]; Known(name) == isPlanned {
				t.Errorf("Known(%q) = %v, planned = %v: want exactly one", name, Known(name), isPlanned)
			}
		})
	}
	for name, capability := range planned {
		if Known(name) {
			t.Errorf("%s is planned (%s) and in the catalogue: take it out of planned", name, capability)
		}
		if !permissionName.MatchString(name) || capability == "" {
			t.Errorf("planned %q (%q): want an area.action[.scope] name and its capability", name, capability)
		}
	}
}

func TestCatalogueEntriesAreComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Catalogue() {
		t.Run(p.Name, func(t *testing.T) {
			if seen[p.Name] {
				t.Errorf("declared twice")
			}
			seen[p.Name] = true
			if !permissionName.MatchString(p.Name) {
				t.Errorf("name %q is not area.action[.scope]", p.Name)
			}
			if len(p.Description) < 10 || !strings.HasSuffix(p.Description, ".") {
				t.Errorf("description %q: want a sentence", p.Description)
			}
			if len(p.PCI)+len(p.HIPAA) == 0 {
				t.Errorf("no PCI DSS or HIPAA reference")
			}
			for _, r := range p.PCI {
				if !regexp.MustCompile(`^\d+(\.\d+){1,3}$`).MatchString(r) {
					t.Errorf("PCI reference %q is not a requirement number", r)
				}
			}
			for _, r := range p.HIPAA {
				if !strings.HasPrefix(r, "164.") {
					t.Errorf("HIPAA reference %q is not a 45 CFR 164 section", r)
				}
			}
			switch p.Kind {
			case KindRead, KindOperate, KindAdminister, KindAttest:
			default:
				t.Errorf("kind %q is not one of read, operate, administer, attest", p.Kind)
			}
			got, ok := Lookup(p.Name)
			if !ok || got.Name != p.Name {
				t.Errorf("Lookup(%q) = %q, %v; want the entry", p.Name, got.Name, ok)
			}
		})
	}
}

// TestNoPermissionAltersAuditData holds the separation of duties the audit log relies on: the
// catalogue offers reading, exporting and verifying the log and nothing else, so no role, however
// built, can alter or delete audit data.
func TestNoPermissionAltersAuditData(t *testing.T) {
	allowed := []string{"audit.view", "audit.export", "audit.verify"}
	for _, p := range Catalogue() {
		if p.Area() == "audit" && !slices.Contains(allowed, p.Name) {
			t.Errorf("catalogue has %q: no permission may change the audit log", p.Name)
		}
		if p.Area() == "audit" && p.Kind != KindRead {
			t.Errorf("%s has kind %q, want read", p.Name, p.Kind)
		}
		for _, word := range []string{"audit.delete", "audit.edit", "audit.purge", "audit.write", "audit.config", "audit.manage"} {
			if strings.HasPrefix(p.Name, word) {
				t.Errorf("catalogue has %q", p.Name)
			}
		}
	}
}

func TestDepartmentScopedPermissionsAreDepartmental(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"offline.view.department", true},
		{"card.view_full", true},
		{"chat.accept", true},
		{"transcript.view.all", false},
		{"offline.view.all", false},
		{"visitor.view", false},
		{"role.manage", false},
		{"audit.view", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := Lookup(tt.name)
			if !ok {
				t.Fatalf("%s not in catalogue", tt.name)
			}
			if p.Departmental != tt.want {
				t.Errorf("Departmental = %v, want %v", p.Departmental, tt.want)
			}
		})
	}
}

func TestUnknown(t *testing.T) {
	got := Unknown([]string{"chat.accept", "chat.fly", "audit.delete", "chat.fly", ""})
	want := []string{"chat.fly", "audit.delete", ""}
	if !slices.Equal(got, want) {
		t.Errorf("Unknown = %q, want %q", got, want)
	}
	if got := Unknown(Names()); got != nil {
		t.Errorf("Unknown(Names()) = %q, want none", got)
	}
}

func TestCatalogueReturnsCopies(t *testing.T) {
	c := Catalogue()
	c[0].Name = "changed"
	c[1].PCI[0] = "changed"
	if Catalogue()[0].Name == "changed" || Catalogue()[1].PCI[0] == "changed" {
		t.Error("changing Catalogue()'s result changed the catalogue")
	}
}
