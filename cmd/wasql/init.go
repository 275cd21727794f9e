package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/wasql/wasql/sdk"
	"github.com/wasql/wasql/udf"
)

// initUsage heads wasql init --help.
const initUsage = `usage: wasql init --lang rust|go|c|assemblyscript NAME [DIR]

Writes a function project in DIR (default ./NAME): a function NAME(s text) RETURNS text that
upper-cases its argument, a Makefile, a README, and the language's wasql SDK in DIR/wasql-sdk,
so that the project builds outside the wasql repository and offline:

  cd NAME && make                                    # builds NAME.wasm with its SQL signature
  wasql function create --dsn postgres://... NAME.wasm  # registers it

NAME is the SQL function's name: lower-case letters, digits and _, not starting with a digit.

flags:
`

var projectName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// template is one language's project: files by path, with NAME replaced by the project name.
type template struct {
	sdk   string // the sdk package's name for the SDK's sources ("" none)
	files map[string]string
}

var templates = map[string]template{
	"c":  {sdk: "c", files: map[string]string{"NAME.c": cTemplate, "Makefile": cMakefile, "README.md": readmeTemplate, ".gitignore": "*.wasm\n"}},
	"go": {sdk: "go", files: map[string]string{"main.go": goTemplate, "go.mod": goMod, "Makefile": goMakefile, "README.md": readmeTemplate, ".gitignore": "*.wasm\n"}},
	"rust": {sdk: "rust", files: map[string]string{"src/lib.rs": rustTemplate, "Cargo.toml": rustCargo, "Makefile": rustMakefile,
		"README.md": readmeTemplate, ".gitignore": "*.wasm\ntarget/\n"}},
	"assemblyscript": {sdk: "assemblyscript", files: map[string]string{"assembly/index.ts": asTemplate, "package.json": asPackage,
		"Makefile": asMakefile, "README.md": readmeTemplate, ".gitignore": "*.wasm\nnode_modules/\n"}},
}

func initProject(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	lang := fs.String("lang", "", "the language: rust, go, c or assemblyscript (required)")
	if err := fs.Parse(interleave(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(out, initUsage)
			fs.SetOutput(out)
			fs.PrintDefaults()
			return nil
		}
		return fmt.Errorf("init: %w (wasql init --help)", err)
	}
	l := strings.ToLower(*lang)
	if l == "as" || l == "ts" {
		l = "assemblyscript"
	}
	tpl, ok := templates[l]
	if !ok {
		return fmt.Errorf("init: --lang %q: want rust, go, c or assemblyscript (wasql init --help)", *lang)
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return errors.New("init: want NAME [DIR] (wasql init --help)")
	}
	name := fs.Arg(0)
	if !projectName.MatchString(name) {
		return fmt.Errorf("init: %q is not a function name: lower-case letters, digits and _, not starting with a digit", name)
	}
	if reservedNames[name] {
		return fmt.Errorf("init: %q is a keyword or a reserved name in C, Go, Rust or SQL: choose another name", name)
	}
	dir := name
	if fs.NArg() == 2 {
		dir = fs.Arg(1)
	}
	sdkFS, ok := sdk.FS(tpl.sdk)
	if !ok {
		return fmt.Errorf("init: this build of wasql carries no %s SDK", l)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("init: %s exists and is not empty", dir)
	}
	files := map[string][]byte{}
	for p, text := range tpl.files {
		files[strings.ReplaceAll(p, "NAME", name)] = []byte(expand(text, name, l))
	}
	err := fs2map(sdkFS, func(p string, b []byte) { files[filepath.Join("wasql-sdk", p)] = b })
	if err != nil {
		return err
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, files[p], 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "wrote %s (%s): cd %s && make && wasql function create --dsn postgres://user:pass@host:port/db %s.wasm\n", dir, l, dir, name)
	return nil
}

func fs2map(f fs.FS, put func(string, []byte)) error {
	return fs.WalkDir(f, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(f, p)
		if err != nil {
			return err
		}
		put(p, b)
		return nil
	})
}

// reservedNames cannot name a function in one of the templates' languages.
var reservedNames = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`main init break case chan const continue default defer else fallthrough for func go goto
		if import interface map package range return select struct switch type var auto char do double enum extern float
		int long register short signed sizeof static typedef union unsigned void volatile while as crate fn impl in let loop
		match mod move mut pub ref self static super trait true false unsafe use where async await dyn abstract export
		function new string row select from where table`) {
		m[w] = true
	}
	return m
}()

var langTitle = map[string]string{"c": "C", "go": "Go", "rust": "Rust", "assemblyscript": "AssemblyScript"}

func expand(text, name, lang string) string {
	return strings.NewReplacer("NAME", name, "LANG", langTitle[lang], "BUILDNEEDS", buildNeeds[lang]).Replace(text)
}

var buildNeeds = map[string]string{
	"c":              "apt-get install -y make clang lld wasi-libc libclang-rt-14-dev-wasm32",
	"go":             "make and Go 1.24 or later",
	"rust":           "apt-get install -y make cargo rustc libstd-rust-dev-wasm32 (Debian's Rust, target wasm32-wasi)",
	"assemblyscript": "make, Node.js and npm (apt-get install -y make nodejs npm; the first make runs npm install, which fetches the assemblyscript compiler from the npm registry)",
}

