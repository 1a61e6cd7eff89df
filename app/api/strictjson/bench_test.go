package strictjson_test

import (
	"reflect"
	"testing"

	"github.com/parleyhq/parley/app/api/strictjson"
)

type benchRule struct {
	Name        string `json:"name"`
	Pattern     string `json:"pattern"`
	Replacement string `json:"replacement"`
	Enabled     bool   `json:"enabled"`
}

type benchSettings struct {
	MinLength int         `json:"min_length"`
	History   int         `json:"history"`
	MaxAge    int         `json:"max_age_days"`
	Rules     []benchRule `json:"rules"`
	Notify    *struct {
		Email bool `json:"email"`
	} `json:"notify"`
}

// BenchmarkCheck measures the extra pass Bind makes over a typical nested body: it must not
// allocate.
func BenchmarkCheck(b *testing.B) {
	data := []byte(`{"min_length":12,"history":4,"max_age_days":90,"rules":[{"name":"ssn","pattern":"\\d{3}-\\d{2}-\\d{4}","replacement":"[SSN]","enabled":true},{"name":"iban","pattern":"[A-Z]{2}\\d{2}[A-Z0-9]{11,30}","replacement":"[IBAN]","enabled":false}],"notify":{"email":true}}`)
	t := reflect.TypeFor[*benchSettings]()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := strictjson.Check(data, t); err != nil {
			b.Fatal(err)
		}
	}
}
