package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/wasql/wasql/engine"
	"github.com/wasql/wasql/proxy"
	"github.com/wasql/wasql/udf"
)

// serveConfig is what wasql serve reads from flags, WASQL_* variables and wasql.yaml, in that
// order of precedence.
type serveConfig struct {
	DataDir   string            `mapstructure:"data_dir"`
	MySQLAddr string            `mapstructure:"mysql_addr"`
	PGAddr    string            `mapstructure:"pg_addr"`
	Users     map[string]string `mapstructure:"users"`
	MaxConns  int               `mapstructure:"max_connections"`
}

func loadServeConfig(args []string, out io.Writer) (*serveConfig, bool, error) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(out)
	fs.String("config", "", "config file (default: wasql.yaml in the working directory, if present)")
	fs.String("data-dir", "./wasql-data", "data directory: function catalog and compiled code (env WASQL_DATA_DIR)")
	fs.String("mysql-addr", "127.0.0.1:3307", "MySQL wire listen address (env WASQL_MYSQL_ADDR)")
	fs.String("pg-addr", "127.0.0.1:5433", "Postgres wire listen address, empty to disable (env WASQL_PG_ADDR)")
	fs.Int("max-connections", 151, "MySQL wire: open connections at most; more get error 1040 (env WASQL_MAX_CONNECTIONS)")
	fs.Usage = func() {
		fmt.Fprintln(out, "usage: wasql serve [flags]\n\nRuns the embedded engine. Listening beyond loopback needs users (users: {name: password} in the config file).\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, true, nil
		}
		return nil, false, err
	}
	v := viper.New()
	for key, flag := range map[string]string{"data_dir": "data-dir", "mysql_addr": "mysql-addr", "pg_addr": "pg-addr", "max_connections": "max-connections"} {
		if err := v.BindPFlag(key, fs.Lookup(flag)); err != nil {
			return nil, false, err
		}
		if err := v.BindEnv(key, "WASQL_"+strings.ToUpper(key)); err != nil {
			return nil, false, err
		}
	}
	path, _ := fs.GetString("config")
	switch {
	case path != "":
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return nil, false, fmt.Errorf("config %s: %w", path, err)
		}
	default:
		if _, err := os.Stat("wasql.yaml"); err == nil {
			v.SetConfigFile("wasql.yaml")
			if err := v.ReadInConfig(); err != nil {
				return nil, false, fmt.Errorf("config wasql.yaml: %w", err)
			}
		}
	}
	var c serveConfig
	if err := v.Unmarshal(&c); err != nil {
		return nil, false, err
	}
	return &c, false, nil
}

var pgListener net.Listener

// servePG listens for the Postgres wire, with SCRAM verifiers derived from the configured users.
func servePG(e *engine.Engine, c *serveConfig) (*proxy.Server, error) {
	users := map[string]proxy.Verifier{}
	for name, pass := range c.Users {
		v, err := proxy.NewVerifier(pass)
		if err != nil {
			return nil, err
		}
		users[name] = v
	}
	l, err := net.Listen("tcp", c.PGAddr)
	if err != nil {
		return nil, err
	}
	pgListener = l
	return proxy.NewServer(proxy.Config{Users: users, ServerVersion: engine.PGVersion}, e.PGBackend()), nil
}

func serve(ctx context.Context, args []string, out io.Writer) error {
	c, help, err := loadServeConfig(args, out)
	if err != nil || help {
		return err
	}
	for _, addr := range []string{c.MySQLAddr, c.PGAddr} {
		if addr != "" && len(c.Users) == 0 && !engine.IsLoopback(addr) {
			return fmt.Errorf("refusing to listen on %s without users: add users to the config file (users: {name: password}) or listen on 127.0.0.1", addr)
		}
	}
	start := time.Now()
	e, err := engine.Open(ctx, engine.Config{DataDir: c.DataDir, Users: c.Users, UDF: udf.NewConfig(),
		MySQL: engine.MySQLLimits{MaxConnections: c.MaxConns}})
	if err != nil {
		return err
	}
	defer e.Close(context.Background())
	s, err := e.ServeMySQL(c.MySQLAddr)
	if err != nil {
		return err
	}
	done := make(chan error, 2)
	go func() { done <- s.Start() }()
	var pg *proxy.Server
	if c.PGAddr != "" {
		if pg, err = servePG(e, c); err != nil {
			s.Close()
			return err
		}
		go func() { done <- pg.Serve(pgListener) }()
	}
	fmt.Fprintf(out, "wasql %s: MySQL wire on %s, database %q, data in %s (ready in %s)\n",
		version, s.Listener.Addr(), engine.Database, c.DataDir, time.Since(start).Round(time.Millisecond))
	if pg != nil {
		fmt.Fprintf(out, "wasql: Postgres wire on %s (psql and drivers: basic queries; Postgres SQL translation and catalogs are not done yet)\n", pgListener.Addr())
	}
	fmt.Fprintf(out, "wasql: table data is in memory and NOT durable; functions are (%s)\n", c.DataDir)
	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "wasql: shutting down")
		s.Close()
		if pg != nil {
			pg.Close()
		}
		return nil
	case err := <-done:
		return err
	}
}
