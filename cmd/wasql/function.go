package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasql/wasql/udf"
)

// functionUsage is what wasql function --help prints.
const functionUsage = `usage: wasql function COMMAND [flags] ...

Registers and inspects wasm functions on a running wasql, over the Postgres wire or the MySQL
wire (--dsn postgres://user:pass@host:port/db or mysql://user:pass@host:port/db; default: the
WASQL_DSN environment variable). Works in front of PostgreSQL (proxy mode) too.

  wasql function create [--name N] [--export E] [--sig LINE] [--with K=V,...] FILE.wasm [NAME...]
        register every function the module's wasql_signatures section declares, or the NAMEs;
        --name N registers export E (default N) as N; --sig 'f(a text) RETURNS text' registers
        a module without the section
  wasql function replace ...     the same with CREATE OR REPLACE
  wasql function drop [--if-exists] NAME...
  wasql function list            name, arguments, result and options of every wasm function
  wasql function show NAME       signature, options, export, module hash and size

Errors print the server's SQLSTATE and message and exit with status 1.
`

// function runs wasql function COMMAND.
func function(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "--help" || args[0] == "-h" || args[0] == "-help" {
		if len(args) == 0 {
			return errors.New("function: no command given\n\n" + functionUsage)
		}
		fmt.Fprint(out, functionUsage)
		return nil
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("function "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dsn := fs.String("dsn", os.Getenv("WASQL_DSN"), "postgres://user:pass@host:port/db or mysql://user:pass@host:port/db (default $WASQL_DSN)")
	var name, export, sig, with *string
	var ifExists *bool
	switch cmd {
	case "create", "replace":
		name = fs.String("name", "", "register one function under this SQL name (its export: --export, default the name)")
		export = fs.String("export", "", "the export to register (with --name or --sig)")
		sig = fs.String("sig", "", "the signature, for a module without a wasql_signatures section: 'f(a text) RETURNS text [STRICT] [IMMUTABLE] ...'")
		with = fs.String("with", "", "options as in WITH (...), e.g. timeout=200ms,memory=16MB")
	case "drop":
		ifExists = fs.Bool("if-exists", false, "no error for a function that does not exist")
	case "list", "show":
	default:
		return fmt.Errorf("function: unknown command %q (want create, replace, drop, list or show)\n\n%s", cmd, functionUsage)
	}
	if err := fs.Parse(interleave(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(out, functionUsage+"\nflags of "+cmd+":\n")
			fs.SetOutput(out)
			fs.PrintDefaults()
			return nil
		}
		return fmt.Errorf("function %s: %w (wasql function --help)", cmd, err)
	}
	if *dsn == "" {
		return fmt.Errorf("function %s: no server given: --dsn postgres://user:pass@host:port/db (or mysql://...), or WASQL_DSN", cmd)
	}
	var plan []string // statements; create/replace bind the module to each
	var module []byte
	switch cmd {
	case "create", "replace":
		if fs.NArg() == 0 {
			return fmt.Errorf("function %s: no module given (wasql function %s FILE.wasm [NAME...])", cmd, cmd)
		}
		var err error
		if module, err = os.ReadFile(fs.Arg(0)); err != nil {
			return err
		}
		defs, err := createDefs(module, *name, *export, *sig, fs.Args()[1:])
		if err != nil {
			return fmt.Errorf("function %s: %w", cmd, err)
		}
		opts, err := withClause(*with)
		if err != nil {
			return fmt.Errorf("function %s: %w", cmd, err)
		}
		for _, d := range defs {
			d.replace = cmd == "replace"
			d.with = opts
			plan = append(plan, d.sql(isMySQL(*dsn)))
		}
	case "drop":
		if fs.NArg() == 0 {
			return errors.New("function drop: no function named (wasql function drop NAME...)")
		}
		for _, n := range fs.Args() {
			s := "DROP FUNCTION "
			if *ifExists {
				s += "IF EXISTS "
			}
			plan = append(plan, s+quoteIdent(n, isMySQL(*dsn)))
		}
	case "show":
		if fs.NArg() != 1 {
			return errors.New("function show: name one function (wasql function show NAME)")
		}
	case "list":
		if fs.NArg() != 0 {
			return errors.New("function list takes no arguments")
		}
	}
	c, err := dial(ctx, *dsn)
	if err != nil {
		return err
	}
	defer c.close()
	switch cmd {
	case "create", "replace", "drop":
		for _, s := range plan {
			var args []any
			if module != nil {
				args = []any{module}
			}
			if err := c.exec(ctx, s, args...); err != nil {
				return serverError(err)
			}
			head := strings.SplitN(s, " AS ", 2)[0]
			if module != nil {
				head += fmt.Sprintf(" (module sha256:%s, %d bytes)", moduleHash(module)[:16], len(module))
			}
			fmt.Fprintln(out, head)
		}
		return nil
	}
	fns, err := c.functions(ctx)
	if err != nil {
		return serverError(err)
	}
	if cmd == "list" {
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tARGUMENTS\tRESULT\tOPTIONS")
		for _, f := range fns {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.name, f.args, f.result, f.options())
		}
		return tw.Flush()
	}
	found := false
	for _, f := range fns {
		if !strings.EqualFold(f.name, fs.Arg(0)) {
			continue
		}
		found = true
		fmt.Fprintf(out, "%s(%s) RETURNS %s\n", f.name, f.args, f.result)
		fmt.Fprintf(out, "  options: %s\n", f.options())
		if f.export != "" {
			fmt.Fprintf(out, "  export:  %s\n", f.export)
		}
		if f.hash != "" {
			fmt.Fprintf(out, "  module:  sha256:%s", f.hash)
			if f.size > 0 {
				fmt.Fprintf(out, ", %d bytes", f.size)
			}
			fmt.Fprintln(out)
		}
		if f.owner != "" {
			fmt.Fprintf(out, "  owner:   %s\n", f.owner)
		}
	}
	if !found {
		return fmt.Errorf("ERROR 42883: function %s does not exist", fs.Arg(0))
	}
	return nil
}

// interleave moves flags after positional arguments to the front, so that
// `create f.wasm --name x` works as `create --name x f.wasm` does.
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		}
	}
	return append(flags, pos...)
}

