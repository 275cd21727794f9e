package embedded

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/sirupsen/logrus"

	"github.com/wasql/wasql/internal/wiretext"
)

// The MySQL wire is served by vitess's protocol code inside go-mysql-server, which trusts its
// client: it indexes client bytes unchecked (a short handshake response, a length-encoded
// integer near 2^64, COM_STMT_RESET of an unknown statement), its accept loop ends the server on
// the first accept error, and it bounds neither the handshake's time nor the packets before
// authentication. wasql does not patch vitess: it puts a guard between vitess and the network.
//
//   - guardListener wraps the net.Listener given to the server: accept errors (EMFILE) are
//     retried with backoff, connections beyond the maximum are refused with error 1040 in place
//     of the handshake, and no more than MaxUnauthenticated are in the handshake at once;
//   - guardConn wraps each connection: it reads the client's packets ahead of vitess and
//     passes on only those vitess handles safely (the rest get an error packet, or the
//     connection is closed), and it follows the server's packets to learn when authentication
//     succeeded, which statement ids COM_STMT_PREPARE returned, when the server asked for a
//     LOCAL INFILE (the client's file packets then pass as they are, to the empty one that ends
//     them), and to clean every error message (wiretext.Clean) before it reaches the client;
//   - uniformAuth wraps the auth server so that an unknown user and a wrong password get the
//     same answer.

// MySQLLimits bound the MySQL wire's connections. Zero fields take the defaults.
type MySQLLimits struct {
	MaxConnections     int           // open connections; more are refused with 1040 (default 151, MySQL's)
	MaxUnauthenticated int           // connections in the handshake at once; more wait to be accepted (default 64)
	HandshakeTimeout   time.Duration // the whole handshake, authentication included (default 10s)
	MaxPreAuthPacket   int           // bytes of a client packet before authentication (default 8 KiB)
	MaxPacket          int           // bytes of a client packet after (default 64 MiB, MySQL's max_allowed_packet)
}

// withDefaults returns l with zero fields set to their defaults.
func (l MySQLLimits) withDefaults() MySQLLimits {
	if l.MaxConnections <= 0 {
		l.MaxConnections = 151
	}
	if l.MaxUnauthenticated <= 0 {
		l.MaxUnauthenticated = 64
	}
	if l.HandshakeTimeout <= 0 {
		l.HandshakeTimeout = 10 * time.Second
	}
	if l.MaxPreAuthPacket <= 0 {
		l.MaxPreAuthPacket = 8 << 10
	}
	if l.MaxPacket <= 0 {
		l.MaxPacket = 64 << 20
	}
	return l
}

// MySQL error numbers the guard sends.
const (
	erConCount        = 1040 // ER_CON_COUNT_ERROR
	erHandshake       = 1043 // ER_HANDSHAKE_ERROR
	erAccessDenied    = 1045 // ER_ACCESS_DENIED_ERROR
	erNetPacketTooBig = 1153 // ER_NET_PACKET_TOO_LARGE
	erSpecifiedDenied = 1227 // ER_SPECIFIC_ACCESS_DENIED_ERROR
	erUnknownStmt     = 1243 // ER_UNKNOWN_STMT_HANDLER
	erMalformedPacket = 1835 // ER_MALFORMED_PACKET
	maxErrorMessage   = 2 * wiretext.MaxGuest
	maxPhysicalPacket = 1<<24 - 1 // a payload of this length continues in the next packet
	headerSize        = 4
	holdLimit         = 64 << 10 // server packets up to this size are inspected whole
)

// errGuardClosed ends a connection the guard refused; vitess sees it as a read error.
var errGuardClosed = errors.New("connection closed by the MySQL wire guard")

// guardListener is the listener vitess accepts from.
type guardListener struct {
	net.Listener
	lim       MySQLLimits
	open      atomic.Int64  // accepted, not closed
	accepted  atomic.Int64  // accepted, refused ones included
	refused   atomic.Int64  // refused with 1040
	warned    atomic.Int64  // unix nanoseconds of the last refusal logged
	handshake chan struct{} // a token per connection in the handshake
	done      chan struct{} // closed by Close
	closeOnce sync.Once
}

func newGuardListener(l net.Listener, lim MySQLLimits) *guardListener {
	lim = lim.withDefaults()
	return &guardListener{Listener: l, lim: lim, handshake: make(chan struct{}, lim.MaxUnauthenticated), done: make(chan struct{})}
}

