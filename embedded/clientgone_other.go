//go:build !unix

package embedded

import (
	"context"
	"net"
)

// watchClient does not watch on this platform: a statement whose client went away ends when it
// would have.
func watchClient(net.Conn, context.CancelCauseFunc) (stop func()) { return func() {} }
