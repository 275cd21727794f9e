// Package sdkcopy says what the copies package sdk embeds hold: sdk/_go, sdk/_rust and
// sdk/_assemblyscript are sdk/go, sdk/rust and sdk/assemblyscript without their tests, examples
// and build outputs, which go:embed could not leave out (nor reach sdk/go, its own module).
package sdkcopy

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Langs are the SDKs that are copied; sdk/c is embedded as it is.
var Langs = []string{"go", "rust", "assemblyscript"}

// skipDirs are never copied.
var skipDirs = map[string]bool{"testdata": true, "example": true, "examples": true, "node_modules": true, "target": true, "tests": true}

// Files reads the SDK at dir: every file but tests, examples and build outputs, by slash path
// inside the copy (go.mod and go.sum as go.mod.copy and go.sum.copy, which keep the copy inside
// this module).
func Files(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != dir && (skipDirs[name] || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, "_test.go") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
			strings.HasSuffix(name, ".wasm") || name == "Cargo.lock" {
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
