package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestServeConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "wasql.yaml")
	if err := os.WriteFile(file, []byte("data_dir: /from/file\nmysql_addr: 127.0.0.1:4000\nusers: {app: pw}\npg_auth_timeout: 3s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WASQL_MYSQL_ADDR", "127.0.0.1:5000")
	t.Setenv("WASQL_PG_MAX_CONNECTIONS", "7")
	c, _, err := loadServeConfig([]string{"--config", file, "--data-dir", "/from/flag"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	// flag > env > file > default
	if c.DataDir != "/from/flag" || c.MySQLAddr != "127.0.0.1:5000" || c.PGAddr != "127.0.0.1:5433" || c.Users["app"] != "pw" ||
		c.PGMaxConnections != 7 || c.PGAuthTimeout != 3*time.Second {
		t.Fatalf("%+v", c)
	}
	var out bytes.Buffer
	if _, help, err := loadServeConfig([]string{"--help"}, &out); err != nil || !help || !bytes.Contains(out.Bytes(), []byte("--mysql-addr")) {
		t.Fatalf("help: %v %v %s", help, err, out.String())
	}
	if _, _, err := loadServeConfig([]string{"--config", filepath.Join(dir, "missing.yaml")}, &out); err == nil {
		t.Fatal("a missing config file must be an error")
	}
}
