package pgstore

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/wasql/wasql/catalog"
	"github.com/wasql/wasql/catalog/catalogtest"
)

// FuzzDecodeChange: a change log entry, whatever its bytes, decodes to a valid function or fails
// with an error; never a panic, and what decodes encodes back to itself.
func FuzzDecodeChange(f *testing.F) {
	fn := testFn("f", "bigint", "text")
	fn.ModuleHash, fn.ModuleSize, fn.Version = "c04396eb15f5cdf429be174c6797c6fa3d7d03829ec0b5347128cd31445cfdf4", 12, 2
	fn.Created, fn.Replaced = time.Date(2026, 12, 2, 5, 0, 0, 123000, time.UTC), time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	fn.Options = map[string]string{"fuel": "1000"}
	good, err := json.Marshal(catalog.Record(fn))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("replaced", good)
	f.Add("created", []byte(`{"name":"f","arg_names":[],"arg_types":[],"return_type":"bigint","export":"f","module_hash":"c04396eb15f5cdf429be174c6797c6fa3d7d03829ec0b5347128cd31445cfdf4","module_size":1,"version":1,"created":"2026-01-01T00:00:00Z"}`))
	f.Add("dropped", []byte(`{"name":"","version":1}`))
	f.Add("other", []byte(`null`))
	f.Add("created", []byte(`{"name":"f","extra":1}`))
	f.Fuzz(func(t *testing.T, kind string, data []byte) {
		c, err := decodeChange(1, kind, data)
		if err != nil {
			return
		}
		if c.Kind == 0 {
			t.Fatalf("decoded without a kind: %+v", c)
		}
		again, err := json.Marshal(catalog.Record(c.Function))
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		c2, err := decodeChange(1, kind, again)
		if err != nil {
			t.Fatalf("re-decode %s: %v", again, err)
		}
		if d := catalogtest.Diff(c.Function, c2.Function); d != "" {
			t.Fatalf("round trip: %s", d)
		}
	})
}
