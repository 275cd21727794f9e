package udf

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Limits bound one function's guest calls. A zero field takes the runtime's default
// (Config.WithLimits), whose own zero fields take DefaultLimits.
type Limits struct {
	// Timeout is the wall time of one guest call (one batch of rows); default 1s. It is the
	// bound every call has: fuel is not needed to stop a runaway guest.
	Timeout time.Duration
	// Fuel is a deterministic budget per row (a batch of n rows gets n × Fuel units, about one
	// per instruction); default 0, no fuel budget: only the timeout applies.
	Fuel uint64
	// MemoryBytes caps the linear memory of one instance; default 64MB.
	MemoryBytes uint64
	// ResultBytes caps the variable-width result bytes of one batch; default 16MB.
	ResultBytes uint64
}

// DefaultLimits are the limits of docs/abi.md §7. Fuel is opt-in: zero means no fuel budget.
var DefaultLimits = Limits{
	Timeout:     time.Second,
	MemoryBytes: 64 << 20,
	ResultBytes: 16 << 20,
}

func (l Limits) orDefaults(d Limits) Limits {
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	if l.Fuel == 0 {
		l.Fuel = d.Fuel
	}
	if l.MemoryBytes == 0 {
		l.MemoryBytes = d.MemoryBytes
	}
	if l.ResultBytes == 0 {
		l.ResultBytes = d.ResultBytes
	}
	return l
}

// Config is the runtime's configuration. It is immutable: each With method returns a copy. The
// zero Config is the default configuration (NewConfig): every zero field means its default.
type Config struct {
	cacheDir       string        // "": no disk cache
	limits         Limits        // zero fields: DefaultLimits
	maxModuleBytes int           // 0: 32MB
	batchRows      int           // 0: 1024 rows per guest call
	batchBytes     int           // 0: 4MB of variable-width input per guest call
	poolSize       int           // 0: 2 × GOMAXPROCS instances per function
	compiledBudget int64         // 0: 256MB of compiled code kept without instances
	memoryBudget   int64         // 0: DefaultMemoryBudget()
	fuelSlice      uint64        // 0: 2^20 units between deadline checks
	idleTimeout    time.Duration // 0: one minute; negative: idle instances are kept
}

// NewConfig returns the default configuration: no disk cache, DefaultLimits, 32MB modules,
// 1024-row batches of at most 4MB input, 2×GOMAXPROCS instances per function, 256MB of
// compiled code, a server-wide memory budget of DefaultMemoryBudget, instances closed after a
// minute idle. It equals the zero Config.
func NewConfig() Config { return Config{}.withDefaults() }

// withDefaults fills every zero field with its default.
func (c Config) withDefaults() Config {
	c.limits = c.limits.orDefaults(DefaultLimits)
	if c.maxModuleBytes <= 0 {
		c.maxModuleBytes = 32 << 20
	}
	if c.batchRows <= 0 {
		c.batchRows = 1024
	}
	if c.batchBytes <= 0 {
		c.batchBytes = 4 << 20
	}
	if c.poolSize <= 0 {
		c.poolSize = 2 * runtime.GOMAXPROCS(0)
	}
	if c.compiledBudget <= 0 {
		c.compiledBudget = 256 << 20
	}
	if c.memoryBudget <= 0 {
		c.memoryBudget = DefaultMemoryBudget()
	}
	if c.fuelSlice == 0 {
		c.fuelSlice = 1 << 20
	}
	if c.idleTimeout == 0 {
		c.idleTimeout = time.Minute
	}
	return c
}

// WithCacheDir keeps compiled code in dir, so a restart does not compile again.
func (c Config) WithCacheDir(dir string) Config { c.cacheDir = dir; return c }

// WithLimits sets the default limits of functions; zero fields keep DefaultLimits.
func (c Config) WithLimits(l Limits) Config { c.limits = l.orDefaults(DefaultLimits); return c }

// WithMaxModuleBytes caps the size of a module (default 32MB).
func (c Config) WithMaxModuleBytes(n int) Config { c.maxModuleBytes = n; return c }

// WithBatch sets the most rows and input bytes passed to one guest call (default 1024 rows, 4MB).
func (c Config) WithBatch(rows, bytes int) Config {
	c.batchRows, c.batchBytes = max(rows, 1), max(bytes, 1)
	return c
}

