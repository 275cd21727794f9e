package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/wasql/wasql/sqlfuncs"
	"github.com/wasql/wasql/udf"
)

// quotaFields are the keys of one quota entry in wasql.yaml.
var quotaFields = []string{"functions", "memory", "module_bytes"}

// parseQuotas reads the quotas: key of wasql.yaml (sqlfuncs.Quotas):
//
//	quotas:
//	  default: {functions: 1000, module_bytes: 64MB, memory: 1GB}
//	  users:
//	    alice: {functions: 10, module_bytes: 4MB}
//
// A user's entry overrides the default field by field (alice above keeps the default's memory);
// unlimited lifts a bound. Sizes read as WITH (memory = '64MB') does. No quotas: key, no bound.
// nil when nothing is bounded.
func parseQuotas(raw map[string]any) (*sqlfuncs.Quotas, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	for key := range raw {
		if key != "default" && key != "users" {
			return nil, fmt.Errorf("quotas: unknown key %s (want default and users)", key)
		}
	}
	q := &sqlfuncs.Quotas{}
	if raw["default"] != nil {
		entry, ok := raw["default"].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("quotas.default: want {functions: N, module_bytes: SIZE, memory: SIZE}, got %v", raw["default"])
		}
		if err := parseQuota("quotas.default", entry, &q.Default); err != nil {
			return nil, err
		}
	}
	if raw["users"] != nil {
		users, ok := raw["users"].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("quotas.users: want {name: {functions: N, ...}}, got %v", raw["users"])
		}
		q.Users = map[string]sqlfuncs.Quota{}
		for name, v := range users {
			entry, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("quotas.users.%s: want {functions: N, module_bytes: SIZE, memory: SIZE}, got %v", name, v)
			}
			u := q.Default
			if err := parseQuota("quotas.users."+name, entry, &u); err != nil {
				return nil, err
			}
			q.Users[name] = u
		}
	}
	return q, nil
}

// parseQuota sets the fields of q that entry (at path) gives.
func parseQuota(path string, entry map[string]any, q *sqlfuncs.Quota) error {
	for field, v := range entry {
		var dst *int64
		switch field {
		case "functions":
			dst = &q.Functions
		case "module_bytes":
			dst = &q.ModuleBytes
		case "memory":
			dst = &q.MemoryBytes
		default:
			return fmt.Errorf("%s: unknown key %s (want %s)", path, field, strings.Join(quotaFields, ", "))
		}
		n, err := quotaValue(v, field != "functions")
		if err != nil {
			return fmt.Errorf("%s.%s: %w", path, field, err)
		}
		*dst = n
	}
	return nil
}

// quotaValue reads one bound: a positive count, or with size a size like 64MB; unlimited is 0,
// no bound.
func quotaValue(v any, size bool) (int64, error) {
	want := "want a positive number or unlimited"
	if size {
		want = "want a size like 64MB, or unlimited"
	}
	s := strings.TrimSpace(fmt.Sprint(v))
	if strings.EqualFold(s, "unlimited") {
		return 0, nil
	}
	var n uint64
	var err error
	if size {
		n, err = udf.ParseBytes(s)
	} else {
		n, err = strconv.ParseUint(strings.ReplaceAll(s, "_", ""), 10, 64)
	}
	if err != nil || n == 0 || n > math.MaxInt64 {
		return 0, fmt.Errorf("%q: %s", s, want)
	}
	return int64(n), nil
}
