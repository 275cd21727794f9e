package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/wasql/wasql/embedded"
	"github.com/wasql/wasql/metrics"
	"github.com/wasql/wasql/proxy"
	"github.com/wasql/wasql/sqlfuncs"
	"github.com/wasql/wasql/udf"
)

// serveConfig is what wasql serve reads from flags, WASQL_* variables and wasql.yaml, in that
// order of precedence.
type serveConfig struct {
	DataDir   string `mapstructure:"data_dir"`
	MySQLAddr string `mapstructure:"mysql_addr"`
	PGAddr    string `mapstructure:"pg_addr"`
	LogLevel  string `mapstructure:"log_level"`
	// Tables is where embedded mode keeps table data: dolt or memory (embedded.Config.Tables).
	Tables string            `mapstructure:"tables"`
	Users  map[string]string `mapstructure:"users"`
	// Quotas bound what each user's functions may hold (parseQuotas, sqlfuncs.Quotas).
	Quotas map[string]any `mapstructure:"quotas"`
	quotas *sqlfuncs.Quotas
	// PGMaxConnections and PGAuthTimeout bound the Postgres wire's clients (proxy.Config).
	PGMaxConnections int           `mapstructure:"pg_max_connections"`
	PGAuthTimeout    time.Duration `mapstructure:"pg_auth_timeout"`
	// PGTLSCert and PGTLSKey are the Postgres wire's TLS certificate and key (PEM files), or
	// PGTLSCert "self-signed" for one made at start (pgTLS).
	PGTLSCert string `mapstructure:"pg_tls_cert"`
	PGTLSKey  string `mapstructure:"pg_tls_key"`
	// MySQLMaxConnections bounds the MySQL wire's open connections (embedded.MySQLLimits).
	MySQLMaxConnections int `mapstructure:"mysql_max_connections"`
	// MetricsAddr is the HTTP listener of /metrics, /healthz and /readyz (package metrics);
	// empty turns it off.
	MetricsAddr string `mapstructure:"metrics_addr"`
	// Upstream, when set, is proxy mode: the Postgres wire in front of this PostgreSQL (its URL),
	// the catalog in its database, the MySQL wire off. UpstreamAuth says who checks passwords.
	Upstream     string `mapstructure:"upstream"`
	UpstreamAuth string `mapstructure:"upstream_auth"`
	file         string // the config file read, if any
	cpuProfile   string // --cpuprofile: a CPU profile of the whole run goes there (hidden flag)
}

// configKeys are the keys of wasql.yaml; each but users and quotas also has a flag and a WASQL_
// variable.
var configKeys = []string{"data_dir", "log_level", "metrics_addr", "mysql_addr", "mysql_max_connections", "pg_addr", "pg_auth_timeout", "pg_max_connections", "pg_tls_cert", "pg_tls_key", "quotas", "tables", "upstream", "upstream_auth", "users"}

// flagOf is the flag of each config key that has one.
var flagOf = map[string]string{"data_dir": "data-dir", "mysql_addr": "mysql-addr", "pg_addr": "pg-addr", "log_level": "log-level", "metrics_addr": "metrics-addr",
	"pg_max_connections": "pg-max-connections", "pg_auth_timeout": "pg-auth-timeout", "mysql_max_connections": "mysql-max-connections",
	"upstream": "upstream", "upstream_auth": "upstream-auth", "pg_tls_cert": "pg-tls-cert", "pg_tls_key": "pg-tls-key", "tables": "tables"}

