package sqlfuncs

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
)

// CREATE FUNCTION of a built-in's name leaves MySQL's note 1585 (SHOW WARNINGS); the wasm
// function is then the one called.
func TestShadowBuiltinWarns(t *testing.T) {
	te := newTestEngine(t)
	mod := wasmHexPath(t, "../udf/testdata/guests/c_funcs.wasm")
	for _, c := range []struct {
		name string
		note bool
	}{{"my_slug", false}, {"reverse", true}, {"UPPER", true}} {
		ctx := te.ctx()
		_, iter, _, err := te.e.Query(ctx, "CREATE OR REPLACE FUNCTION "+c.name+"(text) RETURNS text LANGUAGE wasm AS "+mod+", 'slugify'")
		if err == nil {
			_, err = sql.RowIterToRows(ctx, iter)
		}
		if err != nil {
			t.Fatal(err)
		}
		ws := ctx.Session.Warnings()
		if got := len(ws) == 1 && ws[0].Code == NativeNameCollision && ws[0].Level == "Note" &&
			strings.Contains(ws[0].Message, "'"+strings.ToLower(c.name)+"' has the same name as a native function"); got != c.note {
			t.Errorf("%s: warnings %+v, want the note: %v", c.name, ws, c.note)
		}
	}
	if rows := te.mustQuery(t, "SELECT reverse('Ab Cd')"); rows[0][0] != "ab-cd" {
		t.Errorf("reverse runs the wasm function first: %v", rows)
	}
}

// DROP FUNCTION IF EXISTS of a missing function leaves a note; of an existing one, none.
func TestDropIfExistsNote(t *testing.T) {
	te := newTestEngine(t)
	te.mustQuery(t, "CREATE FUNCTION my_slug(text) RETURNS text LANGUAGE wasm AS "+wasmHexPath(t, "../udf/testdata/guests/c_funcs.wasm")+", 'slugify'")
	for _, c := range []struct{ q, note string }{
		{"DROP FUNCTION IF EXISTS nope(integer)", "function nope(integer) does not exist, skipping"},
		{"DROP FUNCTION IF EXISTS nope", "function nope does not exist, skipping"},
		{"DROP FUNCTION IF EXISTS my_slug(bigint)", "function my_slug(bigint) does not exist, skipping"},
		{"DROP FUNCTION IF EXISTS my_slug(text)", ""},
	} {
		ctx := te.ctx()
		_, iter, _, err := te.e.Query(ctx, c.q)
		if err == nil {
			_, err = sql.RowIterToRows(ctx, iter)
		}
		if err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		var got string
		for _, w := range ctx.Session.Warnings() {
			got = fmt.Sprintf("%s %d %s", w.Level, w.Code, w.Message)
		}
		want := ""
		if c.note != "" {
			want = "Note 1305 " + c.note
		}
		if got != want {
			t.Errorf("%s: warning %q, want %q", c.q, got, want)
		}
	}
}
