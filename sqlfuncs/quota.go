package sqlfuncs

import (
	"fmt"
	"strconv"

	"github.com/wasql/wasql/catalog"
	"github.com/wasql/wasql/internal/sqlstate"
)

// Quotas bound what each user's functions may hold, counted over the functions the user owns
// (catalog.Function.Owner: the user who created them; OR REPLACE keeps the owner, so a function
// replaced by someone else still counts for its owner):
//
//   - Functions: the number of overloads;
//   - ModuleBytes: the bytes of their modules, each distinct module (by hash) counted once, so
//     several functions exporting from one module pay for it once;
//   - MemoryBytes: the sum of their memory limits (WITH (memory = ...) or the runtime's default),
//     a static bound on what one instance of each may hold, checked at CREATE. The runtime's
//     instance pools may hold several instances of a function at once; the server-wide memory
//     budget (udf.Config.WithMemoryBudget) bounds what they all hold.
//
// CREATE FUNCTION checks the owner's quota before anything is compiled or stored; a statement
// that would take a use past its bound fails, with 53400 for the count and 54000 for bytes and
// memory, and other users are unaffected. OR REPLACE counts the replaced function out. A
// statement that does not increase a use (replacing a function with a smaller one) passes even
// when the use is already over a quota lowered since. The bound holds within one wasql server:
// two proxies on one upstream check their own views of the catalog, each followed by the store's
// notifications, and two CREATEs racing through different proxies can both pass.
type Quotas struct {
	Default Quota            // every user without an entry in Users
	Users   map[string]Quota // by user name, exactly as the user logs in
}

// Quota is one user's bounds. A zero field is no bound; the zero Quota is unlimited.
type Quota struct {
	Functions   int64 // overloads owned
	ModuleBytes int64 // bytes of the distinct modules of the functions owned
	MemoryBytes int64 // sum of the memory limits of the functions owned
}

// For returns the quota of user: its entry in Users, or Default.
func (q *Quotas) For(user string) Quota {
	if u, ok := q.Users[user]; ok {
		return u
	}
	return q.Default
}

// limited reports whether q bounds anything at all.
func (q *Quotas) limited() bool {
	if q == nil {
		return false
	}
	if q.Default != (Quota{}) {
		return true
	}
	for _, u := range q.Users {
		if u != (Quota{}) {
			return true
		}
	}
	return false
}

// key names the configuration key of field in user's quota, for hints.
func (q *Quotas) key(user, field string) string {
	if _, ok := q.Users[user]; ok {
		return "quotas.users." + user + "." + field
	}
	return "quotas.default." + field + " (or an entry for " + strconv.Quote(user) + " under quotas.users)"
}

// SetQuotas bounds what each user's functions may hold (Quotas). Call it before serving; nil or
// the zero Quotas (the default) is no bound.
func (r *Registry) SetQuotas(q *Quotas) {
	if !q.limited() {
		q = nil
	}
	r.quotas = q
}

// QuotaError is a CREATE FUNCTION refused by its owner's quota.
type QuotaError struct {
	Code string // 53400 configuration_limit_exceeded (functions) or 54000 program_limit_exceeded
	Msg  string
	Hint string
}

// Error implements the interface error.
func (e *QuotaError) Error() string { return e.Msg }

// SQLState implements the interface sqlstate.Carrier.
func (e *QuotaError) SQLState() string { return e.Code }

// SQLHint implements the interface sqlstate.Hinter.
func (e *QuotaError) SQLHint() string { return e.Hint }

// use is what one user's functions hold.
type use struct {
	functions, moduleBytes, memoryBytes int64
	modules                             map[string]bool // the distinct module hashes counted
}

// candidate is the function a CREATE would store, as the quotas count it.
type candidate struct {
	key       string // catalog.Key().String(): the function it replaces, if any, is counted out
	owner     string // the replaced function's owner (OR REPLACE keeps it), else the creator
	hash      string // the module's
	size      int64  // the module's bytes
	memory    int64  // the memory limit; 0 while unknown (before the module is loaded)
	orReplace bool
}