// loadServeConfig reads the configuration; help is true when the flags asked for --help (printed
// to out). Warnings (unknown WASQL_ variables) go to warn.
func loadServeConfig(args []string, out, warn io.Writer) (c *serveConfig, help bool, err error) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	fs.MarkHidden("cpuprofile")
	fs.String("config", "", "config file (default: wasql.yaml in the working directory, if present)")
	fs.String("data-dir", "./wasql-data", "data directory: function catalog and compiled code (env WASQL_DATA_DIR)")
	fs.String("tables", embedded.TablesDolt, "embedded mode: where table data lives: dolt (Dolt's storage engine in the data directory's tables/: durable, transactional) or memory (go-mysql-server's memory database: NOT durable, no transactions); proxy mode ignores it (env WASQL_TABLES)")
	fs.String("mysql-addr", "127.0.0.1:3307", "MySQL wire listen address (env WASQL_MYSQL_ADDR)")
	fs.String("pg-addr", "127.0.0.1:5433", "Postgres wire listen address, empty to disable (env WASQL_PG_ADDR)")
	fs.Int("pg-max-connections", proxy.DefaultMaxConnections, "Postgres wire: connections served at once; more are refused with 53300 (env WASQL_PG_MAX_CONNECTIONS)")
	fs.Duration("pg-auth-timeout", proxy.DefaultAuthTimeout, "Postgres wire: time a client has to authenticate (env WASQL_PG_AUTH_TIMEOUT)")
	fs.String("pg-tls-cert", "", "Postgres wire: TLS certificate (PEM file, with --pg-tls-key), or self-signed for one made at start (encrypts, proves nothing: sslmode=require accepts it, verify-full does not) (env WASQL_PG_TLS_CERT)")
	fs.String("pg-tls-key", "", "Postgres wire: the TLS certificate's private key (PEM file) (env WASQL_PG_TLS_KEY)")
	fs.Int("mysql-max-connections", 151, "MySQL wire: open connections at most; more get error 1040 (env WASQL_MYSQL_MAX_CONNECTIONS)")
	fs.String("upstream", "", "proxy mode: serve the Postgres wire in front of this PostgreSQL (postgres://user:password@host/db?sslmode=...), with the function catalog in its database; the MySQL wire is off (env WASQL_UPSTREAM)")
	fs.String("upstream-auth", "passthrough", "proxy mode: passthrough (clients log in to the upstream with their own user and password, over loopback or TLS) or wasql (clients authenticate to wasql with its users; the upstream connection uses the URL's credentials) (env WASQL_UPSTREAM_AUTH)")
	fs.String("metrics-addr", defaultMetricsAddr, "HTTP listen address of /metrics (Prometheus), /healthz and /readyz, empty to disable; metrics hold no secrets (counts, function names), but beyond loopback anyone who reaches the port reads them (env WASQL_METRICS_ADDR)")
	fs.String("log-level", "error", "log level: error, warn, info or debug; info shows connections (env WASQL_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintf(out, "usage: wasql serve [flags]\n\nRuns the embedded engine, or with --upstream the proxy in front of a PostgreSQL (Postgres wire\nonly: the MySQL wire is off). Listening beyond loopback needs users (users: {name: password} in the\nconfig file). Config file keys: %s.\n\nflags:\n", strings.Join(configKeys, ", "))
			fs.SetOutput(out)
			fs.PrintDefaults()
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("serve: %w (wasql serve --help)", err)
	}
	if extra := fs.Args(); len(extra) > 0 {
		return nil, false, fmt.Errorf("serve takes no arguments, got %q (wasql serve --help)", extra)
	}
	v := viper.New()
	v.AllowEmptyEnv(true) // WASQL_PG_ADDR= disables the Postgres wire, as --pg-addr= does
	for key, flag := range flagOf {
		if err := v.BindPFlag(key, fs.Lookup(flag)); err != nil {
			return nil, false, err
		}
		if err := v.BindEnv(key, "WASQL_"+strings.ToUpper(key)); err != nil {
			return nil, false, err
		}
	}
	warnUnknownEnv(warn)
	path, _ := fs.GetString("config")
	if path == "" {
		if _, err := os.Stat("wasql.yaml"); err == nil {
			path = "wasql.yaml"
		}
	}
	if path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return nil, false, fmt.Errorf("config %s: %w", path, err)
		}
		if err := checkKeys(path); err != nil {
			return nil, false, err
		}
	}
	c = &serveConfig{file: path}
	c.cpuProfile, _ = fs.GetString("cpuprofile")
	if err := v.Unmarshal(c); err != nil {
		return nil, false, fmt.Errorf("config %s: %w", path, err)
	}
	if c.DataDir == "" {
		return nil, false, errors.New("data_dir is empty: give a directory (--data-dir, WASQL_DATA_DIR or data_dir:)")
	}
	switch {
	case c.Upstream != "" && c.UpstreamAuth != "passthrough" && c.UpstreamAuth != "wasql":
		return nil, false, fmt.Errorf("upstream_auth is %q: want passthrough or wasql (--upstream-auth, WASQL_UPSTREAM_AUTH or upstream_auth:)", c.UpstreamAuth)
	case c.Tables != embedded.TablesMemory && c.Tables != embedded.TablesDolt:
		return nil, false, fmt.Errorf("tables is %q: want memory or dolt (--tables, WASQL_TABLES or tables:)", c.Tables)
	case c.Upstream != "" && c.PGAddr == "":
		return nil, false, errors.New("pg_addr is empty: proxy mode (upstream) serves only the Postgres wire (--pg-addr, WASQL_PG_ADDR or pg_addr:)")
	}
	if c.MySQLAddr == "" && c.Upstream == "" {
		return nil, false, errors.New("mysql_addr is empty: the MySQL wire cannot be disabled (--mysql-addr, WASQL_MYSQL_ADDR or mysql_addr:)")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return nil, false, err
	}
	if c.quotas, err = parseQuotas(c.Quotas); err != nil {
		return nil, false, fmt.Errorf("config %s: %w", path, err)
	}
	return c, false, nil
}

