// Package upstream is the upstream-PostgreSQL backend of the Postgres wire (proxy mode): each
// client session gets one connection to a real PostgreSQL, pinned for its life, and every
// message that is not about wasm functions goes there as it came, while the upstream's answers
// come back byte for byte: the simple and extended protocols with named statements, portals and
// pipelining, COPY both ways, LISTEN/NOTIFY, cancel requests, errors and notices with all their
// fields, and the transaction status of ReadyForQuery.
//
// It owns the pass-through relay (Session.Handle writes upstream; a pump goroutine frames the
// upstream's messages and relays them), the accounting of what each message sent upstream still
// expects (so wasql's own answers come in their place in a pipeline), the cheap test that lets a
// statement pass without a parse (mayInvolveWasm), and wasql's own statements in proxy mode:
// CREATE [OR REPLACE] FUNCTION ... LANGUAGE wasm and DROP FUNCTION of a wasm function, run against a
// sqlfuncs.Registry over an injected catalog.Store. Statements calling wasm functions are refused
// (0A000) for now.
//
// It must not re-implement what PostgreSQL does: whatever PostgreSQL can answer, it answers.
package upstream
