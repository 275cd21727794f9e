package udf

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/experimental"
)

// DefaultMemoryBudget is the server-wide memory budget of a Config that sets none: half of the
// memory this process may use (the cgroup limit when there is one, else physical memory), or
// 2GB when neither can be read.
func DefaultMemoryBudget() int64 {
	limit := int64(0)
	for _, v := range []int64{cgroupLimit(), memTotal()} {
		if v > 0 && (limit == 0 || v < limit) {
			limit = v
		}
	}
	if limit == 0 {
		return 2 << 30
	}
	return limit / 2
}

func cgroupLimit() int64 {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err == nil && n > 0 && n < 1<<50 { // "max" or a huge v1 value: no limit
			return n
		}
	}
	return 0
}

func memTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// budget is the server-wide memory budget: linear memories, reset snapshots and compiled code
// are charged before they are allocated and given back when they are freed.
type budget struct {
	mu     sync.Mutex
	limit  int64
	used   int64
	warned atomic.Int64 // unix nanoseconds of the last refusal logged
}

// refused logs that the budget refused n bytes for what (of function fn, when known), once
// every 10 s at most: a full budget refuses every batch that needs more.
func (b *budget) refused(fn, what string, n int64) {
	now := time.Now().UnixNano()
	last := b.warned.Load()
	if now-last < int64(10*time.Second) || !b.warned.CompareAndSwap(last, now) {
		return
	}
	slog.Warn("wasm memory budget spent: refused", "function", fn, "for", what, "bytes", n, "in_use", b.inUse(), "budget", b.limit)
}

// take charges n bytes, reporting false (and charging nothing) when they do not fit.
func (b *budget) take(n int64) bool {
	if n <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

// give returns n bytes.
func (b *budget) give(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// charge takes n bytes of the budget for what, closing idle instances and evicting unused
// compiled code to make room. When they still do not fit it fails with 53200.
func (rt *Runtime) charge(fn string, n int64, what string) error {
	if rt.budget.take(n) {
		return nil
	}
	for rt.evictIdle() {
		if rt.budget.take(n) {
			return nil
		}
	}
	rt.budget.refused(fn, what, n)
	limit := rt.budget.limit
	return &Error{Kind: KindMemory, Function: fn, Row: -1,
		Message: fmt.Sprintf("out of memory: the server's memory budget of %s is spent (%s in use), %s needs %s more",
			formatBytes(uint64(limit)), formatBytes(uint64(rt.budget.inUse())), what, formatBytes(uint64(n))),
		Hint: fmt.Sprintf("the server-wide memory budget (%s) counts every instance's memory, its reset snapshot and compiled code; raise it with udf.Config.WithMemoryBudget, lower the functions' memory limits or their pool size, or retry when fewer queries run", formatBytes(uint64(limit)))}
}

// evictIdle closes the instance that has been idle longest, across all functions, or else the
// least recently used compiled module no instance uses. It reports false when there was none.
func (rt *Runtime) evictIdle() bool {
	fns := rt.functionList()
	var oldest *pool
	for _, f := range fns {
		if t, ok := f.pool.oldestIdle(); ok {
			if oldest == nil {
				oldest = &f.pool
			} else if o, _ := oldest.oldestIdle(); t.Before(o) {
				oldest = &f.pool
			}
		}
	}
	if oldest != nil && oldest.closeOldest() {
		return true
	}
	return rt.evictCompiled()
}

// linearMemory backs one instance's linear memory, charging the budget as it grows. The
// instance's initial pages are charged before it is instantiated (wazero allocates them at once
// and cannot be refused them); growth is charged here and a refusal makes memory.grow return -1,
// which the guest sees as out of memory (53200). On Linux the memory is an anonymous mapping of
// its maximum size, so it never moves, costs only the pages written, and is returned to the
// system when the instance closes.
type linearMemory struct {
	rt      *Runtime
	buf     []byte
	mapped  []byte // the whole mapping, when mapped
	charged int64  // bytes of budget this memory holds
	max     uint64
	refused bool // a grow failed because the budget was spent
}

// allocator returns wazero's memory hook for an instance whose initial pages are already
// charged (prepaid bytes).
func (rt *Runtime) allocator(mem **linearMemory, prepaid int64) experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(capacity, maxBytes uint64) experimental.LinearMemory {
		m := &linearMemory{rt: rt, charged: prepaid, max: maxBytes}
		if b, ok := mapMemory(maxBytes); ok {
			m.mapped = b
		}
		*mem = m
		return m
	})
}

// Reallocate implements experimental.LinearMemory.
func (m *linearMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if more := int64(size) - m.charged; more > 0 {
		if !m.rt.budget.take(more) {
			m.rt.budget.refused("", "memory.grow", more)
			m.refused = true
			return nil
		}
		m.charged += more
	}
	switch {
	case m.mapped != nil:
		m.buf = m.mapped[:size:size]
	case size <= uint64(cap(m.buf)):
		m.buf = m.buf[:size]
	default:
		nb := make([]byte, size)
		copy(nb, m.buf)
		m.buf = nb
	}
	return m.buf
}

// Free implements experimental.LinearMemory.
func (m *linearMemory) Free() {
	if m.mapped != nil {
		unmapMemory(m.mapped)
		m.mapped = nil
	}
	m.buf = nil
	m.rt.budget.give(m.charged)
	m.charged = 0
}