// checkKeys refuses a config file with a key wasql does not know: a typo such as mysql_adr would
// otherwise be ignored and the default used.
func checkKeys(path string) error {
	f := viper.New()
	f.SetConfigFile(path)
	if err := f.ReadInConfig(); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	var unknown []string
	for key := range f.AllSettings() {
		if !slices.Contains(configKeys, key) {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return fmt.Errorf("config %s: unknown key %s (known keys: %s)", path, strings.Join(unknown, ", "), strings.Join(configKeys, ", "))
}

// warnUnknownEnv warns about WASQL_ variables that configure nothing, such as WASQL_MYSQL_ADR.
func warnUnknownEnv(warn io.Writer) {
	var known []string
	for key := range flagOf {
		known = append(known, "WASQL_"+strings.ToUpper(key))
	}
	slices.Sort(known)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "WASQL_") && !slices.Contains(known, name) {
			fmt.Fprintf(warn, "wasql: warning: unknown environment variable %s ignored (known: %s)\n", name, strings.Join(known, ", "))
		}
	}
}

// parseLevel reads a log level name.
func parseLevel(name string) (slog.Level, error) {
	switch strings.ToLower(name) {
	case "error":
		return slog.LevelError, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	}
	return 0, fmt.Errorf("log_level %q: want error, warn, info or debug", name)
}

// setupLogging sets the level of wasql's own logs (log/slog, to stderr) and of go-mysql-server's
// (logrus): at the default, error, go-mysql-server's secure_file_priv warnings, its
// per-connection lines and its "error running query" lines (the client has the error) are quiet.
func setupLogging(level slog.Level, w io.Writer) {
	slog.SetDefault(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})))
	log.SetOutput(w) // slog.SetDefault redirects the log package; it keeps printing what it did
	log.SetFlags(log.LstdFlags)
	logrus.SetOutput(w)
	switch {
	case level <= slog.LevelDebug:
		logrus.SetLevel(logrus.DebugLevel)
	case level <= slog.LevelInfo:
		logrus.SetLevel(logrus.InfoLevel)
	case level <= slog.LevelWarn:
		logrus.SetLevel(logrus.WarnLevel)
	default:
		logrus.SetLevel(logrus.ErrorLevel)
	}
}

// stderr receives logs and warnings (a variable for tests).
var stderr io.Writer = os.Stderr

var pgListener net.Listener

// pgConfig is the Postgres wire's configuration: SCRAM verifiers derived from the configured
// users, TLS, and the connection bounds.
func (c *serveConfig) pgConfig() (proxy.Config, error) {
	users := map[string]proxy.Verifier{}
	for name, pass := range c.Users {
		v, err := proxy.NewVerifier(pass)
		if err != nil {
			return proxy.Config{}, err
		}
		users[name] = v
	}
	tlsConfig, err := pgTLS(c.PGTLSCert, c.PGTLSKey)
	if err != nil {
		return proxy.Config{}, err
	}
	return proxy.Config{Users: users, TLS: tlsConfig, MaxConnections: c.PGMaxConnections, AuthTimeout: c.PGAuthTimeout}, nil
}

