// Package metrics owns the Prometheus metrics and the health endpoints of a wasql server: an
// HTTP listener (Listen) serving
//
//   - /metrics: the wires' connections and statements, every called wasm function's calls,
//     rows, errors and call latency, the wasm runtime (functions by state, instances, compiled
//     code, the memory budget), and Go's runtime and process metrics, from a registry of its
//     own (not Prometheus's global one);
//   - /healthz: 200 while the process serves (liveness);
//   - /readyz: 200 once the server said it is ready (Server.Ready) and its check passes, 503
//     with the reason otherwise (readiness).
//
// Everything is read at scrape time from accessors the server hands it (Server.Wire,
// Server.Functions, Server.Runtime): the package imports udf for the types of its counters and
// nothing of the wires or of the function registry.
package metrics
