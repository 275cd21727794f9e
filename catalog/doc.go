// Package catalog keeps Wasm function definitions and their module bytes durably. It knows
// nothing of Wasm execution: modules are opaque bytes addressed by their SHA-256.
//
// # Functions and keys
//
// A Function is identified by its Key: schema, name and argument types. Functions of one name
// with different argument types coexist (overloading), as in PostgreSQL. Names and types are
// compared byte for byte as given; folding the case of unquoted identifiers and canonicalizing
// type names is the SQL layer's job. List returns functions in Key.Compare order.
//
// # Modules
//
// Create stores a function together with its module bytes. A module is stored once, under the
// hex SHA-256 of its bytes, however many functions use it, and is removed by the write (Drop, or
// an OR REPLACE that switches module) that leaves no function using it. Module verifies the bytes
// against the hash on every read.
//
// # Writes and notifications
//
// Every write is atomic and durable when it returns: after a crash a function is either stored
// with its module or not at all. Subscribers are called after each committed write, in commit
// order; caches of compiled modules listen there to drop what was replaced or dropped.
//
// # Errors
//
// Operations fail with errors that match ErrExists, ErrNotFound or ErrCorrupt (errors.Is); each
// carries the SQLSTATE a wire reports. An invalid definition (see Function.Validate) is a plain
// error: the SQL layer checks definitions before they reach the store. Errors of opening a store
// are defined by each backend.
//
// # Backends
//
// Store is the interface every backend implements: the embedded bbolt store in boltstore, and
// pgstore, tables in the upstream PostgreSQL database that many proxies share. catalogtest.Run
// checks a backend against this contract, and catalogtest.Check its invariants.
package catalog
