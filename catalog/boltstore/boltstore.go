package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	fastjson "github.com/goccy/go-json"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/wasql/wasql/catalog"
)

// LockTimeout is how long Open waits for the file lock held by another Store (in this or another
// process) before it fails with ErrLocked.
const LockTimeout = time.Second

// formatVersion is the layout this package reads and writes.
const formatVersion = "1"

// Errors of opening a store. Errors of operations on an open store are the catalog sentinels.
var (
	// ErrLocked means another Store holds the file; Open waited LockTimeout for it.
	ErrLocked = errors.New("catalog file is locked by another process")
	// ErrFormat means the file is not a bbolt file, not a wasql catalog, or a catalog in a
	// format version this build does not know.
	ErrFormat = errors.New("not a catalog file in a known format")
)

var (
	bucketMeta      = []byte("meta")
	bucketFunctions = []byte("functions")
	bucketModules   = []byte("modules")
	keyVersion      = []byte("version")
)

// Store is a catalog.Store kept in one bbolt file. It is safe for concurrent use; at most one
// Store (in any process) has a given file open.
type Store struct {
	db   *bolt.DB
	path string

	// wmu serializes each write transaction with the delivery of its notification, so
	// subscribers see changes in commit order.
	wmu sync.Mutex

	subs     catalog.Subscribers
	releaser *time.Timer // see releaseLater; under wmu

	closeOnce sync.Once
	closeErr  error
}

var _ catalog.Store = (*Store)(nil)

// Open opens the catalog file at path, creating it (mode 0600) if it does not exist. It fails with
// ErrLocked if another Store keeps the file open for longer than LockTimeout, and with ErrFormat
// if the file is not a catalog this build can read.
func Open(path string) (*Store, error) {
	// The file is mapped with its pages read in at once (MAP_POPULATE on Linux): a start reads
	// every function, and faulting 80 MB in page by page took 0.5 s; Release drops them again.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: LockTimeout, MmapFlags: populate})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open catalog %s: %w (waited %s; is another wasql running on it?)", path, ErrLocked, LockTimeout)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		return nil, fmt.Errorf("open catalog %s: %w: %w", path, ErrFormat, err)
	case err != nil:
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	if err := initialize(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	return &Store{db: db, path: path}, nil
}

// initialize checks the format version of an existing catalog, or lays out an empty file.
func initialize(db *bolt.DB) error {
	fresh := false
	err := db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			empty := true
			tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return fmt.Errorf("%w: bbolt file without a %q bucket", ErrFormat, bucketMeta)
			}
			fresh = true
			return nil
		}
		if v := meta.Get(keyVersion); string(v) != formatVersion {
			return fmt.Errorf("%w: format version %q (this build reads %q)", ErrFormat, v, formatVersion)
		}
		if tx.Bucket(bucketFunctions) == nil || tx.Bucket(bucketModules) == nil {
			return fmt.Errorf("%w: version %s file lacks a bucket", ErrFormat, formatVersion)
		}
		return nil
	})
	if err != nil || !fresh {
		return err
	}
	return db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketFunctions, bucketModules, bucketMeta} {
			if _, err := tx.CreateBucket(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return tx.Bucket(bucketMeta).Put(keyVersion, []byte(formatVersion))
	})
}

// Path returns the file the store was opened on.
func (s *Store) Path() string { return s.path }

