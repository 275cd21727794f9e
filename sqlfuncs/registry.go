package sqlfuncs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/wasql/wasql/catalog"
	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/udf"
)

// Registry is the set of wasm functions an engine can call: the durable definitions of a
// catalog.Store, each loaded into the udf.Runtime. It follows the store's change notifications,
// so it also sees functions created by other writers of the same store.
type Registry struct {
	rt     *udf.Runtime
	store  catalog.Store
	cancel func()

	noBatch atomic.Bool // the batch rule is off: calls run row by row (for comparisons)
	// retire closes a replaced or dropped function once no statement can still call it
	// (SetRetire); nil closes it at once.
	retire func(close func())

	privileges *mysql_db.MySQLDb // users and grants, for replacing and dropping (owner.go)

	quotas  *Quotas    // per-user bounds (quota.go); nil: none
	quotaMu sync.Mutex // held from a CREATE's quota check until it is stored and installed

	mu      sync.RWMutex
	gen     atomic.Uint64          // incremented at every change of byName's names (Names)
	byName  map[string][]*Overload // by lower-case name; schema is not part of the lookup yet
	pending map[string]*Overload   // loaded by Create, waiting for the store to commit, by key
}

// Overload is one loaded function: its definition and the runtime function that evaluates it.
// A query keeps the Overload it resolved, so OR REPLACE never changes a running query.
type Overload struct {
	Def    catalog.Function
	Fn     *udf.Function // nil when Broken
	Args   []udf.Type
	Result udf.Type
	// Broken is why the function failed to load (a udf.Error of kind KindBroken, 55000), nil when
	// it is callable. A broken function is listed and can be dropped or replaced; calls fail.
	Broken error
}

// setDef sets the definition the store gave back for ov, sharing its module hash's text with
// the function's.
func (ov *Overload) setDef(def catalog.Function) {
	if ov.Fn != nil && ov.Fn.Hash() == def.ModuleHash {
		def.ModuleHash = ov.Fn.Hash()
	}
	ov.Def = def
}

func (ov *Overload) close() {
	if ov.Fn != nil {
		ov.Fn.Close()
	}
}

// NewRegistry installs every function of store into rt, lazily: a function costs its definition
// until its first call loads it. A function that no longer loads (its _initialize traps, the
// current runtime refuses its module, its module is missing) is broken from then on: listed with
// its error, failing its calls with 55000; every other function works.
func NewRegistry(ctx context.Context, rt *udf.Runtime, store catalog.Store) (*Registry, error) {
	r := &Registry{rt: rt, store: store, byName: map[string][]*Overload{}, pending: map[string]*Overload{}}
	fns, err := store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	for _, def := range fns {
		r.install(r.loadOrBroken(ctx, def))
	}
	r.cancel = store.Subscribe(r.apply)
	return r, nil
}

// loadOrBroken loads def from the store, or returns it broken with the reason.
func (r *Registry) loadOrBroken(ctx context.Context, def catalog.Function) *Overload {
	ov, err := r.load(ctx, def, nil)
	if err == nil {
		return ov
	}
	ov = &Overload{Def: def, Broken: udf.Broken(def.Name, err)}
	slog.Warn("function broken: it failed to load", "function", def.Key().String(), "error", err)
	ov.Args, _ = parseTypes(def.ArgTypes)
	ov.Result, _ = udf.ParseType(def.ReturnType)
	return ov
}

// SetRetire sets how a replaced or dropped function is closed: retire(close) must call close
// once every statement that may have resolved the function has ended. Queries keep the overload
// they resolved (OR REPLACE never changes a running query), and CREATE OR REPLACE runs beside
// them, under no engine lock: closed at once, the old version would fail their calls. Call it
// before serving.
func (r *Registry) SetRetire(retire func(close func())) { r.retire = retire }

func (r *Registry) retired(ov *Overload) {
	if r.retire == nil {
		ov.close()
		return
	}
	r.retire(ov.close)
}

// SetBatching turns the batch rule on (the default) or off for queries planned afterwards. Off,
// every call runs row by row: only useful to measure what batching buys.
func (r *Registry) SetBatching(on bool) { r.noBatch.Store(!on) }

