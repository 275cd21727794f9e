package engine

import (
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
)

// mysqlSessions are the MySQL wire's sessions by connection, for clearWarnings.
var mysqlSessions sync.Map // *mysql.Conn → sql.Session (connection ids repeat across servers)

// clearWarnings starts a MySQL-wire statement, other than SHOW WARNINGS/ERRORS (or SHOW
// COUNT(*) WARNINGS), without the previous statement's warnings. go-mysql-server clears them
// itself, but keeps the ones its planner raised by counting from the wrong end of a
// most-recent-first list: after a statement with a warning, the next statement's planner
// warnings (DROP TABLE IF EXISTS's 1051 "Unknown table") were replaced by the old ones.
func clearWarnings(c *mysql.Conn, q string) {
	v, ok := mysqlSessions.Load(c)
	if !ok {
		return
	}
	f := strings.Fields(strings.ToLower(q))
	if len(f) >= 2 && f[0] == "show" {
		for _, w := range f[1:] {
			if strings.HasPrefix(w, "warnings") || strings.HasPrefix(w, "errors") {
				return
			}
		}
	}
	v.(sql.Session).ClearWarnings()
}

// ConnectionClosed forgets the connection's session.
func (h *lockedHandler) ConnectionClosed(c *mysql.Conn) {
	mysqlSessions.Delete(c)
	h.Handler.ConnectionClosed(c)
}
