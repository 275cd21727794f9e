//go:build wasip1

// Command webparse is an example of wasql functions in Go (sdk/go/wasql): pieces of JSON
// documents, URLs and e-mail addresses, with the Go standard library doing the parsing.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/wasql/wasql/sdk/go/wasql"
)

func main() {}

//go:wasmexport wasql_batch_json_extract
//wasql:function json_extract(doc json, path text) RETURNS text IMMUTABLE PARALLEL SAFE
func jsonExtract(b uint32) uint32 { return wasql.Map2Null(b, jsonField) }

//go:wasmexport wasql_batch_url_part
//wasql:function url_part(url text, part text) RETURNS text IMMUTABLE PARALLEL SAFE
func urlPart(b uint32) uint32 { return wasql.Map2Null(b, urlField) }

//go:wasmexport wasql_batch_email_normalize
//wasql:function email_normalize(email text) RETURNS text IMMUTABLE PARALLEL SAFE
func emailNormalize(b uint32) uint32 { return wasql.Map1(b, normalizeEmail) }

// jsonField follows a dot-separated path of object keys and array indexes ("items.0.sku") into
// doc and returns what it reaches as text: a string unquoted, null and a missing path as NULL,
// numbers, booleans, objects and arrays as compact JSON text with sorted keys (for scalars this
// is PostgreSQL's doc #>> '{items,0,sku}').
// A NULL argument gives NULL; a document that is not JSON fails the row.
func jsonField(doc, path wasql.Nullable[[]byte]) (wasql.Nullable[string], error) {
	if !doc.Valid || !path.Valid {
		return wasql.Null[string](), nil
	}
	d := json.NewDecoder(bytes.NewReader(doc.V))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return wasql.Null[string](), fmt.Errorf("not JSON: %v", err)
	}
	if len(path.V) > 0 {
		for _, key := range strings.Split(string(path.V), ".") {
			switch node := v.(type) {
			case map[string]any:
				v = node[key]
			case []any:
				i, err := strconv.Atoi(key)
				if err != nil || i < 0 || i >= len(node) {
					return wasql.Null[string](), nil
				}
				v = node[i]
			default:
				return wasql.Null[string](), nil
			}
		}
	}
	switch x := v.(type) {
	case nil:
		return wasql.Null[string](), nil
	case string:
		return wasql.Some(x), nil
	case json.Number:
		return wasql.Some(x.String()), nil
	case bool:
		return wasql.Some(strconv.FormatBool(x)), nil
	}
	out, err := json.Marshal(v)
	return wasql.Some(string(out)), err
}

// urlField returns one part of an absolute URL: scheme, user, host (without the port), port,
// path, query, fragment, or query.NAME for the first value of a query parameter. A part the URL
// lacks is NULL; an unknown part or a string that is not a URL fails the row.
func urlField(raw, part wasql.Nullable[string]) (wasql.Nullable[string], error) {
	if !raw.Valid || !part.Valid {
		return wasql.Null[string](), nil
	}
	u, err := url.Parse(raw.V)
	if err != nil {
		return wasql.Null[string](), errors.New(strings.TrimPrefix(err.Error(), "parse "))
	}
	some := func(s string) wasql.Nullable[string] {
		if s == "" {
			return wasql.Null[string]()
		}
		return wasql.Some(s)
	}
	switch p := part.V; p {
	case "scheme":
		return some(u.Scheme), nil
	case "user":
		return some(u.User.Username()), nil
	case "host":
		return some(u.Hostname()), nil
	case "port":
		return some(u.Port()), nil
	case "path":
		return some(u.Path), nil
	case "query":
		return some(u.RawQuery), nil
	case "fragment":
		return some(u.Fragment), nil
	default:
		if name, ok := strings.CutPrefix(p, "query."); ok {
			if vs, ok := u.Query()[name]; ok {
				return wasql.Some(vs[0]), nil
			}
			return wasql.Null[string](), nil
		}
		return wasql.Null[string](), fmt.Errorf("unknown URL part %q (want scheme, user, host, port, path, query, fragment or query.NAME)", p)
	}
}

// normalizeEmail trims and lower-cases an address and drops a +tag from its local part; for
// Gmail it also drops the dots Gmail ignores and maps googlemail.com to gmail.com, so that the
// spellings of one mailbox compare equal. Something without exactly one @ between a non-empty
// local part and domain fails the row.
func normalizeEmail(s string) (string, error) {
	addr := strings.ToLower(strings.TrimSpace(s))
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || strings.ContainsAny(addr, " \t\r\n") {
		return "", fmt.Errorf("not an e-mail address: %q", s)
	}
	if tag := strings.IndexByte(local, '+'); tag > 0 {
		local = local[:tag]
	}
	if domain == "googlemail.com" {
		domain = "gmail.com"
	}
	if domain == "gmail.com" {
		local = strings.ReplaceAll(local, ".", "")
	}
	if local == "" {
		return "", fmt.Errorf("not an e-mail address: %q", s)
	}
	return local + "@" + domain, nil
}