// createDef is one CREATE FUNCTION to send.
type createDef struct {
	name, export string
	sig          *udf.Signature // nil: the server takes it from the module's section
	replace      bool
	with         string
}

func (d createDef) sql(my bool) string {
	var b strings.Builder
	b.WriteString("CREATE ")
	if d.replace {
		b.WriteString("OR REPLACE ")
	}
	b.WriteString("FUNCTION " + quoteIdent(d.name, my))
	if s := d.sig; s != nil {
		b.WriteString("(")
		for i, t := range s.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			if i < len(s.ArgNames) && s.ArgNames[i] != "" {
				b.WriteString(quoteIdent(s.ArgNames[i], my) + " ")
			}
			b.WriteString(t.String())
		}
		b.WriteString(") RETURNS " + s.Result.String())
	}
	b.WriteString(" LANGUAGE wasm")
	if s := d.sig; s != nil {
		if s.OnNull == udf.CalledOnNull {
			b.WriteString(" CALLED ON NULL INPUT")
		} else {
			b.WriteString(" STRICT")
		}
		b.WriteString(" " + s.Volatility + " PARALLEL " + s.Parallel)
	}
	if my {
		b.WriteString(" AS ?")
	} else {
		b.WriteString(" AS $1")
	}
	b.WriteString(", '" + strings.ReplaceAll(d.export, "'", "''") + "'")
	b.WriteString(d.with)
	return b.String()
}

// createDefs decides which functions create registers.
func createDefs(module []byte, name, export, sigLine string, names []string) ([]createDef, error) {
	if sigLine != "" {
		s, err := udf.ParseSignature(sigLine)
		if err != nil {
			return nil, fmt.Errorf("--sig: %v", err)
		}
		if len(names) > 0 {
			return nil, errors.New("--sig registers one function: no NAMEs after the module")
		}
		d := createDef{name: s.Name, export: s.Name, sig: &s}
		if name != "" {
			d.name = name
		}
		if export != "" {
			d.export = export
		}
		return []createDef{d}, nil
	}
	sigs, err := udf.Signatures(module)
	if err != nil {
		return nil, err
	}
	if name != "" || export != "" {
		if len(names) > 0 {
			return nil, errors.New("--name/--export register one function: no NAMEs after the module")
		}
		if name == "" {
			name = export
		}
		if export == "" {
			export = name
		}
		return []createDef{{name: name, export: export}}, nil
	}
	if len(sigs) == 0 {
		return nil, errors.New("the module has no wasql_signatures section: give the signature with --sig 'name(a text) RETURNS text'")
	}
	var defs []createDef
	if len(names) == 0 {
		for _, s := range sigs {
			defs = append(defs, createDef{name: s.Name, export: s.Name})
		}
		return defs, nil
	}
	for _, n := range names {
		ok := false
		for _, s := range sigs {
			ok = ok || s.Name == n
		}
		if !ok {
			var have []string
			for _, s := range sigs {
				have = append(have, s.Name)
			}
			return nil, fmt.Errorf("the module declares no function %s (it declares %s)", n, strings.Join(have, ", "))
		}
		defs = append(defs, createDef{name: n, export: n})
	}
	return defs, nil
}

