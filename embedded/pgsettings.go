package embedded

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/wasql/wasql/embedded/pgsql"
	"github.com/wasql/wasql/proxy"
)

// The session of the Postgres wire around the engine: the settings (SET, SHOW, RESET, answered
// here; statement_timeout enforced; the ParameterStatus reports) and the transaction status the
// wire reports, followed from the statements' keywords (the engine does not say).

// reported are the settings a session reports with ParameterStatus, at startup and when SET.
var reported = map[string]bool{"server_version": true, "server_encoding": true, "client_encoding": true,
	"datestyle": true, "integer_datetimes": true, "standard_conforming_strings": true, "timezone": true,
	"intervalstyle": true, "application_name": true, "is_superuser": true, "session_authorization": true,
	"default_transaction_read_only": true, "in_hot_standby": true}

// canonical spells settings the way Postgres reports them.
var canonical = map[string]string{"datestyle": "DateStyle", "timezone": "TimeZone", "intervalstyle": "IntervalStyle"}

// parameterStatus is the ParameterStatus of setting name, spelled as Postgres spells it.
func (s *pgSession) parameterStatus(name string) pgproto3.ParameterStatus {
	spelled := name
	if n, ok := canonical[name]; ok {
		spelled = n
	}
	return pgproto3.ParameterStatus{Name: spelled, Value: s.settings[name]}
}

// Parameters implements the interface proxy.Executor: the reported settings, by name.
func (s *pgSession) Parameters() []pgproto3.ParameterStatus {
	var out []pgproto3.ParameterStatus
	for _, name := range slices.Sorted(maps.Keys(reported)) {
		out = append(out, s.parameterStatus(name))
	}
	return out
}

// pgSettings returns the session settings (SET, SHOW; names in lower case) of the Postgres-wire
// statement running with ctx, for current_setting(), pg_settings and the TimeZone; nil on the
// MySQL wire. The map is read-only.
func pgSettings(ctx context.Context) map[string]string {
	settings, _ := ctx.Value(pgWire{}).(map[string]string)
	return settings
}

// defaultSettings are what SHOW answers before any SET.
func defaultSettings(user, app string) map[string]string {
	return map[string]string{
		"server_version": PGVersion, "server_encoding": "UTF8", "client_encoding": "UTF8",
		"datestyle": "ISO, MDY", "integer_datetimes": "on", "standard_conforming_strings": "on",
		"timezone": "UTC", "intervalstyle": "postgres", "application_name": app, "is_superuser": "on",
		"session_authorization": user, "default_transaction_read_only": "off", "in_hot_standby": "off",
		"search_path": `"$user", public`, "transaction_isolation": "read committed",
		"default_transaction_isolation": "read committed", "extra_float_digits": "1",
		"statement_timeout": "0", "lock_timeout": "0", "idle_in_transaction_session_timeout": "0",
		"max_identifier_length": "63", "lc_collate": "C.UTF-8", "lc_ctype": "C.UTF-8",
		"bytea_output": "hex", "client_min_messages": "notice", "server_version_num": "150010",
		"transaction_read_only": "off", "synchronous_commit": "on", "jit": "off",
	}
}

var (
	setRe   = regexp.MustCompile(`(?is)^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?([a-z_][a-z0-9_.]*)\s*(?:=|\s+TO\s+)\s*(.+?)\s*;?\s*$`)
	setTZRe = regexp.MustCompile(`(?is)^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?TIME\s+ZONE\s+(.+?)\s*;?\s*$`)
	showRe  = regexp.MustCompile(`(?is)^\s*SHOW\s+([a-z_][a-z0-9_. ]*?)\s*;?\s*$`)
	resetRe = regexp.MustCompile(`(?is)^\s*RESET\s+([a-z_][a-z0-9_.]*)\s*;?\s*$`)
	noopRe  = regexp.MustCompile(`(?is)^\s*(DISCARD\s+ALL|DEALLOCATE\s+(?:PREPARE\s+)?(?:ALL|\S+)|UNLISTEN\s+\*|CLOSE\s+ALL|SET\s+SESSION\s+CHARACTERISTICS\s+.*)\s*;?\s*$`)
)

// sessionColumns describes a statement the session answers without the engine (for Describe):
// ok is false for every other statement.
func sessionColumns(stmt string) (cols []proxy.Column, ok bool) {
	if m := showRe.FindStringSubmatch(stmt); m != nil {
		name := strings.ToLower(strings.Join(strings.Fields(m[1]), " "))
		return []proxy.Column{{Name: name, OID: proxy.OIDText, Size: -1}}, true
	}
	for _, re := range []*regexp.Regexp{setRe, setTZRe, resetRe, noopRe} {
		if re.MatchString(stmt) {
			return nil, true
		}
	}
	return nil, txControl(stmt) != ""
}

