package pgcatalog

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wasql/wasql/proxy"
)

// Arrays are carried as their Postgres text form: '{a,b,"c d",NULL}' (lower bound 1, or as
// written in a '[0:1]={...}' prefix), or the space-separated form of int2vector and oidvector,
// '1 2', whose subscripts start at 0 as in Postgres.

// pgArray is a parsed one-dimensional array: nil elements are NULLs.
type pgArray struct {
	elems []*string
	lower int
}

func parseArray(text string) (pgArray, error) {
	s := strings.TrimSpace(text)
	a := pgArray{lower: 1}
	if strings.HasPrefix(s, "[") { // explicit bounds: [lo:hi]={...}
		end := strings.Index(s, "]=")
		lo, _, ok := strings.Cut(s[1:max(end, 1)], ":")
		n, err := strconv.Atoi(lo)
		if end < 0 || !ok || err != nil {
			return a, fmt.Errorf("malformed array literal: %q", text)
		}
		a.lower, s = n, strings.TrimSpace(s[end+2:])
	}
	if !strings.HasPrefix(s, "{") {
		a.lower = 0 // int2vector, oidvector
		for _, f := range strings.Fields(s) {
			a.elems = append(a.elems, &f)
		}
		return a, nil
	}
	if !strings.HasSuffix(s, "}") {
		return a, fmt.Errorf("malformed array literal: %q", text)
	}
	body := s[1 : len(s)-1]
	if strings.TrimSpace(body) == "" {
		return a, nil
	}
	for i := 0; i <= len(body); {
		for i < len(body) && body[i] == ' ' {
			i++
		}
		var b strings.Builder
		quoted := false
		switch {
		case i < len(body) && body[i] == '{':
			return a, fmt.Errorf("multidimensional arrays are not supported: %q", text)
		case i < len(body) && body[i] == '"':
			quoted = true
			i++
			for i < len(body) && body[i] != '"' {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				b.WriteByte(body[i])
				i++
			}
			if i >= len(body) {
				return a, fmt.Errorf("malformed array literal: %q", text)
			}
			i++
			for i < len(body) && body[i] == ' ' {
				i++
			}
		default:
			for i < len(body) && body[i] != ',' {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				b.WriteByte(body[i])
				i++
			}
		}
		if i < len(body) && body[i] != ',' {
			return a, fmt.Errorf("malformed array literal: %q", text)
		}
		v := b.String()
		if !quoted {
			v = strings.TrimSpace(v)
		}
		if !quoted && strings.EqualFold(v, "NULL") {
			a.elems = append(a.elems, nil)
		} else {
			a.elems = append(a.elems, &v)
		}
		i++
	}
	return a, nil
}

// formatArray renders values as a Postgres array literal; nil is NULL.
func formatArray(vals []any) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		if v == nil {
			b.WriteString("NULL")
			continue
		}
		b.WriteString(quoteArrayElem(textOf(v)))
	}
	b.WriteByte('}')
	return b.String()
}

func quoteArrayElem(s string) string {
	if s != "" && !strings.EqualFold(s, "NULL") && !strings.ContainsAny(s, "{},\"\\ \t\n\r") {
		return s
	}
	return `"` + arrayQuoter.Replace(s) + `"`
}

var arrayQuoter = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// textOf is the Postgres text form of a scalar value.
func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case bool:
		if x {
			return "t"
		}
		return "f"
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return x.Format("2006-01-02 15:04:05.999999")
	}
	if n, ok := proxy.Int64(v); ok {
		return strconv.FormatInt(n, 10)
	}
	if s, ok := v.(fmt.Stringer); ok { // decimal.Decimal
		return s.String()
	}
	return fmt.Sprint(v)
}

// arrayEq reports whether element e equals x: as text, or as numbers when x is a number.
func arrayEq(x any, e string) bool {
	xs := textOf(x)
	if xs == e {
		return true
	}
	switch x.(type) {
	case string, []byte: // text compares as text: '1.0' is not '1'
		return false
	}
	xf, err1 := strconv.ParseFloat(xs, 64)
	ef, err2 := strconv.ParseFloat(e, 64)
	return err1 == nil && err2 == nil && xf == ef
}
