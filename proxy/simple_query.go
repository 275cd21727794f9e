package proxy

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// simpleQuery answers a Query message: each statement in turn, in text, stopping at the first
// error.
func (s *executorSession) simpleQuery(ctx context.Context, q string) error {
	stmts := splitStatements(q)
	if len(stmts) == 0 {
		s.out.Send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	return s.statements(ctx, stmts)
}

// statements runs the statements of a Query in turn, up to the first error or the first COPY
// FROM STDIN: the statements after it run when its data has come (endCopy).
func (s *executorSession) statements(ctx context.Context, stmts []string) error {
	for i, stmt := range stmts {
		if _, err := s.run(ctx, stmt, nil, nil, true, 0); err != nil {
			return err
		}
		if s.copy != nil {
			s.copy.rest = stmts[i+1:]
			return nil
		}
	}
	return nil
}

// splitStatements cuts a query string at top-level semicolons (outside quotes, dollar quotes and
// comments); empty statements are dropped.
func splitStatements(q string) []string {
	var out []string
	start := 0
	for i := 0; i < len(q); i = skipQuoted(q, i) + 1 {
		if q[i] == ';' {
			if s := strings.TrimSpace(q[start:i]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(q[min(start, len(q)):]); s != "" {
		out = append(out, s)
	}
	return out
}

// skipQuoted returns the index of the last byte of the quoted string, quoted identifier, dollar
// quote or comment that starts at q[i], or i when none starts there.
func skipQuoted(q string, i int) int {
	switch c := q[i]; {
	case c == '\'' || c == '"':
		if end := strings.IndexByte(q[i+1:], c); end >= 0 {
			return i + 1 + end
		}
		return len(q) - 1
	case strings.HasPrefix(q[i:], "--"):
		if end := strings.IndexByte(q[i:], '\n'); end >= 0 {
			return i + end
		}
		return len(q) - 1
	case strings.HasPrefix(q[i:], "/*"):
		if end := strings.Index(q[i+2:], "*/"); end >= 0 {
			return i + 2 + end + 1
		}
		return len(q) - 1
	case c == '$':
		if j := strings.IndexByte(q[i+1:], '$'); j >= 0 && isTag(q[i+1:i+1+j]) {
			tag := q[i : i+j+2]
			if end := strings.Index(q[i+len(tag):], tag); end >= 0 {
				return i + len(tag) + end + len(tag) - 1
			}
			return len(q) - 1
		}
	}
	return i
}

func isTag(s string) bool {
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s == "" || !(s[0] >= '0' && s[0] <= '9')
}
