// Package gocopy says what sdk/_go holds: the Go SDK's files as package sdk embeds them.
package gocopy

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Files reads the Go SDK at dir: every file but *_test.go and testdata, by slash path inside
// the copy (go.mod and go.sum as go.mod.copy and go.sum.copy, which keep _go inside this module).
func Files(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != dir && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, "_test.go") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || strings.HasSuffix(name, ".wasm") {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "go.mod" || rel == "go.sum" {
			rel += ".copy"
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = b
		return nil
	})
	return out, err
}