// setting answers the session statements Postgres clients send (SET, SHOW, RESET, DISCARD ALL,
// DEALLOCATE, ...) without the engine. ok reports whether it handled stmt.
func (s *pgSession) setting(stmt string) (res proxy.Result, ok bool, err error) {
	name, value := "", ""
	switch {
	case setTZRe.MatchString(stmt):
		name, value = "timezone", setTZRe.FindStringSubmatch(stmt)[1]
	case setRe.MatchString(stmt):
		m := setRe.FindStringSubmatch(stmt)
		name, value = strings.ToLower(m[1]), m[2]
	case showRe.MatchString(stmt):
		key := strings.ToLower(strings.Join(strings.Fields(showRe.FindStringSubmatch(stmt)[1]), " "))
		if key == "transaction isolation level" {
			key = "transaction_isolation"
		}
		if key == "time zone" {
			key = "timezone"
		}
		v, ok := s.settings[key]
		if !ok {
			return nil, true, &pgsql.Error{Code: "42704", Msg: "unrecognized configuration parameter \"" + key + "\""}
		}
		return &sessionResult{cols: []proxy.Column{{Name: key, OID: proxy.OIDText, Size: -1}}, rows: [][]any{{v}}, tag: "SHOW"}, true, nil
	case resetRe.MatchString(stmt):
		key := strings.ToLower(resetRe.FindStringSubmatch(stmt)[1])
		defaults := defaultSettings(s.user, "")
		if key == "all" {
			s.settings = defaults
		} else if v, ok := defaults[key]; ok {
			s.settings[key] = v
		}
		return &sessionResult{tag: "RESET"}, true, nil
	case noopRe.MatchString(stmt):
		tag := strings.ToUpper(strings.Fields(stmt)[0])
		if tag == "DISCARD" {
			tag = "DISCARD ALL"
		}
		if tag == "CLOSE" {
			tag = "CLOSE CURSOR ALL"
		}
		return &sessionResult{tag: tag}, true, nil
	default:
		return nil, false, nil
	}
	value = strings.Trim(strings.TrimSpace(value), `'"`)
	if strings.EqualFold(value, "default") {
		value = defaultSettings(s.user, "")[name]
	}
	value, err = checkSetting(name, value)
	if err != nil {
		return nil, true, err
	}
	s.settings[name] = value
	r := &sessionResult{tag: "SET"}
	if reported[name] {
		r.reports = []pgproto3.ParameterStatus{s.parameterStatus(name)}
	}
	return r, true, nil
}

// sessionResult is the result of a statement the session answered itself.
type sessionResult struct {
	cols    []proxy.Column
	rows    [][]any
	tag     string
	reports []pgproto3.ParameterStatus
}

// Columns implements the interface proxy.Result.
func (r *sessionResult) Columns() []proxy.Column { return r.cols }

// Next implements the interface proxy.Result.
func (r *sessionResult) Next(context.Context) ([]any, error) {
	if len(r.rows) == 0 {
		return nil, nil
	}
	row := r.rows[0]
	r.rows = r.rows[1:]
	return row, nil
}

// Tag implements the interface proxy.Result.
func (r *sessionResult) Tag() string { return r.tag }

// Close implements the interface proxy.Result.
func (r *sessionResult) Close() error { return nil }

// Reports implements the interface proxy.Reporter.
func (r *sessionResult) Reports() []pgproto3.ParameterStatus { return r.reports }

// startupSettings applies the settings a client sets at startup, as parameters of the
// StartupMessage (pgx's RuntimeParams) or as "-c name=value" in options (PGOPTIONS): those the
// session enforces (statement_timeout), checked as SET checks them. Others are ignored.
func startupSettings(settings map[string]string, params map[string]string) error {
	given := map[string]string{}
	for name, v := range params {
		given[strings.ToLower(name)] = v
	}
	f := strings.Fields(params["options"])
	for i := 0; i < len(f); i++ {
		kv := ""
		switch {
		case f[i] == "-c" && i+1 < len(f):
			i++
			kv = f[i]
		case strings.HasPrefix(f[i], "-c"):
			kv = f[i][2:]
		case strings.HasPrefix(f[i], "--"):
			kv = f[i][2:]
		}
		if name, v, ok := strings.Cut(kv, "="); ok {
			given[strings.ToLower(strings.ReplaceAll(name, "-", "_"))] = v
		}
	}
	for name := range timeSettings {
		if v, ok := given[name]; ok {
			norm, err := checkSetting(name, v)
			if err != nil {
				return err
			}
			settings[name] = norm
		}
	}
	return nil
}

// timeout bounds a statement by the session's statement_timeout: past it, the statement fails
// with 57014 "canceling statement due to statement timeout".
func (s *pgSession) timeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if ms, err := parseMillis(s.settings["statement_timeout"]); err == nil && ms > 0 {
		return context.WithTimeoutCause(ctx, time.Duration(ms)*time.Millisecond, &Interrupted{Timeout: true})
	}
	return ctx, func() {}
}

