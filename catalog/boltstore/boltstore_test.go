package boltstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/wasql/wasql/catalog"
	"github.com/wasql/wasql/catalog/catalogtest"
)

// TestConformance runs the catalog suite. After each subtest the file is reopened and checked
// whole (Store.Check), which also tests that everything survives a reopen.
func TestConformance(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) catalog.Store {
		path := filepath.Join(t.TempDir(), "catalog.db")
		s := mustOpen(t, path)
		// Registered before catalogtest.Run's cleanups, so it runs after them: after Close.
		t.Cleanup(func() {
			s, err := Open(path)
			if err != nil {
				t.Errorf("reopen: %v", err)
				return
			}
			defer s.Close()
			if err := s.Check(context.Background()); err != nil {
				t.Errorf("after reopen: %v", err)
			}
			if err := catalogtest.Check(context.Background(), s); err != nil {
				t.Errorf("after reopen: %v", err)
			}
		})
		return s
	})
}

func mustOpen(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func testFunction(name string, argTypes ...string) catalog.Function {
	return catalog.Function{
		Name:       name,
		ArgNames:   make([]string, len(argTypes)),
		ArgTypes:   argTypes,
		ReturnType: "bigint",
		Export:     name,
	}
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	s := mustOpen(t, path)
	var want []catalog.Function
	for _, f := range []catalog.Function{testFunction("a", "bigint"), testFunction("b"), testFunction("a", "text")} {
		got, err := s.Create(ctx, f, []byte("module "+f.Name), false)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, got)
	}
	slices.SortFunc(want, func(a, b catalog.Function) int { return a.Key().Compare(b.Key()) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, want[0].Key()); err == nil {
		t.Errorf("Get after Close: no error")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	s = mustOpen(t, path)
	defer s.Close()
	got, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopen List = %+v\nwant %+v", got, want)
	}
	if m, err := s.Module(ctx, want[0].ModuleHash); err != nil || string(m) != "module a" {
		t.Errorf("Module after reopen: %q, %v", m, err)
	}
	r, err := s.Create(ctx, testFunction("b"), []byte("module b2"), true)
	if err != nil || r.Version != 2 || !r.Created.Equal(want[2].Created) {
		t.Errorf("OR REPLACE after reopen: Version %d, Created %v, %v", r.Version, r.Created, err)
	}
	if err := s.Check(ctx); err != nil {
		t.Error(err)
	}
}

// update changes the file under a closed store directly.
func update(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptModule(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	s := mustOpen(t, path)
	mod := []byte("\x00asm\x01\x00\x00\x00 the module")
	f, err := s.Create(ctx, testFunction("f", "bigint"), mod, false)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	update(t, path, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketModules)
		v := bytes.Clone(b.Get([]byte(f.ModuleHash)))
		v[len(v)/2] ^= 0x01
		return b.Put([]byte(f.ModuleHash), v)
	})

	s = mustOpen(t, path)
	defer s.Close()
	_, err = s.Module(ctx, f.ModuleHash)
	if !errors.Is(err, catalog.ErrCorrupt) {
		t.Fatalf("Module of a flipped byte: %v, want ErrCorrupt", err)
	}
	var ce *catalog.Error
	if !errors.As(err, &ce) || ce.SQLState() != "XX001" {
		t.Errorf("error %v does not carry SQLSTATE XX001", err)
	}
	if err := s.Check(ctx); !errors.Is(err, catalog.ErrCorrupt) {
		t.Errorf("Check: %v, want ErrCorrupt", err)
	}
	if err := catalogtest.Check(ctx, s); !errors.Is(err, catalog.ErrCorrupt) {
		t.Errorf("catalogtest.Check: %v, want ErrCorrupt", err)
	}
	// Creating a function with the right bytes repairs the copy.
	if _, err := s.Create(ctx, testFunction("f", "bigint"), mod, true); err != nil {
		t.Fatal(err)
	}
	if m, err := s.Module(ctx, f.ModuleHash); err != nil || !bytes.Equal(m, mod) {
		t.Errorf("Module after repair: %q, %v", m, err)
	}
	if err := s.Check(ctx); err != nil {
		t.Errorf("Check after repair: %v", err)
	}
}

