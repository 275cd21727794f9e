package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// farListener accepts connections that say they come from 192.0.2.1 (TEST-NET-1): not
// loopback.
type farListener struct{ net.Listener }

func (l farListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return farConn{c}, nil
}

type farConn struct{ net.Conn }

func (farConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 40000} }

// selfSigned is a TLS config with a fresh self-signed certificate for 127.0.0.1.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wasql test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// passwordBackend is a backend that checks the password itself, as an upstream does: "s3cret"
// opens a session, anything else is the upstream's FATAL 28P01.
func passwordBackend(passwords chan<- string) *fakeBackend {
	b := newFakeBackend()
	b.open = func(ctx context.Context, c Client) (Session, error) {
		passwords <- c.Password
		if c.Password != "s3cret" {
			return nil, &pgconn.PgError{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "28P01",
				Message: fmt.Sprintf("password authentication failed for user %q", c.User)}
		}
		return ExecutorSession(&fakeExecutor{b: b, tx: 'I'}, c.Out), nil
	}
	return b
}

func login(t *testing.T, url string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgconn.Connect(ctx, url)
	if err == nil {
		c.Close(ctx)
	}
	return err
}

func code(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Severity + " " + pe.Code
	}
	return fmt.Sprint(err)
}

// TestPassThroughAuth: with PassThroughAuth the server asks for the password in clear and
// hands it to Open, whose error the client gets as it is (a wrong password: the backend's
// 28P01). It asks only over loopback or TLS: another connection is refused with 28000, before
// the client sends its password. Config.Users plays no part.
func TestPassThroughAuth(t *testing.T) {
	passwords := make(chan string, 16)
	v, err := NewVerifier("other")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{PassThroughAuth: true, Users: map[string]Verifier{"app": v}}
	_, addr := startServer(t, cfg, passwordBackend(passwords))
	if err := login(t, "postgres://app:s3cret@"+addr+"/wasql?sslmode=disable"); err != nil {
		t.Fatalf("the right password over loopback: %v", err)
	}
	if p := <-passwords; p != "s3cret" {
		t.Fatalf("Open got password %q", p)
	}
	if err := login(t, "postgres://app:nope@"+addr+"/wasql?sslmode=disable"); code(err) != "FATAL 28P01" {
		t.Fatalf("a wrong password: %v", err)
	}
	<-passwords

	// Not loopback: refused without TLS, served with it.
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLS = selfSigned(t)
	startServerOn(t, cfg, passwordBackend(passwords), farListener{inner})
	far := inner.Addr().String()
	if err := login(t, "postgres://app:s3cret@"+far+"/wasql?sslmode=disable"); code(err) != "FATAL 28000" {
		t.Fatalf("a password in clear from afar: %v", err)
	}
	select {
	case p := <-passwords:
		t.Fatalf("Open was called (password %q)", p)
	default:
	}
	if err := login(t, "postgres://app:s3cret@"+far+"/wasql?sslmode=require"); err != nil {
		t.Fatalf("over TLS: %v", err)
	}
	if p := <-passwords; p != "s3cret" {
		t.Fatalf("Open got password %q over TLS", p)
	}
	if err := login(t, "postgres://app:nope@"+far+"/wasql?sslmode=require"); code(err) != "FATAL 28P01" {
		t.Fatalf("a wrong password over TLS: %v", err)
	}
}

// TestSCRAMWrongPassword: without PassThroughAuth the server checks the password (SCRAM) and
// Open sees none.
func TestSCRAMWrongPassword(t *testing.T) {
	passwords := make(chan string, 16)
	v, err := NewVerifier("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	_, addr := startServer(t, Config{Users: map[string]Verifier{"app": v}}, passwordBackend(passwords))
	if err := login(t, "postgres://app:nope@"+addr+"/wasql?sslmode=disable"); code(err) != "FATAL 28P01" {
		t.Fatalf("a wrong password: %v", err)
	}
	if err := login(t, "postgres://app:s3cret@"+addr+"/wasql?sslmode=disable"); code(err) != "FATAL 28P01" {
		t.Fatalf("the backend got no password: %v", err)
	}
	if p := <-passwords; p != "" {
		t.Fatalf("Open got password %q without PassThroughAuth", p)
	}
}
