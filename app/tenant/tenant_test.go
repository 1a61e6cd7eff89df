package tenant

import (
	"errors"
	"strings"
	"testing"
	"time"
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

// TestCheckOrigins: the origin rule of the console and the API, case by case.
func TestCheckOrigins(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want error
	}{
		{[]string{"https://shop.example"}, nil},
		{[]string{"https://shop.example:8443", "http://localhost:3000", "http://127.0.0.1"}, nil},
		{nil, ErrNoOrigins},
		{[]string{"http://shop.example"}, ErrInvalidOrigin},
		{[]string{"https://shop.example/path"}, ErrInvalidOrigin},
		{[]string{"https://user@shop.example"}, ErrInvalidOrigin},
		{[]string{"https://shop.example?q=1"}, ErrInvalidOrigin},
		{[]string{"https://shop.example:99999x"}, ErrInvalidOrigin},
		{[]string{"javascript:alert(1)"}, ErrInvalidOrigin},
		{[]string{"https://" + strings.Repeat("a", 200) + ".test"}, ErrInvalidOrigin},
		{[]string{"https://a.test", "https://A.test/"}, ErrDuplicateOrigin},
		{[]string{"https://4111111111111111.test"}, ErrCardNumber},
	} {
		_, err := CheckOrigins(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("CheckOrigins(%q) = %v, want %v", tt.in, err, tt.want)
		}
		var fe *FieldError
		if err != nil && (!errors.As(err, &fe) || fe.Field != "allowed_origins") {
			t.Errorf("CheckOrigins(%q) = %v, want a FieldError on allowed_origins", tt.in, err)
		}
	}
}

// TestDepartmentSettingsCheck: the weekly schedule and the queue timeout, case by case, each
// error naming its field.
func TestDepartmentSettingsCheck(t *testing.T) {
	day := func(open, close string) map[string]Span { return map[string]Span{"mon": {Open: open, Close: close}} }
	for _, tt := range []struct {
		name  string
		in    DepartmentSettings
		want  error
		field string
	}{
		{"nothing", DepartmentSettings{}, nil, ""},
		{"hours and timeout", DepartmentSettings{Hours: &Hours{Timezone: "Europe/Berlin", Days: day("09:00", "17:00")}, QueueTimeoutSeconds: 30}, nil, ""},
		{"until midnight", DepartmentSettings{Hours: &Hours{Timezone: "UTC", Days: day("18:00", "24:00")}}, nil, ""},
		{"longest timeout", DepartmentSettings{QueueTimeoutSeconds: 86400}, nil, ""},
		{"timeout too short", DepartmentSettings{QueueTimeoutSeconds: 29}, ErrInvalidQueueTimeout, "queue_timeout_seconds"},
		{"timeout too long", DepartmentSettings{QueueTimeoutSeconds: 86401}, ErrInvalidQueueTimeout, "queue_timeout_seconds"},
		{"negative timeout", DepartmentSettings{QueueTimeoutSeconds: -1}, ErrInvalidQueueTimeout, "queue_timeout_seconds"},
		{"no time zone", DepartmentSettings{Hours: &Hours{Days: day("09:00", "17:00")}}, ErrInvalidTimezone, "business_hours.timezone"},
		{"Local", DepartmentSettings{Hours: &Hours{Timezone: "Local", Days: day("09:00", "17:00")}}, ErrInvalidTimezone, "business_hours.timezone"},
		{"unknown zone", DepartmentSettings{Hours: &Hours{Timezone: "Mars/Olympus", Days: day("09:00", "17:00")}}, ErrInvalidTimezone, "business_hours.timezone"},
		{"card number zone", DepartmentSettings{Hours: &Hours{Timezone: "4111 1111 1111 1111", Days: day("09:00", "17:00")}}, ErrCardNumber, "business_hours.timezone"},
		{"no day", DepartmentSettings{Hours: &Hours{Timezone: "UTC", Days: map[string]Span{}}}, ErrInvalidHours, "business_hours.days"},
		{"unknown day", DepartmentSettings{Hours: &Hours{Timezone: "UTC", Days: map[string]Span{"monday": {"09:00", "17:00"}}}}, ErrInvalidHours, "business_hours.days"},
		{"close before open", DepartmentSettings{Hours: &Hours{Timezone: "UTC", Days: day("17:00", "09:00")}}, ErrInvalidHours, "business_hours.days"},
		{"equal times", DepartmentSettings{Hours: &Hours{Timezone: "UTC", Days: day("09:00", "09:00")}}, ErrInvalidHours, "business_hours.days"},
		{"bad time", DepartmentSettings{Hours: &Hours{Timezone: "UTC", Days: day("9:00", "17:00")}}, ErrInvalidHours, "business_hours.days"},
		{"24:00 opening", DepartmentSettings{Hours: &Hours{Timezone: "UTC", Days: day("24:00", "24:00")}}, ErrInvalidHours, "business_hours.days"},
		{"25:00", DepartmentSettings{Hours: &Hours{Timezone: "UTC", Days: day("09:00", "25:00")}}, ErrInvalidHours, "business_hours.days"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Check()
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("Check() = %v, want %v", err, tt.want)
			}
			var fe *FieldError
			if err != nil && (!errors.As(err, &fe) || fe.Field != tt.field) {
				t.Errorf("Check() = %v, want a FieldError on %s", err, tt.field)
			}
		})
	}
}

// TestHoursOpenAt: the schedule in its own time zone, the closing minute excluded.
func TestHoursOpenAt(t *testing.T) {
	h := &Hours{Timezone: "Europe/Berlin", Days: map[string]Span{"mon": {Open: "09:00", Close: "17:00"}, "sat": {Open: "20:00", Close: "24:00"}}}
	for _, tt := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC), true},    // Monday 09:00 in Berlin
		{time.Date(2026, 1, 5, 7, 59, 0, 0, time.UTC), false},  // Monday 08:59
		{time.Date(2026, 1, 5, 16, 0, 0, 0, time.UTC), false},  // Monday 17:00: closed
		{time.Date(2026, 1, 6, 10, 0, 0, 0, time.UTC), false},  // Tuesday: closed all day
		{time.Date(2026, 1, 10, 22, 59, 0, 0, time.UTC), true}, // Saturday 23:59
	} {
		if got := h.OpenAt(tt.at); got != tt.want {
			t.Errorf("OpenAt(%v) = %v, want %v", tt.at, got, tt.want)
		}
	}
	if !(*Hours)(nil).OpenAt(time.Now()) {
		t.Error("no hours: want always open")
	}
	if got := decodeHours(encodeHours(h)); got == nil || got.Days["sat"].Close != "24:00" || got.Timezone != h.Timezone {
		t.Errorf("hours round trip = %+v", got)
	}
	if decodeHours("") != nil || decodeHours("{not json") != nil {
		t.Error("empty or unreadable hours: want none")
	}
}
