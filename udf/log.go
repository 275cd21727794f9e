package udf

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/wasql/wasql/internal/wiretext"
)

// Bounds of a Log: lines and bytes (of messages) reported per statement; what passes them is
// counted, and reported as one "FN: N more log lines dropped" message per function.
const (
	LogMaxLines = 100
	LogMaxBytes = 16 << 10
)

// Log collects the lines a statement's guests write to stdout and stderr (WASI fd_write on
// fd 1 and 2), for a wire to send as notices (Postgres NOTICE, MySQL Note). Each complete line,
// and a last unterminated one at the end of a guest call, becomes one message "FN: line", FN the
// function's SQL name and the line sanitized by wiretext.Clean and cut to wiretext.MaxGuest
// bytes. Past LogMaxLines lines or LogMaxBytes bytes in all, lines are dropped: the first drop of
// a function emits "FN: 1 more log lines dropped", and each later one amends that message's
// count (through the function emit returned, when it returned one).
//
// A Log is safe for concurrent use: a statement's batches may run in parallel on several
// instances. emit is called with the Log's lock held, in the order the lines were written.
type Log struct {
	mu      sync.Mutex
	emit    func(msg string) (amend func(msg string))
	lines   int
	bytes   int
	dropped map[string]*logDrop
}

type logDrop struct {
	n, shown int // dropped, and the count the last message said
	amend    func(string)
}

// NewLog returns a log that passes each message to emit. emit may return a function that
// replaces the text of the message it emitted (used for the dropped-lines count), or nil.
func NewLog(emit func(msg string) (amend func(msg string))) *Log {
	return &Log{emit: emit}
}

type logKey struct{}

// WithLog returns ctx carrying l: the guest output of the calls made with it goes to l. A
// Statement's own log (Statement.SetLog) takes precedence.
func WithLog(ctx context.Context, l *Log) context.Context {
	return context.WithValue(ctx, logKey{}, l)
}

func logFrom(ctx context.Context) *Log {
	if ctx == nil {
		return nil
	}
	l, _ := ctx.Value(logKey{}).(*Log)
	return l
}

// Dropped returns how many lines were dropped, by function.
func (l *Log) Dropped() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := map[string]int{}
	for fn, d := range l.dropped {
		m[fn] = d.n
	}
	return m
}

func (l *Log) line(fn string, b []byte) {
	msg := fn + ": " + wiretext.Clean(strings.TrimSuffix(string(b), "\r"), wiretext.MaxGuest)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lines < LogMaxLines && l.bytes+len(msg) <= LogMaxBytes {
		l.lines++
		l.bytes += len(msg)
		l.emit(msg)
		return
	}
	if l.dropped == nil {
		l.dropped = map[string]*logDrop{}
	}
	d := l.dropped[fn]
	if d == nil {
		d = &logDrop{}
		l.dropped[fn] = d
	}
	d.n++
	text := dropText(fn, d.n)
	switch {
	case d.n == 1:
		d.amend, d.shown = l.emit(text), 1
	case d.amend != nil:
		d.amend(text)
		d.shown = d.n
	}
}

func dropText(fn string, n int) string { return fmt.Sprintf("%s: %d more log lines dropped", fn, n) }

// Flush ends the log of a statement whose emit cannot amend a message (it returned nil): for
// each function whose dropped-lines message says fewer lines than were dropped, it emits the
// final count.
func (l *Log) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for fn, d := range l.dropped {
		if d.shown != d.n {
			l.emit(dropText(fn, d.n))
			d.shown = d.n
		}
	}
}

// guestOut is an instance's stdout and stderr: the first bytes of a call's output, for an
// error's detail, and its lines for the call's Log.
type guestOut struct {
	in      *instance
	detail  boundedBuffer
	partial []byte // the current unterminated line, at most wiretext.MaxGuest+4 bytes
}

func (w *guestOut) Write(p []byte) (int, error) {
	n := len(p)
	w.detail.Write(p)
	l := w.in.log()
	if l == nil {
		return n, nil
	}
	name := w.in.f.def.Name
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if room := wiretext.MaxGuest + 4 - len(w.partial); room > 0 {
			w.partial = append(w.partial, chunk[:min(len(chunk), room)]...)
		}
		if i < 0 {
			break
		}
		l.line(name, w.partial)
		w.partial = w.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

// end reports the call's last unterminated line.
func (w *guestOut) end() {
	if len(w.partial) > 0 {
		if l := w.in.log(); l != nil {
			l.line(w.in.f.def.Name, w.partial)
		}
		w.partial = w.partial[:0]
	}
}

func (w *guestOut) reset() {
	w.detail.reset()
	w.partial = w.partial[:0]
}

// log is the Log of the current call: its statement's, else its context's (looked up at the
// first write of the call only).
func (in *instance) log() *Log {
	if !in.st.logSet {
		in.st.logSet = true
		in.st.log = in.stmtLog
		if in.mute {
			in.st.log = nil
		} else if in.st.log == nil {
			in.st.log = logFrom(in.st.ctx)
		}
	}
	return in.st.log
}
