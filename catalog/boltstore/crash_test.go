package boltstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasql/wasql/catalog"
	"github.com/wasql/wasql/catalog/catalogtest"
)

// crashEnv names the catalog file TestCrashChild writes to; without it TestCrashChild skips.
const crashEnv = "WASQL_BOLTSTORE_CRASH_DB"

// crashKeys are the functions the crash child creates, replaces and drops.
var crashKeys = []catalog.Function{
	testFunction("f", "bigint"),
	testFunction("f", "text"),
	testFunction("g"),
}

// crashModule returns the module bytes the child uses: often one of a few shared ones (so
// functions share modules and dropping one must keep it), otherwise fresh random bytes up to
// 64 KiB (so a commit spans many pages).
func crashModule(r *rand.Rand, c *rand.ChaCha8) []byte {
	if r.IntN(3) == 0 {
		return []byte("\x00asm\x01\x00\x00\x00shared" + strconv.Itoa(r.IntN(3)))
	}
	b := make([]byte, 1+r.IntN(64<<10))
	c.Read(b)
	return b
}

// TestCrashChild is the process TestCrash kills. It opens the catalog named by $WASQL_BOLTSTORE_CRASH_DB
// and loops over CREATE, CREATE OR REPLACE and DROP until killed, reporting on stdout, one write
// per line: "ready" once open, "W <op> <key index> <module hash>" before each write, then "K"
// once it committed or "N" if it failed with ErrExists or ErrNotFound.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrash as a child process to be killed; needs $" + crashEnv)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	out := func(line string) {
		if _, err := os.Stdout.WriteString(line + "\n"); err != nil {
			os.Exit(3) // the parent is gone
		}
	}
	out("ready")
	ctx := context.Background()
	parent := os.Getppid()
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(time.Now().UnixNano()))
	binary.LittleEndian.PutUint64(seed[8:], uint64(os.Getpid()))
	c := rand.NewChaCha8(seed)
	r := rand.New(c)
	// Never outlive a parent that died without killing this process.
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && os.Getppid() == parent; {
		i := r.IntN(len(crashKeys))
		f := crashKeys[i]
		var op string
		switch n := r.IntN(10); {
		case n < 3:
			op = "create"
		case n < 7:
			op = "replace"
		default:
			op = "drop"
		}
		mod := crashModule(r, c)
		out(fmt.Sprintf("W %s %d %s", op, i, hashOf(mod)))
		if op == "drop" {
			_, err = s.Drop(ctx, f.Key())
		} else {
			_, err = s.Create(ctx, f, mod, op == "replace")
		}
		switch {
		case err == nil:
			out("K")
		case errors.Is(err, catalog.ErrExists), errors.Is(err, catalog.ErrNotFound):
			out("N")
		default:
			t.Fatalf("%s %s: %v", op, f.Key(), err)
		}
	}
	s.Close()
}

// crashState is what the catalog holds for one of crashKeys.
type crashState struct {
	version int64
	hash    string
}

// crashModel is the state of crashKeys, by index; absent keys are missing.
type crashModel map[int]crashState

// apply returns the state after op, and whether op was expected to succeed.
func (m crashModel) apply(op string, i int, hash string) (crashModel, bool) {
	next := crashModel{}
	for k, v := range m {
		next[k] = v
	}
	cur, ok := m[i]
	switch op {
	case "create":
		if ok {
			return next, false
		}
		next[i] = crashState{1, hash}
	case "replace":
		next[i] = crashState{cur.version + 1, hash}
		if !ok {
			next[i] = crashState{1, hash}
		}
	case "drop":
		if !ok {
			return next, false
		}
		delete(next, i)
	}
	return next, true
}

func (m crashModel) equal(o crashModel) bool {
	if len(m) != len(o) {
		return false
	}
	for k, v := range m {
		if o[k] != v {
			return false
		}
	}
	return true
}

