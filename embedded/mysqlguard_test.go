package embedded

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"

	"github.com/wasql/wasql/udf"
)

// myConn is a MySQL client written by hand, to send what real clients never do.
type myConn struct {
	net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *myConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &myConn{Conn: c, r: bufio.NewReader(c)}
}

func (c *myConn) read() (byte, []byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return 0, nil, err
	}
	p := make([]byte, int(h[0])|int(h[1])<<8|int(h[2])<<16)
	_, err := io.ReadFull(c.r, p)
	return h[3], p, err
}

func (c *myConn) write(t *testing.T, seq byte, p []byte) {
	t.Helper()
	h := []byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), seq}
	if _, err := c.Write(append(h, p...)); err != nil {
		t.Fatal(err)
	}
}

// greeting reads the server's handshake.
func (c *myConn) greeting(t *testing.T) {
	t.Helper()
	_, p, err := c.read()
	if err != nil || len(p) == 0 || p[0] != 10 {
		t.Fatalf("handshake: % x %v", p, err)
	}
}

// handshakeResponse is a HandshakeResponse41 for user with an empty password.
func handshakeResponse(user string) []byte {
	flags := uint32(mysql_protocol41 | mysql_secureConnection | mysql_pluginAuth)
	p := binary.LittleEndian.AppendUint32(nil, flags)
	p = binary.LittleEndian.AppendUint32(p, 1<<24)
	p = append(p, 33)
	p = append(p, make([]byte, 23)...)
	p = append(p, user...)
	p = append(p, 0, 0) // NUL, then an auth response of length 0
	p = append(p, "mysql_native_password"...)
	return append(p, 0)
}

const (
	mysql_protocol41       = 1 << 9
	mysql_secureConnection = 1 << 15
	mysql_pluginAuth       = 1 << 19
	mysql_lenencAuth       = 1 << 21
)

// login authenticates as root on an engine without users.
func (c *myConn) login(t *testing.T) {
	t.Helper()
	c.greeting(t)
	c.write(t, 1, handshakeResponse("root"))
	_, p, err := c.read()
	if err != nil || len(p) == 0 || p[0] != 0 {
		t.Fatalf("login: % x %v", p, err)
	}
}

// command sends a command and returns the first packet of the answer.
func (c *myConn) command(t *testing.T, p []byte) []byte {
	t.Helper()
	c.write(t, 0, p)
	_, r, err := c.read()
	if err != nil {
		t.Fatalf("command % x: %v", p[:min(len(p), 8)], err)
	}
	return r
}

// errNum returns the error number of an ERR packet, or -1.
func errNum(p []byte) int {
	if len(p) < 3 || p[0] != 0xff {
		return -1
	}
	return int(binary.LittleEndian.Uint16(p[1:3]))
}

// alive asserts the connection still answers COM_PING.
func (c *myConn) alive(t *testing.T, after string) {
	t.Helper()
	if p := c.command(t, []byte{0x0e}); len(p) == 0 || p[0] != 0 {
		t.Fatalf("after %s: COM_PING answered % x", after, p)
	}
}

// closed asserts the server closed the connection, within the test's deadline.
func (c *myConn) closed(t *testing.T, after string) {
	t.Helper()
	for {
		_, p, err := c.read()
		if err != nil {
			return
		}
		if p[0] != 0xff {
			t.Fatalf("after %s: the connection stays open and sends % x", after, p)
		}
	}
}

func stmtPkt(id uint32, cmd byte, rest ...byte) []byte {
	return append(binary.LittleEndian.AppendUint32([]byte{cmd}, id), rest...)
}

