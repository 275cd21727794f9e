package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// docExample is the guest program in the Go SDK's package documentation: the tab-indented
// block from //go:build wasip1 to func main() {}.
func docExample(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../../sdk/go/wasql/wasql.go")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	in := false
	for _, line := range strings.Split(string(src), "\n") {
		if line == "//\t//go:build wasip1" {
			in = true
		}
		if !in {
			continue
		}
		if line == "//" {
			b.WriteString("\n")
		} else if code, ok := strings.CutPrefix(line, "//\t"); ok {
			b.WriteString(code + "\n")
		} else {
			t.Fatalf("unexpected line in the example: %q", line)
		}
		if line == "//\tfunc main() {}" {
			return b.String()
		}
	}
	t.Fatal("no example in sdk/go/wasql/wasql.go")
	return ""
}

// The Go SDK is usable from a module outside this repository, with the replace directive its
// documentation gives, and the package example compiles into a guest wasql runs.
func TestGoSDKOutsideRepo(t *testing.T) {
	sdk, err := filepath.Abs("../../sdk/go")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module example.com/guest\n\ngo 1.24\n\nrequire github.com/wasql/wasql/sdk/go v0.0.0\n\nreplace github.com/wasql/wasql/sdk/go => " + sdk + "\n"
	for name, text := range map[string]string{"go.mod": gomod, "main.go": docExample(t)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wasm := filepath.Join(dir, "funcs.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", wasm, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build of the SDK example outside the repository: %v\n%s", err, out)
	}
	var out bytes.Buffer
	err = run(context.Background(), []string{"eval", "--module", wasm, "--export", "upper", "--args", "text", "--returns", "text", "héllo", "NULL"}, &out)
	if err != nil || out.String() != "HÉLLO\nNULL\n" {
		t.Fatalf("eval of the example: %v %q", err, out.String())
	}
}
