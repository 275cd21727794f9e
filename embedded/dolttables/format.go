package dolttables

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dolthub/dolt/go/libraries/doltcore/schema"
)

// format is how a tables directory stores TEXT and BLOB values. Dolt stores each one apart from
// its row, as a chunk of its own (addressed), unless schema.UseAdaptiveEncoding is set: then a
// value that fits is kept in the row, and only a large one apart (adaptive). Adaptive loads 1M
// rows with a text column 3.5x as fast and into fewer bytes; it is what Dolt does for its
// extended types (Doltgres's text). A directory records its format in a file (formatFile) when
// it is made; one without that file was made before adaptive encoding was used (addressed).
//
// The two cannot be mixed: Dolt reads a value by the encoding its column's type has in the
// current process (schema.UseAdaptiveEncoding, a variable of the process), not by one the
// directory records. So all the stores open in a process share one format: the first one
// opened sets it, and opening a directory of the other format then fails.
type format string

const (
	formatAddressed format = "addressed"
	formatAdaptive  format = "adaptive"
	formatFile             = "wasql-format"
)

// dirFormat is the format of the tables directory dir: adaptive for a new (or empty) one.
func dirFormat(dir string) (format, error) {
	b, err := os.ReadFile(filepath.Join(dir, formatFile))
	switch {
	case err == nil:
		switch f := format(strings.TrimSpace(string(b))); f {
		case formatAddressed, formatAdaptive:
			return f, nil
		default:
			return "", fmt.Errorf("tables %s: %s names the format %q, which this version does not know", dir, formatFile, f)
		}
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("tables %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || err == nil && len(entries) == 0 {
		return formatAdaptive, nil
	}
	if err != nil {
		return "", fmt.Errorf("tables %s: %w", dir, err)
	}
	return formatAddressed, nil
}

// markFormat records f in dir, unless it is recorded.
func markFormat(dir string, f format) error {
	p := filepath.Join(dir, formatFile)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := os.WriteFile(p, []byte(string(f)+"\n"), 0o600); err != nil {
		return fmt.Errorf("tables %s: %w", dir, err)
	}
	return nil
}

// formats counts the stores open in the process, all of whose format is schema.UseAdaptiveEncoding.
var formats struct {
	sync.Mutex
	open int
}

// useFormat sets the process's format to f for a store of dir about to open, or fails if stores
// of the other format are open; release is called when the store closes.
func useFormat(dir string, f format) (release func(), err error) {
	formats.Lock()
	defer formats.Unlock()
	adaptive := f == formatAdaptive
	if schema.UseAdaptiveEncoding != adaptive {
		if formats.open > 0 {
			return nil, fmt.Errorf("tables %s: its text format is %s, and another tables directory open in this process has the other one; open it in a process of its own", dir, f)
		}
		schema.UseAdaptiveEncoding = adaptive
	}
	formats.open++
	var once sync.Once
	return func() {
		once.Do(func() {
			formats.Lock()
			formats.open--
			formats.Unlock()
		})
	}, nil
}