// useOf sums what owner's functions hold, leaving out the function whose key is skip.
func (r *Registry) useOf(owner, skip string) use {
	u := use{modules: map[string]bool{}}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, ovs := range r.byName {
		for _, ov := range ovs {
			if ov.Def.Owner != owner || (skip != "" && ov.Def.Key().String() == skip) {
				continue
			}
			u.functions++
			if !u.modules[ov.Def.ModuleHash] {
				u.modules[ov.Def.ModuleHash] = true
				u.moduleBytes += ov.Def.ModuleSize
			}
			if ov.Fn != nil { // a broken function cannot run: it holds no memory
				u.memoryBytes += int64(ov.Fn.Definition().Limits.MemoryBytes)
			}
		}
	}
	return u
}

// ownerOf returns the owner of the function with key in the registry, if it holds one.
func (r *Registry) ownerOf(key catalog.Key) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k := key.String()
	for _, ov := range r.byName[key.Name] {
		if ov.Def.Key().String() == k {
			return ov.Def.Owner, true
		}
	}
	return "", false
}

// checkQuota returns the QuotaError when storing c would take its owner past a quota, nil when
// it fits or no quota is set.
func (r *Registry) checkQuota(c candidate) error {
	if r.quotas == nil {
		return nil
	}
	q := r.quotas.For(c.owner)
	if q == (Quota{}) {
		return nil
	}
	now := r.useOf(c.owner, "")
	after := r.useOf(c.owner, c.key)
	after.functions++
	if !after.modules[c.hash] {
		after.moduleBytes += c.size
	}
	after.memoryBytes += c.memory
	stmt := "this CREATE FUNCTION"
	if c.orReplace {
		stmt = "this CREATE OR REPLACE FUNCTION"
	}
	over := func(limit, now, after int64) bool { return limit > 0 && after > limit && after > now }
	switch {
	case over(q.Functions, now.functions, after.functions):
		return &QuotaError{Code: sqlstate.ConfigurationLimitExceeded,
			Msg: fmt.Sprintf("function quota exceeded for user %q: %d functions allowed, %d owned, %s adds %d",
				c.owner, q.Functions, now.functions, stmt, after.functions-now.functions),
			Hint: fmt.Sprintf("drop functions the user no longer needs, or raise %s in wasql.yaml", r.quotas.key(c.owner, "functions"))}
	case over(q.ModuleBytes, now.moduleBytes, after.moduleBytes):
		return &QuotaError{Code: sqlstate.ProgramLimitExceeded,
			Msg: fmt.Sprintf("module quota exceeded for user %q: %s of modules allowed, %s held, %s adds %s",
				c.owner, formatSize(q.ModuleBytes), formatSize(now.moduleBytes), stmt, formatSize(after.moduleBytes-now.moduleBytes)),
			Hint: fmt.Sprintf("each distinct module counts once; drop functions the user no longer needs, or raise %s in wasql.yaml", r.quotas.key(c.owner, "module_bytes"))}
	case over(q.MemoryBytes, now.memoryBytes, after.memoryBytes):
		return &QuotaError{Code: sqlstate.ProgramLimitExceeded,
			Msg: fmt.Sprintf("memory quota exceeded for user %q: %s allowed (the sum of their functions' memory limits), %s held, %s adds %s",
				c.owner, formatSize(q.MemoryBytes), formatSize(now.memoryBytes), stmt, formatSize(after.memoryBytes-now.memoryBytes)),
			Hint: fmt.Sprintf("give the function a smaller limit (WITH (memory = '8MB')), drop functions the user no longer needs, or raise %s in wasql.yaml", r.quotas.key(c.owner, "memory"))}
	}
	return nil
}

// formatSize prints n bytes in the units WITH (memory = ...) reads.
func formatSize(n int64) string {
	switch {
	case n != 0 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGB", n>>30)
	case n != 0 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMB", n>>20)
	case n != 0 && n%(1<<10) == 0:
		return fmt.Sprintf("%dkB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