func TestCorruptRecord(t *testing.T) {
	ctx := context.Background()
	good := testFunction("good", "bigint")
	for name, corrupt := range map[string]func(b *bolt.Bucket, k, v []byte) error{
		"truncated": func(b *bolt.Bucket, k, v []byte) error { return b.Put(k, v[:len(v)/2]) },
		"not JSON":  func(b *bolt.Bucket, k, v []byte) error { return b.Put(k, []byte("\xff\x00")) },
		"wrong key": func(b *bolt.Bucket, k, v []byte) error {
			return b.Put(encodeKey(catalog.Key{Name: "other"}), v)
		},
		"no module hash": func(b *bolt.Bucket, k, v []byte) error {
			return b.Put(k, bytes.Replace(v, []byte(`"module_hash":"`), []byte(`"module_hash":"x`), 1))
		},
		"invalid": func(b *bolt.Bucket, k, v []byte) error {
			return b.Put(k, bytes.Replace(v, []byte(`"return_type":"bigint"`), []byte(`"return_type":""`), 1))
		},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "catalog.db")
			s := mustOpen(t, path)
			if _, err := s.Create(ctx, testFunction("f", "bigint"), []byte("m"), false); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Create(ctx, good, []byte("m2"), false); err != nil {
				t.Fatal(err)
			}
			s.Close()
			update(t, path, func(tx *bolt.Tx) error {
				b := tx.Bucket(bucketFunctions)
				k := encodeKey(catalog.Key{Name: "f", ArgTypes: []string{"bigint"}})
				return corrupt(b, k, bytes.Clone(b.Get(k)))
			})
			s = mustOpen(t, path)
			defer s.Close()
			if _, err := s.List(ctx); !errors.Is(err, catalog.ErrCorrupt) {
				t.Errorf("List: %v, want ErrCorrupt", err)
			}
			if err := s.Check(ctx); !errors.Is(err, catalog.ErrCorrupt) {
				t.Errorf("Check: %v, want ErrCorrupt", err)
			}
			// Dropping a function must decide whether its module (used by no other function)
			// is still used: it cannot while a record is unreadable.
			if _, err := s.Drop(ctx, good.Key()); !errors.Is(err, catalog.ErrCorrupt) {
				t.Errorf("Drop of the good function: %v, want ErrCorrupt", err)
			}
			if _, err := s.Get(ctx, good.Key()); err != nil {
				t.Errorf("Get of the good function: %v", err)
			}
		})
	}
}

func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	s := mustOpen(t, path)
	defer s.Close()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		s2, err := Open(path)
		if err == nil {
			s2.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("second Open: %v, want ErrLocked", err)
		}
		t.Logf("second Open failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(LockTimeout + 10*time.Second):
		t.Fatalf("second Open still waiting after %v", time.Since(start))
	}
	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatalf("Open after the first store closed: %v", err)
	}
	s2.Close()
}

func TestFormat(t *testing.T) {
	dir := t.TempDir()

	future := filepath.Join(dir, "future.db")
	mustOpen(t, future).Close()
	update(t, future, func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyVersion, []byte("2")) })

	foreign := filepath.Join(dir, "foreign.db")
	update(t, foreign, func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })

	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a bbolt file "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{future, foreign, garbage} {
		s, err := Open(path)
		if !errors.Is(err, ErrFormat) {
			if s != nil {
				s.Close()
			}
			t.Errorf("Open %s: %v, want ErrFormat", filepath.Base(path), err)
		} else {
			t.Logf("Open %s: %v", filepath.Base(path), err)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing", "catalog.db")); err == nil {
		t.Errorf("Open in a missing directory: no error")
	}
}

func TestKeyOrder(t *testing.T) {
	keys := []catalog.Key{
		{Name: "f"}, {Name: "f", ArgTypes: []string{"a"}}, {Name: "f", ArgTypes: []string{"a", "b"}},
		{Name: "f", ArgTypes: []string{"a", "b", "c"}}, {Name: "f", ArgTypes: []string{"ab"}},
		{Name: "f", ArgTypes: []string{"b"}}, {Name: "f0"}, {Name: "fa"}, {Schema: "a", Name: "a"},
		{Schema: "a", Name: "b"}, {Schema: "a.b", Name: "a"}, {Schema: "ab", Name: "a"},
	}
	for i := range keys {
		for j := range keys {
			want := keys[i].Compare(keys[j])
			if got := bytes.Compare(encodeKey(keys[i]), encodeKey(keys[j])); got != want || want != cmpInt(i, j) {
				t.Errorf("%q vs %q: encoded %d, Compare %d, want %d", keys[i], keys[j], got, want, cmpInt(i, j))
			}
		}
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// FuzzDecodeFunction feeds stored bytes to the record decoder: it never panics, and what it
// accepts re-encodes under the same key to a record that decodes to the same function.
func FuzzDecodeFunction(f *testing.F) {
	fn := testFunction("f", "bigint", "text")
	fn.ModuleHash, fn.ModuleSize, fn.Version, fn.Created = hashOf([]byte("m")), 1, 1, time.Unix(1e9, 0).UTC()
	rec, err := encodeFunction(&fn)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(encodeKey(fn.Key()), rec)
	f.Fuzz(func(t *testing.T, k, v []byte) {
		fn, err := decodeFunction(k, v)
		if err != nil {
			if !errors.Is(err, catalog.ErrCorrupt) {
				t.Fatalf("decode error %v is not ErrCorrupt", err)
			}
			return
		}
		if !bytes.Equal(encodeKey(fn.Key()), k) {
			t.Fatalf("decoded %s from key %q", fn.Key(), k)
		}
		rec, err := encodeFunction(&fn)
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeFunction(k, rec)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if d := catalogtest.Diff(fn, again); d != "" {
			t.Fatalf("round trip: %s", d)
		}
	})
}

// TestOwnerlessRecord: a record written before owners were recorded (no "owner" field) still
// decodes, as a function that belongs to no one; an owner round-trips.
func TestOwnerlessRecord(t *testing.T) {
	old := []byte(`{"name":"now","arg_names":[],"arg_types":null,"return_type":"bigint","export":"now","module_hash":"62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a","module_size":1,"version":1,"created":"2001-09-09T01:46:40Z"}`)
	fn, err := decodeFunction([]byte("\x00now\x00"), old)
	if err != nil || fn.Owner != "" {
		t.Fatalf("old record: owner %q, %v", fn.Owner, err)
	}
	fn.Owner = "alice"
	rec, err := encodeFunction(&fn)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rec), `"owner":"alice"`) {
		t.Fatalf("owner not encoded: %s", rec)
	}
	again, err := decodeFunction([]byte("\x00now\x00"), rec)
	if err != nil || again.Owner != "alice" {
		t.Fatalf("round trip: owner %q, %v", again.Owner, err)
	}
}

