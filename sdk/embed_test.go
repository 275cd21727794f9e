package sdk

import (
	"bytes"
	"io/fs"
	"testing"

	"github.com/wasql/wasql/sdk/internal/gocopy"
)

// sdk/_go is the Go SDK as it is: run `go generate ./sdk` after changing sdk/go.
func TestGoCopy(t *testing.T) {
	want, err := gocopy.Files("go")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	err = fs.WalkDir(files, "_go", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		got[p[len("_go/"):]] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("sdk/_go/%s is missing: run go generate ./sdk", name)
		} else if !bytes.Equal(g, b) {
			t.Errorf("sdk/_go/%s differs from sdk/go: run go generate ./sdk", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("sdk/_go/%s is not in sdk/go: run go generate ./sdk", name)
		}
	}
	gofs, _ := FS("go")
	if b, err := fs.ReadFile(gofs, "go.mod"); err != nil || !bytes.HasPrefix(b, []byte("module github.com/wasql/wasql/sdk/go")) {
		t.Errorf("FS(go) go.mod: %v %q", err, b)
	}
	if _, err := fs.ReadFile(gofs, "wasql/wasql.go"); err != nil {
		t.Error(err)
	}
	cfs, _ := FS("c")
	if _, err := fs.ReadFile(cfs, "wasql.h"); err != nil {
		t.Error(err)
	}
}
