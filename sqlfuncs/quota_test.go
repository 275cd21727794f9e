package sqlfuncs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wasql/wasql/catalog/boltstore"
	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/udf"
)

// quotaRegistry is a registry over a bolt catalog with quotas q.
func quotaRegistry(t *testing.T, q *Quotas) *Registry {
	t.Helper()
	ctx := context.Background()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := udf.NewRuntime(ctx, udf.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(ctx, rt, store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close(); rt.Close(ctx); store.Close() })
	reg.SetQuotas(q)
	return reg
}

// create runs CREATE [OR REPLACE] FUNCTION name(bigint) RETURNS bigint of export in module (a
// file of udf/testdata) for user, with the clause with (WITH (...)) after it.
func create(t *testing.T, reg *Registry, user, name, module, export, with string, orReplace bool) error {
	t.Helper()
	q := "CREATE "
	if orReplace {
		q += "OR REPLACE "
	}
	q += "FUNCTION " + name + "(bigint) RETURNS bigint LANGUAGE wasm AS $1, '" + export + "' " + with
	st, _, err := ParseDDL(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	c := st.(*CreateStmt)
	if c.Module, err = os.ReadFile(filepath.Join("../udf/testdata", module)); err != nil {
		t.Fatal(err)
	}
	return reg.Create(WithUser(context.Background(), user), c)
}

func mustCreate(t *testing.T, reg *Registry, user, name, module, export, with string, orReplace bool) {
	t.Helper()
	if err := create(t, reg, user, name, module, export, with, orReplace); err != nil {
		t.Fatalf("%s creating %s: %v", user, name, err)
	}
}

// quotaRefused checks that err is a quota refusal with code whose message and hint hold the
// given parts.
func quotaRefused(t *testing.T, err error, code string, msg []string, hint string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s, got no error", code)
	}
	if got := sqlstate.Of(err); got != code {
		t.Fatalf("SQLSTATE %s, want %s: %v", got, code, err)
	}
	for _, m := range msg {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("message %q lacks %q", err.Error(), m)
		}
	}
	if h := sqlstate.Hint(err); !strings.Contains(h, hint) {
		t.Errorf("hint %q lacks %q", h, hint)
	}
}

func drop(t *testing.T, reg *Registry, user, name string) {
	t.Helper()
	if err := reg.Drop(WithUser(context.Background(), user), &DropStmt{Name: name, Args: []udf.Type{udf.Bigint}}); err != nil {
		t.Fatal(err)
	}
}

// TestQuotaFunctions: the count of a user's functions is bounded (53400); another user, with an
// entry of their own, is not affected; OR REPLACE adds nothing; a drop makes room.
func TestQuotaFunctions(t *testing.T) {
	reg := quotaRegistry(t, &Quotas{Default: Quota{Functions: 2}, Users: map[string]Quota{"bob": {Functions: 3}}})
	mustCreate(t, reg, "alice", "a1", "numeric.wasm", "plus_hour", "", false)
	mustCreate(t, reg, "alice", "a2", "numeric.wasm", "plus_hour", "", false)
	err := create(t, reg, "alice", "a3", "numeric.wasm", "plus_hour", "", false)
	quotaRefused(t, err, "53400", []string{`user "alice"`, "2 functions allowed", "2 owned", "this CREATE FUNCTION adds 1"},
		`quotas.default.functions (or an entry for "alice" under quotas.users)`)
	if ovs := reg.Overloads("a3"); len(ovs) != 0 {
		t.Fatalf("a refused function was installed: %v", ovs)
	}
	for _, n := range []string{"b1", "b2", "b3"} {
		mustCreate(t, reg, "bob", n, "numeric.wasm", "plus_hour", "", false)
	}
	quotaRefused(t, create(t, reg, "bob", "b4", "numeric.wasm", "plus_hour", "", false), "53400",
		[]string{`user "bob"`, "3 functions allowed"}, "quotas.users.bob.functions")
	mustCreate(t, reg, "alice", "a1", "fib.wasm", "fib_iter", "", true) // replacing counts the old one out
	drop(t, reg, "alice", "a2")
	mustCreate(t, reg, "alice", "a3", "numeric.wasm", "plus_hour", "", false)
	mustCreate(t, reg, "carol", "c1", "numeric.wasm", "plus_hour", "", false)
}

// TestQuotaModuleBytes: module bytes are bounded (54000), each distinct module counted once;
// OR REPLACE counts the replaced function's module out.
func TestQuotaModuleBytes(t *testing.T) {
	numeric, fib := fileSize(t, "numeric.wasm"), fileSize(t, "fib.wasm")
	limit := numeric + fib - 1
	reg := quotaRegistry(t, &Quotas{Users: map[string]Quota{"alice": {ModuleBytes: limit}}})
	mustCreate(t, reg, "alice", "a1", "numeric.wasm", "plus_hour", "", false)
	mustCreate(t, reg, "alice", "a2", "numeric.wasm", "plus_hour", "", false) // the same module: no more bytes
	err := create(t, reg, "alice", "a3", "fib.wasm", "fib_iter", "", false)
	quotaRefused(t, err, "54000", []string{`module quota exceeded for user "alice"`, fmt.Sprintf("%d bytes of modules allowed", limit),
		fmt.Sprintf("%d bytes held", numeric), fmt.Sprintf("adds %d bytes", fib)}, "quotas.users.alice.module_bytes")
	// Replacing a1 with fib keeps numeric (a2) and adds fib: over.
	err = create(t, reg, "alice", "a1", "fib.wasm", "fib_iter", "", true)
	quotaRefused(t, err, "54000", []string{"this CREATE OR REPLACE FUNCTION adds"}, "module_bytes")
	drop(t, reg, "alice", "a2")
	mustCreate(t, reg, "alice", "a1", "fib.wasm", "fib_iter", "", true) // numeric is gone with a1's old version
	if ovs := reg.Overloads("a1"); len(ovs) != 1 || ovs[0].Def.ModuleSize != fib {
		t.Fatalf("a1 after OR REPLACE: %+v", ovs)
	}
	mustCreate(t, reg, "bob", "b1", "fib.wasm", "fib_iter", "", false) // no quota: the default is unlimited
}

