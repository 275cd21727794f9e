package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Function is one function definition. Its identity is (Schema, Name, ArgTypes): functions of
// the same name with different argument types coexist (overloading).
type Function struct {
	Schema     string            // "" means the default schema
	Name       string            // compared as given: the SQL layer lower-cases unquoted names
	ArgNames   []string          // one per argument, "" where unnamed
	ArgTypes   []string          // canonical SQL type names, e.g. "bigint", "text"
	ReturnType string            // canonical SQL type name
	Volatility string            // "IMMUTABLE", "STABLE" or "VOLATILE"
	Strict     bool              // RETURNS NULL ON NULL INPUT
	Parallel   string            // "SAFE", "RESTRICTED" or "UNSAFE"
	Cost       float64           // planner cost per call
	Export     string            // the module export named in AS 'module', 'export'
	Options    map[string]string // WITH (...) options: limits and grants, as written
	ModuleHash string            // hex SHA-256 of the module bytes
	ModuleSize int64             // bytes
	// Owner is the user who created the function: only the owner, a superuser or a holder of
	// ALTER ROUTINE replaces or drops it. "" (every function stored before owners were
	// recorded) belongs to no one: only superusers and ALTER ROUTINE holders replace or drop it.
	// OR REPLACE keeps the owner, as in PostgreSQL.
	Owner    string
	Version  int64 // 1 at creation, +1 at each OR REPLACE
	Created  time.Time
	Replaced time.Time // zero until replaced
}

// Key identifies a function: schema, name and argument types.
func (f *Function) Key() Key { return Key{Schema: f.Schema, Name: f.Name, ArgTypes: f.ArgTypes} }

// Validate reports whether f can be stored: Name, ReturnType and Export are non-empty, every
// argument has a non-empty type and exactly one (possibly empty) name, and no identifier holds a
// NUL byte (PostgreSQL forbids them; backends may use NUL as a separator). The error carries no
// sentinel: an invalid definition is a bug in the caller, which validates the SQL first.
func (f *Function) Validate() error {
	switch {
	case f.Name == "":
		return fmt.Errorf("function %s: empty name", f.Key())
	case f.ReturnType == "":
		return fmt.Errorf("function %s: empty return type", f.Key())
	case f.Export == "":
		return fmt.Errorf("function %s: empty export name", f.Key())
	case len(f.ArgNames) != len(f.ArgTypes):
		return fmt.Errorf("function %s: %d argument names for %d argument types", f.Key(), len(f.ArgNames), len(f.ArgTypes))
	case strings.ContainsRune(f.Schema, 0) || strings.ContainsRune(f.Name, 0):
		return fmt.Errorf("function %q.%q: NUL byte in identifier", f.Schema, f.Name)
	case strings.ContainsRune(f.Owner, 0):
		return fmt.Errorf("function %s: NUL byte in owner %q", f.Key(), f.Owner)
	}
	for i, t := range f.ArgTypes {
		if t == "" || strings.ContainsRune(t, 0) {
			return fmt.Errorf("function %s: argument %d: invalid type %q", f.Key(), i+1, t)
		}
	}
	return nil
}

// Key identifies one function among its overloads.
type Key struct {
	Schema   string
	Name     string
	ArgTypes []string
}

// String renders the key as SQL: schema.name(type, type).
func (k Key) String() string {
	name := k.Name
	if k.Schema != "" {
		name = k.Schema + "." + name
	}
	return name + "(" + strings.Join(k.ArgTypes, ", ") + ")"
}

// Compare orders keys as List returns them: by schema, then name, then argument types compared
// element by element (a prefix first), each string by bytes. It returns -1, 0 or +1.
func (k Key) Compare(o Key) int {
	if c := strings.Compare(k.Schema, o.Schema); c != 0 {
		return c
	}
	if c := strings.Compare(k.Name, o.Name); c != 0 {
		return c
	}
	return slices.Compare(k.ArgTypes, o.ArgTypes)
}

// ChangeKind says what happened to a function.
type ChangeKind int

// Kinds of change.
const (
	Created ChangeKind = iota + 1
	Replaced
	Dropped
)

// Change is a notification sent to subscribers after a write commits.
type Change struct {
	Kind     ChangeKind
	Function Function // the new definition; for Dropped, the one that was dropped
}

// Store is a durable catalog. Every write is atomic: a function and its module are stored
// together or not at all. Implementations are safe for concurrent use. Values passed in and
// returned are copies: a caller may modify them without affecting the store.
type Store interface {
	// Create stores fn with module. With orReplace, an existing function with the same key is
	// replaced (its Version incremented, Created and Owner kept, Replaced set); without, it is
	// ErrExists.
	// Create fills ModuleHash, ModuleSize, Version, Created and Replaced, and returns the stored fn.
	// An fn that fails Validate, or an empty module, is an error without a sentinel.
	Create(ctx context.Context, fn Function, module []byte, orReplace bool) (Function, error)
	// Drop removes the function with key k; ErrNotFound if there is none. A module no function
	// uses any more is removed with it.
	Drop(ctx context.Context, k Key) (Function, error)
	// Get returns the function with key k, or ErrNotFound.
	Get(ctx context.Context, k Key) (Function, error)
	// List returns every function, ordered by Key.Compare.
	List(ctx context.Context) ([]Function, error)
	// Module returns the bytes with the given hex SHA-256 (lower case), verified; ErrNotFound
	// (made with Errorf, naming the module) or ErrCorrupt.
	Module(ctx context.Context, hash string) ([]byte, error)
	// Subscribe calls fn after every committed change, in commit order, until cancel is called.
	// fn must not block for long, and must not write to the store (a backend may deliver while
	// holding its write lock). cancel may be called more than once, and from within fn; a call
	// already under way when cancel returns may still finish.
	Subscribe(fn func(Change)) (cancel func())
	// Close releases the store.
	Close() error
}

// Errors a Store operation returns, with the SQLSTATE a wire reports for them. Match them with
// errors.Is: backends return them made with Errorf, with a message naming the function or module.
// Errors of opening a store belong to each backend.
var (
	ErrExists   = &Error{code: "42723", msg: "function already exists"}
	ErrNotFound = &Error{code: "42883", msg: "function does not exist"}
	ErrCorrupt  = &Error{code: "XX001", msg: "catalog data is corrupted"}
)

// Error is a catalog error: one of the sentinels, or an error made from one with Errorf.
type Error struct {
	code, msg string
	base      *Error
}

// Error returns the message.
func (e *Error) Error() string { return e.msg }

// SQLState implements sqlstate.Carrier.
func (e *Error) SQLState() string { return e.code }

// Is matches the sentinel an error was made from.
func (e *Error) Is(target error) bool { return e == target || (e.base != nil && e.base == target) }

// Errorf returns an error that matches sentinel base, with a message of its own.
func Errorf(base *Error, format string, args ...any) error {
	return &Error{code: base.code, msg: fmt.Sprintf(format, args...), base: base}
}

// IsNotFound reports whether err is ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