// Close stops following the store and closes every loaded function.
func (r *Registry) Close() {
	if r.cancel != nil {
		r.cancel()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ovs := range r.byName {
		for _, ov := range ovs {
			ov.close()
		}
	}
	r.byName = map[string][]*Overload{}
	r.gen.Add(1)
}

// load turns a definition into a function. With module (CREATE) the function is validated and
// compiled now; without, it is lazy: its module is fetched from the store, validated and
// compiled at its first call. Either way it is unloaded again when idle.
func (r *Registry) load(ctx context.Context, def catalog.Function, module []byte) (*Overload, error) {
	ov := &Overload{Def: def}
	d := udf.Definition{Name: def.Name, Module: module, Export: def.Export}
	if !def.Strict {
		d.OnNull = udf.CalledOnNull
	}
	var err error
	for _, t := range def.ArgTypes {
		typ, err := udf.ParseType(t)
		if err != nil {
			return nil, err
		}
		ov.Args = append(ov.Args, typ)
	}
	if ov.Result, err = udf.ParseType(def.ReturnType); err != nil {
		return nil, err
	}
	d.Args, d.Result = ov.Args, ov.Result
	keys := make([]string, 0, len(def.Options))
	for k := range def.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := d.SetOption(k, def.Options[k]); err != nil {
			return nil, err
		}
	}
	if module == nil {
		hash := def.ModuleHash
		ov.Fn, err = r.rt.Lazy(d, hash, func(ctx context.Context) ([]byte, error) { return r.store.Module(ctx, hash) })
		return ov, err
	}
	if ov.Fn, err = r.rt.Load(ctx, d); err != nil {
		return nil, err
	}
	hash := ov.Fn.Hash() // the store keeps the module under its hash once Create commits
	ov.Fn.SetSource(func(ctx context.Context) ([]byte, error) { return r.store.Module(ctx, hash) })
	return ov, nil
}

// install puts ov in place of the overload with the same key, closing the one it replaces
// (sessions running on it finish first).
func (r *Registry) install(ov *Overload) {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := ov.Def.Name
	ovs := r.byName[name]
	for i, old := range ovs {
		if slices.Equal(old.Args, ov.Args) {
			if old.Def.Version >= ov.Def.Version && old.Def.ModuleHash == ov.Def.ModuleHash && old != ov {
				ov.close() // already installed (our own write, seen again through the store)
				return
			}
			ovs[i] = ov
			r.retired(old)
			return
		}
	}
	r.byName[name] = append(ovs, ov)
	r.gen.Add(1)
}

func (r *Registry) remove(name string, args []udf.Type, version int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ovs := r.byName[name]
	for i, old := range ovs {
		if slices.Equal(old.Args, args) && old.Def.Version <= version {
			r.retired(old)
			r.byName[name] = append(ovs[:i:i], ovs[i+1:]...)
			if len(r.byName[name]) == 0 {
				delete(r.byName, name)
				r.gen.Add(1)
			}
			return
		}
	}
}

// apply follows a change committed to the store, by this registry or another writer.
func (r *Registry) apply(c catalog.Change) {
	switch c.Kind {
	case catalog.Created, catalog.Replaced:
		if ov := r.takePending(c.Function.Key().String()); ov != nil {
			ov.setDef(c.Function)
			r.install(ov)
			return
		}
		if r.has(c.Function) {
			return
		}
		// This writer's own runtime accepted it; another's may not: then it is broken here.
		r.install(r.loadOrBroken(context.Background(), c.Function))
	case catalog.Dropped:
		args, err := parseTypes(c.Function.ArgTypes)
		if err == nil {
			r.remove(c.Function.Name, args, c.Function.Version)
		}
	}
}

// has reports whether def, or a later version of it, is already loaded.
func (r *Registry) has(def catalog.Function) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, ov := range r.byName[def.Name] {
		if strings.Join(ov.Def.ArgTypes, ",") == strings.Join(def.ArgTypes, ",") && ov.Def.Version >= def.Version {
			return true
		}
	}
	return false
}