// FuzzUnmarshalRecord: the fast decoder never panics on any bytes, and decodes every record
// encodeFunction writes as encoding/json does.
func FuzzUnmarshalRecord(f *testing.F) {
	f.Add("f", "1MB", "o", []byte(`{"Name":"f"}`))
	f.Add("\xff\u2028", "\"", "", []byte(`{"Name":"\ud800","ArgTypes":[1]}`))
	f.Fuzz(func(t *testing.T, name, opt, owner string, raw []byte) {
		unmarshalRecord(raw) // must not panic
		fn := catalog.Function{Name: name, ArgNames: []string{opt}, ArgTypes: []string{"bigint"}, ReturnType: "bigint",
			Volatility: "IMMUTABLE", Strict: true, Parallel: "SAFE", Cost: 1.5, Export: name, Options: map[string]string{opt: name},
			ModuleHash: strings.Repeat("ab", 32), ModuleSize: 9, Owner: owner, Version: 2, Created: time.Unix(5, 6).UTC()}
		v, err := encodeFunction(&fn)
		if err != nil {
			t.Fatal(err)
		}
		got, err := unmarshalRecord(v)
		var want catalog.Record
		if werr := json.Unmarshal(v, &want); werr != nil || err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: fast %+v (%v), encoding/json %+v (%v)", v, got, err, want, werr)
		}
	})
}

// TestRelease: Release takes the catalog file's pages out of the process's resident memory (on
// Linux, read from /proc/self/smaps), and the store reads and writes as before.
func TestRelease(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	module := bytes.Repeat([]byte("m"), 16<<10)
	for i := range 200 {
		module[0] = byte(i)
		module[1] = byte(i >> 8)
		if _, err := s.Create(ctx, testFunction(fmt.Sprintf("f%d", i)), module, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Module(ctx, catalog.ModuleHash(module)); err != nil {
		t.Fatal(err)
	}
	before := residentKB(t, path)
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	after := residentKB(t, path)
	t.Logf("resident: %d kB before Release, %d kB after", before, after)
	if runtime.GOOS == "linux" && (before < 1024 || after > before/4) {
		t.Errorf("resident pages of the catalog file: %d kB before Release, %d kB after", before, after)
	}
	if _, err := s.Create(ctx, testFunction("b"), []byte("module b"), false); err != nil {
		t.Fatal(err)
	}
	fns, err := s.List(ctx)
	if err != nil || len(fns) != 201 {
		t.Fatalf("after Release: %d functions, %v", len(fns), err)
	}
	if got, err := s.Module(ctx, catalog.ModuleHash(module)); err != nil || !bytes.Equal(got, module) {
		t.Fatalf("module after Release: %d bytes, %v", len(got), err)
	}
	s.Close()
	if err := s.Release(); err == nil {
		t.Error("Release after Close: no error")
	}
}

// residentKB sums the Rss of this process's mappings of path (0 off Linux).
func residentKB(t *testing.T, path string) int {
	if runtime.GOOS != "linux" {
		return 0
	}
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	kb, in := 0, false
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			in = len(f) >= 6 && f[5] == path
		case in && len(f) >= 2 && f[0] == "Rss:":
			n, _ := strconv.Atoi(f[1])
			kb += n
		}
	}
	return kb
}