// readModel reads the state of crashKeys from s; any other function is an error.
func readModel(ctx context.Context, s *Store) (crashModel, error) {
	fns, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	m := crashModel{}
next:
	for _, fn := range fns {
		for i, k := range crashKeys {
			if fn.Key().Compare(k.Key()) == 0 {
				m[i] = crashState{fn.Version, fn.ModuleHash}
				continue next
			}
		}
		return nil, fmt.Errorf("unexpected function %s", fn.Key())
	}
	return m, nil
}

// TestCrash kills TestCrashChild with SIGKILL at a random moment while it writes, then reopens
// the catalog and checks it: the file is sound (bbolt's own check), every record decodes, every
// module exists and verifies, no module is orphaned, every write the child saw commit is there,
// and the one under way when it died is either wholly there or wholly absent.
func TestCrash(t *testing.T) {
	rounds := 100
	if testing.Short() {
		rounds = 20
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	model := crashModel{}
	var acked, inFlight, inFlightCommitted int
	start := time.Now()
	for round := range rounds {
		cmd := exec.Command(exe, "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			io.Copy(io.Discard, stdout)
		}()
		var out []string
		ready := false
		for !ready {
			select {
			case l, ok := <-lines:
				if !ok {
					cmd.Wait()
					t.Fatalf("round %d: child exited before ready: %q\n%s", round, out, stderr.Bytes())
				}
				out = append(out, l)
				ready = l == "ready"
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("round %d: child not ready after 30s\n%s", round, stderr.Bytes())
			}
		}
		time.Sleep(time.Duration(r.IntN(100_000)+1) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for l := range lines {
			out = append(out, l)
		}
		err = cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != -1 { // -1: killed by a signal
			t.Fatalf("round %d: child ended with %v, not killed\n%s", round, err, stderr.Bytes())
		}

		// Replay what the child reported.
		type write struct {
			op   string
			i    int
			hash string
		}
		var pending *write
		for _, l := range out[1:] {
			f := strings.Fields(l)
			switch {
			case len(f) == 4 && f[0] == "W" && pending == nil:
				i, err := strconv.Atoi(f[2])
				if err != nil || i < 0 || i >= len(crashKeys) {
					t.Fatalf("round %d: bad line %q", round, l)
				}
				pending = &write{f[1], i, f[3]}
			case (l == "K" || l == "N") && pending != nil:
				next, ok := model.apply(pending.op, pending.i, pending.hash)
				if ok != (l == "K") {
					t.Fatalf("round %d: %s of %s reported %s, model %v expects success %v", round, pending.op, crashKeys[pending.i].Key(), l, model, ok)
				}
				model, pending = next, nil
				acked++
			default:
				t.Fatalf("round %d: unexpected line %q in %q", round, l, out)
			}
		}

		s, err := Open(path)
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		if err := s.Check(ctx); err != nil {
			s.Close()
			t.Fatalf("round %d: %v", round, err)
		}
		if err := catalogtest.Check(ctx, s); err != nil {
			s.Close()
			t.Fatalf("round %d: %v", round, err)
		}
		got, err := readModel(ctx, s)
		s.Close()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		switch {
		case got.equal(model):
			if pending != nil {
				inFlight++
			}
		case pending != nil:
			next, _ := model.apply(pending.op, pending.i, pending.hash)
			if !got.equal(next) {
				t.Fatalf("round %d: catalog holds %v; want %v, or %v if the %s of %s under way committed", round, got, model, next, pending.op, crashKeys[pending.i].Key())
			}
			inFlight++
			inFlightCommitted++
		default:
			t.Fatalf("round %d: catalog holds %v, want %v (every write the child saw commit)", round, got, model)
		}
		model = got
	}
	t.Logf("%d rounds in %v: %d writes acknowledged; killed with a write under way %d times, %d of them committed",
		rounds, time.Since(start).Round(time.Millisecond), acked, inFlight, inFlightCommitted)
	if acked == 0 {
		t.Errorf("the child never committed a write before it was killed")
	}
}