// Create validates and compiles the function, stores it durably, and makes it callable.
func (r *Registry) Create(ctx context.Context, s *CreateStmt) error {
	if Unreachable(s.Name) {
		return unreachableError(s.Name)
	}
	if err := s.applySignature(); err != nil {
		return err
	}
	def := catalog.Function{Schema: s.Schema, Name: s.Name, ArgNames: s.ArgNames, ReturnType: s.Result.String(),
		Volatility: s.Volatility, Strict: s.Strict, Parallel: s.Parallel, Cost: s.Cost, Export: s.Export, Options: s.Options}
	for _, t := range s.Args {
		def.ArgTypes = append(def.ArgTypes, t.String())
	}
	def = detached(owned(ctx, def))
	exists := catalog.Errorf(catalog.ErrExists, "function %s already exists with same argument types", def.Key())
	quota := candidate{key: def.Key().String(), owner: def.Owner, size: int64(len(s.Module)), orReplace: s.OrReplace}
	if r.quotas != nil {
		quota.hash = catalog.ModuleHash(s.Module)
	}
	if old, err := r.store.Get(ctx, def.Key()); err == nil {
		if !s.OrReplace {
			return exists // before compiling anything
		}
		if err := r.mayAlter(ctx, old, "replace"); err != nil {
			return err
		}
		quota.owner = old.Owner // the store keeps it
	}
	if err := r.checkQuota(quota); err != nil { // the count and the bytes, before compiling
		return err
	}
	ov, err := r.load(ctx, def, s.Module) // validation happens here, before anything is stored
	if err != nil {
		return err
	}
	if r.quotas != nil {
		// Checked again with the memory limit, and under the lock until the function is
		// installed: two CREATEs of one user do not both pass on the same remaining quota.
		r.quotaMu.Lock()
		defer r.quotaMu.Unlock()
		if owner, ok := r.ownerOf(def.Key()); ok {
			quota.owner = owner // created or replaced meanwhile
		}
		quota.memory = int64(ov.Fn.Definition().Limits.MemoryBytes)
		if err := r.checkQuota(quota); err != nil {
			ov.close()
			return err
		}
	}
	key := def.Key().String()
	r.mu.Lock()
	r.pending[key] = ov
	r.mu.Unlock()
	stored, err := r.store.Create(ctx, def, s.Module, s.OrReplace)
	if ov := r.takePending(key); ov != nil { // the store did not notify synchronously
		if err != nil {
			ov.close()
		} else {
			ov.setDef(stored)
			r.install(ov)
		}
	}
	if errors.Is(err, catalog.ErrExists) {
		return exists
	}
	if err == nil {
		event := "function created"
		if stored.Version > 1 {
			event = "function replaced"
		}
		slog.Info(event, "function", stored.Key().String(), "module", stored.ModuleHash[:min(12, len(stored.ModuleHash))],
			"bytes", stored.ModuleSize, "owner", stored.Owner)
	}
	return err
}

// detached returns def with its own copies of the strings the parser cut out of the statement's
// text: a registered function does not keep the whole CREATE text alive.
func detached(def catalog.Function) catalog.Function {
	def.Schema, def.Name, def.Export = strings.Clone(def.Schema), strings.Clone(def.Name), strings.Clone(def.Export)
	names := make([]string, len(def.ArgNames))
	for i, n := range def.ArgNames {
		names[i] = strings.Clone(n)
	}
	def.ArgNames = names
	if def.Options != nil {
		opts := make(map[string]string, len(def.Options))
		for k, v := range def.Options {
			opts[strings.Clone(k)] = strings.Clone(v)
		}
		def.Options = opts
	}
	return def
}

func (r *Registry) takePending(key string) *Overload {
	r.mu.Lock()
	defer r.mu.Unlock()
	ov := r.pending[key]
	delete(r.pending, key)
	return ov
}

// Drop removes a function. Without an argument list the name must be unambiguous.
func (r *Registry) Drop(ctx context.Context, s *DropStmt) error {
	r.mu.RLock()
	var matches []*Overload
	for _, ov := range r.byName[s.Name] {
		if s.Args == nil || slices.Equal(ov.Args, s.Args) {
			matches = append(matches, ov)
		}
	}
	r.mu.RUnlock()
	switch {
	case len(matches) == 0 && s.IfExists:
		return nil
	case len(matches) == 0 && s.Args != nil:
		return catalog.Errorf(catalog.ErrNotFound, "function %s(%s) does not exist", s.Name, typeList(s.Args))
	case len(matches) == 0:
		return catalog.Errorf(catalog.ErrNotFound, "could not find a function named %q", s.Name)
	case len(matches) > 1:
		return &ParseError{Code: "42725", Msg: fmt.Sprintf("function name %q is not unique; specify the argument list to select the function", s.Name)}
	}
	if err := r.mayAlter(ctx, matches[0].Def, "drop"); err != nil {
		return err
	}
	dropped, err := r.store.Drop(ctx, matches[0].Def.Key())
	if err != nil {
		if catalog.IsNotFound(err) && s.IfExists {
			return nil
		}
		return err
	}
	r.remove(s.Name, matches[0].Args, dropped.Version)
	slog.Info("function dropped", "function", matches[0].Def.Key().String(), "owner", matches[0].Def.Owner)
	return nil
}

