// Package proxy is wasql's Postgres wire (protocol v3, on pgproto3), shared by both back ends.
// It owns what is the same whatever answers the statements: the listener and its connection
// caps, TLS, authentication (SCRAM-SHA-256 verifiers, trust on loopback, or the password passed
// through to the backend), the startup deadline and message bounds, cancel keys, shutdown, and
// panics recovered per connection. After startup each client message goes to the backend's
// Session as it came, and the session answers with backend messages (backend.go): a backend
// that is itself PostgreSQL loses nothing.
//
// For a backend that runs one statement at a time on Go values (the embedded engine, package
// embedded) ExecutorSession speaks the simple and the extended query protocol over an Executor,
// with the codecs of Go values (types.go, arrays.go). Errors become ErrorResponse in one place
// (errors.go). The package imports nothing of go-mysql-server or vitess.
package proxy
