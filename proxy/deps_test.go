package proxy

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoEngineDependency: the wire imports nothing of go-mysql-server or vitess, directly or
// not: what is the embedded engine's stays in package embedded.
func TestNoEngineDependency(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "go-mysql-server") || strings.Contains(dep, "vitess") {
			t.Errorf("proxy depends on %s", dep)
		}
	}
}
