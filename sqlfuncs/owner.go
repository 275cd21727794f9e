package sqlfuncs

import (
	"context"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/wasql/wasql/catalog"
)

// Functions have owners, as in MySQL and PostgreSQL: CREATE FUNCTION needs CREATE ROUTINE (checked
// by go-mysql-server before the statement runs) and records the user as the function's owner;
// replacing (CREATE OR REPLACE) or dropping an existing function needs its ownership or the ALTER
// ROUTINE privilege (global, on the database, or on the routine; superusers hold it). A function
// without an owner (stored before owners were recorded) belongs to no one: only ALTER ROUTINE
// holders replace or drop it. Without users (authentication off) everyone is allowed.

// erProcAccessDenied is MySQL's ER_PROCACCESS_DENIED_ERROR.
const erProcAccessDenied = 1370

// insufficientPrivilege is the SQLSTATE of a refused operation (PostgreSQL's 42501); the MySQL
// wire reports it as MySQL's 42000.
const insufficientPrivilege = "42501"

// SetPrivileges gives the registry go-mysql-server's users and grants, which decide who may
// replace or drop a function it does not own. Without it (or with authentication off) every user
// may.
func (r *Registry) SetPrivileges(db *mysql_db.MySQLDb) { r.privileges = db }

type userKey struct{}

// WithUser returns ctx for a statement that user runs outside go-mysql-server (proxy mode):
// CREATE FUNCTION records user as the function's owner.
func WithUser(ctx context.Context, user string) context.Context {
	return context.WithValue(ctx, userKey{}, user)
}

// user returns the user a statement runs for, and the host it connected from; "" when ctx is not
// a statement's context (nor made by WithUser).
func user(ctx context.Context) (name, host string) {
	sc, ok := ctx.(*sql.Context)
	if !ok || sc.Session == nil {
		name, _ = ctx.Value(userKey{}).(string)
		return name, ""
	}
	c := sc.Session.Client()
	return c.User, c.Address
}

// mayAlter returns nil if the user of ctx may replace or drop def: its owner, or a holder of ALTER
// ROUTINE on it; otherwise the access-denied error. verb names the operation in the message.
func (r *Registry) mayAlter(ctx context.Context, def catalog.Function, verb string) error {
	if r.privileges == nil || !r.privileges.Enabled() {
		return nil
	}
	name, host := user(ctx)
	if def.Owner != "" && def.Owner == name {
		return nil
	}
	if sc, ok := ctx.(*sql.Context); ok {
		db := def.Schema
		if db == "" {
			db = sc.GetCurrentDatabase()
		}
		op := sql.PrivilegedOperation{Database: db, Routine: def.Name, StaticPrivileges: []sql.PrivilegeType{sql.PrivilegeType_AlterRoutine}}
		if r.privileges.UserHasPrivileges(sc, op) {
			return nil
		}
	}
	return mysql.NewSQLError(erProcAccessDenied, insufficientPrivilege,
		"must be owner of function %s to %s it: alter routine command denied to user '%s'@'%s' for routine '%s'",
		def.Key(), verb, name, host, def.Name)
}

// owned returns def with the user of ctx as its owner.
func owned(ctx context.Context, def catalog.Function) catalog.Function {
	def.Owner, _ = user(ctx)
	return def
}
