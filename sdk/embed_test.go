package sdk

import (
	"bytes"
	"io/fs"
	"os"
	"testing"

	"github.com/wasql/wasql/sdk/internal/sdkcopy"
)

// Each SDK in sdk/ is embedded, and each copy is the SDK as it is: run `go generate ./sdk`
// after changing sdk/go, sdk/rust or sdk/assemblyscript.
func TestCopies(t *testing.T) {
	for _, lang := range sdkcopy.Langs {
		if _, err := os.Stat(lang); os.IsNotExist(err) {
			if _, ok := FS(lang); ok {
				t.Errorf("_%s is embedded but there is no sdk/%s", lang, lang)
			}
			continue
		}
		want, err := sdkcopy.Files(lang)
		if err != nil {
			t.Fatal(err)
		}
		dir := "_" + lang
		if _, err := fs.Stat(files, dir); err != nil {
			t.Errorf("sdk/%s is not embedded: run go generate ./sdk and add %s to the go:embed line in embed.go", lang, dir)
			continue
		}
		got := map[string][]byte{}
		err = fs.WalkDir(files, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := files.ReadFile(p)
			got[p[len(dir)+1:]] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for name, b := range want {
			if g, ok := got[name]; !ok {
				t.Errorf("sdk/%s/%s is missing: run go generate ./sdk", dir, name)
			} else if !bytes.Equal(g, b) {
				t.Errorf("sdk/%s/%s differs from sdk/%s: run go generate ./sdk", dir, name, lang)
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("sdk/%s/%s is not in sdk/%s: run go generate ./sdk", dir, name, lang)
			}
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
	if _, ok := FS("cobol"); ok {
		t.Error("FS(cobol) is ok")
	}
}
