package catalog

import "time"

// Record is the JSON form in which backends store a Function (boltstore's file, pgstore's change
// log): a type of its own, so renaming a field of Function cannot silently change what a stored
// catalog or another version of wasql reads. Convert with Record(fn) and Function(r).
type Record struct {
	Schema     string            `json:"schema,omitempty"`
	Name       string            `json:"name"`
	ArgNames   []string          `json:"arg_names"`
	ArgTypes   []string          `json:"arg_types"`
	ReturnType string            `json:"return_type"`
	Volatility string            `json:"volatility,omitempty"`
	Strict     bool              `json:"strict,omitempty"`
	Parallel   string            `json:"parallel,omitempty"`
	Cost       float64           `json:"cost,omitempty"`
	Export     string            `json:"export"`
	Options    map[string]string `json:"options,omitempty"`
	ModuleHash string            `json:"module_hash"`
	ModuleSize int64             `json:"module_size"`
	Owner      string            `json:"owner,omitempty"` // absent in catalogs written before owners: no owner
	Version    int64             `json:"version"`
	Created    time.Time         `json:"created"`
	Replaced   time.Time         `json:"replaced,omitzero"`
}
