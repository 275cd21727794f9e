// Command copygo copies the Go SDK (sdk/go, its own module) into sdk/_go for package sdk to
// embed: every file but tests and testdata, go.mod as go.mod.copy. Run it with go generate ./sdk.
package main

import (
	"log"
	"os"
	"path/filepath"

	"github.com/wasql/wasql/sdk/internal/gocopy"
)

func main() {
	// go generate runs in the package's directory, sdk.
	if err := os.RemoveAll("_go"); err != nil {
		log.Fatal(err)
	}
	files, err := gocopy.Files("go")
	if err != nil {
		log.Fatal(err)
	}
	for dst, data := range files {
		p := filepath.Join("_go", dst)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
