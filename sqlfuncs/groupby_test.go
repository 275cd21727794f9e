package sqlfuncs

import (
	"fmt"
	"strings"
	"testing"
)

// TestGroupByValidation: an ORDER BY of a select-list alias of a GROUP BY expression is answered
// also when the query has a HAVING (go-mysql-server's validateGroupBy refused it), and a query
// that ONLY_FULL_GROUP_BY refuses is still refused.
func TestGroupByValidation(t *testing.T) {
	te := newTestEngine(t)
	scriptSetUp(t, te)
	for q, want := range map[string]string{
		"SELECT id % 2 AS g, sum(a) FROM t GROUP BY id % 2 HAVING sum(a) * 2 > 10 ORDER BY g":        "[[0 13] [1 8]]",
		"SELECT id % 2 AS g, sum(a) FROM t GROUP BY id % 2 HAVING sum(a) > 10 ORDER BY g DESC":       "[[0 13]]",
		"SELECT id % 2 AS g, count(*) AS n FROM t GROUP BY id % 2 HAVING count(*) > 0 ORDER BY n, g": "[[0 2] [1 3]]",
	} {
		if got := fmt.Sprint(te.mustQuery(t, q)); got != want {
			t.Errorf("%s: %s, want %s", q, got, want)
		}
	}
	for _, q := range []string{
		"SELECT id % 2 AS g, sum(a) FROM t GROUP BY id % 2 HAVING sum(a) > 1 ORDER BY a",
		"SELECT id % 2 AS g, b FROM t GROUP BY id % 2 HAVING sum(a) > 1 ORDER BY g",
	} {
		if _, err := te.query(t, q); err == nil || !strings.Contains(err.Error(), "only_full_group_by") {
			t.Errorf("%s: %v, want the only_full_group_by refusal", q, err)
		}
	}
}