// servePG listens for the Postgres wire in front of the embedded engine.
func servePG(e *embedded.Engine, c *serveConfig) (*proxy.Server, error) {
	cfg, err := c.pgConfig()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", c.PGAddr)
	if err != nil {
		return nil, err
	}
	pgListener = l
	srv := proxy.NewServer(cfg, e.PGBackend())
	e.TerminatePG = srv.Terminate // pg_terminate_backend
	return srv, nil
}

func serve(ctx context.Context, args []string, out io.Writer) error {
	c, help, err := loadServeConfig(args, out, stderr)
	if err != nil || help {
		return err
	}
	level, _ := parseLevel(c.LogLevel)
	setupLogging(level, stderr)
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return fmt.Errorf("cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("cpuprofile: %w", err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if c.Upstream != "" {
		return serveProxy(ctx, c, out)
	}
	slog.Info("wasql serve", "config_file", c.file, "data_dir", c.DataDir, "mysql_addr", c.MySQLAddr, "pg_addr", c.PGAddr,
		"metrics_addr", c.MetricsAddr, "users", len(c.Users))
	for _, addr := range []string{c.MySQLAddr, c.PGAddr} {
		if addr != "" && len(c.Users) == 0 && !embedded.IsLoopback(addr) {
			return fmt.Errorf("refusing to listen on %s without users: add users to the config file (users: {name: password}) or listen on 127.0.0.1", addr)
		}
	}
	start := time.Now()
	ms, err := startMetrics(c, out)
	if err != nil {
		return err
	}
	defer ms.Close()
	e, err := embedded.Open(ctx, embedded.Config{DataDir: c.DataDir, Users: c.Users, UDF: udf.NewConfig(),
		MySQL: embedded.MySQLLimits{MaxConnections: c.MySQLMaxConnections}, Quotas: c.quotas, Tables: c.Tables})
	if err != nil {
		return err
	}
	defer e.Close(context.Background())
	s, err := e.ServeMySQL(c.MySQLAddr)
	if err != nil {
		return fmt.Errorf("mysql_addr %s: %w", c.MySQLAddr, err)
	}
	done := make(chan error, 2)
	go func() { done <- s.Start() }()
	var pg *proxy.Server
	if c.PGAddr != "" {
		if pg, err = servePG(e, c); err != nil {
			s.Close()
			return fmt.Errorf("pg_addr %s: %w", c.PGAddr, err)
		}
		go func() { done <- pg.Serve(pgListener) }()
	}
	ms.Wire("mysql", func() metrics.WireStats { return metrics.WireStats(e.MySQLStats()) })
	pgAddr := ""
	if pg != nil {
		ms.Wire("postgres", func() metrics.WireStats { return metrics.WireStats(pg.Stats()) })
		pgAddr = pgListener.Addr().String()
	}
	ms.Functions(registryFunctions(e.Registry))
	ms.Runtime(e.RuntimeStats)
	ms.Ready(nil)
	ready := time.Since(start).Round(time.Millisecond)
	slog.Info("wasql ready", "mysql_addr", s.Listener.Addr().String(), "pg_addr", pgAddr, "metrics_addr", addrOf(ms),
		"data_dir", c.DataDir, "functions", e.Registry.Count(), "ready_in", ready)
	fmt.Fprintf(out, "wasql %s: MySQL wire on %s, database %q, data in %s (ready in %s)\n",
		version, s.Listener.Addr(), embedded.Database, c.DataDir, ready)
	if pg != nil {
		fmt.Fprintf(out, "wasql: Postgres wire on %s (database %q)\n", pgAddr, embedded.Database)
	}
	if e.Notice != "" {
		fmt.Fprintf(out, "wasql: %s\n", e.Notice)
		slog.Warn("wasql: " + e.Notice)
	}
	if e.Durable() {
		fmt.Fprintf(out, "wasql: tables and functions are durable, in %s\n", c.DataDir)
	} else {
		fmt.Fprintf(out, "wasql: table data is in memory and NOT durable; functions are durable, in %s\n", c.DataDir)
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "wasql: shutting down")
		ms.NotReady("shutting down")
		s.Close()
		if pg != nil {
			pg.Close()
		}
		return nil
	case err := <-done:
		return err
	}
}