// WithPoolSize caps the instances of one function (busy and idle) that statements holding no
// other instance wait for (default 2 × GOMAXPROCS). A statement that already holds an instance
// never waits: it may take one more, within the memory budget (docs/RATIONALE.md).
func (c Config) WithPoolSize(n int) Config { c.poolSize = max(n, 1); return c }

// WithCompiledBudget caps the estimated memory of compiled modules kept without instances
// (default 256MB).
func (c Config) WithCompiledBudget(bytes int64) Config { c.compiledBudget = bytes; return c }

// WithMemoryBudget sets the server-wide memory budget (default DefaultMemoryBudget): the linear
// memory of every instance, their reset snapshots and the compiled code all count against it.
// An instance is charged before it is created; when the budget is spent even after closing idle
// instances, new instances are refused with 53200 and memory.grow fails in running ones.
func (c Config) WithMemoryBudget(bytes int64) Config { c.memoryBudget = bytes; return c }

// WithFuelSlice sets how much fuel a guest burns between checks of its deadline (default 2^20).
func (c Config) WithFuelSlice(n uint64) Config { c.fuelSlice = max(n, 1); return c }

// WithIdleTimeout sets how long an unused instance stays pooled (default a minute; negative
// keeps idle instances until the memory budget needs them).
func (c Config) WithIdleTimeout(d time.Duration) Config { c.idleTimeout = d; return c }

// NullBehavior says whether a function sees NULL arguments.
type NullBehavior uint8

// Null behaviors; Strict is the zero value.
const (
	Strict       NullBehavior = iota // RETURNS NULL ON NULL INPUT: never called with a NULL argument
	CalledOnNull                     // CALLED ON NULL INPUT: sees validity, needs the columnar ABI
)

// Definition is everything the runtime needs to load a function.
type Definition struct {
	Name      string // SQL name, for messages
	Module    []byte
	Export    string
	Args      []Type
	Result    Type
	OnNull    NullBehavior
	Limits    Limits // zero fields take the runtime's defaults
	Clock     bool   // real wall and monotonic clocks instead of deterministic ones
	Random    bool   // crypto/rand instead of a deterministic stream
	KeepState bool   // keep guest memory from one session to the next
}

// SetOption applies one WITH (...) option: timeout ('200ms'), fuel (per row), memory ('64MB'),
// result ('16MB'), clock ('real'|'deterministic'), random (same), keep_state (boolean).
func (d *Definition) SetOption(key, value string) error {
	bad := func(format string, args ...any) error {
		return newError(KindOption, d.Name, "option %s = '%s': %s", key, value, fmt.Sprintf(format, args...))
	}
	switch strings.ToLower(key) {
	case "timeout":
		t, err := time.ParseDuration(value)
		if err != nil || t <= 0 {
			return bad("want a positive duration like '200ms'")
		}
		d.Limits.Timeout = t
	case "fuel":
		n, err := strconv.ParseUint(strings.ReplaceAll(value, "_", ""), 10, 64)
		if err != nil || n == 0 {
			return bad("want a positive integer")
		}
		d.Limits.Fuel = n
	case "memory", "result":
		n, err := ParseBytes(value)
		if err != nil || n == 0 {
			return bad("want a size like '64MB'")
		}
		if strings.EqualFold(key, "memory") {
			if n < 64<<10 {
				return bad("at least one 64kB page")
			}
			d.Limits.MemoryBytes = n
		} else {
			d.Limits.ResultBytes = n
		}
	case "clock", "random":
		var real bool
		switch strings.ToLower(value) {
		case "real":
			real = true
		case "deterministic":
		default:
			return bad("want 'real' or 'deterministic'")
		}
		if strings.EqualFold(key, "clock") {
			d.Clock = real
		} else {
			d.Random = real
		}
	case "keep_state":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return bad("want true or false")
		}
		d.KeepState = b
	default:
		return newError(KindOption, d.Name, "unknown option %q (want timeout, fuel, memory, result, clock, random or keep_state)", key)
	}
	return nil
}

// ParseBytes reads a size like '64MB', '512kB', '1GiB' or '1048576'.
func ParseBytes(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	}
	mult := map[string]float64{"": 1, "b": 1, "kb": 1 << 10, "kib": 1 << 10, "k": 1 << 10,
		"mb": 1 << 20, "mib": 1 << 20, "m": 1 << 20, "gb": 1 << 30, "gib": 1 << 30, "g": 1 << 30}[unit]
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || f < 0 || f*mult > 1<<40 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return uint64(f * mult), nil
}
