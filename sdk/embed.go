// Package sdk holds the guest SDKs' sources for wasql init, which writes them into a new
// function project so that it builds outside this repository and offline.
//
// The C SDK is embedded as it is (without its example). The others are copied first by `go generate ./sdk` into
// sdk/_LANG (internal/sdkcopy: without tests, examples and build outputs such as node_modules
// and target, which go:embed cannot leave out; the Go SDK is its own module, which go:embed
// cannot reach, so its go.mod is copied as go.mod.copy). TestCopies fails when a copy is stale
// or an SDK is not embedded.
package sdk

import (
	"embed"
	"io/fs"
)

//go:generate go run ./internal/copysdk

//go:embed c/wasql.h c/wasql.mk c/README.md _go _rust _assemblyscript
var files embed.FS

// FS returns the sources of one SDK ("c", "go", "rust", "assemblyscript"), rooted at the SDK's
// directory, with the Go SDK's go.mod under its name. ok is false for an SDK this build does
// not carry.
func FS(lang string) (fs.FS, bool) {
	dir := map[string]string{"c": "c", "go": "_go", "rust": "_rust", "assemblyscript": "_assemblyscript"}[lang]
	if dir == "" {
		return nil, false
	}
	if _, err := fs.Stat(files, dir); err != nil {
		return nil, false
	}
	sub, err := fs.Sub(files, dir)
	if err != nil {
		return nil, false
	}
	if lang == "go" {
		return renamed{sub}, true
	}
	return sub, true
}

// renamed shows go.mod.copy as go.mod.
type renamed struct{ fs.FS }

func (r renamed) Open(name string) (fs.File, error) {
	if name == "go.mod" {
		name = "go.mod.copy"
	}
	return r.FS.Open(name)
}

// ReadDir lists the directory with go.mod.copy as go.mod.
func (r renamed) ReadDir(name string) ([]fs.DirEntry, error) {
	es, err := fs.ReadDir(r.FS, name)
	for i, e := range es {
		if name == "." && e.Name() == "go.mod.copy" {
			es[i] = renamedEntry{e}
		}
	}
	return es, err
}

type renamedEntry struct{ fs.DirEntry }

func (renamedEntry) Name() string { return "go.mod" }