// Count is the number of overloads, without listing them.
func (r *Registry) Count() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 0
	for _, ovs := range r.byName {
		n += len(ovs)
	}
	return n
}

// Functions lists the loaded overloads, by name and then argument types.
func (r *Registry) Functions() []*Overload {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*Overload
	for _, ovs := range r.byName {
		out = append(out, ovs...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Def.Name != out[j].Def.Name {
			return out[i].Def.Name < out[j].Def.Name
		}
		return typeList(out[i].Args) < typeList(out[j].Args)
	})
	return out
}

// Names returns the name of every loaded function and the generation of that set: Generation
// returns the same number until a name is added or removed.
func (r *Registry) Names() (names []string, gen uint64) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for n := range r.byName {
		names = append(names, n)
	}
	return names, r.gen.Load()
}

// Generation changes whenever a function name is added to the registry or its last overload is
// removed: a caller that keeps a copy of Names compares generations to know it is current.
func (r *Registry) Generation() uint64 { return r.gen.Load() }

// Overloads returns the loaded overloads of name (lower-cased unless quoted by the caller).
func (r *Registry) Overloads(name string) []*Overload {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.byName[name])
}

// hasName reports whether name is a wasm function.
func (r *Registry) hasName(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.byName[strings.ToLower(name)]) > 0
}

// Resolve picks the overload of name for arguments of the given types, Postgres style: the
// candidate that needs the fewest and cheapest implicit conversions; a tie is an error naming
// the candidates.
func (r *Registry) Resolve(name string, args []sql.Type) (*Overload, error) {
	r.mu.RLock()
	ovs := r.byName[strings.ToLower(name)]
	r.mu.RUnlock()
	best, bestCost, tied := (*Overload)(nil), -1, []*Overload(nil)
	for _, ov := range ovs {
		if len(ov.Args) != len(args) {
			continue
		}
		total := 0
		for i, p := range ov.Args {
			c := cost(args[i], p)
			if c < 0 {
				total = -1
				break
			}
			total += c
		}
		switch {
		case total < 0:
		case best == nil || total < bestCost:
			best, bestCost, tied = ov, total, nil
		case total == bestCost:
			tied = append(tied, ov)
		}
	}
	if best == nil {
		names := make([]string, len(args))
		for i, a := range args {
			names[i] = describe(a)
		}
		return nil, &ParseError{Code: sqlstate.UndefinedFunction,
			Msg: fmt.Sprintf("function %s(%s) does not exist", strings.ToLower(name), strings.Join(names, ", "))}
	}
	if len(tied) > 0 {
		cands := []string{fmt.Sprintf("%s(%s)", best.Def.Name, typeList(best.Args))}
		for _, ov := range tied {
			cands = append(cands, fmt.Sprintf("%s(%s)", ov.Def.Name, typeList(ov.Args)))
		}
		return nil, &ParseError{Code: "42725", Msg: fmt.Sprintf("function %s is not unique: candidates are %s", strings.ToLower(name), strings.Join(cands, ", "))}
	}
	if best.Broken != nil {
		return nil, best.Broken
	}
	return best, nil
}

// describe names a go-mysql-server type the way a Postgres user would read it.
func describe(t sql.Type) string {
	if t == types.Int8 { // a small integer literal: integer in Postgres
		return udf.Integer.String()
	}
	for _, u := range []udf.Type{udf.Smallint, udf.Integer, udf.Bigint, udf.Real, udf.Double, udf.Boolean, udf.Text, udf.Bytea, udf.JSON, udf.Date, udf.Timestamp} {
		if cost(t, u) == 0 {
			return u.String()
		}
	}
	if k, _ := kind(t); k == "null" || types.IsDeferredType(t) {
		return "unknown"
	}
	return strings.ToLower(t.String())
}

func typeList(ts []udf.Type) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, ", ")
}

func parseTypes(names []string) ([]udf.Type, error) {
	out := make([]udf.Type, len(names))
	for i, n := range names {
		t, err := udf.ParseType(n)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}
