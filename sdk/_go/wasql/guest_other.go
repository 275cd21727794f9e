//go:build !wasip1

package wasql

func guestEnv() env {
	panic("wasql: batch functions only run in a GOOS=wasip1 guest")
}
