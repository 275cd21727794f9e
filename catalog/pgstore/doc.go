// Package pgstore is the catalog backend of proxy mode: a catalog.Store kept in a schema named
// wasql of the upstream PostgreSQL database itself.
package pgstore
