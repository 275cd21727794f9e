package embedded

import (
	"strings"

	"github.com/dolthub/vitess/go/mysql"
)

// clearWarnings starts a MySQL-wire statement, other than SHOW WARNINGS/ERRORS (or SHOW
// COUNT(*) WARNINGS), without the previous statement's warnings. go-mysql-server clears them
// itself, but keeps the ones its planner raised by counting from the wrong end of a
// most-recent-first list: after a statement with a warning, the next statement's planner
// warnings (DROP TABLE IF EXISTS's 1051 "Unknown table") were replaced by the old ones.
func (h *lockedHandler) clearWarnings(c *mysql.Conn, q string) {
	s := h.e.sessions.get(c.ConnectionID)
	if s == nil || s.sess == nil {
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
	s.sess.ClearWarnings()
}