// TestGuardCommands: client packets that reach unchecked indexing in vitess (and used to panic
// there) are answered by the guard, and the connection goes on.
func TestGuardCommands(t *testing.T) {
	addr := serveMySQL(t, open(t))
	c := dialRaw(t, addr)
	c.login(t)
	for _, tc := range []struct {
		name string
		pkt  []byte
		want int
	}{
		{"empty command", []byte{}, erMalformedPacket},
		{"COM_STMT_RESET of an unknown statement", stmtPkt(7, 0x1a), erUnknownStmt},
		{"COM_STMT_RESET cut short", []byte{0x1a, 1}, erMalformedPacket},
		{"COM_STMT_EXECUTE of an unknown statement", stmtPkt(9, 0x17, 0, 1, 0, 0, 0), erUnknownStmt},
		{"COM_STMT_EXECUTE cut short", []byte{0x17, 1, 0}, erMalformedPacket},
		{"COM_STMT_FETCH of an unknown statement", stmtPkt(9, 0x1c, 1, 0, 0, 0), erUnknownStmt},
		{"COM_BINLOG_DUMP_GTID", []byte{0x1e, 0, 0, 0, 0, 0, 0}, erSpecifiedDenied},
		{"COM_REGISTER_SLAVE", []byte{0x15, 1, 0, 0, 0}, erSpecifiedDenied},
	} {
		if got := errNum(c.command(t, tc.pkt)); got != tc.want {
			t.Errorf("%s: error %d, want %d", tc.name, got, tc.want)
		}
		c.alive(t, tc.name)
	}
	// MySQL answers nothing to these; invalid ones are dropped.
	c.write(t, 0, stmtPkt(5, 0x18, 0, 0, 'x'))
	c.write(t, 0, []byte{0x19, 1})
	c.alive(t, "COM_STMT_SEND_LONG_DATA of an unknown statement")

	// A statement the server prepared: its id is known, its values are checked.
	ok := c.command(t, append([]byte{0x16}, "SELECT CONCAT(?, 'x')"...))
	if len(ok) < 9 || ok[0] != 0 {
		t.Fatalf("COM_STMT_PREPARE: % x", ok)
	}
	id := binary.LittleEndian.Uint32(ok[1:5])
	for _, n := range []uint16{binary.LittleEndian.Uint16(ok[7:9]), binary.LittleEndian.Uint16(ok[5:7])} {
		for range n {
			c.read() // parameter, then column definitions
		}
		if n > 0 {
			c.read() // EOF: the raw client does not ask for CLIENT_DEPRECATE_EOF
		}
	}
	huge := []byte{0, 1, 0, 0, 0, 0 /* null bitmap */, 1 /* types follow */, 0xfd, 0 /* VAR_STRING */, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if got := errNum(c.command(t, stmtPkt(id, 0x17, huge...))); got != erMalformedPacket {
		t.Errorf("a string parameter of 2^64-1 bytes: error %d, want %d", got, erMalformedPacket)
	}
	c.alive(t, "a string parameter of 2^64-1 bytes")
	good := []byte{0, 1, 0, 0, 0, 0, 1, 0xfd, 0, 2, 'o', 'k'}
	c.write(t, 0, stmtPkt(id, 0x17, good...))
	rows := c.drain(t)
	if !strings.Contains(rows, "okx") {
		t.Errorf("a valid execute returned %q", rows)
	}
	if p := c.command(t, stmtPkt(id, 0x1a)); len(p) == 0 || p[0] != 0 {
		t.Errorf("COM_STMT_RESET of a prepared statement: % x", p)
	}
	c.write(t, 0, stmtPkt(id, 0x19)) // close: the id is unknown afterwards
	if got := errNum(c.command(t, stmtPkt(id, 0x1a))); got != erUnknownStmt {
		t.Errorf("COM_STMT_RESET after COM_STMT_CLOSE: error %d", got)
	}
	c.alive(t, "the prepared statement's life")
}

// drain reads a result set to its end and returns its packets as text.
func (c *myConn) drain(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	eofs := 0
	for eofs < 2 {
		_, p, err := c.read()
		if err != nil {
			t.Fatal(err)
		}
		b.Write(p)
		if p[0] == 0xff || p[0] == 0 && eofs == 0 && b.Len() == len(p) {
			return b.String() // an error, or an OK without rows
		}
		if p[0] == 0xfe && len(p) < 9 {
			eofs++
		}
	}
	return b.String()
}

// TestGuardHandshake: handshake responses that vitess would read outside of, and oversized
// packets before authentication, end the connection with an error; the server goes on.
func TestGuardHandshake(t *testing.T) {
	addr := serveMySQL(t, open(t))
	lenencHuge := handshakeResponse("root")
	flags := binary.LittleEndian.Uint32(lenencHuge) | mysql_lenencAuth
	binary.LittleEndian.PutUint32(lenencHuge, flags)
	i := 32 + len("root") + 1
	lenencHuge = append(append(lenencHuge[:i:i], 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), lenencHuge[i+1:]...)
	for name, p := range map[string][]byte{
		"18 bytes":                 handshakeResponse("root")[:18],
		"no NUL after the user":    handshakeResponse("root")[:34],
		"auth response of 2^64-1":  lenencHuge,
		"auth length past the end": append(handshakeResponse("root")[:32+5], 200, 1, 2),
		"empty":                    {},
	} {
		c := dialRaw(t, addr)
		c.greeting(t)
		c.write(t, 1, p)
		_, r, err := c.read()
		if errNum(r) != erHandshake {
			t.Errorf("%s: answered % x (%v), want error %d", name, r, err, erHandshake)
		}
		c.closed(t, name)
	}
	c := dialRaw(t, addr)
	c.greeting(t)
	c.Write([]byte{0, 0, 1, 1}) // a 64 KiB packet announced before authentication
	if _, r, _ := c.read(); errNum(r) != erNetPacketTooBig {
		t.Errorf("a 64 KiB handshake packet: answered % x", r)
	}
	c.closed(t, "a 64 KiB handshake packet")
	ok := dialRaw(t, addr)
	ok.login(t)
	ok.alive(t, "the bad handshakes")
}

// TestGuardHandshakeDeadline: a client that trickles its handshake is cut off at the deadline
// of the whole handshake, not of each read; while too many clients authenticate, more are
// refused with 1040.
func TestGuardHandshakeDeadline(t *testing.T) {
	e, err := Open(context.Background(), Config{DataDir: t.TempDir(), UDF: udf.NewConfig(),
		MySQL: MySQLLimits{HandshakeTimeout: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	addr := serveMySQL(t, e)
	c := dialRaw(t, addr)
	c.greeting(t)
	start := time.Now()
	resp := append([]byte{byte(len(handshakeResponse("root"))), 0, 0, 1}, handshakeResponse("root")...)
	cut := false
	for _, b := range resp[:len(resp)-1] {
		if _, err := c.Write([]byte{b}); err != nil {
			cut = true
			break
		}
		time.Sleep(50 * time.Millisecond) // a byte at a time, each well within any per-read limit
		if time.Since(start) > 3*time.Second {
			break
		}
	}
	c.closed(t, "a trickled handshake")
	took := time.Since(start)
	t.Logf("trickled handshake cut after %v (deadline 300ms; write failed: %v)", took, cut)
	if took > 3*time.Second {
		t.Errorf("the trickled handshake lasted %v, deadline 300ms", took)
	}

}

// TestGuardUnauthenticated: while MaxUnauthenticated clients hold the handshake open, the next one
// waits in the backlog; it is greeted once their handshake deadline cuts them off.
func TestGuardUnauthenticated(t *testing.T) {
	e, err := Open(context.Background(), Config{DataDir: t.TempDir(), UDF: udf.NewConfig(),
		MySQL: MySQLLimits{HandshakeTimeout: 2 * time.Second, MaxUnauthenticated: 2}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	addr := serveMySQL(t, e)
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	a.greeting(t)
	b.greeting(t)
	third := dialRaw(t, addr)
	third.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, p, err := third.read(); err == nil {
		t.Fatalf("a third client was greeted while two held the handshake: % x", p)
	}
	third.SetReadDeadline(time.Now().Add(20 * time.Second))
	a.closed(t, "the deadline")
	b.closed(t, "the deadline")
	third.login(t)
	third.alive(t, "waiting for the handshake")
}

// TestGuardMaxConnections: connections beyond the maximum get 1040 in place of the handshake;
// the server keeps serving, and takes new ones once others close.
func TestGuardMaxConnections(t *testing.T) {
	e, err := Open(context.Background(), Config{DataDir: t.TempDir(), UDF: udf.NewConfig(), MySQL: MySQLLimits{MaxConnections: 3}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	addr := serveMySQL(t, e)
	var conns []*myConn
	for range 3 {
		c := dialRaw(t, addr)
		c.login(t)
		conns = append(conns, c)
	}
	db := mysqlDB(t, addr, "root", "", "")
	err = db.Ping()
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != erConCount || me.Message != "Too many connections" {
		t.Errorf("the fourth connection: %v, want 1040 Too many connections", err)
	}
	conns[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for db.Ping() != nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := db.Ping(); err != nil {
		t.Errorf("after a connection closed: %v", err)
	}
	conns[1].alive(t, "the refusals")
}

// fakeListener fails Accept with EMFILE a number of times before it accepts.
type fakeListener struct {
	net.Listener
	fails int
}

func (l *fakeListener) Accept() (net.Conn, error) {
	if l.fails > 0 {
		l.fails--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	return l.Listener.Accept()
}

// TestGuardAcceptRetries: accept errors (out of descriptors) are retried: Accept returns the next
// connection, not the error that would end vitess's accept loop and the server.
func TestGuardAcceptRetries(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	l := newGuardListener(&fakeListener{Listener: inner, fails: 4}, MySQLLimits{})
	go func() {
		if c, err := net.Dial("tcp", inner.Addr().String()); err == nil {
			defer c.Close()
			time.Sleep(2 * time.Second)
		}
	}()
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept after EMFILE: %v", err)
	}
	c.Close()
	if n := l.open.Load(); n != 0 {
		t.Errorf("open count %d after close", n)
	}
	inner.Close()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept on a closed listener: %v", err)
	}
}

// TestGuardAuth: with users, an unknown user, a wrong password and no password all get 1045,
// worded as MySQL words it, from go-sql-driver/mysql and from the mariadb client.
func TestGuardAuth(t *testing.T) {
	addr := serveMySQL(t, openWithUsers(t, map[string]string{"admin": "s3cret"}))
	host := "127.0.0.1"
	for _, tc := range []struct{ user, pass, using string }{
		{"nobody", "whatever", "YES"},
		{"admin", "wrong", "YES"},
		{"admin", "", "NO"},
		{"nobody", "", "NO"},
	} {
		err := mysqlDB(t, addr, tc.user, tc.pass, "").Ping()
		var me *mysql.MySQLError
		want := fmt.Sprintf("Access denied for user '%s'@'%s' (using password: %s)", tc.user, host, tc.using)
		if !errors.As(err, &me) || me.Number != erAccessDenied || me.Message != want || string(me.SQLState[:]) != "28000" {
			t.Errorf("go driver %s/%q: %v, want 1045 %s", tc.user, tc.pass, err, want)
		}
		if _, err := exec.LookPath("mariadb"); err != nil {
			t.Fatal("the mariadb client is needed")
		}
		h, port, _ := net.SplitHostPort(addr)
		args := []string{"-h", h, "-P", port, "-u", tc.user, "--skip-ssl", "-e", "SELECT 1"}
		if tc.pass != "" {
			args = append(args, "-p"+tc.pass)
		}
		out, _ := exec.Command("mariadb", args...).CombinedOutput()
		if !strings.Contains(string(out), "ERROR 1045 (28000): "+want) {
			t.Errorf("mariadb %s/%q: %s, want 1045 %s", tc.user, tc.pass, out, want)
		}
	}
	if err := mysqlDB(t, addr, "admin", "s3cret", "").Ping(); err != nil {
		t.Fatalf("the right password: %v", err)
	}
}

// TestGuardErrorText: an error message carrying client bytes (NUL, invalid UTF-8) reaches the
// client clean: valid UTF-8, no NUL, bounded.
func TestGuardErrorText(t *testing.T) {
	c := dialRaw(t, serveMySQL(t, open(t)))
	c.login(t)
	p := c.command(t, append([]byte{0x03}, "SELECT * FROM `t\x00\xff\xfe"+strings.Repeat("x", 5000)+"`"...))
	if errNum(p) < 0 {
		t.Fatalf("no error: % x", p)
	}
	msg := string(p[9:])
	if !utf8.ValidString(msg) || strings.ContainsRune(msg, 0) || len(msg) > maxErrorMessage {
		t.Errorf("error message not clean: %d bytes, valid %v: %q", len(msg), utf8.ValidString(msg), msg[:min(len(msg), 80)])
	}
	c.alive(t, "the error")
}

func TestCleanErr(t *testing.T) {
	pkt := errPacket(3, 1370, insufficientPrivilege, "x")
	pkt = append(pkt[:len(pkt)-1], "a\x00b\xff"...)
	n := len(pkt) - headerSize
	pkt[0], pkt[1], pkt[2] = byte(n), byte(n>>8), byte(n>>16)
	got := cleanErr(pkt)
	if got[3] != 3 || string(got[headerSize+4:headerSize+9]) != "42000" || string(got[headerSize+9:]) != "a\uFFFDb\uFFFD" {
		t.Fatalf("cleanErr: %q", got)
	}
	if n := int(got[0]) | int(got[1])<<8; n != len(got)-headerSize {
		t.Fatalf("length %d for %d bytes", n, len(got)-headerSize)
	}
}

// TestGuardLargePackets: packets of 2^24-1 bytes and more (split in several physical packets)
// pass the guard both ways, over the text and the binary protocol.
func TestGuardLargePackets(t *testing.T) {
	db := mysqlDB(t, serveMySQL(t, open(t)), "root", "", "")
	var s string
	if err := db.QueryRow("SELECT REPEAT('x', 20000000)").Scan(&s); err != nil || len(s) != 20000000 {
		t.Fatalf("a 20 MB result: %d bytes, %v", len(s), err)
	}
	big := strings.Repeat("y", 1<<24+10)
	if err := db.QueryRow("SELECT CONCAT(?, 'z')", big).Scan(&s); err != nil || len(s) != len(big)+1 || s[len(s)-1] != 'z' {
		t.Fatalf("a 16 MiB parameter: %d bytes, %v", len(s), err)
	}
	if err := db.QueryRow("SELECT LENGTH('" + big + "')").Scan(&s); err != nil || s != fmt.Sprint(len(big)) {
		t.Fatalf("a 16 MiB query: %s, %v", s, err)
	}
}

// FuzzGuardCommand: whatever command packet an authenticated client sends (but COM_QUIT), the
// connection survives it: the next query is answered. A panic in vitess or go-mysql-server
// (which their recover turns into a closed connection) fails the test. Statement 1 is prepared
// with two parameters, so the COM_STMT_* paths are reachable.
func FuzzGuardCommand(f *testing.F) {
	for _, seed := range [][]byte{
		{}, {0x0e}, stmtPkt(1, 0x1a), stmtPkt(7, 0x1a), {0x1a, 1},
		stmtPkt(1, 0x17, 0, 1, 0, 0, 0, 0, 1, 0xfd, 0, 0xfd, 0, 1, 'a', 1, 'b'),
		stmtPkt(1, 0x17, 0, 1, 0, 0, 0, 0, 1, 0xfd, 0, 0xfd, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
		stmtPkt(1, 0x17, 0, 1, 0, 0, 0, 0, 1, 0x0c, 0, 0x0b, 0, 11, 1, 2, 3),
		stmtPkt(1, 0x17, 1, 1, 0, 0, 0, 0, 1, 0x08, 0, 0x08, 0, 1, 2, 3, 4, 5, 6, 7, 8),
		stmtPkt(1, 0x18, 0, 0, 'x'), stmtPkt(1, 0x18, 9, 0, 'x'), stmtPkt(1, 0x1c, 1, 0, 0, 0), stmtPkt(1, 0x19),
		{0x04, 'f', 'i', 'l', 'e', 's', 0}, {0x04}, {0x1b, 0, 0}, {0x1b, 7, 0}, {0x1b},
		{0x02, 'w', 'a', 's', 'q', 'l'}, {0x1f}, {0x11, 'r', 'o', 'o', 't', 0},
		append([]byte{0x03}, "SELECT load_file(0x2f)"...), append([]byte{0x16}, "SELECT ?"...),
		{0x1e, 0, 0}, {0x15}, {0x12, 1, 2},
	} {
		f.Add(seed)
	}
	e, err := Open(context.Background(), Config{DataDir: f.TempDir(), UDF: udf.NewConfig()})
	if err != nil {
		f.Fatal(err)
	}
	defer e.Close(context.Background())
	s, err := e.ServeMySQL("127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	go s.Start()
	defer s.Close()
	addr := s.Listener.Addr().String()
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if len(pkt) > 0 && pkt[0] == 0x01 { // COM_QUIT
			return
		}
		c := dialRaw(t, addr)
		c.login(t)
		prep := c.command(t, append([]byte{0x16}, "SELECT CONCAT(?, ?)"...))
		if len(prep) < 9 || prep[0] != 0 || binary.LittleEndian.Uint32(prep[1:5]) != 1 {
			t.Fatalf("prepare: % x", prep)
		}
		c.write(t, 0, pkt)
		c.write(t, 0, append([]byte{0x03}, "SELECT 'sentinel-7f3a'"...))
		for {
			_, p, err := c.read()
			if err != nil {
				t.Fatalf("command % x closed the connection: %v", pkt[:min(len(pkt), 32)], err)
			}
			if strings.Contains(string(p), "sentinel-7f3a") {
				return
			}
		}
	})
}

// TestGuardGuestErrorText: a guest's error message (with a NUL, a byte that is not UTF-8 and an
// escape) reaches a MySQL client clean.
func TestGuardGuestErrorText(t *testing.T) {
	mod := module(t, "testdata/guest_error.wasm")
	addr := serveMySQL(t, open(t))
	db := mysqlDB(t, addr, "root", "", "interpolateParams=true")
	if _, err := db.Exec("CREATE FUNCTION bad(bigint) RETURNS bigint LANGUAGE wasm AS ?, 'bad'", mod); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, addr)
	c.login(t)
	p := c.command(t, append([]byte{0x03}, "SELECT bad(1)"...))
	for errNum(p) < 0 { // column definitions before the error
		var err error
		_, p, err = c.read()
		if err != nil {
			t.Fatal(err)
		}
	}
	msg := string(p[9:])
	if !strings.Contains(msg, "guest says") || !utf8.ValidString(msg) || strings.ContainsAny(msg, "\x00\x1b") {
		t.Errorf("guest error message on the wire: %q", msg)
	}
	c.alive(t, "the guest's error")
}