// Create implements catalog.Store.
func (s *Store) Create(ctx context.Context, fn catalog.Function, module []byte, orReplace bool) (catalog.Function, error) {
	if err := fn.Validate(); err != nil {
		return catalog.Function{}, fmt.Errorf("create: %w", err)
	}
	key := fn.Key()
	if len(module) == 0 {
		return catalog.Function{}, fmt.Errorf("create %s: empty module", key)
	}
	if err := ctx.Err(); err != nil {
		return catalog.Function{}, fmt.Errorf("create %s: %w", key, err)
	}
	fn = fn.Clone()
	fn.ModuleHash = catalog.ModuleHash(module)
	fn.ModuleSize = int64(len(module))
	now := time.Now().UTC().Round(0) // as JSON gives it back: UTC, no monotonic reading

	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := ctx.Err(); err != nil {
		return catalog.Function{}, fmt.Errorf("create %s: %w", key, err)
	}
	kind := catalog.Created
	err := s.db.Update(func(tx *bolt.Tx) error {
		funcs, mods := tx.Bucket(bucketFunctions), tx.Bucket(bucketModules)
		k := encodeKey(key)
		oldHash := ""
		if v := funcs.Get(k); v != nil {
			if !orReplace {
				return catalog.Errorf(catalog.ErrExists, "function %s already exists with same argument types", key)
			}
			old, err := decodeFunction(k, v)
			if err != nil {
				return err
			}
			kind = catalog.Replaced
			fn.Version, fn.Created, fn.Replaced, fn.Owner = old.Version+1, old.Created, now, old.Owner
			oldHash = old.ModuleHash
		} else {
			fn.Version, fn.Created, fn.Replaced = 1, now, time.Time{}
		}
		rec, err := encodeFunction(&fn)
		if err != nil {
			return err
		}
		if err := funcs.Put(k, rec); err != nil {
			return err
		}
		// Rewriting differing bytes under the same hash repairs a corrupted copy.
		if cur := mods.Get([]byte(fn.ModuleHash)); !bytes.Equal(cur, module) {
			if err := mods.Put([]byte(fn.ModuleHash), module); err != nil {
				return err
			}
		}
		if oldHash != "" && oldHash != fn.ModuleHash {
			return collectModule(tx, oldHash)
		}
		return nil
	})
	if err != nil {
		return catalog.Function{}, fmt.Errorf("create %s: %w", key, err)
	}
	s.releaseLater()
	s.notify(catalog.Change{Kind: kind, Function: fn})
	return fn.Clone(), nil
}

// Drop implements catalog.Store. Finding whether the dropped function's module is still used
// reads every function record: writes are rare and catalogs small, and no reference count can
// drift from the records it counts.
func (s *Store) Drop(ctx context.Context, k catalog.Key) (catalog.Function, error) {
	if err := ctx.Err(); err != nil {
		return catalog.Function{}, fmt.Errorf("drop %s: %w", k, err)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := ctx.Err(); err != nil {
		return catalog.Function{}, fmt.Errorf("drop %s: %w", k, err)
	}
	var fn catalog.Function
	err := s.db.Update(func(tx *bolt.Tx) error {
		funcs := tx.Bucket(bucketFunctions)
		bk := encodeKey(k)
		v := funcs.Get(bk)
		if v == nil {
			return catalog.Errorf(catalog.ErrNotFound, "function %s does not exist", k)
		}
		var err error
		if fn, err = decodeFunction(bk, v); err != nil {
			return err
		}
		if err := funcs.Delete(bk); err != nil {
			return err
		}
		return collectModule(tx, fn.ModuleHash)
	})
	if err != nil {
		return catalog.Function{}, fmt.Errorf("drop %s: %w", k, err)
	}
	s.releaseLater()
	s.notify(catalog.Change{Kind: catalog.Dropped, Function: fn})
	return fn.Clone(), nil
}

// collectModule deletes the module with the given hash if no function record refers to it.
func collectModule(tx *bolt.Tx, hash string) error {
	c := tx.Bucket(bucketFunctions).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		fn, err := decodeFunction(k, v)
		if err != nil {
			return err
		}
		if fn.ModuleHash == hash {
			return nil
		}
	}
	return tx.Bucket(bucketModules).Delete([]byte(hash))
}

// Get implements catalog.Store.
func (s *Store) Get(ctx context.Context, k catalog.Key) (catalog.Function, error) {
	if err := ctx.Err(); err != nil {
		return catalog.Function{}, fmt.Errorf("get %s: %w", k, err)
	}
	var fn catalog.Function
	err := s.db.View(func(tx *bolt.Tx) error {
		bk := encodeKey(k)
		v := tx.Bucket(bucketFunctions).Get(bk)
		if v == nil {
			return catalog.Errorf(catalog.ErrNotFound, "function %s does not exist", k)
		}
		var err error
		fn, err = decodeFunction(bk, v)
		return err
	})
	if err != nil {
		return catalog.Function{}, fmt.Errorf("get %s: %w", k, err)
	}
	return fn, nil
}

