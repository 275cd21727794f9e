package catalogtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wasql/wasql/catalog"
)

// Run runs the conformance suite against the stores newStore makes. newStore returns a new, empty
// store; Run closes it when the subtest ends (backends' Close must tolerate a second call if
// newStore also registers one).
func Run(t *testing.T, newStore func(t *testing.T) catalog.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s catalog.Store)
	}{
		{"CreateGet", testCreateGet},
		{"Validation", testValidation},
		{"ListOrder", testListOrder},
		{"Overloads", testOverloads},
		{"NamesAsGiven", testNamesAsGiven},
		{"Exists", testExists},
		{"OrReplace", testOrReplace},
		{"Owner", testOwner},
		{"Drop", testDrop},
		{"ModuleDedup", testModuleDedup},
		{"ReplaceSwitchesModule", testReplaceSwitchesModule},
		{"Module", testModule},
		{"Copies", testCopies},
		{"CanceledContext", testCanceledContext},
		{"Notifications", testNotifications},
		{"CancelSubscription", testCancelSubscription},
		{"Hammer", testHammer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			// Cleanups run last-registered first: Check, then Close.
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			t.Cleanup(func() {
				if err := Check(context.Background(), s); err != nil {
					t.Errorf("invariants after %s: %v", tc.name, err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// Check verifies the invariants of s through the catalog.Store interface: List is strictly
// ordered by Key.Compare (so holds no duplicate key); each listed function is what Get returns;
// and its module exists, hashes to ModuleHash and has ModuleSize bytes. It returns every
// violation found, joined.
func Check(ctx context.Context, s catalog.Store) error {
	fns, err := s.List(ctx)
	if err != nil {
		return fmt.Errorf("List: %w", err)
	}
	var errs []error
	for i, fn := range fns {
		if i > 0 {
			if c := fns[i-1].Key().Compare(fn.Key()); c >= 0 {
				errs = append(errs, fmt.Errorf("List: %s listed after %s (Compare %d)", fn.Key(), fns[i-1].Key(), c))
			}
		}
		got, err := s.Get(ctx, fn.Key())
		if err != nil {
			errs = append(errs, fmt.Errorf("Get %s, a listed function: %w", fn.Key(), err))
		} else if d := Diff(fn, got); d != "" {
			errs = append(errs, fmt.Errorf("Get %s differs from List: %s", fn.Key(), d))
		}
		mod, err := s.Module(ctx, fn.ModuleHash)
		if err != nil {
			errs = append(errs, fmt.Errorf("module of %s: %w", fn.Key(), err))
			continue
		}
		if h := hash(mod); h != fn.ModuleHash || int64(len(mod)) != fn.ModuleSize {
			errs = append(errs, fmt.Errorf("module of %s: %d bytes hashing to %s, want %d bytes hashing to %s", fn.Key(), len(mod), h, fn.ModuleSize, fn.ModuleHash))
		}
	}
	return errors.Join(errs...)
}

func hash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Diff describes how two functions differ, or returns "" if they are equal: times compare by
// Equal, and empty and nil slices and maps are the same.
func Diff(want, got catalog.Function) string {
	if !want.Created.Equal(got.Created) || !want.Replaced.Equal(got.Replaced) {
		return fmt.Sprintf("Created/Replaced %v/%v, want %v/%v", got.Created, got.Replaced, want.Created, want.Replaced)
	}
	want.Created, want.Replaced, got.Created, got.Replaced = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	norm := func(f *catalog.Function) {
		if len(f.ArgNames) == 0 {
			f.ArgNames = nil
		}
		if len(f.ArgTypes) == 0 {
			f.ArgTypes = nil
		}
		if len(f.Options) == 0 {
			f.Options = nil
		}
	}
	norm(&want)
	norm(&got)
	if !reflect.DeepEqual(want, got) {
		return fmt.Sprintf("got %+v, want %+v", got, want)
	}
	return ""
}

// fn returns a valid definition of name(argTypes...).
func fn(name string, argTypes ...string) catalog.Function {
	return catalog.Function{
		Name:       name,
		ArgNames:   make([]string, len(argTypes)),
		ArgTypes:   argTypes,
		ReturnType: "bigint",
		Volatility: "IMMUTABLE",
		Strict:     true,
		Parallel:   "SAFE",
		Cost:       1,
		Export:     name,
		Options:    map[string]string{"fuel": "1000000"},
		Owner:      "alice",
	}
}

// module returns distinct bytes for each seed, with a Wasm header.
func module(seed string) []byte {
	return append([]byte("\x00asm\x01\x00\x00\x00"), seed...)
}

func mustCreate(t *testing.T, s catalog.Store, f catalog.Function, mod []byte, orReplace bool) catalog.Function {
	t.Helper()
	got, err := s.Create(context.Background(), f, mod, orReplace)
	if err != nil {
		t.Fatalf("Create %s (orReplace %v): %v", f.Key(), orReplace, err)
	}
	return got
}

func mustGet(t *testing.T, s catalog.Store, k catalog.Key) catalog.Function {
	t.Helper()
	got, err := s.Get(context.Background(), k)
	if err != nil {
		t.Fatalf("Get %s: %v", k, err)
	}
	return got
}

func mustList(t *testing.T, s catalog.Store) []catalog.Function {
	t.Helper()
	fns, err := s.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return fns
}

func wantErr(t *testing.T, what string, err, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("%s: got error %v, want one matching %v", what, err, sentinel)
	}
}

func testCreateGet(t *testing.T, s catalog.Store) {
	ctx := context.Background()
	if fns := mustList(t, s); len(fns) != 0 {
		t.Fatalf("new store lists %d functions", len(fns))
	}
	in := fn("add", "bigint", "bigint")
	in.Schema = "math"
	in.ArgNames = []string{"a", ""}
	mod := module("add")
	before := time.Now()
	got := mustCreate(t, s, in, mod, false)

	want := in
	want.ModuleHash, want.ModuleSize, want.Version = hash(mod), int64(len(mod)), 1
	want.Created = got.Created
	if d := Diff(want, got); d != "" {
		t.Fatalf("Create returned %s", d)
	}
	if got.Created.IsZero() || got.Created.Before(before.Add(-time.Second)) || got.Created.After(time.Now().Add(time.Second)) {
		t.Errorf("Created = %v, want about %v", got.Created, before)
	}
	if !got.Replaced.IsZero() {
		t.Errorf("Replaced = %v on creation, want zero", got.Replaced)
	}
	if d := Diff(got, mustGet(t, s, in.Key())); d != "" {
		t.Errorf("Get after Create: %s", d)
	}
	if fns := mustList(t, s); len(fns) != 1 || Diff(got, fns[0]) != "" {
		t.Errorf("List = %+v, want [%+v]", fns, got)
	}
	_, err := s.Get(ctx, catalog.Key{Name: "add", ArgTypes: []string{"bigint", "bigint"}})
	wantErr(t, "Get in the default schema", err, catalog.ErrNotFound)
	_, err = s.Get(ctx, catalog.Key{Schema: "math", Name: "add", ArgTypes: []string{"bigint"}})
	wantErr(t, "Get with fewer arguments", err, catalog.ErrNotFound)
	if !catalog.IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = false", err)
	}
	var ce *catalog.Error
	if !errors.As(err, &ce) || ce.SQLState() != "42883" {
		t.Errorf("Get of a missing function: error %v does not carry SQLSTATE 42883", err)
	}

	none := fn("noargs")
	none.ArgNames, none.ArgTypes = nil, nil
	got = mustCreate(t, s, none, mod, false)
	if d := Diff(got, mustGet(t, s, catalog.Key{Name: "noargs"})); d != "" {
		t.Errorf("Get of a function without arguments: %s", d)
	}
}

func testValidation(t *testing.T, s catalog.Store) {
	ctx := context.Background()
	bad := map[string]func(f *catalog.Function){
		"empty name":           func(f *catalog.Function) { f.Name = "" },
		"empty return type":    func(f *catalog.Function) { f.ReturnType = "" },
		"empty export":         func(f *catalog.Function) { f.Export = "" },
		"too few arg names":    func(f *catalog.Function) { f.ArgNames = f.ArgNames[:1] },
		"too many arg names":   func(f *catalog.Function) { f.ArgNames = append(f.ArgNames, "x") },
		"nil arg names":        func(f *catalog.Function) { f.ArgNames = nil },
		"empty arg type":       func(f *catalog.Function) { f.ArgTypes[1] = "" },
		"NUL in name":          func(f *catalog.Function) { f.Name = "a\x00b" },
		"NUL in schema":        func(f *catalog.Function) { f.Schema = "a\x00" },
		"NUL in argument type": func(f *catalog.Function) { f.ArgTypes[0] = "big\x00int" },
	}
	for what, mutate := range bad {
		f := fn("f", "bigint", "text")
		mutate(&f)
		_, err := s.Create(ctx, f, module("f"), true)
		if err == nil {
			t.Errorf("Create with %s: no error", what)
			continue
		}
		if errors.Is(err, catalog.ErrExists) || errors.Is(err, catalog.ErrNotFound) || errors.Is(err, catalog.ErrCorrupt) {
			t.Errorf("Create with %s: error %v matches a catalog sentinel", what, err)
		}
	}
	if _, err := s.Create(ctx, fn("f", "bigint"), nil, true); err == nil {
		t.Errorf("Create with an empty module: no error")
	}
	if fns := mustList(t, s); len(fns) != 0 {
		t.Errorf("invalid Creates stored %d functions", len(fns))
	}
}

func testListOrder(t *testing.T, s catalog.Store) {
	keys := []catalog.Key{
		{Name: "f"},
		{Name: "f", ArgTypes: []string{"bigint"}},
		{Name: "f", ArgTypes: []string{"bigint", "bigint"}},
		{Name: "f", ArgTypes: []string{"bigint", "text"}},
		{Name: "f", ArgTypes: []string{"bigintx"}},
		{Name: "f", ArgTypes: []string{"text"}},
		{Name: "f_g", ArgTypes: []string{"bigint"}},
		{Name: "fa"},
		{Name: "g"},
		{Name: "z"},
		{Schema: "a", Name: "a"},
		{Schema: "a", Name: "f", ArgTypes: []string{"bigint"}},
		{Schema: "a.b", Name: "a"},
		{Schema: "b", Name: "a"},
	}
	if !slices.IsSortedFunc(keys, catalog.Key.Compare) {
		t.Fatal("test keys are not in Key.Compare order")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, i := range r.Perm(len(keys)) {
		f := fn(keys[i].Name, keys[i].ArgTypes...)
		f.Schema = keys[i].Schema
		mustCreate(t, s, f, module(fmt.Sprint(i%3)), false)
	}
	fns := mustList(t, s)
	var got []string
	for _, f := range fns {
		got = append(got, fmt.Sprintf("%q", f.Key()))
	}
	var want []string
	for _, k := range keys {
		want = append(want, fmt.Sprintf("%q", k))
	}
	if !slices.Equal(got, want) {
		t.Errorf("List order:\n got %v\nwant %v", got, want)
	}
}

func testOverloads(t *testing.T, s catalog.Store) {
	ctx := context.Background()
	a := mustCreate(t, s, fn("f", "bigint"), module("a"), false)
	b := mustCreate(t, s, fn("f", "text"), module("b"), false)
	c := mustCreate(t, s, fn("f", "bigint", "bigint"), module("a"), false)
	for _, f := range []catalog.Function{a, b, c} {
		if f.Version != 1 {
			t.Errorf("%s: Version %d, want 1 (overloads are not replacements)", f.Key(), f.Version)
		}
		if d := Diff(f, mustGet(t, s, f.Key())); d != "" {
			t.Errorf("Get %s: %s", f.Key(), d)
		}
	}
	if n := len(mustList(t, s)); n != 3 {
		t.Fatalf("List holds %d functions, want 3", n)
	}
	if _, err := s.Drop(ctx, a.Key()); err != nil {
		t.Fatalf("Drop %s: %v", a.Key(), err)
	}
	_, err := s.Get(ctx, a.Key())
	wantErr(t, "Get of the dropped overload", err, catalog.ErrNotFound)
	for _, f := range []catalog.Function{b, c} {
		if d := Diff(f, mustGet(t, s, f.Key())); d != "" {
			t.Errorf("Get %s after dropping an overload: %s", f.Key(), d)
		}
	}
}

func testNamesAsGiven(t *testing.T, s catalog.Store) {
	lower := mustCreate(t, s, fn("f", "bigint"), module("lower"), false)
	upper := mustCreate(t, s, fn("F", "bigint"), module("upper"), false)
	if d := Diff(lower, mustGet(t, s, lower.Key())); d != "" {
		t.Errorf("Get f: %s", d)
	}
	if d := Diff(upper, mustGet(t, s, upper.Key())); d != "" {
		t.Errorf("Get F: %s", d)
	}
}

func testExists(t *testing.T, s catalog.Store) {
	orig := mustCreate(t, s, fn("f", "bigint"), module("one"), false)
	again := fn("f", "bigint")
	again.ReturnType = "text"
	_, err := s.Create(context.Background(), again, module("two"), false)
	wantErr(t, "second Create without OR REPLACE", err, catalog.ErrExists)
	var ce *catalog.Error
	if !errors.As(err, &ce) || ce.SQLState() != "42723" {
		t.Errorf("ErrExists: error %v does not carry SQLSTATE 42723", err)
	}
	if d := Diff(orig, mustGet(t, s, orig.Key())); d != "" {
		t.Errorf("a failed Create changed the function: %s", d)
	}
	_, err = s.Module(context.Background(), hash(module("two")))
	wantErr(t, "module of a failed Create", err, catalog.ErrNotFound)
}

func testOrReplace(t *testing.T, s catalog.Store) {
	first := mustCreate(t, s, fn("f", "bigint"), module("one"), true)
	if first.Version != 1 || !first.Replaced.IsZero() {
		t.Fatalf("OR REPLACE of a new function: Version %d, Replaced %v; want 1, zero", first.Version, first.Replaced)
	}
	time.Sleep(2 * time.Millisecond) // so Replaced can be told from Created on coarse clocks
	next := fn("f", "bigint")
	next.ReturnType, next.Volatility, next.Options = "text", "VOLATILE", map[string]string{"memory": "1MiB"}
	second := mustCreate(t, s, next, module("two"), true)
	if second.Version != 2 {
		t.Errorf("Version after OR REPLACE = %d, want 2", second.Version)
	}
	if !second.Created.Equal(first.Created) {
		t.Errorf("Created after OR REPLACE = %v, want %v kept", second.Created, first.Created)
	}
	if second.Replaced.IsZero() || second.Replaced.Before(first.Created) {
		t.Errorf("Replaced after OR REPLACE = %v, want set, not before Created %v", second.Replaced, first.Created)
	}
	if second.ReturnType != "text" || second.Volatility != "VOLATILE" || second.Options["memory"] != "1MiB" || second.ModuleHash != hash(module("two")) {
		t.Errorf("OR REPLACE did not take the new definition: %+v", second)
	}
	if d := Diff(second, mustGet(t, s, second.Key())); d != "" {
		t.Errorf("Get after OR REPLACE: %s", d)
	}
	third := mustCreate(t, s, next, module("two"), true)
	if third.Version != 3 || !third.Created.Equal(first.Created) || third.Replaced.Before(second.Replaced) {
		t.Errorf("second OR REPLACE: Version %d Created %v Replaced %v", third.Version, third.Created, third.Replaced)
	}
	if n := len(mustList(t, s)); n != 1 {
		t.Errorf("List holds %d functions after replacements, want 1", n)
	}
}

// testOwner: the owner is stored and returned as given, "" included (functions of catalogs
// written before owners were recorded); OR REPLACE keeps it, whatever the new definition says.
func testOwner(t *testing.T, s catalog.Store) {
	mustCreate(t, s, fn("f", "bigint"), module("one"), false)
	next := fn("f", "bigint")
	next.Owner = "bob"
	if got := mustCreate(t, s, next, module("two"), true); got.Owner != "alice" {
		t.Errorf("owner after OR REPLACE by bob = %q, want alice kept", got.Owner)
	}
	if got := mustGet(t, s, next.Key()); got.Owner != "alice" {
		t.Errorf("stored owner after OR REPLACE = %q, want alice", got.Owner)
	}
	nobody := fn("g", "bigint")
	nobody.Owner = ""
	mustCreate(t, s, nobody, module("g"), false)
	nobody.Owner = "mallory"
	if got := mustCreate(t, s, nobody, module("g2"), true); got.Owner != "" {
		t.Errorf("an ownerless function replaced got owner %q, want none", got.Owner)
	}
	bad := fn("h", "bigint")
	bad.Owner = "a\x00b"
	if _, err := s.Create(context.Background(), bad, module("h"), false); err == nil {
		t.Errorf("owner with a NUL byte was stored")
	}
}

func testDrop(t *testing.T, s catalog.Store) {
	ctx := context.Background()
	created := mustCreate(t, s, fn("f", "bigint"), module("f"), false)
	dropped, err := s.Drop(ctx, catalog.Key{Name: "f", ArgTypes: []string{"bigint"}})
	if err != nil {
		t.Fatalf("Drop: %v", err)
	}
	if d := Diff(created, dropped); d != "" {
		t.Errorf("Drop returned %s", d)
	}
	_, err = s.Get(ctx, created.Key())
	wantErr(t, "Get after Drop", err, catalog.ErrNotFound)
	_, err = s.Drop(ctx, created.Key())
	wantErr(t, "second Drop", err, catalog.ErrNotFound)
	_, err = s.Drop(ctx, catalog.Key{Name: "never"})
	wantErr(t, "Drop of an unknown function", err, catalog.ErrNotFound)
	if n := len(mustList(t, s)); n != 0 {
		t.Errorf("List holds %d functions after Drop, want 0", n)
	}
	again := mustCreate(t, s, fn("f", "bigint"), module("f"), false)
	if again.Version != 1 {
		t.Errorf("Version of a function created again after Drop = %d, want 1", again.Version)
	}
}

func testModuleDedup(t *testing.T, s catalog.Store) {
	ctx := context.Background()
	mod := module("shared")
	a := mustCreate(t, s, fn("a", "bigint"), mod, false)
	b := mustCreate(t, s, fn("b", "bigint"), mod, false)
	if a.ModuleHash != b.ModuleHash || a.ModuleHash != hash(mod) {
		t.Fatalf("hashes %s and %s, want both %s", a.ModuleHash, b.ModuleHash, hash(mod))
	}
	if _, err := s.Drop(ctx, a.Key()); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Module(ctx, b.ModuleHash); err != nil || !bytes.Equal(got, mod) {
		t.Fatalf("module after dropping one of its two users: %q, %v", got, err)
	}
	if _, err := s.Drop(ctx, b.Key()); err != nil {
		t.Fatal(err)
	}
	_, err := s.Module(ctx, b.ModuleHash)
	wantErr(t, "module after dropping both users", err, catalog.ErrNotFound)
}

func testReplaceSwitchesModule(t *testing.T, s catalog.Store) {
	ctx := context.Background()
	old, shared, next := module("old"), module("shared"), module("new")
	mustCreate(t, s, fn("f", "bigint"), old, false)
	mustCreate(t, s, fn("g", "bigint"), shared, false)
	mustCreate(t, s, fn("h", "bigint"), shared, false)

	mustCreate(t, s, fn("f", "bigint"), next, true)
	_, err := s.Module(ctx, hash(old))
	wantErr(t, "module no function uses after OR REPLACE", err, catalog.ErrNotFound)

	mustCreate(t, s, fn("g", "bigint"), next, true)
	if got, err := s.Module(ctx, hash(shared)); err != nil || !bytes.Equal(got, shared) {
		t.Errorf("module still used by h after replacing g: %q, %v", got, err)
	}
	mustCreate(t, s, fn("h", "bigint"), shared, true) // same module: kept
	if _, err := s.Module(ctx, hash(shared)); err != nil {
		t.Errorf("module kept by OR REPLACE with the same bytes: %v", err)
	}
}

func testModule(t *testing.T, s catalog.Store) {
	ctx := context.Background()
	mod := make([]byte, 200_000)
	rand.NewChaCha8([32]byte{3}).Read(mod)
	f := mustCreate(t, s, fn("big"), mod, false)
	if f.ModuleSize != int64(len(mod)) || f.ModuleHash != hash(mod) {
		t.Fatalf("ModuleSize %d ModuleHash %s, want %d %s", f.ModuleSize, f.ModuleHash, len(mod), hash(mod))
	}
	got, err := s.Module(ctx, f.ModuleHash)
	if err != nil || !bytes.Equal(got, mod) {
		t.Fatalf("Module: %d bytes, %v; want the %d stored", len(got), err, len(mod))
	}
	for _, h := range []string{hash([]byte("absent")), "", "xyz", f.ModuleHash[:10]} {
		_, err := s.Module(ctx, h)
		wantErr(t, fmt.Sprintf("Module(%q)", h), err, catalog.ErrNotFound)
	}
}

func testCopies(t *testing.T, s catalog.Store) {
	in := fn("f", "bigint", "text")
	in.ArgNames = []string{"a", "b"}
	mod := module("f")
	out := mustCreate(t, s, in, mod, false)
	want := out
	want.ArgNames, want.ArgTypes = slices.Clone(out.ArgNames), slices.Clone(out.ArgTypes)
	want.Options = map[string]string{"fuel": "1000000"}

	in.ArgNames[0], in.ArgTypes[1], in.Options["fuel"] = "changed", "changed", "changed"
	mod[0] = 'X'
	out.ArgNames[1], out.Options["fuel"] = "changed", "changed"
	got := mustGet(t, s, want.Key())
	if d := Diff(want, got); d != "" {
		t.Fatalf("changing Create's input or output changed the store: %s", d)
	}
	got.ArgTypes[0], got.Options["fuel"] = "changed", "changed"
	if d := Diff(want, mustGet(t, s, want.Key())); d != "" {
		t.Errorf("changing Get's result changed the store: %s", d)
	}
	fns := mustList(t, s)
	fns[0].ArgTypes[0] = "changed"
	if d := Diff(want, mustGet(t, s, want.Key())); d != "" {
		t.Errorf("changing List's result changed the store: %s", d)
	}
	m, err := s.Module(context.Background(), want.ModuleHash)
	if err != nil {
		t.Fatal(err)
	}
	m[0] = 'Y'
	if m, err := s.Module(context.Background(), want.ModuleHash); err != nil || m[0] != 0 {
		t.Errorf("changing Module's result or Create's input changed the store: %q, %v", m, err)
	}
}

func testCanceledContext(t *testing.T, s catalog.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := fn("f", "bigint")
	_, err := s.Create(ctx, f, module("f"), false)
	wantErr(t, "Create with a canceled context", err, context.Canceled)
	if n := len(mustList(t, s)); n != 0 {
		t.Fatalf("Create with a canceled context stored %d functions", n)
	}
	mustCreate(t, s, f, module("f"), false)
	_, err = s.Drop(ctx, f.Key())
	wantErr(t, "Drop with a canceled context", err, context.Canceled)
	mustGet(t, s, f.Key())
}

// Recorder collects a subscriber's changes: Subscribe(r.Record).
type Recorder struct {
	mu      sync.Mutex
	changes []catalog.Change
}

// Record is the subscriber.
func (r *Recorder) Record(c catalog.Change) {
	r.mu.Lock()
	r.changes = append(r.changes, c)
	r.mu.Unlock()
}

// Changes returns the changes recorded so far.
func (r *Recorder) Changes() []catalog.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.changes)
}

// WaitFor waits up to limit for r to hold n changes and returns them and how long it took.
func (r *Recorder) WaitFor(t *testing.T, n int, limit time.Duration) ([]catalog.Change, time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		got := r.Changes()
		if len(got) >= n {
			return got, time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("after %s, %d changes, want %d: %+v", limit, len(got), n, got)
		}
		time.Sleep(time.Millisecond)
	}
}

func testNotifications(t *testing.T, s catalog.Store) {
	ctx := context.Background()
	var r1, r2 Recorder
	defer s.Subscribe(r1.Record)()
	defer s.Subscribe(r2.Record)()

	created := mustCreate(t, s, fn("f", "bigint"), module("one"), false)
	s.Create(ctx, fn("f", "bigint"), module("one"), false) // ErrExists: no notification
	replaced := mustCreate(t, s, fn("f", "bigint"), module("two"), true)
	other := mustCreate(t, s, fn("g"), module("two"), true)
	dropped, err := s.Drop(ctx, created.Key())
	if err != nil {
		t.Fatal(err)
	}
	s.Drop(ctx, created.Key()) // ErrNotFound: no notification

	want := []catalog.Change{
		{Kind: catalog.Created, Function: created},
		{Kind: catalog.Replaced, Function: replaced},
		{Kind: catalog.Created, Function: other},
		{Kind: catalog.Dropped, Function: dropped},
	}
	if dropped.Version != 2 {
		t.Errorf("Drop returned Version %d, want the replaced definition's 2", dropped.Version)
	}
	for name, r := range map[string]*Recorder{"first": &r1, "second": &r2} {
		// Delivery may follow the writer's return on asynchronous backends: wait a little.
		var got []catalog.Change
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			if got = r.Changes(); len(got) >= len(want) || time.Now().After(deadline) {
				break
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s subscriber got %d changes, want %d: %+v", name, len(got), len(want), got)
			continue
		}
		for i := range want {
			if got[i].Kind != want[i].Kind {
				t.Errorf("%s subscriber, change %d: kind %d, want %d", name, i, got[i].Kind, want[i].Kind)
			}
			if d := Diff(want[i].Function, got[i].Function); d != "" {
				t.Errorf("%s subscriber, change %d: %s", name, i, d)
			}
		}
	}
	// Each subscriber gets its own copy.
	c1, c2 := r1.Changes(), r2.Changes()
	c1[0].Function.ArgTypes[0] = "changed"
	if c2[0].Function.ArgTypes[0] != "bigint" {
		t.Errorf("subscribers share the notified Function's slices")
	}
}

func testCancelSubscription(t *testing.T, s catalog.Store) {
	var r Recorder
	cancel := s.Subscribe(r.Record)
	mustCreate(t, s, fn("a"), module("a"), false)
	cancel()
	cancel() // a second cancel is harmless
	mustCreate(t, s, fn("b"), module("b"), false)
	time.Sleep(10 * time.Millisecond)
	if got := r.Changes(); len(got) != 1 {
		t.Errorf("subscriber got %d changes, want 1 (the one before cancel)", len(got))
	}

	// cancel from within the callback.
	var n int
	var mu sync.Mutex
	var self func()
	var once sync.Once
	ready := make(chan struct{})
	self = s.Subscribe(func(catalog.Change) {
		<-ready
		mu.Lock()
		n++
		mu.Unlock()
		once.Do(self)
	})
	close(ready)
	mustCreate(t, s, fn("c"), module("c"), false)
	mustCreate(t, s, fn("d"), module("d"), false)
	time.Sleep(10 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if n != 1 {
		t.Errorf("a subscriber that canceled itself was called %d times, want 1", n)
	}
}

// testHammer runs creators, replacers, droppers and readers on a few keys from many goroutines,
// then replays the notifications: they must be a valid history ending in what List holds.
func testHammer(t *testing.T, s catalog.Store) {
	const (
		workers = 8
		ops     = 60
	)
	ctx := context.Background()
	var r Recorder
	defer s.Subscribe(r.Record)()

	keys := []catalog.Function{fn("f"), fn("f", "bigint"), fn("g", "text"), fn("h", "bigint", "bigint")}
	mods := [][]byte{module("m0"), module("m1"), module("m2")}
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 5))
			for range ops {
				f := keys[rnd.IntN(len(keys))]
				f.ArgNames, f.ArgTypes = slices.Clone(f.ArgNames), slices.Clone(f.ArgTypes)
				var err error
				switch op := rnd.IntN(10); {
				case op < 3:
					_, err = s.Create(ctx, f, mods[rnd.IntN(len(mods))], false)
					if errors.Is(err, catalog.ErrExists) {
						err = nil
					}
				case op < 6:
					_, err = s.Create(ctx, f, mods[rnd.IntN(len(mods))], true)
				case op < 8:
					_, err = s.Drop(ctx, f.Key())
					if errors.Is(err, catalog.ErrNotFound) {
						err = nil
					}
				case op < 9:
					var got catalog.Function
					if got, err = s.Get(ctx, f.Key()); err == nil {
						// The module may go between the two reads, never come back corrupt.
						if _, err = s.Module(ctx, got.ModuleHash); errors.Is(err, catalog.ErrNotFound) {
							err = nil
						}
					} else if errors.Is(err, catalog.ErrNotFound) {
						err = nil
					}
				default:
					var fns []catalog.Function
					if fns, err = s.List(ctx); err == nil && !slices.IsSortedFunc(fns, func(a, b catalog.Function) int { return a.Key().Compare(b.Key()) }) {
						err = errors.New("List out of order")
					}
				}
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}

	// Replay.
	// Delivery may follow the writer's return on asynchronous backends: wait a little.
	final := mustList(t, s)
	changes := r.Changes()
	for deadline := time.Now().Add(5 * time.Second); !replayMatches(changes, final) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
		changes = r.Changes()
	}
	model := map[string]catalog.Function{}
	for i, c := range changes {
		k := c.Function.Key().String()
		prev, ok := model[k]
		switch c.Kind {
		case catalog.Created:
			if ok || c.Function.Version != 1 {
				t.Fatalf("change %d: Created %s version %d; exists before: %v", i, k, c.Function.Version, ok)
			}
			model[k] = c.Function
		case catalog.Replaced:
			if !ok || c.Function.Version != prev.Version+1 || !c.Function.Created.Equal(prev.Created) {
				t.Fatalf("change %d: Replaced %s version %d; before: %v version %d", i, k, c.Function.Version, ok, prev.Version)
			}
			model[k] = c.Function
		case catalog.Dropped:
			if !ok || Diff(prev, c.Function) != "" {
				t.Fatalf("change %d: Dropped %s, not the current definition (exists %v): %s", i, k, ok, Diff(prev, c.Function))
			}
			delete(model, k)
		default:
			t.Fatalf("change %d: kind %d", i, c.Kind)
		}
	}
	if len(model) != len(final) {
		t.Fatalf("replaying %d notifications gives %d functions, List holds %d", len(changes), len(model), len(final))
	}
	for _, f := range final {
		if d := Diff(model[f.Key().String()], f); d != "" {
			t.Errorf("replayed notifications disagree with List on %s: %s", f.Key(), d)
		}
	}
	if len(changes) < workers*ops/4 {
		t.Errorf("only %d changes from %d operations", len(changes), workers*ops)
	}
}

// replayMatches reports whether replaying changes yields final (used to wait for asynchronous
// delivery to catch up).
func replayMatches(changes []catalog.Change, final []catalog.Function) bool {
	model := map[string]catalog.Function{}
	for _, c := range changes {
		if c.Kind == catalog.Dropped {
			delete(model, c.Function.Key().String())
		} else {
			model[c.Function.Key().String()] = c.Function
		}
	}
	if len(model) != len(final) {
		return false
	}
	for _, f := range final {
		if Diff(model[f.Key().String()], f) != "" {
			return false
		}
	}
	return true
}
