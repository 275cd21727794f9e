package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestServeConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "wasql.yaml")
	if err := os.WriteFile(file, []byte("data_dir: /from/file\nmysql_addr: 127.0.0.1:4000\nusers: {app: pw}\nmax_connections: 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WASQL_MYSQL_ADDR", "127.0.0.1:5000")
	c, _, err := loadServeConfig([]string{"--config", file, "--data-dir", "/from/flag"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	// flag > env > file > default
	if c.DataDir != "/from/flag" || c.MySQLAddr != "127.0.0.1:5000" || c.PGAddr != "127.0.0.1:5433" || c.Users["app"] != "pw" || c.MaxConns != 7 {
		t.Fatalf("%+v", c)
	}
	if c, _, err := loadServeConfig(nil, &bytes.Buffer{}); err != nil || c.MaxConns != 151 {
		t.Fatalf("default max_connections: %+v %v", c, err)
	}
	var out bytes.Buffer
	if _, help, err := loadServeConfig([]string{"--help"}, &out); err != nil || !help || !bytes.Contains(out.Bytes(), []byte("--mysql-addr")) {
		t.Fatalf("help: %v %v %s", help, err, out.String())
	}
	if _, _, err := loadServeConfig([]string{"--config", filepath.Join(dir, "missing.yaml")}, &out); err == nil {
		t.Fatal("a missing config file must be an error")
	}
}