// Release drops the catalog's mapped pages from this process's resident memory: a scan of every
// function (List, at a server's start) or a run of CREATEs brings them in, and 100,000
// functions map about 80 MB. They stay in the page cache; later reads fault in what they touch.
// A store releases by itself a minute after its last write.
func (s *Store) Release() error {
	err := s.db.View(func(tx *bolt.Tx) error { // a read transaction: no remap meanwhile
		return dontNeed(s.db.Info().Data, uintptr(tx.Size()))
	})
	if err != nil {
		return fmt.Errorf("release catalog %s: %w", s.path, err)
	}
	return nil
}

// releaseAfter is how long after its last write a store releases its pages.
const releaseAfter = 10 * time.Second

// releaseLater (re)starts the countdown to the next Release. The caller holds wmu.
func (s *Store) releaseLater() {
	if s.releaser == nil {
		s.releaser = time.AfterFunc(releaseAfter, func() { s.Release() })
		return
	}
	s.releaser.Reset(releaseAfter)
}

// List implements catalog.Store. A record that does not decode fails the whole call with
// catalog.ErrCorrupt.
func (s *Store) List(ctx context.Context) ([]catalog.Function, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	var fns []catalog.Function
	err := s.db.View(func(tx *bolt.Tx) error {
		// Decoding is most of the cost (a server start lists every function): the keys and
		// values, valid until the transaction ends, are decoded on every core.
		var kvs [][2][]byte
		if err := tx.Bucket(bucketFunctions).ForEach(func(k, v []byte) error {
			kvs = append(kvs, [2][]byte{k, v})
			return nil
		}); err != nil {
			return err
		}
		fns = make([]catalog.Function, len(kvs))
		workers := min(runtime.GOMAXPROCS(0), len(kvs)/1000+1)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(kvs); i += workers {
					fn, err := decodeFunction(kvs[i][0], kvs[i][1])
					if err != nil {
						errs[w] = err
						return
					}
					fns[i] = fn
				}
			}()
		}
		wg.Wait()
		return errors.Join(errs...)
	})
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	// bbolt's key order is already Key.Compare's; sorting a sorted list is cheap insurance.
	slices.SortStableFunc(fns, func(a, b catalog.Function) int { return a.Key().Compare(b.Key()) })
	return fns, nil
}

// Module implements catalog.Store.
func (s *Store) Module(ctx context.Context, hash string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("module %s: %w", hash, err)
	}
	if !catalog.IsModuleHash(hash) {
		return nil, catalog.Errorf(catalog.ErrNotFound, "module %q does not exist: not a lower-case hex SHA-256", hash)
	}
	var mod []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketModules).Get([]byte(hash))
		if v == nil {
			return catalog.Errorf(catalog.ErrNotFound, "module %s does not exist", hash)
		}
		mod = bytes.Clone(v) // v is only valid during the transaction
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := catalog.VerifyModule(hash, mod); err != nil {
		return nil, err
	}
	return mod, nil
}

// Subscribe implements catalog.Store. Notifications are delivered synchronously by the writing
// goroutine after its transaction commits and before Create or Drop returns, while it holds the
// store's write lock: fn must not call Create or Drop.
func (s *Store) Subscribe(fn func(catalog.Change)) (cancel func()) { return s.subs.Subscribe(fn) }

// notify delivers c to every subscriber, each with its own copy. The caller holds wmu.
func (s *Store) notify(c catalog.Change) { s.subs.Notify(c, nil) }