// withClause turns k=v,k=v into WITH (k = 'v', ...).
func withClause(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	var parts []string
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || !regexp.MustCompile(`^[a-z_]+$`).MatchString(k) {
			return "", fmt.Errorf("--with %q: want key=value,... (timeout=200ms,memory=16MB)", s)
		}
		parts = append(parts, k+" = '"+strings.ReplaceAll(strings.TrimSpace(v), "'", "''")+"'")
	}
	return " WITH (" + strings.Join(parts, ", ") + ")", nil
}

var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

func quoteIdent(s string, my bool) string {
	if my {
		return "`" + strings.ReplaceAll(s, "`", "``") + "`"
	}
	if plainIdent.MatchString(s) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func isMySQL(dsn string) bool { return strings.HasPrefix(dsn, "mysql://") }

// serverError renders a server's error with its SQLSTATE.
func serverError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		msg := fmt.Sprintf("ERROR %s: %s", pe.Code, pe.Message)
		if pe.Detail != "" {
			msg += "\nDETAIL: " + pe.Detail
		}
		if pe.Hint != "" {
			msg += "\nHINT: " + pe.Hint
		}
		return errors.New(msg)
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		state := string(me.SQLState[:])
		if me.SQLState == [5]byte{} {
			state = "HY000"
		}
		return fmt.Errorf("ERROR %s (%d): %s", state, me.Number, me.Message)
	}
	return err
}

// conn is a connection over either wire.
type conn struct {
	pg *pgx.Conn
	my *sql.DB
}

func dial(ctx context.Context, dsn string) (*conn, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("connecting to %s: %w", redact(dsn), serverError(err))
		}
		return &conn{pg: c}, nil
	case isMySQL(dsn):
		u, err := url.Parse(dsn)
		if err != nil {
			return nil, fmt.Errorf("--dsn: %v", err)
		}
		cfg := mysql.NewConfig()
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
		cfg.Net = "tcp"
		cfg.Addr = u.Host
		if u.Port() == "" {
			cfg.Addr = u.Host + ":3306"
		}
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
		cfg.InterpolateParams = true // the module goes as a _binary'...' literal (README)
		cfg.MaxAllowedPacket = 0
		for k, v := range u.Query() {
			if cfg.Params == nil {
				cfg.Params = map[string]string{}
			}
			cfg.Params[k] = v[0]
		}
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("connecting to %s: %w", redact(dsn), serverError(err))
		}
		return &conn{my: db}, nil
	}
	return nil, fmt.Errorf("--dsn %q: want postgres://user:pass@host:port/db or mysql://user:pass@host:port/db", redact(dsn))
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func (c *conn) close() {
	if c.pg != nil {
		c.pg.Close(context.Background())
	}
	if c.my != nil {
		c.my.Close()
	}
}

func (c *conn) exec(ctx context.Context, s string, args ...any) error {
	if c.pg != nil {
		_, err := c.pg.Exec(ctx, s, args...)
		return err
	}
	_, err := c.my.ExecContext(ctx, s, args...)
	return err
}

// fn is one listed function.
type fn struct {
	name, args, result string
	strict             bool
	volatility         string // IMMUTABLE, STABLE, VOLATILE; "" unknown
	parallel           string
	with               string // WITH (...), or ""
	export, hash       string
	size               int64
	owner              string
}

func (f fn) options() string {
	var o []string
	if f.strict {
		o = append(o, "STRICT")
	} else {
		o = append(o, "CALLED ON NULL INPUT")
	}
	if f.volatility != "" {
		o = append(o, f.volatility)
	}
	if f.parallel != "" {
		o = append(o, "PARALLEL "+f.parallel)
	}
	if f.with != "" {
		o = append(o, f.with)
	}
	return strings.Join(o, " ")
}

func (c *conn) functions(ctx context.Context) ([]fn, error) {
	if c.pg != nil {
		return c.pgFunctions(ctx)
	}
	return c.myFunctions(ctx)
}

