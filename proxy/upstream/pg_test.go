package upstream

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// The tests run against a real PostgreSQL 15 started once for the package: initdb into a
// temporary directory (as the postgres user when run as root), loopback only, stopped by
// TestMain. The role root logs in without a password; alice and bob need theirs
// (scram-sha-256), and the server has a self-signed certificate (ssl=on). internal/pgtest's
// server trusts everyone and has no TLS, which is what these tests need to be wrong about.

const pgBin = "/usr/lib/postgresql/15/bin"

var pgServer struct {
	once sync.Once
	dir  string
	data string
	port string
	err  error
}

func asPostgres(name string, args ...string) *exec.Cmd {
	if os.Geteuid() != 0 {
		return exec.Command(filepath.Join(pgBin, name), args...)
	}
	return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(pgBin, name)}, args...)...)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pgServer.data != "" {
		asPostgres("pg_ctl", "-D", pgServer.data, "-m", "immediate", "-w", "stop").Run()
		os.RemoveAll(pgServer.dir)
	}
	os.Exit(code)
}

// pgURL returns the URL of the test PostgreSQL for user (root or alice:secret) on database
// postgres, starting the server on first use.
func pgURL(t testing.TB, userinfo string) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		t.Skip("PostgreSQL 15 is needed for this test: apt-get install -y postgresql-15")
	}
	pgServer.once.Do(func() { pgServer.err = startPostgres() })
	if pgServer.err != nil {
		t.Fatal(pgServer.err)
	}
	return "postgres://" + userinfo + "@127.0.0.1:" + pgServer.port + "/postgres?sslmode=disable"
}

func pgAddr() string { return "127.0.0.1:" + pgServer.port }

func startPostgres() error {
	dir, err := os.MkdirTemp("", "wasql-upstream")
	if err != nil {
		return err
	}
	pgServer.dir = dir
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			return fmt.Errorf("chown: %v %s", err, out)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := asPostgres("initdb", "-D", data, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-U", "root", "-N").CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v %s", err, out)
	}
	hba := "local all all trust\nhost all root 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		exec.Command("chown", "postgres", filepath.Join(data, "pg_hba.conf")).Run()
	}
	// A self-signed certificate, so that sslmode=require to the upstream can be tested.
	if err := writeCert(data); err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	opts := "-c listen_addresses=127.0.0.1 -c port=" + port + " -c unix_socket_directories=" + dir +
		" -c fsync=off -c TimeZone=UTC -c max_connections=60 -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key"
	if out, err := asPostgres("pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "start").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl start: %v %s", err, out)
	}
	pgServer.data, pgServer.port = data, port
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgconn.Connect(ctx, "postgres://root@127.0.0.1:"+port+"/postgres?sslmode=disable")
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, "CREATE ROLE alice LOGIN PASSWORD 'secret'; CREATE ROLE bob LOGIN PASSWORD 'secret2'; GRANT ALL ON SCHEMA public TO alice").ReadAll()
	return err
}

// writeCert writes server.crt and server.key (self-signed, for 127.0.0.1) into the data directory.
func writeCert(data string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"server.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"server.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
	}
	for name, b := range files {
		path := filepath.Join(data, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return err
		}
		if os.Geteuid() == 0 {
			if out, err := exec.Command("chown", "postgres", path).CombinedOutput(); err != nil {
				return fmt.Errorf("chown: %v %s", err, out)
			}
		}
	}
	return nil
}
