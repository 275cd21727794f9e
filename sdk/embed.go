// Package sdk holds the guest SDKs' sources for wasql init, which writes them into a new
// function project so that it builds outside this repository and offline.
//
// The C SDK is embedded as it is. The Go SDK is its own module (sdk/go/go.mod), which go:embed
// cannot reach from this one, so `go generate ./sdk` copies it into _go (go.mod as
// go.mod.copy, tests left out); TestGoCopy fails when the copy is stale.
package sdk

import (
	"embed"
	"io/fs"
)

//go:generate go run ./internal/copygo

//go:embed c _go
var files embed.FS

// FS returns the sources of one SDK ("c", "go"), rooted at the SDK's directory, with the Go
// SDK's go.mod under its name. ok is false for an SDK this build does not carry.
func FS(lang string) (fs.FS, bool) {
	dir := map[string]string{"c": "c", "go": "_go"}[lang]
	if dir == "" {
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
