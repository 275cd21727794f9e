package upstream

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/wasql/wasql/catalog"
	"github.com/wasql/wasql/catalog/boltstore"
	"github.com/wasql/wasql/sqlfuncs"
	"github.com/wasql/wasql/udf"
)

// testRegistry is a registry over a bolt catalog in a temporary directory.
func testRegistry(t testing.TB) *sqlfuncs.Registry {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	return registryOver(t, store)
}

// registryOver is a registry over store, with a runtime of its own; both close with the test.
func registryOver(t testing.TB, store catalog.Store) *sqlfuncs.Registry {
	t.Helper()
	ctx := context.Background()
	rt, err := udf.NewRuntime(ctx, udf.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := sqlfuncs.NewRegistry(ctx, rt, store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close(); rt.Close(ctx); store.Close() })
	return reg
}

// twiceModule is a module exporting twice_int(i32) i32 and twice_double(f64) f64.
func twiceModule(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../../sqlfuncs/testdata/twice.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