// timeSettings are the settings in milliseconds the session checks as PostgreSQL does (and
// enforces: statement_timeout bounds every statement, timeout).
var timeSettings = map[string]bool{"statement_timeout": true, "lock_timeout": true, "idle_in_transaction_session_timeout": true}

// settingError is a value a setting refuses (22023), with PostgreSQL's hint.
type settingError struct{ msg, hint string }

func (e *settingError) Error() string    { return e.msg }
func (e *settingError) SQLState() string { return "22023" }
func (e *settingError) SQLHint() string  { return e.hint }

// checkSetting returns value as SHOW prints it, or PostgreSQL's 22023 for a value it refuses.
// Only the time settings are checked; other values pass as they are.
func checkSetting(name, value string) (string, error) {
	if !timeSettings[name] {
		return value, nil
	}
	ms, err := parseMillis(value)
	if err != nil {
		return "", &settingError{msg: fmt.Sprintf(`invalid value for parameter "%s": "%s"`, name, value), hint: err.Error()}
	}
	if ms < 0 || ms > math.MaxInt32 {
		return "", &settingError{msg: fmt.Sprintf(`%d ms is outside the valid range for parameter "%s" (0 .. %d)`, ms, name, math.MaxInt32)}
	}
	return showMillis(ms), nil
}

var (
	// millisRe is PostgreSQL's spelling of an integer setting with a unit (guc.c parse_int):
	// an integer (decimal, 0x hex, 0 octal, as strtol reads it) or a decimal fraction, blanks,
	// a unit, blanks.
	millisRe = regexp.MustCompile(`^\s*([+-]?(?:0[xX][0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?))\s*(\S*)\s*$`)
	// timeUnits are the units of a setting in milliseconds, largest first (case-sensitive, as
	// in PostgreSQL).
	timeUnits = []struct {
		name string
		ms   float64
	}{{"d", 86400000}, {"h", 3600000}, {"min", 60000}, {"s", 1000}, {"ms", 1}, {"us", 0.001}}
	errTimeUnit = errors.New(`Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".`)
)

// parseMillis reads a time setting in milliseconds, as PostgreSQL does: '300ms', '2s',
// '1min', '1.5s', ' 10 s ', a plain integer (milliseconds); the result is rounded to an
// integer. The error, if any, is the hint PostgreSQL gives.
func parseMillis(v string) (int64, error) {
	m := millisRe.FindStringSubmatch(v)
	if m == nil {
		return 0, errors.New("")
	}
	num, unit := m[1], m[2]
	var f float64
	digits := strings.TrimLeft(num, "+-")
	switch {
	case strings.HasPrefix(digits, "0x") || strings.HasPrefix(digits, "0X"):
		n, err := strconv.ParseInt(digits[2:], 16, 64)
		if err != nil {
			return 0, errors.New("Value exceeds integer range.")
		}
		f = float64(n)
	case strings.ContainsAny(digits, ".eE"):
		var err error
		if f, err = strconv.ParseFloat(digits, 64); err != nil {
			return 0, errors.New("Value exceeds integer range.")
		}
	case len(digits) > 1 && digits[0] == '0':
		n, err := strconv.ParseInt(digits, 8, 64)
		if err != nil {
			return 0, errors.New("")
		}
		f = float64(n)
	default:
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			return 0, errors.New("Value exceeds integer range.")
		}
		f = float64(n)
	}
	if num[0] == '-' {
		f = -f
	}
	if unit != "" {
		found := false
		for _, u := range timeUnits {
			if u.name == unit {
				f, found = f*u.ms, true
				break
			}
		}
		if !found {
			return 0, errTimeUnit
		}
	}
	f = math.RoundToEven(f)
	if f > math.MaxInt32 || f < math.MinInt32 {
		return 0, errors.New("Value exceeds integer range.")
	}
	return int64(f), nil
}

// showMillis prints milliseconds as SHOW does: in the largest unit that divides them, "0" for 0.
func showMillis(ms int64) string {
	if ms == 0 {
		return "0"
	}
	for _, u := range timeUnits {
		if u.ms >= 1 && ms%int64(u.ms) == 0 {
			return strconv.FormatInt(ms/int64(u.ms), 10) + u.name
		}
	}
	return strconv.FormatInt(ms, 10) + "ms"
}

// errInFailedTx is every statement of a failed transaction block but its end.
var errInFailedTx = &pgsql.Error{Code: "25P02", Msg: "current transaction is aborted, commands ignored until end of transaction block"}

// txControl reports how a statement changes the transaction status: "begin", "commit",
// "rollback", or "".
func txControl(q string) string {
	f := strings.Fields(strings.ToLower(strings.TrimRight(strings.TrimSpace(q), ";")))
	if len(f) == 0 {
		return ""
	}
	switch f[0] {
	case "begin", "start":
		return "begin"
	case "commit", "end":
		return "commit"
	case "rollback", "abort":
		return "rollback"
	}
	return ""
}
