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

// TestLargeLimit: ORDER BY with a LIMIT far beyond the rows, or an OFFSET alone (the Postgres
// translation's LIMIT 2^64-1), answers without allocating room for the limit; a small LIMIT keeps
// go-mysql-server's TopN.
func TestLargeLimit(t *testing.T) {
	te := newTestEngine(t)
	scriptSetUp(t, te)
	for q, want := range map[string]string{
		"SELECT id FROM t ORDER BY id LIMIT 18446744073709551615 OFFSET 3": "[[4] [5]]",
		"SELECT id FROM t ORDER BY id DESC LIMIT 4000000000":               "[[5] [4] [3] [2] [1]]",
		"SELECT id FROM t ORDER BY id LIMIT 2 OFFSET 1":                    "[[2] [3]]",
		"SELECT id FROM t ORDER BY b LIMIT 18446744073709551615 OFFSET 2":  "[[1] [2] [3]]",
		"SELECT id FROM t ORDER BY b DESC LIMIT 1000000000 OFFSET 1":       "[[2] [1] [5] [4]]",
		"SELECT id FROM t ORDER BY b LIMIT 2 OFFSET 1":                     "[[5] [1]]",
		"SELECT plus(id, 1) AS p FROM t ORDER BY p DESC LIMIT 1000000000":  "[[6] [5] [4] [3] [2]]",
	} {
		if got := fmt.Sprint(te.mustQuery(t, q)); got != want {
			t.Errorf("%s: %s, want %s", q, got, want)
		}
	}
	plan, err := Explain(te.ctx(), te.e, "SELECT id FROM t ORDER BY a LIMIT 2")
	if err != nil || !strings.Contains(plan, "TopN") {
		t.Errorf("a small LIMIT lost its TopN: %v\n%s", err, plan)
	}
	plan, err = Explain(te.ctx(), te.e, "SELECT id FROM t ORDER BY a LIMIT 1000000000")
	if err != nil || strings.Contains(plan, "TopN") {
		t.Errorf("a large LIMIT kept its TopN: %v\n%s", err, plan)
	}
}

// TestAggregateOfEmptyKey: max and min of a primary key over no rows are one row of NULL
// (go-mysql-server's replaceAgg answered no row).
func TestAggregateOfEmptyKey(t *testing.T) {
	te := newTestEngine(t)
	scriptSetUp(t, te)
	te.mustQuery(t, "CREATE TABLE nothing (id bigint primary key, v bigint)")
	for q, want := range map[string]string{
		"SELECT max(id) FROM nothing":               "[[<nil>]]",
		"SELECT coalesce(min(id), -1) FROM nothing": "[[-1]]",
		"SELECT max(id) FROM t WHERE id > 100":      "[[<nil>]]",
		"SELECT max(id), min(id) FROM t":            "[[5 1]]",
		"SELECT max(id) FROM t":                     "[[5]]",
	} {
		if got := fmt.Sprint(te.mustQuery(t, q)); got != want {
			t.Errorf("%s: %s, want %s", q, got, want)
		}
	}
}