// Close implements the interface net.Listener.
func (l *guardListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// Accept implements the interface net.Listener. While MaxUnauthenticated connections are in
// the handshake it accepts no more: clients wait in the kernel's backlog, and a slow one holds its
// place only until its handshake deadline. It returns an error only once the listener is closed:
// vitess's accept loop ends at the first error, and with it the server.
func (l *guardListener) Accept() (net.Conn, error) {
	select {
	case l.handshake <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.accept()
	if err != nil {
		<-l.handshake
	}
	return c, err
}

func (l *guardListener) accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			select {
			case <-l.done:
				return nil, net.ErrClosed
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			// Out of descriptors (EMFILE, ENFILE), a connection reset before accept: the
			// listener still works. Back off as net/http does, and go on.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			logrus.Errorf("mysql wire: accept: %v; retrying in %v", err, delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		l.accepted.Add(1)
		if l.open.Load() >= int64(l.lim.MaxConnections) {
			l.refusedOne()
			go refuse(c, erConCount, "08004", "Too many connections")
			continue
		}
		l.open.Add(1)
		return newGuardConn(c, l), nil
	}
}

// refuse sends an error packet in place of the handshake and closes c.
func refuse(c net.Conn, num uint16, state, msg string) {
	c.SetWriteDeadline(time.Now().Add(time.Second))
	c.Write(errPacket(0, num, state, msg))
	c.Close()
}

// errPacket is a complete ERR packet with sequence number seq.
func errPacket(seq byte, num uint16, state, msg string) []byte {
	msg = wiretext.Clean(msg, maxErrorMessage)
	p := make([]byte, headerSize, headerSize+9+len(msg))
	p = append(p, 0xff, byte(num), byte(num>>8), '#')
	p = append(p, state...)
	p = append(p, msg...)
	n := len(p) - headerSize
	p[0], p[1], p[2], p[3] = byte(n), byte(n>>8), byte(n>>16), seq
	return p
}

// stmt is what the guard knows of a prepared statement of its connection.
type stmt struct {
	params   int
	types    []querypb.Type // as last bound by COM_STMT_EXECUTE; nil before
	longData map[int]bool   // parameters sent by COM_STMT_SEND_LONG_DATA since the last execute
}

// guardConn is one client connection, as vitess sees it.
type guardConn struct {
	net.Conn
	l *guardListener
	r *bufio.Reader

	// Read side: only vitess's connection goroutine reads.
	pending   []byte // validated client bytes vitess has not read yet
	rerr      error
	closeOnce sync.Once

	mu       sync.Mutex // guards what both directions share, and the write side
	greeted  bool       // the handshake response was seen
	authed   bool
	counted  atomic.Bool // holds a token of l.handshake
	stmts    map[uint32]*stmt
	awaiting bool // a COM_STMT_PREPARE was passed on; its answer is the next server packet
	// answer: a COM_QUERY was passed on, and the next server packet begins the answer to its
	// first statement, which may be a LOCAL INFILE request (0xfb, like a NULL in a row); the
	// handler refuses LOAD DATA LOCAL in the statements after the first.
	answer bool
	infile bool // the server asked for a LOCAL INFILE: the client's packets are the file's, to an empty one

	// Write side: the parse of the server's packets.
	mode outMode
	hdr  [headerSize]byte
	hdrN int
	left int    // payload bytes of the current packet still to come
	hold []byte // a packet kept whole until complete, header included
	full bool   // the last packet was maximal: the next continues it
	out  []byte
}

// NetConn returns the client's connection under the guard (as tls.Conn does), so that a
// statement can watch for its client going away (watchClient).
func (c *guardConn) NetConn() net.Conn { return c.Conn }

// outMode is where the parse of the server's bytes stands.
type outMode int

const (
	outHeader outMode = iota // in a packet header
	outDecide                // before the first payload byte
	outHold                  // in a packet read whole
	outStream                // in a packet passed on as it comes
)

func newGuardConn(c net.Conn, l *guardListener) *guardConn {
	g := &guardConn{Conn: c, l: l, r: bufio.NewReaderSize(c, 16<<10), stmts: map[uint32]*stmt{}}
	g.counted.Store(true)
	c.SetDeadline(time.Now().Add(l.lim.HandshakeTimeout)) // the whole handshake, not each read
	return g
}

// Close implements the interface net.Conn.
func (g *guardConn) Close() error {
	err := g.Conn.Close()
	g.closeOnce.Do(func() {
		g.l.open.Add(-1)
		if g.counted.CompareAndSwap(true, false) {
			<-g.l.handshake
		}
	})
	return err
}

// Read implements the interface net.Conn: the client's bytes, a validated packet at a time.
func (g *guardConn) Read(p []byte) (int, error) {
	for len(g.pending) == 0 {
		if g.rerr != nil {
			return 0, g.rerr
		}
		g.rerr = g.next()
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	return n, nil
}

// next reads one logical client packet (a payload of 2^24-1 bytes continues in the next
// physical one) and passes it on, answers it itself, or ends the connection with an error.
func (g *guardConn) next() error {
	g.mu.Lock()
	authed := g.authed
	g.mu.Unlock()
	limit := g.l.lim.MaxPacket
	if !authed {
		limit = g.l.lim.MaxPreAuthPacket
	}
	var raw, payload []byte
	var seq byte
	for {
		var h [headerSize]byte
		if _, err := io.ReadFull(g.r, h[:]); err != nil {
			return err
		}
		n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
		seq = h[3]
		if len(payload)+n > limit {
			where := "before authentication"
			if authed {
				where = "(max_allowed_packet)"
			}
			g.reply(seq+1, erNetPacketTooBig, "08S01", fmt.Sprintf("Got a packet bigger than the %d bytes allowed %s", limit, where))
			return errGuardClosed
		}
		start := len(raw)
		raw = append(raw, h[:]...)
		raw = append(raw, make([]byte, n)...)
		if _, err := io.ReadFull(g.r, raw[start+headerSize:]); err != nil {
			return err
		}
		if start == 0 && n < maxPhysicalPacket {
			payload = raw[headerSize:] // one physical packet: no copy
			break
		}
		payload = append(payload, raw[start+headerSize:]...)
		if n < maxPhysicalPacket {
			break
		}
	}
	g.mu.Lock()
	first := !g.greeted
	g.greeted = true
	g.mu.Unlock()
	if first {
		if !validHandshakeResponse(payload) {
			g.reply(seq+1, erHandshake, "08S01", "Bad handshake")
			return errGuardClosed
		}
	} else if authed {
		g.mu.Lock()
		infile := g.infile
		g.infile = infile && len(payload) > 0 // an empty packet ends the file
		g.mu.Unlock()
		if pass := infile || g.command(seq+1, payload); !pass {
			return nil
		}
	}
	g.pending = raw
	return nil
}

// reply writes an error packet of the guard's own to the client.
func (g *guardConn) reply(seq byte, num uint16, state, msg string) {
	g.Conn.Write(errPacket(seq, num, state, msg))
}

// command checks a command packet against what vitess indexes unchecked. It returns false when
// the guard answered (with sequence number seq) or, as MySQL does for a few commands, ignored
// the packet itself.
func (g *guardConn) command(seq byte, p []byte) bool {
	if len(p) == 0 {
		g.reply(seq, erMalformedPacket, "08S01", "Malformed communication packet: empty command")
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	id := func() (uint32, *stmt) {
		id := binary.LittleEndian.Uint32(p[1:5])
		return id, g.stmts[id]
	}
	switch p[0] {
	case mysql.ComQuery:
		g.answer = true
	case mysql.ComPrepare:
		g.awaiting = true
	case mysql.ComStmtExecute:
		if len(p) < 10 {
			g.reply(seq, erMalformedPacket, "HY000", "Malformed communication packet: COM_STMT_EXECUTE is too short")
			return false
		}
		n, st := id()
		if st == nil {
			g.reply(seq, erUnknownStmt, "HY000", fmt.Sprintf("Unknown prepared statement handler (%d) given to mysqld_stmt_execute", n))
			return false
		}
		if err := st.checkExecute(p); err != nil {
			g.reply(seq, erMalformedPacket, "HY000", "Malformed communication packet: COM_STMT_EXECUTE: "+err.Error())
			return false
		}
	case mysql.ComStmtSendLongData:
		// MySQL answers nothing to this command: an invalid one is dropped.
		if len(p) < 7 {
			return false
		}
		_, st := id()
		param := int(binary.LittleEndian.Uint16(p[5:7]))
		if st == nil || param >= st.params {
			return false
		}
		st.longData[param] = true
	case mysql.ComStmtClose:
		if len(p) < 5 {
			return false
		}
		n, _ := id()
		delete(g.stmts, n)
	case mysql.ComStmtReset:
		if len(p) != 5 {
			g.reply(seq, erMalformedPacket, "HY000", "Malformed communication packet: COM_STMT_RESET")
			return false
		}
		n, st := id()
		if st == nil {
			g.reply(seq, erUnknownStmt, "HY000", fmt.Sprintf("Unknown prepared statement handler (%d) given to mysqld_stmt_reset", n))
			return false
		}
		clear(st.longData)
	case mysql.ComStmtFetch:
		if len(p) < 9 {
			g.reply(seq, erMalformedPacket, "HY000", "Malformed communication packet: COM_STMT_FETCH")
			return false
		}
		if n, st := id(); st == nil {
			g.reply(seq, erUnknownStmt, "HY000", fmt.Sprintf("Unknown prepared statement handler (%d) given to mysqld_stmt_fetch", n))
			return false
		}
	case mysql.ComFieldList:
		if bytes.IndexByte(p[1:], 0) < 0 { // vitess would end the connection
			g.reply(seq, erMalformedPacket, "HY000", "Malformed communication packet: COM_FIELD_LIST without a table name")
			return false
		}
	case mysql.ComResetConnection:
		clear(g.stmts) // vitess forgets its prepared statements too
	case mysql.ComBinlogDump, mysql.ComBinlogDumpGTID, mysql.ComRegisterReplica:
		g.reply(seq, erSpecifiedDenied, "42000", "Access denied: wasql is not a replication source")
		return false
	}
	return true
}

// checkExecute validates a COM_STMT_EXECUTE as vitess's parseComStmtExecute will read it, and
// records the parameter types it binds. Every value must lie within the packet.
func (st *stmt) checkExecute(p []byte) error {
	if iter := binary.LittleEndian.Uint32(p[6:10]); iter != 1 {
		return fmt.Errorf("iteration count %d, not 1", iter)
	}
	if st.params == 0 {
		return nil
	}
	pos := 10
	nb := (st.params + 7) / 8
	if pos+nb > len(p) {
		return errors.New("no NULL bitmap")
	}
	nulls := p[pos : pos+nb]
	pos += nb
	types := st.types
	if pos < len(p) && p[pos] == 1 {
		pos++
		if pos+2*st.params > len(p) {
			return errors.New("parameter types cut short")
		}
		types = make([]querypb.Type, st.params)
		for i := range types {
			t, err := sqltypes.MySQLToType(int64(p[pos]), int64(p[pos+1])>>2)
			if err != nil {
				return fmt.Errorf("parameter %d: %w", i+1, err)
			}
			types[i] = t
			pos += 2
		}
	} else if pos < len(p) {
		pos++
	}
	for i := 0; i < st.params && types != nil; i++ {
		if nulls[i/8]&(1<<uint(i%8)) != 0 || st.longData[i] {
			continue
		}
		n, err := valueSize(types[i], p, pos)
		if err != nil {
			return fmt.Errorf("parameter %d: %w", i+1, err)
		}
		pos += n
	}
	st.types = types
	clear(st.longData) // vitess forgets the long data of a statement it executed
	return nil
}

// valueSize is the size of the binary-protocol value of type t at p[pos:], as vitess's
// parseStmtArgs reads it; an error if it does not lie within p.
func valueSize(t querypb.Type, p []byte, pos int) (int, error) {
	rest := len(p) - pos
	fixed := func(n int) (int, error) {
		if n > rest {
			return 0, fmt.Errorf("value needs %d bytes, %d left", n, rest)
		}
		return n, nil
	}
	switch t {
	case sqltypes.Null:
		return 0, nil
	case sqltypes.Int8, sqltypes.Uint8:
		return fixed(1)
	case sqltypes.Uint16, sqltypes.Int16, sqltypes.Year:
		return fixed(2)
	case sqltypes.Uint24, sqltypes.Uint32, sqltypes.Int24, sqltypes.Int32, sqltypes.Float32:
		return fixed(4)
	case sqltypes.Uint64, sqltypes.Int64, sqltypes.Float64:
		return fixed(8)
	case sqltypes.Timestamp, sqltypes.Date, sqltypes.Datetime, sqltypes.Time:
		if rest < 1 {
			return 0, errors.New("no length of a temporal value")
		}
		size := int(p[pos])
		valid := size == 0 || size == 4 || size == 7 || size == 11 // a date, a datetime
		if t == sqltypes.Time {
			valid = size == 0 || size == 8 || size == 12
		}
		if !valid {
			return 0, fmt.Errorf("temporal value of %d bytes", size)
		}
		return fixed(1 + size)
	case sqltypes.Decimal, sqltypes.Text, sqltypes.Blob, sqltypes.VarChar, sqltypes.Char, sqltypes.VarBinary,
		sqltypes.Bit, sqltypes.Enum, sqltypes.Set, sqltypes.Geometry, sqltypes.Binary, sqltypes.TypeJSON:
		n, size, ok := lenEnc(p[pos:])
		if !ok || n > uint64(rest-size) {
			return 0, errors.New("string value longer than the packet")
		}
		return size + int(n), nil
	}
	return 0, fmt.Errorf("unsupported parameter type %v", t)
}

// lenEnc decodes a length-encoded integer: its value and its own size.
func lenEnc(p []byte) (v uint64, size int, ok bool) {
	if len(p) == 0 {
		return 0, 0, false
	}
	switch p[0] {
	case 0xfc:
		size = 3
	case 0xfd:
		size = 4
	case 0xfe:
		size = 9
	case 0xfb, 0xff:
		return 0, 0, false
	default:
		return uint64(p[0]), 1, true
	}
	if len(p) < size {
		return 0, 0, false
	}
	for i := size - 1; i >= 1; i-- {
		v = v<<8 | uint64(p[i])
	}
	return v, size, true
}

// validHandshakeResponse reports whether p is a HandshakeResponse41 vitess parses without
// reading outside it: the 32-byte fixed part, a NUL-terminated user, an auth response within the
// packet, and the NUL-terminated database and plugin names its flags announce.
func validHandshakeResponse(p []byte) bool {
	if len(p) < 32 {
		return false
	}
	flags := binary.LittleEndian.Uint32(p)
	if flags&mysql.CapabilityClientProtocol41 == 0 {
		return false
	}
	pos := 32
	cstring := func() bool {
		i := bytes.IndexByte(p[pos:], 0)
		if i < 0 {
			return false
		}
		pos += i + 1
		return true
	}
	if !cstring() { // user
		return false
	}
	switch {
	case flags&mysql.CapabilityClientPluginAuthLenencClientData != 0:
		n, size, ok := lenEnc(p[pos:])
		if !ok || n > uint64(len(p)-pos-size) {
			return false
		}
		pos += size + int(n)
	case flags&mysql.CapabilityClientSecureConnection != 0:
		if pos >= len(p) || pos+1+int(p[pos]) > len(p) {
			return false
		}
		pos += 1 + int(p[pos])
	default:
		if !cstring() {
			return false
		}
	}
	if flags&mysql.CapabilityClientConnectWithDB != 0 && !cstring() {
		return false
	}
	if flags&mysql.CapabilityClientPluginAuth != 0 && !cstring() {
		return false
	}
	return true
}

// Write implements the interface net.Conn: the server's bytes, followed packet by packet. Error
// packets are cleaned; the answers to authentication and to COM_STMT_PREPARE are noted. It
// reports all of b written once it is written or kept for the rest of its packet.
func (g *guardConn) Write(b []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.out = g.out[:0]
	total := len(b)
	for len(b) > 0 {
		switch g.mode {
		case outHeader:
			k := copy(g.hdr[g.hdrN:], b)
			g.hdrN += k
			b = b[k:]
			if g.hdrN < headerSize {
				continue
			}
			g.hdrN = 0
			g.left = int(g.hdr[0]) | int(g.hdr[1])<<8 | int(g.hdr[2])<<16
			cont := g.full
			g.full = g.left == maxPhysicalPacket
			switch {
			case g.left == 0:
				g.out = append(g.out, g.hdr[:]...)
			case cont: // the rest of a maximal packet: data, whatever its first byte
				g.out = append(g.out, g.hdr[:]...)
				g.mode = outStream
			default:
				g.mode = outDecide
			}
		case outDecide: // the first byte says whether to read the packet whole
			if b[0] == 0xff || g.left <= holdLimit {
				g.hold = append(g.hold[:0], g.hdr[:]...)
				g.mode = outHold
			} else {
				g.out = append(g.out, g.hdr[:]...)
				g.mode = outStream
			}
		case outHold:
			k := min(g.left, len(b))
			g.hold = append(g.hold, b[:k]...)
			g.left -= k
			b = b[k:]
			if g.left == 0 {
				g.out = append(g.out, g.inspect(g.hold)...)
				g.mode = outHeader
			}
		case outStream:
			k := min(g.left, len(b))
			g.out = append(g.out, b[:k]...)
			g.left -= k
			b = b[k:]
			if g.left == 0 {
				g.mode = outHeader
			}
		}
	}
	if len(g.out) > 0 {
		if _, err := g.Conn.Write(g.out); err != nil {
			return 0, err
		}
	}
	if cap(g.out) > holdLimit*4 {
		g.out = nil // do not keep a large result's buffer for the life of the connection
	}
	return total, nil
}

// inspect looks at one complete server packet (header included; nil for an empty one) and
// returns the bytes to send for it.
func (g *guardConn) inspect(pkt []byte) []byte {
	if len(pkt) <= headerSize {
		return pkt
	}
	p := pkt[headerSize:]
	answer := g.answer
	g.answer = false
	if answer && p[0] == 0xfb {
		g.infile = true
	}
	switch {
	case p[0] == 0xff:
		g.awaiting = false
		return cleanErr(pkt)
	case !g.authed && p[0] == 0x00 && g.greeted:
		// The OK that ends authentication: the handshake deadline and count end with it.
		g.authed = true
		g.Conn.SetDeadline(time.Time{})
		if g.counted.CompareAndSwap(true, false) {
			<-g.l.handshake
		}
	case g.awaiting && p[0] == 0x00 && len(p) >= 9:
		g.awaiting = false
		id := binary.LittleEndian.Uint32(p[1:5])
		g.stmts[id] = &stmt{params: int(binary.LittleEndian.Uint16(p[7:9])), longData: map[int]bool{}}
	}
	return pkt
}

// cleanErr returns the ERR packet pkt with its message cleaned and bounded, and the SQLSTATE of
// a refused operation (42501) given as MySQL's (42000).
func cleanErr(pkt []byte) []byte {
	p := pkt[headerSize:]
	if len(p) < 3 {
		return pkt
	}
	num := binary.LittleEndian.Uint16(p[1:3])
	state, msg := "HY000", string(p[3:])
	if len(p) >= 9 && p[3] == '#' {
		state, msg = string(p[4:9]), string(p[9:])
	}
	if state == insufficientPrivilege {
		state = "42000"
	}
	out := errPacket(pkt[3], num, state, msg)
	if bytes.Equal(out, pkt) {
		return pkt
	}
	return out
}

// uniformAuth is the auth server vitess asks: an unknown user is taken through
// mysql_native_password like a known one, and every failure is the same 1045.
type uniformAuth struct{ mysql.AuthServer }

// AuthMethods implements the interface mysql.AuthServer.
func (a uniformAuth) AuthMethods() []mysql.AuthMethod {
	inner := a.AuthServer.AuthMethods()
	out := make([]mysql.AuthMethod, len(inner))
	for i, m := range inner {
		out[i] = uniformMethod{AuthMethod: m, all: inner}
	}
	return out
}

type uniformMethod struct {
	mysql.AuthMethod
	all []mysql.AuthMethod
}

// HandleUser implements the interface mysql.AuthMethod: mysql_native_password also takes the
// users no method knows, so that they are refused as a wrong password is.
func (m uniformMethod) HandleUser(c *mysql.Conn, user string) bool {
	if m.AuthMethod.HandleUser(c, user) {
		return true
	}
	if m.Name() != mysql.MysqlNativePassword {
		return false
	}
	for _, o := range m.all {
		if o.HandleUser(c, user) {
			return false
		}
	}
	return true
}

// HandleAuthPluginData implements the interface mysql.AuthMethod: any failure is MySQL's
// access denied, worded as MySQL words it.
func (m uniformMethod) HandleAuthPluginData(c *mysql.Conn, user string, serverData, clientData []byte, addr net.Addr) (mysql.Getter, error) {
	g, err := m.AuthMethod.HandleAuthPluginData(c, user, serverData, clientData, addr)
	if err == nil {
		return g, nil
	}
	host := addr.String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	using := "NO"
	if len(clientData) > 0 && !(len(clientData) == 1 && clientData[0] == 0) {
		using = "YES"
	}
	return nil, mysql.NewSQLError(erAccessDenied, "28000", "Access denied for user '%s'@'%s' (using password: %s)", user, host, using)
}

// guardedListener is the server's protocol listener factory: vitess's, with the uniform auth
// server.
func guardedListener(cfg server.Config, lc mysql.ListenerConfig, sel server.ServerEventListener) (server.ProtocolListener, error) {
	lc.AuthServer = uniformAuth{lc.AuthServer}
	return server.MySQLProtocolListenerFactory(cfg, lc, sel)
}