// TestQuotaMemory: the sum of the functions' memory limits is bounded (54000), with the
// runtime's default (64MB) where WITH (memory) is not given; a use over a lowered quota may
// still shrink.
func TestQuotaMemory(t *testing.T) {
	reg := quotaRegistry(t, &Quotas{Default: Quota{MemoryBytes: 100 << 20}})
	mustCreate(t, reg, "alice", "a1", "numeric.wasm", "plus_hour", "", false)
	err := create(t, reg, "alice", "a2", "numeric.wasm", "plus_hour", "", false)
	quotaRefused(t, err, "54000", []string{`memory quota exceeded for user "alice"`, "100MB allowed", "64MB held", "adds 64MB"},
		"WITH (memory = '8MB')")
	mustCreate(t, reg, "alice", "a2", "numeric.wasm", "plus_hour", "WITH (memory = '32MB')", false)
	mustCreate(t, reg, "alice", "a1", "numeric.wasm", "plus_hour", "WITH (memory = '68MB')", true) // 68 + 32 = 100
	err = create(t, reg, "alice", "a1", "numeric.wasm", "plus_hour", "WITH (memory = '69MB')", true)
	quotaRefused(t, err, "54000", []string{"100MB held", "this CREATE OR REPLACE FUNCTION adds 1MB"}, "memory")
	if got := reg.Overloads("a1")[0].Fn.Definition().Limits.MemoryBytes; got != 68<<20 {
		t.Fatalf("a refused OR REPLACE changed the function: memory %d", got)
	}

	reg.SetQuotas(&Quotas{Default: Quota{MemoryBytes: 50 << 20}}) // lowered below what alice holds
	mustCreate(t, reg, "alice", "a2", "numeric.wasm", "plus_hour", "WITH (memory = '16MB')", true)
	quotaRefused(t, create(t, reg, "alice", "a3", "numeric.wasm", "plus_hour", "WITH (memory = '64kB')", false), "54000",
		[]string{"50MB allowed", "84MB held", "adds 64kB"}, "quotas.default.memory")
}

// TestQuotaOwnerKept: a function replaced by another user keeps its owner (as the catalog
// does), so the owner's quota is the one checked.
func TestQuotaOwnerKept(t *testing.T) {
	reg := quotaRegistry(t, &Quotas{Users: map[string]Quota{"alice": {MemoryBytes: 64 << 20}}})
	mustCreate(t, reg, "alice", "a1", "numeric.wasm", "plus_hour", "", false)
	err := create(t, reg, "admin", "a1", "numeric.wasm", "plus_hour", "WITH (memory = '128MB')", true)
	quotaRefused(t, err, "54000", []string{`user "alice"`}, "quotas.users.alice.memory")
	mustCreate(t, reg, "admin", "x1", "numeric.wasm", "plus_hour", "WITH (memory = '128MB')", false)
	if got := reg.Overloads("a1")[0].Def.Owner; got != "alice" {
		t.Fatalf("owner %q", got)
	}
}

// TestQuotaNone: without quotas (or with zero ones) nothing is bounded.
func TestQuotaNone(t *testing.T) {
	for _, q := range []*Quotas{nil, {}, {Users: map[string]Quota{"alice": {}}}} {
		reg := quotaRegistry(t, q)
		if reg.quotas != nil {
			t.Fatalf("%+v bounds something", q)
		}
		for i := range 3 {
			mustCreate(t, reg, "alice", fmt.Sprintf("a%d", i), "numeric.wasm", "plus_hour", "WITH (memory = '1GB')", false)
		}
	}
}

// TestQuotaConcurrent: CREATEs racing for the last places of a quota never pass it together;
// another user creating at the same time is not affected.
func TestQuotaConcurrent(t *testing.T) {
	const limit, tries = 4, 16
	reg := quotaRegistry(t, &Quotas{Default: Quota{Functions: limit}, Users: map[string]Quota{"bob": {}}})
	var wg sync.WaitGroup
	errs := make([]error, tries)
	bobErrs := make([]error, tries)
	for i := range tries {
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs[i] = create(t, reg, "alice", fmt.Sprintf("a%d", i), "numeric.wasm", "plus_hour", "", false)
		}()
		go func() {
			defer wg.Done()
			bobErrs[i] = create(t, reg, "bob", fmt.Sprintf("b%d", i), "numeric.wasm", "plus_hour", "", false)
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case sqlstate.Of(err) != "53400":
			t.Errorf("a%d: %v", i, err)
		}
		if bobErrs[i] != nil {
			t.Errorf("bob's b%d: %v", i, bobErrs[i])
		}
	}
	owned := 0
	for _, ov := range reg.Functions() {
		if ov.Def.Owner == "alice" {
			owned++
		}
	}
	if ok != limit || owned != limit {
		t.Fatalf("%d CREATEs passed and alice owns %d functions, want %d", ok, owned, limit)
	}
}

func fileSize(t *testing.T, name string) int64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join("../udf/testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