// Close implements catalog.Store. It waits for transactions under way; later calls fail. Closing
// twice returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.wmu.Lock()
		if s.releaser != nil {
			s.releaser.Stop()
		}
		s.wmu.Unlock()
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("close catalog %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// Check verifies the whole file and returns every problem found, joined: bbolt's page structure;
// every function record decodes and is stored under its own key; every function's module exists,
// matches its hash and its recorded size; and every module is used by some function. The problems
// other than a failed read match catalog.ErrCorrupt.
func (s *Store) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("check catalog %s: %w", s.path, err)
	}
	var errs []error
	err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			errs = append(errs, catalog.Errorf(catalog.ErrCorrupt, "bbolt: %v", err))
		}
		mods := tx.Bucket(bucketModules)
		used := map[string]bool{}
		err := tx.Bucket(bucketFunctions).ForEach(func(k, v []byte) error {
			fn, err := decodeFunction(k, v)
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			used[fn.ModuleHash] = true
			mod := mods.Get([]byte(fn.ModuleHash))
			switch {
			case mod == nil:
				errs = append(errs, catalog.Errorf(catalog.ErrCorrupt, "function %s: module %s is missing", fn.Key(), fn.ModuleHash))
			case int64(len(mod)) != fn.ModuleSize:
				errs = append(errs, catalog.Errorf(catalog.ErrCorrupt, "function %s: module %s has %d bytes, record says %d", fn.Key(), fn.ModuleHash, len(mod), fn.ModuleSize))
			}
			return nil
		})
		if err != nil {
			return err
		}
		return mods.ForEach(func(k, v []byte) error {
			if err := catalog.VerifyModule(string(k), v); err != nil {
				errs = append(errs, err)
			}
			if !used[string(k)] {
				errs = append(errs, catalog.Errorf(catalog.ErrCorrupt, "module %s is used by no function", k))
			}
			return nil
		})
	})
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("check catalog %s: %w", s.path, err)
	}
	return nil
}

// encodeKey renders k as schema NUL name NUL type NUL type...: distinct keys never collide and
// byte order is Key.Compare order.
func encodeKey(k catalog.Key) []byte {
	var b strings.Builder
	b.WriteString(k.Schema)
	b.WriteByte(0)
	b.WriteString(k.Name)
	b.WriteByte(0)
	for i, t := range k.ArgTypes {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(t)
	}
	return []byte(b.String())
}

func encodeFunction(fn *catalog.Function) ([]byte, error) {
	b, err := json.Marshal(catalog.Record(*fn))
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", fn.Key(), err)
	}
	return b, nil
}

// unmarshalRecord decodes a function record with goccy/go-json, twice as fast as encoding/json
// (a server start decodes every record: 100,000 took 0.42 s against 0.2 s); a record it refuses,
// or panics on, is decoded by encoding/json, whose error is the one reported.
func unmarshalRecord(v []byte) (r catalog.Record, err error) {
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%v", p)
			}
		}()
		err = fastjson.Unmarshal(v, &r)
	}()
	if err != nil {
		r = catalog.Record{}
		err = json.Unmarshal(v, &r)
	}
	return r, err
}

// decodeFunction decodes the record v stored under key k. A record that does not decode, fails
// Validate, is stored under another function's key or lacks its module hash, size or version
// is catalog.ErrCorrupt.
func decodeFunction(k, v []byte) (catalog.Function, error) {
	r, err := unmarshalRecord(v)
	if err != nil {
		return catalog.Function{}, catalog.Errorf(catalog.ErrCorrupt, "function record %q does not decode: %v", k, err)
	}
	fn := catalog.Function(r)
	if err := fn.Validate(); err != nil {
		return catalog.Function{}, catalog.Errorf(catalog.ErrCorrupt, "function record %q is invalid: %v", k, err)
	}
	if !bytes.Equal(encodeKey(fn.Key()), k) {
		return catalog.Function{}, catalog.Errorf(catalog.ErrCorrupt, "function record %q holds %s", k, fn.Key())
	}
	if !catalog.IsModuleHash(fn.ModuleHash) || fn.ModuleSize <= 0 || fn.Version <= 0 {
		return catalog.Function{}, catalog.Errorf(catalog.ErrCorrupt, "function record %s: bad module hash %q, size %d or version %d", fn.Key(), fn.ModuleHash, fn.ModuleSize, fn.Version)
	}
	return fn, nil
}