// pgFunctions reads the functions on the Postgres wire: in proxy mode from the catalog table
// wasql.function_defs (wasql.functions before schema version 3; every field), on the embedded
// engine from pg_proc (the wasm language's).
func (c *conn) pgFunctions(ctx context.Context) ([]fn, error) {
	var table string // the catalog table: function_defs sorts before functions
	err := c.pg.QueryRow(ctx, `SELECT r.relname FROM pg_namespace n JOIN pg_class r ON r.relnamespace = n.oid
		WHERE n.nspname = 'wasql' AND r.relname IN ('function_defs', 'functions') AND r.relkind = 'r' ORDER BY r.relname LIMIT 1`).Scan(&table)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	var fns []fn
	if table != "" {
		rows, err := c.pg.Query(ctx, `SELECT CASE WHEN schema_name = '' THEN '' ELSE schema_name || '.' END || name, arg_types, arg_names, return_type, strict, volatility, parallel, options::text, export, encode(module_hash, 'hex'), module_size, owner FROM wasql.`+table+` ORDER BY schema_name, name, arg_types`)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var f fn
			var types, names []string
			var opts string
			if err := rows.Scan(&f.name, &types, &names, &f.result, &f.strict, &f.volatility, &f.parallel, &opts, &f.export, &f.hash, &f.size, &f.owner); err != nil {
				return nil, err
			}
			f.args = argList(names, types)
			f.with = jsonWith(opts)
			fns = append(fns, f)
		}
		return fns, rows.Err()
	}
	rows, err := c.pg.Query(ctx, `SELECT p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), p.proisstrict, p.provolatile, p.proparallel, coalesce(p.prosrc, ''), coalesce(p.probin, '')
		FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE l.lanname = 'wasm' ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var f fn
		var vol, par string
		if err := rows.Scan(&f.name, &f.args, &f.result, &f.strict, &vol, &par, &f.export, &f.hash); err != nil {
			return nil, err
		}
		f.volatility = map[string]string{"i": "IMMUTABLE", "s": "STABLE", "v": "VOLATILE"}[vol]
		f.parallel = map[string]string{"s": "SAFE", "r": "RESTRICTED", "u": "UNSAFE"}[par]
		fns = append(fns, f)
	}
	return fns, rows.Err()
}

func argList(names, types []string) string {
	var b strings.Builder
	for i, t := range types {
		if i > 0 {
			b.WriteString(", ")
		}
		if i < len(names) && names[i] != "" {
			b.WriteString(names[i] + " ")
		}
		b.WriteString(t)
	}
	return b.String()
}

// jsonWith turns the catalog's options object {"timeout": "200ms"} into WITH (timeout = '200ms').
func jsonWith(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || s == "{}" || s == "null" {
		return ""
	}
	re := regexp.MustCompile(`"((?:[^"\\]|\\.)*)"\s*:\s*"((?:[^"\\]|\\.)*)"`)
	var parts []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		k, _ := strconv.Unquote(`"` + m[1] + `"`)
		v, _ := strconv.Unquote(`"` + m[2] + `"`)
		parts = append(parts, k+" = '"+strings.ReplaceAll(v, "'", "''")+"'")
	}
	if len(parts) == 0 {
		return ""
	}
	return "WITH (" + strings.Join(parts, ", ") + ")"
}

// myFunctions reads the functions on the MySQL wire: names from information_schema.routines,
// each one's definition from SHOW CREATE FUNCTION.
func (c *conn) myFunctions(ctx context.Context) ([]fn, error) {
	rows, err := c.my.QueryContext(ctx, `SELECT DISTINCT routine_name FROM information_schema.routines WHERE external_language = 'WASM' ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var fns []fn
	for _, n := range names {
		rows, err := c.my.QueryContext(ctx, "SHOW CREATE FUNCTION "+quoteIdent(n, true))
		if err != nil {
			return nil, err
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			for _, v := range vals {
				if strings.HasPrefix(v.String, "CREATE FUNCTION ") {
					if f, ok := parseCreateText(v.String); ok {
						fns = append(fns, f)
					}
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return fns, nil
}

var createText = regexp.MustCompile(`^CREATE FUNCTION (.+?)\((.*?)\) RETURNS (.+?) LANGUAGE wasm(.*?) AS '<module sha256:([0-9a-f]+), (\d+) bytes>', '((?:[^']|'')*)'(?: (WITH \(.*\)))?$`)

// parseCreateText reads SHOW CREATE FUNCTION's text (sqlfuncs.CreateText).
func parseCreateText(s string) (fn, bool) {
	m := createText.FindStringSubmatch(s)
	if m == nil {
		return fn{}, false
	}
	f := fn{name: unquoteIdent(m[1]), args: m[2], result: m[3], hash: m[5], export: strings.ReplaceAll(m[7], "''", "'"), with: m[8], strict: true, parallel: "UNSAFE"}
	f.size, _ = strconv.ParseInt(m[6], 10, 64)
	words := strings.Fields(m[4])
	for i := 0; i < len(words); i++ {
		switch w := strings.ToUpper(words[i]); w {
		case "IMMUTABLE", "STABLE", "VOLATILE":
			f.volatility = w
		case "STRICT":
			f.strict = true
		case "CALLED":
			f.strict = false
			i += 3
		case "PARALLEL":
			if i+1 < len(words) {
				f.parallel = strings.ToUpper(words[i+1])
				i++
			}
		case "COST":
			i++
		}
	}
	return f, true
}

func unquoteIdent(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return s
}

// moduleHash is the SHA-256 the catalog names a module by.
func moduleHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
