// Command wasqlsign writes the SQL signatures of a Go guest into its module. Go cannot emit
// Wasm custom sections, so the Go SDK keeps each function's signature in a //wasql:function
// comment on the function that //go:wasmexport exports, and wasqlsign, run after go build,
// appends them as the module's wasql_signatures section (docs/abi.md §4.5):
//
//	//go:wasmexport wasql_batch_url_part
//	//wasql:function url_part(url text, part text) RETURNS text IMMUTABLE PARALLEL SAFE
//	func urlPart(b uint32) uint32 { return wasql.Map2(b, part) }
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o funcs.wasm .
//	go run github.com/wasql/wasql/sdk/go/cmd/wasqlsign funcs.wasm .
//
// Usage: wasqlsign [-o OUT] MODULE.wasm [PACKAGE_DIR] (default ".", the module is rewritten in
// place without -o). It refuses a //wasql:function whose name is not the function's export
// (wasql_batch_NAME for the batch ABI, NAME for a numeric scalar export), a function named
// twice, a module that already has the section, and a package that declares none.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const section = "wasql_signatures"

func main() {
	out := flag.String("o", "", "write the signed module here (default: rewrite MODULE in place)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: wasqlsign [-o OUT] MODULE.wasm [PACKAGE_DIR]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 || flag.NArg() > 2 {
		flag.Usage()
		os.Exit(2)
	}
	dir := "."
	if flag.NArg() == 2 {
		dir = flag.Arg(1)
	}
	if *out == "" {
		*out = flag.Arg(0)
	}
	if err := sign(flag.Arg(0), dir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "wasqlsign:", err)
		os.Exit(1)
	}
}

func sign(modulePath, dir, out string) error {
	lines, err := signatures(dir)
	if err != nil {
		return err
	}
	module, err := os.ReadFile(modulePath)
	if err != nil {
		return err
	}
	signed, err := appendSection(module, section, []byte(strings.Join(lines, "\n")+"\n"))
	if err != nil {
		return fmt.Errorf("%s: %w", modulePath, err)
	}
	return os.WriteFile(out, signed, 0o644)
}

// signatures returns the //wasql:function lines of the package in dir, sorted by name, after
// checking that each sits on a function exported under its name.
func signatures(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	byName := map[string]string{}
	var errs []error
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		onFunc := map[*ast.Comment]bool{}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Doc == nil {
				continue
			}
			var export string
			var sigs []*ast.Comment
			for _, c := range fn.Doc.List {
				if e, ok := strings.CutPrefix(c.Text, "//go:wasmexport "); ok {
					export = strings.TrimSpace(e)
				}
				if strings.HasPrefix(c.Text, "//wasql:function") {
					sigs = append(sigs, c)
					onFunc[c] = true
				}
			}
			for _, c := range sigs {
				line := strings.TrimSpace(strings.TrimPrefix(c.Text, "//wasql:function"))
				name, _, ok := strings.Cut(line, "(")
				name = strings.TrimSpace(name)
				where := fset.Position(c.Pos())
				switch {
				case !ok || name == "" || !strings.Contains(line, " RETURNS "):
					errs = append(errs, fmt.Errorf("%s: want //wasql:function NAME(ARGS) RETURNS TYPE [OPTIONS], got %q", where, c.Text))
				case export != "wasql_batch_"+name && export != name:
					errs = append(errs, fmt.Errorf("%s: //wasql:function %s is on %s, which //go:wasmexport exports as %q, not wasql_batch_%s", where, name, fn.Name.Name, export, name))
				case byName[name] != "":
					errs = append(errs, fmt.Errorf("%s: %s is declared twice", where, name))
				case strings.ContainsAny(line, "\x00\n"):
					errs = append(errs, fmt.Errorf("%s: a signature is one line", where))
				default:
					byName[name] = line
				}
			}
		}
		for _, g := range f.Comments {
			for _, c := range g.List {
				if strings.HasPrefix(c.Text, "//wasql:function") && !onFunc[c] {
					errs = append(errs, fmt.Errorf("%s: //wasql:function must be in the doc comment of the exported function", fset.Position(c.Pos())))
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(byName) == 0 {
		return nil, fmt.Errorf("%s: no //wasql:function comments", dir)
	}
	lines := make([]string, 0, len(byName))
	for _, l := range byName {
		lines = append(lines, l)
	}
	sort.Strings(lines)
	return lines, nil
}

// appendSection appends a custom section to a Wasm module: byte 0, the LEB128 size of the rest,
// the LEB128 length of the name, the name and the payload. A module keeps its meaning with any
// custom section appended.
func appendSection(module []byte, name string, payload []byte) ([]byte, error) {
	if !bytes.HasPrefix(module, []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, errors.New("not a Wasm module")
	}
	if has, err := hasSection(module, name); err != nil || has {
		if err == nil {
			err = fmt.Errorf("already has a %s section (sign the module go build wrote, once)", name)
		}
		return nil, err
	}
	body := append(uleb(nil, uint64(len(name))), name...)
	body = append(body, payload...)
	out := append(append([]byte{}, module...), 0)
	out = uleb(out, uint64(len(body)))
	return append(out, body...), nil
}

// hasSection reports whether the module has a custom section of that name.
func hasSection(module []byte, name string) (bool, error) {
	p := module[8:]
	for len(p) > 0 {
		id := p[0]
		size, n := readULEB(p[1:])
		if n == 0 || uint64(len(p)-1-n) < size {
			return false, errors.New("malformed module: a section runs past the end")
		}
		body := p[1+n : 1+n+int(size)]
		if id == 0 {
			l, m := readULEB(body)
			if m > 0 && uint64(len(body)-m) >= l && string(body[m:m+int(l)]) == name {
				return true, nil
			}
		}
		p = p[1+n+int(size):]
	}
	return false, nil
}

func uleb(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

// readULEB decodes an unsigned LEB128 value; n = 0 if it is malformed or truncated.
func readULEB(p []byte) (v uint64, n int) {
	for shift := 0; n < len(p) && n < 10; shift += 7 {
		c := p[n]
		n++
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, n
		}
	}
	return 0, 0
}