// sign appends a wasql_signatures section to a module.
func sign(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	output := fs.String("o", "", "write the signed module here (default: in place)")
	if err := fs.Parse(interleave(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(out, "usage: wasql sign [-o OUT.wasm] FILE.wasm 'name(a text) RETURNS text [STRICT] [IMMUTABLE] [PARALLEL SAFE]'...\n\n"+
				"Appends a wasql_signatures custom section (docs/abi.md §4.5) with the lines to the module,\n"+
				"for toolchains that cannot write custom sections.\n\nflags:\n")
			fs.SetOutput(out)
			fs.PrintDefaults()
			return nil
		}
		return fmt.Errorf("sign: %w", err)
	}
	if fs.NArg() < 2 {
		return errors.New("sign: want FILE.wasm LINE... (wasql sign --help)")
	}
	bin, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	have, err := udf.Signatures(bin)
	if err != nil {
		return withState(err)
	}
	var text strings.Builder
	for _, line := range fs.Args()[1:] {
		s, err := udf.ParseSignature(line)
		if err != nil {
			return fmt.Errorf("sign: %v", err)
		}
		for _, h := range have {
			if h.Name == s.Name {
				return fmt.Errorf("sign: %s already declares %s", fs.Arg(0), h)
			}
		}
		text.WriteString(s.String() + "\n")
	}
	bin = udf.AppendCustomSection(bin, udf.SignatureSection, []byte(text.String()))
	if _, err := udf.Signatures(bin); err != nil {
		return withState(err)
	}
	dst := *output
	if dst == "" {
		dst = fs.Arg(0)
	}
	return os.WriteFile(dst, bin, 0o644)
}

const readmeTemplate = "# NAME\n\n" +
	"A wasql function in LANG: `NAME(s text) RETURNS text STRICT IMMUTABLE PARALLEL SAFE`, which\n" +
	"upper-cases its argument. The wasql SDK is in `wasql-sdk/`.\n\n" +
	"Needs BUILDNEEDS.\n\n" +
	"```sh\n" +
	"make                                                           # builds NAME.wasm\n" +
	"wasql function create --dsn postgres://user:pass@127.0.0.1:5433/wasql NAME.wasm   # registers NAME\n" +
	"```\n\n" +
	"(`mysql://user:pass@127.0.0.1:3307/wasql` for the MySQL wire; `wasql function replace` after a\n" +
	"change.) Then `SELECT NAME('hello')` returns `HELLO`. Without a server:\n" +
	"`wasql eval --module NAME.wasm --function NAME hello`.\n"

const cTemplate = `#include "wasql.h"

WASQL_FUNCTION(NAME, "s text", "text", "IMMUTABLE PARALLEL SAFE") {
    uint32_t len;
    const uint8_t *s = wasql_arg_bytes(row, 0, &len);
    wasql_buf *out = wasql_result(row);
    for (uint32_t i = 0; i < len; i++)
        wasql_buf_putc(out, s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
}
`

const cMakefile = `all: NAME.wasm

include wasql-sdk/wasql.mk
`

const goTemplate = `//go:build wasip1

package main

import (
	"strings"

	"github.com/wasql/wasql/sdk/go/wasql"
)

// NAME upper-cases s.
//
//wasql:function NAME(s text) RETURNS text STRICT IMMUTABLE PARALLEL SAFE
//go:wasmexport wasql_batch_NAME
func NAME(b uint32) uint32 {
	return wasql.Map1(b, func(s string) (string, error) { return strings.ToUpper(s), nil })
}

func main() {}
`

const goMod = `module NAME

go 1.24

require github.com/wasql/wasql/sdk/go v0.0.0

replace github.com/wasql/wasql/sdk/go => ./wasql-sdk
`

const goMakefile = `GO ?= go

all: NAME.wasm

# go build, then wasqlsign appends the //wasql:function signatures (Go cannot write custom sections)
NAME.wasm: $(wildcard *.go) go.mod
	GOOS=wasip1 GOARCH=wasm GOWORK=off $(GO) build -buildmode=c-shared -trimpath -o $@.tmp .
	GOWORK=off $(GO) run github.com/wasql/wasql/sdk/go/cmd/wasqlsign -o $@ $@.tmp .
	rm -f $@.tmp

.PHONY: clean
clean:
	rm -f *.wasm
`

const rustTemplate = `wasql::export! {
    /// NAME upper-cases s.
    #[sql = "IMMUTABLE PARALLEL SAFE"]
    fn NAME(s: &str) -> String {
        s.to_uppercase()
    }
}
`

const rustCargo = `[package]
name = "NAME"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = ["cdylib"]

[dependencies]
wasql = { path = "wasql-sdk" }

[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
panic = "abort"
strip = "debuginfo"
`

const rustMakefile = `CARGO ?= /usr/bin/cargo
export RUSTC ?= /usr/bin/rustc

all: NAME.wasm

NAME.wasm: src/lib.rs Cargo.toml
	$(CARGO) build --offline --release --target wasm32-wasi
	cp target/wasm32-wasi/release/NAME.wasm $@

.PHONY: clean
clean:
	rm -rf *.wasm target
`

const asTemplate = `// NAME upper-cases s.
// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function NAME(s: string): string {
  return s.toUpperCase();
}
`

const asPackage = `{
  "name": "NAME",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "scripts": { "build": "wasql-asc assembly/index.ts -o NAME.wasm" },
  "dependencies": { "wasql-as": "file:./wasql-sdk" }
}
`

const asMakefile = `NPM ?= npm

all: NAME.wasm

node_modules: package.json
	$(NPM) install --no-audit --no-fund --install-links
	touch node_modules

NAME.wasm: assembly/index.ts node_modules
	$(NPM) run build

.PHONY: clean
clean:
	rm -rf *.wasm node_modules
`
