// Command copysdk copies the SDKs package sdk embeds into sdk/_LANG (sdkcopy.Files). Run it
// with go generate ./sdk.
package main

import (
	"log"
	"os"
	"path/filepath"

	"github.com/wasql/wasql/sdk/internal/sdkcopy"
)

func main() {
	// go generate runs in the package's directory, sdk.
	for _, lang := range sdkcopy.Langs {
		dst := "_" + lang
		if err := os.RemoveAll(dst); err != nil {
			log.Fatal(err)
		}
		if _, err := os.Stat(lang); os.IsNotExist(err) {
			continue
		}
		files, err := sdkcopy.Files(lang)
		if err != nil {
			log.Fatal(err)
		}
		for rel, data := range files {
			p := filepath.Join(dst, rel)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				log.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				log.Fatal(err)
			}
		}
	}
}
