package proxy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// reported are the settings a server reports with ParameterStatus, at startup and when SET.
var reported = map[string]bool{"server_version": true, "server_encoding": true, "client_encoding": true,
	"datestyle": true, "integer_datetimes": true, "standard_conforming_strings": true, "timezone": true,
	"intervalstyle": true, "application_name": true, "is_superuser": true, "session_authorization": true,
	"default_transaction_read_only": true, "in_hot_standby": true}

// canonical spells settings the way Postgres reports them.
var canonical = map[string]string{"datestyle": "DateStyle", "timezone": "TimeZone", "intervalstyle": "IntervalStyle"}

// report sends the ParameterStatus of setting name, spelled as Postgres spells it.
func (c *conn) report(name string) {
	spelled := name
	if n, ok := canonical[name]; ok {
		spelled = n
	}
	c.be.Send(&pgproto3.ParameterStatus{Name: spelled, Value: c.settings[name]})
}

type settingsKey struct{}

// Settings returns the session settings (SET, SHOW; names in lower case) of the statement
// running with ctx, for the backend's current_setting() and pg_settings. The map is read-only.
func Settings(ctx context.Context) map[string]string {
	settings, _ := ctx.Value(settingsKey{}).(map[string]string)
	return settings
}

// defaultSettings are what SHOW answers before any SET.
func defaultSettings(version, user, app string) map[string]string {
	return map[string]string{
		"server_version": version, "server_encoding": "UTF8", "client_encoding": "UTF8",
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

// sessionColumns describes a statement the session layer answers (for Describe): ok is false
// for every other statement.
func sessionColumns(stmt string) (cols []Column, ok bool) {
	if m := showRe.FindStringSubmatch(stmt); m != nil {
		name := strings.ToLower(strings.Join(strings.Fields(m[1]), " "))
		return []Column{{Name: name, OID: OIDText, Size: -1}}, true
	}
	for _, re := range []*regexp.Regexp{setRe, setTZRe, resetRe, noopRe} {
		if re.MatchString(stmt) {
			return nil, true
		}
	}
	return nil, txControl(stmt) != ""
}

// session answers the session statements Postgres clients send (SET, SHOW, RESET, DISCARD ALL,
// DEALLOCATE, ...) without the backend. It reports whether it handled stmt.
func (c *conn) session(stmt string, describe bool) (bool, error) {
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
		v, ok := c.settings[key]
		if !ok {
			return true, sqlError("42704", "unrecognized configuration parameter \""+key+"\"")
		}
		if describe {
			c.be.Send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte(key), DataTypeOID: OIDText, DataTypeSize: -1, TypeModifier: -1}}})
		}
		c.be.Send(&pgproto3.DataRow{Values: [][]byte{[]byte(v)}})
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte("SHOW")})
		return true, nil
	case resetRe.MatchString(stmt):
		key := strings.ToLower(resetRe.FindStringSubmatch(stmt)[1])
		defaults := defaultSettings(c.srv.cfg.ServerVersion, c.user, "")
		if key == "all" {
			c.settings = defaults
		} else if v, ok := defaults[key]; ok {
			c.settings[key] = v
		}
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte("RESET")})
		return true, nil
	case noopRe.MatchString(stmt):
		tag := strings.ToUpper(strings.Fields(stmt)[0])
		if tag == "DISCARD" {
			tag = "DISCARD ALL"
		}
		if tag == "CLOSE" {
			tag = "CLOSE CURSOR ALL"
		}
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
		return true, nil
	default:
		return false, nil
	}
	value = strings.Trim(strings.TrimSpace(value), `'"`)
	if strings.EqualFold(value, "default") {
		value = defaultSettings(c.srv.cfg.ServerVersion, c.user, "")[name]
	}
	value, err := checkSetting(name, value)
	if err != nil {
		return true, err
	}
	c.settings[name] = value
	if reported[name] {
		c.report(name)
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte("SET")})
	return true, nil
}

// timeSettings are the settings in milliseconds the proxy checks as PostgreSQL does (and
// enforces: statement_timeout bounds every statement, statementContext).
var timeSettings = map[string]bool{"statement_timeout": true, "lock_timeout": true, "idle_in_transaction_session_timeout": true}

// checkSetting returns value as SHOW prints it, or PostgreSQL's 22023 for a value it refuses.
// Only the time settings are checked; other values pass as they are.
func checkSetting(name, value string) (string, error) {
	if !timeSettings[name] {
		return value, nil
	}
	ms, err := parseMillis(value)
	if err != nil {
		return "", &pgError{code: "22023", msg: fmt.Sprintf(`invalid value for parameter "%s": "%s"`, name, value), hint: err.Error()}
	}
	if ms < 0 || ms > math.MaxInt32 {
		return "", sqlError("22023", fmt.Sprintf(`%d ms is outside the valid range for parameter "%s" (0 .. %d)`, ms, name, math.MaxInt32))
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
