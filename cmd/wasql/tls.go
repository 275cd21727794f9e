package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"
)

// selfSigned is the value of pg_tls_cert that asks for a certificate made at start.
const selfSigned = "self-signed"

// pgTLS is the Postgres wire's TLS configuration from pg_tls_cert and pg_tls_key: nil when both
// are empty; the PEM files they name; or, with pg_tls_cert self-signed (and no key), a
// certificate made at start, in memory, new at every start. A self-signed certificate encrypts
// (sslmode=require and prefer accept it) but does not prove the server's identity (verify-ca and
// verify-full refuse it): it is what lets --upstream-auth passthrough take passwords from
// clients that are not on loopback, in a private network such as docker-compose.yml's.
func pgTLS(certFile, keyFile string) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	switch {
	case certFile == "" && keyFile == "":
		return nil, nil
	case certFile == selfSigned && keyFile == "":
		cert, err = makeSelfSigned()
	case certFile == "" || keyFile == "" || certFile == selfSigned:
		return nil, errors.New("pg_tls_cert and pg_tls_key go together (PEM files), or pg_tls_cert is self-signed and pg_tls_key empty (--pg-tls-cert, --pg-tls-key, WASQL_PG_TLS_CERT, WASQL_PG_TLS_KEY)")
	default:
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
	}
	if err != nil {
		return nil, fmt.Errorf("pg_tls_cert %s: %w", certFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// makeSelfSigned makes an ECDSA P-256 certificate for the name wasql, valid for ten years.
func makeSelfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "wasql"}, DNSNames: []string{"wasql"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	slog.Info("Postgres wire: a self-signed TLS certificate made at start", "sha256", fmt.Sprintf("%x", sha256.Sum256(der)))
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
