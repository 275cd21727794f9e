package udf

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Limits bound one function's guest calls. A zero field takes the runtime's default.
type Limits struct {
	Timeout     time.Duration // wall time of one guest call (one batch)
	Fuel        uint64        // fuel per row; a batch of n rows gets n × Fuel
	MemoryBytes uint64        // linear memory of one instance
	ResultBytes uint64        // variable-width result bytes of one batch
}

// DefaultLimits are the limits of docs/abi.md §7.
var DefaultLimits = Limits{
	Timeout:     time.Second,
	Fuel:        100_000_000,
	MemoryBytes: 64 << 20,
	ResultBytes: 16 << 20,
}

func (l Limits) orDefaults(d Limits) Limits {
	if l.Timeout == 0 {
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

// Config is the runtime's configuration. It is immutable: each With method returns a copy.
type Config struct {
	cacheDir       string
	limits         Limits
	maxModuleBytes int
	batchRows      int
	batchBytes     int
	poolSize       int
	compiledBudget int64
	fuelSlice      uint64
	idleTimeout    time.Duration
}

// NewConfig returns the default configuration: no disk cache, DefaultLimits, 32 MiB modules,
// 1024-row batches of at most 4 MiB input, 2×GOMAXPROCS instances per function, 256 MiB of
// compiled code, instances closed after a minute idle.
func NewConfig() Config {
	return Config{
		limits:         DefaultLimits,
		maxModuleBytes: 32 << 20,
		batchRows:      1024,
		batchBytes:     4 << 20,
		poolSize:       2 * runtime.GOMAXPROCS(0),
		compiledBudget: 256 << 20,
		fuelSlice:      1 << 20,
		idleTimeout:    time.Minute,
	}
}

// WithCacheDir keeps compiled code in dir, so a restart does not compile again.
func (c Config) WithCacheDir(dir string) Config { c.cacheDir = dir; return c }

// WithLimits sets the default limits of functions; zero fields keep DefaultLimits.
func (c Config) WithLimits(l Limits) Config { c.limits = l.orDefaults(DefaultLimits); return c }

// WithMaxModuleBytes caps the size of a module.
func (c Config) WithMaxModuleBytes(n int) Config { c.maxModuleBytes = n; return c }

// WithBatch sets the most rows and input bytes passed to one guest call.
func (c Config) WithBatch(rows, bytes int) Config {
	c.batchRows, c.batchBytes = max(rows, 1), max(bytes, 1)
	return c
}

// WithPoolSize caps the instances of one function (busy and idle).
func (c Config) WithPoolSize(n int) Config { c.poolSize = max(n, 1); return c }

// WithCompiledBudget caps the estimated memory of compiled modules kept without instances.
func (c Config) WithCompiledBudget(bytes int64) Config { c.compiledBudget = bytes; return c }

// WithFuelSlice sets how much fuel a guest burns between checks of its deadline.
func (c Config) WithFuelSlice(n uint64) Config { c.fuelSlice = max(n, 1); return c }

// WithIdleTimeout sets how long an unused instance stays pooled.
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
