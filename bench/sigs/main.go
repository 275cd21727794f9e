// Command sigs prints the names of the functions a module's wasql_signatures section declares,
// one a line (for bench/examples.sh).
package main

import (
	"fmt"
	"os"

	"github.com/wasql/wasql/udf"
)

func main() {
	b, err := os.ReadFile(os.Args[1])
	if err == nil {
		var sigs []udf.Signature
		if sigs, err = udf.Signatures(b); err == nil {
			for _, s := range sigs {
				fmt.Println(s.Name)
			}
			return
		}
	}
	fmt.Fprintln(os.Stderr, "sigs:", err)
	os.Exit(1)
}
