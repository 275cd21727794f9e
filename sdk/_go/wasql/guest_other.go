//go:build !wasip1

package wasql

import "os"

func guestEnv() env {
	panic("wasql: batch functions only run in a GOOS=wasip1 guest")
}

func writeStderr(b []byte) { os.Stderr.Write(b) }
