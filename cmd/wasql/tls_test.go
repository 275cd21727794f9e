package main

import (
	"crypto/tls"
	"net"
	"testing"
)

// TestPGTLS: no files, no TLS; self-signed makes a certificate a TLS client (not verifying, as
// sslmode=require) completes a handshake with; a key without a certificate, a certificate
// without a key and files that do not exist are errors.
func TestPGTLS(t *testing.T) {
	if c, err := pgTLS("", ""); c != nil || err != nil {
		t.Fatalf("no files: %v %v", c, err)
	}
	c, err := pgTLS(selfSigned, "")
	if err != nil || c == nil || len(c.Certificates) != 1 {
		t.Fatalf("self-signed: %v %v", c, err)
	}
	server, client := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- tls.Server(server, c).Handshake() }()
	cc := tls.Client(client, &tls.Config{InsecureSkipVerify: true})
	if err := cc.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	if cn := cc.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "wasql" {
		t.Errorf("certificate for %q, want wasql", cn)
	}
	cc.Close()
	for _, files := range [][2]string{{"", "key.pem"}, {"cert.pem", ""}, {selfSigned, "key.pem"}, {"/nonexistent/cert.pem", "/nonexistent/key.pem"}} {
		if _, err := pgTLS(files[0], files[1]); err == nil {
			t.Errorf("pgTLS(%q, %q): no error", files[0], files[1])
		}
	}
}
